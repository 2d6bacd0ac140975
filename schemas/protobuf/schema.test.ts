import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_SCHEMA_BYTES, SchemaError, SchemaValidationError, loadSchema, prepareSchema } from "../index.js";
import type { CompiledSchema, PreparedSchema, ValidationResult } from "../index.js";
import { parseBufErrors } from "./buf.js";

const ORDER = `syntax = "proto3";
package shop;

import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  google.protobuf.Timestamp created_at = 2;
  repeated Item items = 3;
  map<string, int32> tags = 4;
  Status status = 5;
  int64 total_cents = 6;
  repeated int32 codes = 7;
}

message Item {
  string sku = 1;
  double price = 2;
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_PAID = 1;
}
`;

const PROTO2 = `syntax = "proto2";
package legacy;

message Event {
  optional string name = 1;
  optional Kind kind = 2;
}

enum Kind {
  A = 1;
  B = 2;
}
`;

const issuesOf = (r: ValidationResult) => (r.ok ? [] : r.issues);
const bytes = (build: (w: BinaryWriter) => void): Uint8Array => {
  const w = new BinaryWriter();
  build(w);
  return w.finish();
};

let prepared: PreparedSchema;
let order: CompiledSchema;
let legacy: CompiledSchema;
let valid: Uint8Array;

beforeAll(async () => {
  prepared = await prepareSchema({ type: "protobuf", definition: ORDER, messageType: "Order" });
  order = loadSchema(prepared);
  legacy = loadSchema(await prepareSchema({ type: "protobuf", definition: PROTO2 }));
  valid = order.encode({
    id: "o1",
    createdAt: "2024-05-01T10:00:00Z",
    items: [
      { sku: "a", price: 1.5 },
      { sku: "b", price: 2 },
    ],
    tags: { vip: 1 },
    status: "STATUS_PAID",
    totalCents: "350",
    codes: [1, 2, 3],
  });
});

describe("Protobuf: prepare", () => {
  it("compiles with buf, keeps the well-known-type import, resolves the short message name", () => {
    expect(prepared.type).toBe("protobuf");
    expect(prepared.messageType).toBe("shop.Order");
    expect(prepared.definition).toBe(ORDER);
    expect(prepared.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const set = Buffer.from(prepared.descriptorSetBase64 ?? "", "base64").toString("latin1");
    expect(set).toContain("google/protobuf/timestamp.proto");
    expect(order.messageType).toBe("shop.Order");
  });

  it("accepts the fully-qualified name and gives the same fingerprint", async () => {
    const again = await prepareSchema({ type: "protobuf", definition: ORDER.replace(/\n/g, "\r\n"), messageType: "shop.Order" });
    expect(again.messageType).toBe("shop.Order");
    expect(again.fingerprint).toBe(prepared.fingerprint);
    const item = await prepareSchema({ type: "protobuf", definition: ORDER, messageType: "Item" });
    expect(item.fingerprint).not.toBe(prepared.fingerprint);
  });

  it("lets messageType be omitted when the file has exactly one message", async () => {
    const p = await prepareSchema({ type: "protobuf", definition: PROTO2 });
    expect(p.messageType).toBe("legacy.Event");
  });

  it("requires messageType when the file has several messages", async () => {
    await expect(prepareSchema({ type: "protobuf", definition: ORDER })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { available: ["shop.Order", "shop.Item"] },
    });
  });

  it("refuses an unknown message type and lists the available ones", async () => {
    const err = await prepareSchema({ type: "protobuf", definition: ORDER, messageType: "Invoice" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect(err).toMatchObject({ code: "SCHEMA_INVALID", details: { messageType: "Invoice", available: ["shop.Order", "shop.Item"] } });
  });

  it("refuses invalid .proto text with file, line and column", async () => {
    const bad = 'syntax = "proto3";\nmessage A {\n  strin x = 1;\n}\n';
    await expect(prepareSchema({ type: "protobuf", definition: bad })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { file: "schema.proto", line: 3, column: 3 },
    });
    const syntax = 'syntax = "proto3";\nmessage A {\n  int32 x = 1\n}\n';
    const err = await prepareSchema({ type: "protobuf", definition: syntax }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "SCHEMA_INVALID", details: { file: "schema.proto", line: 4, column: 1 } });
    expect((err as SchemaError).details?.message).toEqual(expect.any(String));
  });

  it("reports every compile error, the first one in the top-level details", async () => {
    const bad = 'syntax = "proto3";\nmessage A {\n  int32 x = 1;\n  int32 y = 1;\n  strin z = 2;\n}\n';
    const err = (await prepareSchema({ type: "protobuf", definition: bad }).catch((e: unknown) => e)) as SchemaError;
    expect(err.code).toBe("SCHEMA_INVALID");
    expect((err.details?.errors as unknown[]).length).toBe(2);
    expect(err.details).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
  });

  it("refuses imports other than the well-known types", async () => {
    const bad = 'syntax = "proto3";\nimport "acme/money.proto";\nmessage A { int32 x = 1; }\n';
    await expect(prepareSchema({ type: "protobuf", definition: bad })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { file: "schema.proto", line: 2, column: 1 },
    });
  });

  it("refuses definitions over MAX_SCHEMA_BYTES before running buf", async () => {
    const big = `syntax = "proto3";\n// ${"x".repeat(MAX_SCHEMA_BYTES)}\nmessage A { int32 x = 1; }\n`;
    await expect(prepareSchema({ type: "protobuf", definition: big })).rejects.toMatchObject({ code: "SCHEMA_TOO_LARGE" });
  });

  it("parses buf's text error format too", () => {
    expect(parseBufErrors("schema.proto:3:5:syntax error: unexpected '}'\n")).toEqual([
      { file: "schema.proto", line: 3, column: 5, message: "syntax error: unexpected '}'" },
    ]);
  });

  it("loadSchema refuses a prepared schema without its descriptor set", () => {
    expect(() => loadSchema((({ descriptorSetBase64: _d, ...rest }) => rest)(prepared))).toThrow(SchemaError);
  });
});

