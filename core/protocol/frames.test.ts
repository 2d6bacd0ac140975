import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch, type ProduceMessage } from "./frames.js";
import { JunctionError } from "./errors.js";

const enc = new TextEncoder();

/**
 * The golden frame: the bytes of a known batch, annotated. Any change to the encoding breaks this
 * test, because clients in other languages are written against these bytes (docs/protocol.md).
 */
const GOLDEN = [
  "4a4e4231", // "JNB1"
  "00000002", // 2 messages
  "0003",
  "612d31", // id "a-1"
  "00000009",
  "7b226b223a2276227d", // headers {"k":"v"}
  "00000007",
  "7b226e223a317d", // payload {"n":1}
  "0000", // id ""
  "00000000", // no headers
  "00000002",
  "00ff", // payload 0x00 0xff
].join("");

describe("batch frame", () => {
  it("encodes a known batch to the golden bytes, and decodes them back", () => {
    const msgs: ProduceMessage[] = [
      { id: "a-1", headers: { k: "v" }, payload: enc.encode('{"n":1}') },
      { id: "", headers: undefined, payload: new Uint8Array([0, 255]) },
    ];
    expect(Buffer.from(encodeBatch(msgs)).toString("hex")).toBe(GOLDEN);
    expect(decodeBatch(new Uint8Array(Buffer.from(GOLDEN, "hex")))).toEqual(msgs);
  });

  it("round-trips ids, headers and payloads (including empty ones)", () => {
    const msgs: ProduceMessage[] = [
      { id: "a-1", headers: { trace: "x", "content-type": "json" }, payload: enc.encode('{"a":1}') },
      { id: "", headers: undefined, payload: new Uint8Array(0) },
      { id: "ü-ñ", headers: {}, payload: new Uint8Array([0, 255, 1]) },
    ];
    const out = decodeBatch(encodeBatch(msgs));
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ id: "a-1", headers: { trace: "x", "content-type": "json" }, payload: enc.encode('{"a":1}') });
    expect(out[1]).toEqual({ id: "", headers: undefined, payload: new Uint8Array(0) });
    expect(out[2]!.id).toBe("ü-ñ");
    expect(out[2]!.headers).toBeUndefined();
    expect(Array.from(out[2]!.payload)).toEqual([0, 255, 1]);
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ["too short", new Uint8Array([1, 2]), /shorter than its 8-byte header/],
    ["wrong magic", enc.encode("ABCD\0\0\0\0"), /magic is not JNB1/],
    ["count past the end", enc.encode("JNB1\0\0\0\u0002"), /id length runs past the end/],
    ["magic that is not UTF-8", new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0, 0, 0, 1]), /magic is not JNB1/],
    ["count 0", new Uint8Array([...enc.encode("JNB1"), 0, 0, 0, 0]), /at least one message \(count is 0\)/],
    ["trailing bytes", new Uint8Array([...enc.encode("JNB1"), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]), /1 trailing bytes/],
  ];
  for (const [name, frame, re] of cases) {
    it(`rejects a frame with ${name} as INVALID_FRAME`, () => {
      let err: unknown;
      try {
        decodeBatch(frame);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JunctionError);
      expect((err as JunctionError).code).toBe("INVALID_FRAME");
      expect((err as JunctionError).message).toMatch(re);
    });
  }

  it("rejects headers that are not a string map", () => {
    const good = encodeBatch([{ id: "x", headers: { a: "b" }, payload: new Uint8Array(1) }]);
    const bad = new Uint8Array(good);
    // Replace the JSON '{"a":"b"}' with '{"a":123}' of the same length.
    const s = new TextDecoder().decode(bad).replace('{"a":"b"}', '{"a":12 }');
    expect(() => decodeBatch(enc.encode(s))).toThrow(/headers must map strings to strings/);
  });

  it("refuses more messages than allowed with BATCH_TOO_LARGE", () => {
    const f = encodeBatch(Array.from({ length: 11 }, () => ({ id: "", headers: undefined, payload: new Uint8Array(0) })));
    expect(() => decodeBatch(f, 10)).toThrow(expect.objectContaining({ code: "BATCH_TOO_LARGE" }) as Error);
  });
});
