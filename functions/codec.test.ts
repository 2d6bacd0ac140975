import { describe, expect, it } from "vitest";
import { decodeBatch, decodeOutcomes, encodeBatch, encodeFrame, encodeOutcomes, FrameReader, jsonMessage } from "./codec.js";
import type { Frame } from "./codec.js";
import type { FnMessage } from "./types.js";

/** Feeds a frame to a reader in small chunks, the way a socket may deliver it. */
function roundTrip(buf: Buffer, chunk = 7): Frame {
  const frames: Frame[] = [];
  const reader = new FrameReader((f) => frames.push(f));
  for (let i = 0; i < buf.length; i += chunk) reader.push(buf.subarray(i, i + chunk));
  expect(frames).toHaveLength(1);
  return frames[0] as Frame;
}

describe("frames", () => {
  it("reassembles frames split across chunks, and several frames in one chunk", () => {
    const a = encodeFrame({ t: "a" }, ["héllo", new Uint8Array([1, 2, 3]), ["x", new Uint8Array([4])]]);
    const b = encodeFrame({ t: "b" });
    const seen: Frame[] = [];
    const reader = new FrameReader((f) => seen.push(f));
    reader.push(Buffer.concat([a.subarray(0, 3)]));
    reader.push(Buffer.concat([a.subarray(3), b]));
    expect(seen.map((f) => f.meta.t)).toEqual(["a", "b"]);
    expect(seen[0]?.lens).toEqual([6, 3, 2]);
  });

  it("refuses a frame whose length or parts do not add up", () => {
    const reader = new FrameReader(() => undefined, 1024);
    expect(() => reader.push(Buffer.from([0xff, 0xff, 0x00, 0x00]))).toThrow(/bad frame length/);
    const frame = encodeFrame({ t: "x" }, ["abc"]);
    frame.writeUInt32LE(frame.readUInt32LE(0) - 1, 0);
    expect(() => new FrameReader(() => undefined).push(frame.subarray(0, frame.length - 1))).toThrow(/do not add up/);
  });
});

describe("batches", () => {
  it("sends JSON bytes as they are, strings and JSON data as text, bytes raw, other values through V8", () => {
    const pool = Buffer.from("0123456789-other-bytes");
    const messages: FnMessage[] = [
      { payload: { ignored: true }, headers: { a: "1" }, json: Buffer.from('{"given":"bytes"}') },
      { payload: { é: "ü 😀" }, headers: {} },
      { payload: "plain ✓ text", headers: {} },
      { payload: pool.subarray(2, 5), headers: {} },
      { payload: { bytes: new Uint8Array([9]), when: new Date(0) }, headers: {} },
      { payload: undefined, headers: {} },
    ];
    const { kinds, textBytes, parts } = encodeBatch(messages);
    expect(kinds).toBe("JJSBVV");
    const frame = roundTrip(encodeFrame({ t: "run", kinds, tb: textBytes }, parts));
    const batch = decodeBatch(frame, kinds, frame.meta.tb);
    expect(JSON.parse(batch.headers)).toEqual([{ a: "1" }, {}, {}, {}, {}, {}]);
    const texts: string[] = [];
    let at = 0;
    for (const len of batch.textLens) {
      texts.push(batch.text.slice(at, at + len));
      at += len;
    }
    expect(texts).toEqual(['{"given":"bytes"}', '{"é":"ü 😀"}', "plain ✓ text"]);
    const [bytes, value, nothing] = batch.binary as [Uint8Array, { bytes: Uint8Array; when: Date }, undefined];
    expect([...bytes]).toEqual([0x32, 0x33, 0x34]);
    expect(bytes.buffer.byteLength).toBe(3);
    expect(value.bytes.buffer.byteLength).toBe(1);
    expect(value.when).toEqual(new Date(0));
    expect(nothing).toBeUndefined();
  });
});

describe("outcomes", () => {
  it("decodes JSON output lazily, keeps its bytes, and drops them when the payload is replaced", () => {
    const { parts, textBytes } = encodeOutcomes({
      shape: JSON.stringify([[1, "J", { h: "1" }, "S", {}], [0, "threw", "boom"], [0, "mystery", "?"], [1], [1, "B", {}, "V", {}]]),
      text: '{"a":"é"}' + "plain ✓",
      textLens: [9, 7],
      binary: [new Uint8Array([1, 2]), { nested: new Uint8Array([3]) }],
    });
    const frame = roundTrip(encodeFrame({ t: "result", tb: textBytes }, parts), 3);
    const [first, second, third, fourth, fifth] = decodeOutcomes(frame, 5, frame.meta.tb);
    expect(second).toEqual({ ok: false, kind: "threw", message: "boom" });
    expect(third).toEqual({ ok: false, kind: "threw", message: "?" });
    expect(fourth).toEqual({ ok: true, messages: [] });
    expect(first).toEqual({
      ok: true,
      messages: [
        { payload: { a: "é" }, headers: { h: "1" } },
        { payload: "plain ✓", headers: {} },
      ],
    });
    const m = first?.ok ? (first.messages[0] as FnMessage) : undefined;
    expect(Buffer.from(m?.json ?? []).toString()).toBe('{"a":"é"}');
    expect(Object.keys(m ?? {})).toEqual(["payload", "headers"]);
    (m as FnMessage).payload = { b: 2 };
    expect(m).toEqual({ payload: { b: 2 }, headers: { h: "1" } });
    expect(m?.json).toBeUndefined();
    const [b, v] = fifth?.ok ? fifth.messages : [];
    expect(b?.payload).toEqual(new Uint8Array([1, 2]));
    expect((v?.payload as { nested: Uint8Array }).nested.buffer.byteLength).toBe(1);
  });

  it("output that reuses an input's JSON text (R<i>) gets that text without it being sent back", () => {
    const input = new TextEncoder().encode('{"in":1}');
    const { parts, textBytes } = encodeOutcomes({
      shape: JSON.stringify([[1, "R0", { h: "1" }, "R1", {}]]),
      text: "",
      textLens: [],
      binary: [],
    });
    const frame = roundTrip(encodeFrame({ t: "result", tb: textBytes }, parts));
    const [out] = decodeOutcomes(frame, 1, frame.meta.tb, [input, '{"from":"object"}']);
    const [a, b] = out?.ok ? out.messages : [];
    expect(a?.json).toBe(input);
    expect(a).toEqual({ payload: { in: 1 }, headers: { h: "1" } });
    expect(b?.payload).toEqual({ from: "object" });
    expect(() => decodeOutcomes(frame, 1, frame.meta.tb, [])).toThrow(/has no JSON text/);
  });

  it("a JSON message with a byte order mark decodes", () => {
    const m = jsonMessage(Buffer.from("\ufeff[1]"), {});
    expect(m.payload).toEqual([1]);
  });
});
