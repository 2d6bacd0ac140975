import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { checkCompatibility, loadSchema, prepareSchema, SchemaValidationError } from "../index.js";
import type { BreakingChange, CompatibilityMode, PreparedSchema } from "../index.js";

const avsc = createRequire(import.meta.url)("avsc") as typeof import("avsc");

const ORDER = {
  type: "record",
  name: "Order",
  namespace: "shop",
  fields: [
    { name: "id", type: "string" },
    { name: "total", type: "long" },
    { name: "ratio", type: "double" },
    { name: "status", type: { type: "enum", name: "Status", symbols: ["NEW", "PAID"] } },
    { name: "tags", type: { type: "array", items: "string" } },
    { name: "attrs", type: { type: "map", values: "int" } },
    { name: "note", type: ["null", "string"], default: null },
    { name: "digest", type: { type: "fixed", name: "Digest", size: 4 } },
    { name: "blob", type: "bytes" },
    { name: "ok", type: "boolean" },
  ],
};

const prep = (schema: unknown): Promise<PreparedSchema> => prepareSchema({ type: "avro", definition: JSON.stringify(schema) });

const VALUE = {
  id: "o-1",
  total: 12,
  ratio: 0.5,
  status: "PAID",
  tags: ["a", "b"],
  attrs: { x: 1 },
  note: { string: "gift" },
  digest: Buffer.from([1, 2, 3, 4]).toString("base64"),
  blob: Buffer.from("hi").toString("base64"),
  ok: true,
};

// The same value as avsc's own writer takes it (its wrapped-union and Buffer forms).
const AVSC_VALUE = {
  ...VALUE,
  note: { string: "gift" },
  digest: Buffer.from([1, 2, 3, 4]),
  blob: Buffer.from("hi"),
};

describe("Avro: prepare", () => {
  it("prepares a schema and names its type", async () => {
    const p = await prep(ORDER);
    expect(p).toMatchObject({ type: "avro", messageType: "shop.Order" });
    expect(p.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect((await prep({ ...ORDER, fields: [...ORDER.fields].reverse() })).fingerprint).not.toBe(p.fingerprint);
  });

  it("refuses a bad schema and says where", async () => {
    await expect(prepareSchema({ type: "avro", definition: "{" })).rejects.toMatchObject({ code: "SCHEMA_INVALID", details: { path: "" } });
    await expect(prep({ type: "record", name: "R", fields: [{ name: "a", type: "strin" }] })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { path: "", message: expect.stringContaining("strin") },
    });
    const err = await prep({
      type: "record",
      name: "R",
      fields: [
        {
          name: "inner",
          type: { type: "record", name: "I", fields: [{ name: "e", type: { type: "enum", name: "E", symbols: ["A", "A"] } }] },
        },
      ],
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "SCHEMA_INVALID",
      details: { path: "/fields/0/type/fields/0/type", message: expect.stringContaining("duplicate") },
    });
    await expect(prep({ type: "record", name: "R", fields: [{ name: "n", type: "int", default: "x" }] })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { message: expect.stringContaining("default") },
    });
  });
});