describe("Protobuf: decode and validate", () => {
  it("round-trips a message through encode and decode (JSON form, implicit fields included)", () => {
    expect(order.validate(valid)).toEqual({ ok: true, value: expect.any(Object) });
    expect(order.decode(valid)).toEqual({
      id: "o1",
      createdAt: "2024-05-01T10:00:00Z",
      items: [
        { sku: "a", price: 1.5 },
        { sku: "b", price: 2 },
      ],
      tags: { vip: 1 },
      status: "STATUS_PAID",
      totalCents: "350",
      codes: [1, 2, 3],
    });
    expect(order.decode(new Uint8Array())).toMatchObject({ id: "", items: [], status: "STATUS_UNSPECIFIED" });
  });

  it("rejects truncated data (a cut inside a field; a cut between fields is a shorter valid message)", () => {
    // valid starts with field 1: 0a 02 'o' '1'
    expect(issuesOf(order.validate(valid.subarray(0, 3)))).toEqual([expect.objectContaining({ path: "/id", keyword: "wire" })]);
    expect(order.validate(valid.subarray(0, 4)).ok).toBe(true);
    expect(issuesOf(order.validate(new Uint8Array([0x30, 0x80])))).toEqual([
      expect.objectContaining({ path: "/totalCents", keyword: "wire" }),
    ]);
    const item = bytes((w) => w.tag(3, WireType.LengthDelimited).bytes(bytes((i) => i.tag(2, WireType.Bit64).double(1.5))));
    expect(issuesOf(order.validate(item.subarray(0, item.length - 2)))).toEqual([expect.objectContaining({ keyword: "wire" })]);
    const fixed = bytes((w) => w.tag(2, WireType.Bit64).double(1.5));
    expect(legacy.validate(fixed.subarray(0, 5)).ok).toBe(false);
  });

  it("rejects garbage bytes without throwing", () => {
    expect(order.validate(new Uint8Array([0xff, 0xff, 0xff, 0xff])).ok).toBe(false);
    expect(order.validate(new TextEncoder().encode("hello, world")).ok).toBe(false);
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256;
    let rejected = 0;
    for (let i = 0; i < 500; i++) {
      const buf = Uint8Array.from({ length: 1 + (i % 40) }, rand);
      const r = order.validate(buf);
      if (!r.ok) rejected++;
    }
    expect(rejected).toBeGreaterThan(400);
  });

  it("rejects a wrong wire type and names the field", () => {
    const wrong = bytes((w) => w.tag(1, WireType.Varint).int32(5)); // id is a string
    expect(issuesOf(order.validate(wrong))).toEqual([expect.objectContaining({ path: "/id", keyword: "wire-type" })]);
    const nested = bytes((w) => w.tag(3, WireType.LengthDelimited).bytes(bytes((i) => i.tag(2, WireType.Varint).int32(1))));
    expect(issuesOf(order.validate(nested))).toEqual([expect.objectContaining({ path: "/items/0/price", keyword: "wire-type" })]);
  });

  it("accepts packed and unpacked repeated scalars", () => {
    const unpacked = bytes((w) => w.tag(7, WireType.Varint).int32(1).tag(7, WireType.Varint).int32(2));
    expect(order.decode(unpacked)).toMatchObject({ codes: [1, 2] });
    const packed = bytes((w) => w.tag(7, WireType.LengthDelimited).fork().int32(4).int32(5).join());
    expect(order.decode(packed)).toMatchObject({ codes: [4, 5] });
  });

  it("rejects invalid UTF-8 in string fields (proto3), nested and in map keys", () => {
    const bad = new Uint8Array([0xc3, 0x28]);
    const top = bytes((w) => w.tag(1, WireType.LengthDelimited).bytes(bad));
    expect(issuesOf(order.validate(top))).toEqual([expect.objectContaining({ path: "/id", keyword: "utf8" })]);
    const nested = bytes((w) => w.tag(3, WireType.LengthDelimited).bytes(bytes((i) => i.tag(1, WireType.LengthDelimited).bytes(bad))));
    expect(issuesOf(order.validate(nested))).toEqual([expect.objectContaining({ path: "/items/0/sku", keyword: "utf8" })]);
    const mapKey = bytes((w) => w.tag(4, WireType.LengthDelimited).bytes(bytes((e) => e.tag(1, WireType.LengthDelimited).bytes(bad))));
    expect(issuesOf(order.validate(mapKey))).toEqual([expect.objectContaining({ path: "/tags", keyword: "utf8" })]);
  });

  it("rejects invalid UTF-8 in proto2 string fields too (the decoder alone would replace it)", () => {
    const bad = bytes((w) => w.tag(1, WireType.LengthDelimited).bytes(new Uint8Array([0x61, 0xff])));
    expect(issuesOf(legacy.validate(bad))).toEqual([expect.objectContaining({ path: "/name", keyword: "utf8" })]);
    const ok = bytes((w) => w.tag(1, WireType.LengthDelimited).string("héllo"));
    expect(legacy.decode(ok)).toMatchObject({ name: "héllo" });
  });

  it("rejects undeclared values of a closed (proto2) enum", () => {
    expect(legacy.decode(bytes((w) => w.tag(2, WireType.Varint).int32(2)))).toMatchObject({ kind: "B" });
    expect(issuesOf(legacy.validate(bytes((w) => w.tag(2, WireType.Varint).int32(9))))).toEqual([
      expect.objectContaining({ path: "/kind", keyword: "enum" }),
    ]);
  });

  it("rejects unknown fields by default and accepts them with allowUnknownFields", () => {
    const extra = bytes((w) => w.tag(1, WireType.LengthDelimited).string("o1").tag(99, WireType.Varint).int32(1));
    expect(issuesOf(order.validate(extra))).toEqual([expect.objectContaining({ path: "", keyword: "unknown-field" })]);
    const nested = bytes((w) => w.tag(3, WireType.LengthDelimited).bytes(bytes((i) => i.tag(9, WireType.Bit32).fixed32(1))));
    expect(issuesOf(order.validate(nested))).toEqual([expect.objectContaining({ path: "/items/0", keyword: "unknown-field" })]);
    const lenient = loadSchema(prepared, { allowUnknownFields: true });
    expect(lenient.validate(extra)).toEqual({ ok: true, value: expect.objectContaining({ id: "o1" }) });
    expect(lenient.validate(nested).ok).toBe(true);
  });

  it("decode throws SchemaValidationError on bad data", () => {
    expect(() => order.decode(new Uint8Array([0x0a, 0x05, 0x61]))).toThrow(SchemaValidationError);
  });

  it("encode refuses values that do not fit the message", () => {
    const err = (() => {
      try {
        order.encode({ id: 5 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SchemaValidationError);
    expect(err).toMatchObject({ issues: [{ path: "field shop.Order.id", keyword: "encode" }] });
    expect(() => order.encode({ nope: 1 })).toThrow(SchemaValidationError);
    expect(() => loadSchema(prepared, { allowUnknownFields: true }).encode({ nope: 1 })).not.toThrow();
    expect(() => order.encode({ createdAt: "yesterday" })).toThrow(SchemaValidationError);
  });
});