describe("Avro: validate, decode, encode", () => {
  it("reads what avsc writes, and writes the same bytes", async () => {
    const s = loadSchema(await prep(ORDER));
    const bytes = avsc.Type.forSchema(ORDER as never, { wrapUnions: true }).toBuffer(AVSC_VALUE);
    expect(s.validate(bytes)).toEqual({ ok: true, value: VALUE });
    expect(Buffer.from(s.encode(VALUE))).toEqual(bytes);
  });

  it("round-trips the JSON form, longs beyond 2^53 as decimal strings, NaN and infinities as strings", async () => {
    const s = loadSchema(
      await prep({
        type: "record",
        name: "N",
        fields: [
          { name: "big", type: "long" },
          { name: "neg", type: "long" },
          { name: "f", type: "float" },
          { name: "d", type: "double" },
          { name: "u", type: ["null", "long", { type: "record", name: "Inner", fields: [{ name: "x", type: "int" }] }] },
        ],
      }),
    );
    const values = [
      { big: "9223372036854775807", neg: "-9223372036854775808", f: "NaN", d: "-Infinity", u: null },
      { big: 9007199254740991, neg: -1, f: 1.5, d: 1e300, u: { long: 5 } },
      { big: 0, neg: 0, f: 0, d: 0, u: { Inner: { x: -2147483648 } } },
    ];
    for (const v of values) expect(s.decode(s.encode(v))).toEqual(v);
    expect(s.decode(s.encode({ big: "42", neg: 0, f: 0, d: 0, u: null }))).toMatchObject({ big: 42 });
  });

  it("refuses trailing bytes, truncated data, bad union and enum indexes, invalid UTF-8 and boolean bytes", async () => {
    const s = loadSchema(await prep(ORDER));
    const good = s.encode(VALUE);
    const issue = (b: Uint8Array) => (s.validate(b) as { ok: false; issues: { path: string; keyword: string }[] }).issues[0];
    expect(issue(Buffer.concat([good, Buffer.from([0])]))).toMatchObject({ path: "", keyword: "trailing" });
    expect(issue(good.subarray(0, good.length - 1))).toMatchObject({ keyword: "truncated" });
    const rec = (fields: unknown[]) =>
      loadSchema({ type: "avro", definition: JSON.stringify({ type: "record", name: "R", fields }), fingerprint: "x" });
    const union = rec([{ name: "u", type: ["null", "string"] }]);
    expect(union.validate(Buffer.from([4]))).toEqual({ ok: false, issues: [expect.objectContaining({ path: "/u", keyword: "union" })] });
    const en = rec([{ name: "e", type: { type: "enum", name: "E", symbols: ["A"] } }]);
    expect(en.validate(Buffer.from([2]))).toEqual({ ok: false, issues: [expect.objectContaining({ path: "/e", keyword: "enum" })] });
    const str = rec([{ name: "s", type: "string" }]);
    expect(str.validate(Buffer.from([4, 0xc3, 0x28]))).toEqual({
      ok: false,
      issues: [expect.objectContaining({ path: "/s", keyword: "utf8" })],
    });
    const bool = rec([{ name: "b", type: "boolean" }]);
    expect(bool.validate(Buffer.from([2]))).toEqual({ ok: false, issues: [expect.objectContaining({ keyword: "boolean" })] });
    // A block claiming more items than the payload can hold.
    const arr = rec([{ name: "a", type: { type: "array", items: "long" } }]);
    expect(arr.validate(Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]))).toEqual({
      ok: false,
      issues: [expect.objectContaining({ keyword: "length" })],
    });
    const nulls = rec([{ name: "a", type: { type: "array", items: "null" } }]);
    expect(nulls.validate(Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0]))).toMatchObject({ ok: false });
  });

  it("keeps __proto__ as a plain key of records and maps", async () => {
    const s = loadSchema(await prep({ type: "record", name: "P", fields: [{ name: "__proto__", type: { type: "map", values: "int" } }] }));
    const value = JSON.parse('{"__proto__": {"__proto__": 1, "a": 2}}') as Record<string, unknown>;
    const decoded = s.decode(s.encode(value)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(JSON.stringify(decoded)).toBe('{"__proto__":{"__proto__":1,"a":2}}');
  });

  it("encode refuses values that do not fit, naming the field", async () => {
    const s = loadSchema(await prep(ORDER));
    const attempt = (v: unknown) => {
      try {
        s.encode(v);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(attempt({ ...VALUE, total: 1.5 })).toMatchObject({ issues: [{ path: "/total" }] });
    expect(attempt({ ...VALUE, status: "LOST" })).toMatchObject({ issues: [{ path: "/status", keyword: "enum" }] });
    expect(attempt({ ...VALUE, note: "gift" })).toMatchObject({ issues: [{ path: "/note", keyword: "union" }] });
    expect(attempt({ ...VALUE, digest: "AQI=" })).toMatchObject({ issues: [{ path: "/digest" }] });
    const { ok: _ok, ...missing } = VALUE;
    expect(attempt(missing)).toMatchObject({ issues: [{ path: "", keyword: "required" }] });
    expect(attempt({ ...VALUE, extra: 1 })).toMatchObject({ issues: [{ path: "/extra", keyword: "unknown-field" }] });
    expect(attempt({ ...VALUE, total: 1.5 })).toBeInstanceOf(SchemaValidationError);
  });
});

describe("Avro: compatibility (schema resolution)", () => {
  const changes = async (mode: CompatibilityMode, a: unknown, b: unknown): Promise<BreakingChange[]> =>
    checkCompatibility(mode, await prep(a), await prep(b));
  const rules = (cs: BreakingChange[]) => cs.map((c) => c.rule).sort();
  const rec = (fields: unknown[], extra: Record<string, unknown> = {}) => ({ type: "record", name: "R", fields, ...extra });

  it("adding a field with a default is FULL compatible; without one it breaks BACKWARD", async () => {
    const v1 = rec([{ name: "a", type: "int" }]);
    expect(
      await changes(
        "FULL",
        v1,
        rec([
          { name: "a", type: "int" },
          { name: "b", type: "string", default: "" },
        ]),
      ),
    ).toEqual([]);
    const noDefault = rec([
      { name: "a", type: "int" },
      { name: "b", type: "string" },
    ]);
    expect(await changes("BACKWARD", v1, noDefault)).toEqual([
      { path: "/b", rule: "avro.field-added-without-default", message: expect.any(String) },
    ]);
    expect(await changes("FORWARD", v1, noDefault)).toEqual([]);
    expect(rules(await changes("FORWARD", noDefault, v1))).toEqual(["avro.field-removed-without-default"]);
  });

  it("promotions are backward compatible only; other type changes break both ways", async () => {
    const a = rec([{ name: "n", type: "int" }]);
    const b = rec([{ name: "n", type: "long" }]);
    expect(await changes("BACKWARD", a, b)).toEqual([]);
    expect(rules(await changes("FORWARD", a, b))).toEqual(["avro.type-widened"]);
    expect(rules(await changes("BACKWARD", b, a))).toEqual(["avro.type-narrowed"]);
    expect(rules(await changes("FULL", a, rec([{ name: "n", type: "string" }])))).toEqual(["avro.type-changed"]);
    expect(await changes("FULL", rec([{ name: "s", type: "string" }]), rec([{ name: "s", type: "bytes" }]))).toEqual([]);
  });

  it("enum symbols, union branches, names and fixed sizes", async () => {
    const en = (symbols: string[], extra = {}) => rec([{ name: "e", type: { type: "enum", name: "E", symbols, ...extra } }]);
    expect(rules(await changes("BACKWARD", en(["A", "B"]), en(["A"])))).toEqual(["avro.enum-symbol-removed"]);
    expect(rules(await changes("FORWARD", en(["A"]), en(["A", "B"])))).toEqual(["avro.enum-symbol-added"]);
    expect(await changes("FORWARD", en(["A"], { default: "A" }), en(["A", "B"]))).toEqual([]);
    const un = (types: unknown[]) => rec([{ name: "u", type: types }]);
    expect(rules(await changes("BACKWARD", un(["null", "string", "int"]), un(["null", "string"])))).toEqual(["avro.union-branch-removed"]);
    expect(rules(await changes("FORWARD", un(["null", "string"]), un(["null", "string", "int"])))).toEqual(["avro.union-branch-added"]);
    expect(rules(await changes("BACKWARD", rec([{ name: "a", type: "int" }]), rec([{ name: "a", type: "int" }], { name: "S" })))).toEqual([
      "avro.name-changed",
    ]);
    expect(
      await changes("BACKWARD", rec([{ name: "a", type: "int" }]), rec([{ name: "a", type: "int" }], { name: "S", aliases: ["R"] })),
    ).toEqual([]);
    const fx = (size: number) => rec([{ name: "f", type: { type: "fixed", name: "F", size } }]);
    expect(rules(await changes("FULL", fx(4), fx(8)))).toEqual(["avro.fixed-size-changed"]);
  });

  it("agrees with avsc's resolver on every case above", async () => {
    const pairs: [unknown, unknown][] = [
      [rec([{ name: "a", type: "int" }]), rec([{ name: "a", type: "long" }])],
      [rec([{ name: "a", type: "long" }]), rec([{ name: "a", type: "int" }])],
      [
        rec([{ name: "a", type: "int" }]),
        rec([
          { name: "a", type: "int" },
          { name: "b", type: "int" },
        ]),
      ],
      [rec([{ name: "u", type: ["null", "int"] }]), rec([{ name: "u", type: "int" }])],
      [rec([{ name: "u", type: "int" }]), rec([{ name: "u", type: ["null", "int"] }])],
    ];
    for (const [older, newer] of pairs) {
      const reader = avsc.Type.forSchema(newer as never, { wrapUnions: true });
      const writer = avsc.Type.forSchema(older as never, { wrapUnions: true });
      let avscOk = true;
      try {
        reader.createResolver(writer);
      } catch {
        avscOk = false;
      }
      expect((await changes("BACKWARD", older, newer)).length === 0, JSON.stringify([older, newer])).toBe(avscOk);
    }
  });
});
