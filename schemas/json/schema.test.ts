import { describe, expect, it } from "vitest";
import { MAX_SCHEMA_BYTES, SchemaError, SchemaValidationError, loadSchema, prepareSchema } from "../index.js";
import type { CompiledSchema, ValidationResult } from "../index.js";

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const json = async (schema: unknown): Promise<CompiledSchema> =>
  loadSchema(await prepareSchema({ type: "json", definition: JSON.stringify(schema) }));
const refused = (schema: unknown): Promise<unknown> =>
  prepareSchema({ type: "json", definition: typeof schema === "string" ? schema : JSON.stringify(schema) });
const issuesOf = (r: ValidationResult) => (r.ok ? [] : r.issues);

const order = {
  type: "object",
  properties: {
    id: { type: "string", minLength: 1 },
    email: { type: "string", format: "email" },
    items: { type: "array", items: { type: "object", properties: { price: { type: "number", minimum: 0 } }, required: ["price"] } },
  },
  required: ["id"],
  additionalProperties: false,
};

describe("JSON Schema: prepare", () => {
  it("accepts a draft-07 schema without $schema and fingerprints it independently of formatting", async () => {
    const a = await prepareSchema({ type: "json", definition: JSON.stringify(order) });
    const b = await prepareSchema({ type: "json", definition: JSON.stringify(order, null, 2) });
    const c = await prepareSchema({ type: "json", definition: JSON.stringify({ ...order, required: ["id", "email"] }) });
    expect(a.type).toBe("json");
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
    expect(a.descriptorSetBase64).toBeUndefined();
  });

  it("uses the 2020-12 dialect when $schema says so", async () => {
    const s = await json({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "array",
      prefixItems: [{ type: "string" }, { type: "integer" }],
      items: false,
    });
    expect(s.validate(enc(["a", 1])).ok).toBe(true);
    expect(issuesOf(s.validate(enc(["a", "b"])))).toEqual([expect.objectContaining({ path: "/1", keyword: "type" })]);
    expect(s.validate(enc(["a", 1, 2])).ok).toBe(false);
  });

  it("accepts the draft-07 $schema URI with a trailing #", async () => {
    const s = await json({ $schema: "http://json-schema.org/draft-07/schema#", type: "integer" });
    expect(s.validate(enc(3)).ok).toBe(true);
    expect(s.validate(enc(3.5)).ok).toBe(false);
  });

  it("refuses an unknown $schema", async () => {
    await expect(refused({ $schema: "https://example.com/my-meta-schema", type: "string" })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { path: "/$schema" },
    });
  });

  it("refuses a definition that is not JSON", async () => {
    await expect(refused('{"type": "string"')).rejects.toMatchObject({ code: "SCHEMA_INVALID", details: { path: "" } });
    await expect(refused("42")).rejects.toMatchObject({ code: "SCHEMA_INVALID" });
  });

  it("refuses an invalid schema and points at the problem", async () => {
    const err = await refused({ type: "object", properties: { a: { type: "strin" } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect(err).toMatchObject({ code: "SCHEMA_INVALID", retriable: false, details: { path: "/properties/a/type" } });
    await expect(refused({ properties: { n: { minimum: "0" } } })).rejects.toMatchObject({
      details: { path: "/properties/n/minimum", message: "must be number" },
    });
  });

  it("accepts unknown keywords (typos) and unknown formats, with warnings naming their path", async () => {
    const typo = await prepareSchema({ type: "json", definition: JSON.stringify({ properties: { a: { type: "string", maxLenght: 3 } } }) });
    expect(typo.warnings).toEqual([
      expect.stringMatching(/^\/properties\/a\/maxLenght: unknown keyword "maxLenght" is ignored \(did you mean "maxLength"\?\)/),
    ]);
    const colour = await prepareSchema({
      type: "json",
      definition: JSON.stringify({ properties: { a: { type: "string", format: "colour" } } }),
    });
    expect(colour.warnings).toEqual([expect.stringContaining('/properties/a/format: format "colour" is not known')]);
    expect(loadSchema(colour).validate(enc({ a: "anything" })).ok).toBe(true);
  });

  it("refuses an unresolvable $ref with its path", async () => {
    await expect(refused({ properties: { a: { $ref: "#/definitions/missing" } } })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { path: "/properties/a/$ref", keyword: "$ref" },
    });
  });

  it("refuses definitions over MAX_SCHEMA_BYTES", async () => {
    const big = JSON.stringify({ type: "string", description: "x".repeat(MAX_SCHEMA_BYTES) });
    await expect(prepareSchema({ type: "json", definition: big })).rejects.toMatchObject({
      code: "SCHEMA_TOO_LARGE",
      details: { maxBytes: MAX_SCHEMA_BYTES },
    });
  });
});

describe("JSON Schema: recursive $ref", () => {
  it("compiles a legal recursive schema (a tree) and validates deep data", async () => {
    const tree = await json({
      definitions: {
        node: {
          type: "object",
          properties: { value: { type: "integer" }, children: { type: "array", items: { $ref: "#/definitions/node" } } },
          required: ["value"],
        },
      },
      $ref: "#/definitions/node",
    });
    const deep = { value: 1, children: [{ value: 2, children: [{ value: 3, children: [] }] }] };
    expect(tree.validate(enc(deep)).ok).toBe(true);
    const bad = { value: 1, children: [{ value: 2, children: [{ value: "three" }] }] };
    expect(issuesOf(tree.validate(enc(bad)))).toEqual([expect.objectContaining({ path: "/children/0/children/0/value", keyword: "type" })]);
  });

  it("compiles a root self-reference that descends into properties", async () => {
    const list = await json({ type: "object", properties: { next: { $ref: "#" }, v: { type: "string" } } });
    expect(list.validate(enc({ v: "a", next: { v: "b", next: { v: "c" } } })).ok).toBe(true);
    expect(list.validate(enc({ next: { next: { v: 1 } } })).ok).toBe(false);
  });

  it("refuses a $ref to itself that never consumes input", async () => {
    await expect(refused({ $ref: "#" })).rejects.toMatchObject({ code: "SCHEMA_INVALID", details: { path: "/$ref", keyword: "$ref" } });
  });

  it("refuses $ref loops between definitions and through allOf/anyOf", async () => {
    await expect(
      refused({ definitions: { a: { $ref: "#/definitions/b" }, b: { $ref: "#/definitions/a" } }, $ref: "#/definitions/a" }),
    ).rejects.toMatchObject({ code: "SCHEMA_INVALID", details: { keyword: "$ref" } });
    await expect(refused({ anyOf: [{ type: "string" }, { allOf: [{ $ref: "#" }] }] })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { keyword: "$ref" },
    });
  });
});

describe("JSON Schema: regular expressions run on RE2", () => {
  it("validates a catastrophic-backtracking pattern in linear time", async () => {
    const s = await json({ type: "string", pattern: "^(a+)+$" });
    const r = s.validate(enc("a".repeat(50) + "!"));
    expect(r).toEqual({ ok: false, issues: [expect.objectContaining({ path: "", keyword: "pattern" })] });
    expect(s.validate(enc("a".repeat(50))).ok).toBe(true);
  });

  it("applies patternProperties with RE2 too", async () => {
    const s = await json({ type: "object", patternProperties: { "^x-(a+)+$": { type: "integer" } } });
    expect(s.validate(enc({ "x-aaaa": 1 })).ok).toBe(true);
    expect(issuesOf(s.validate(enc({ "x-aaaa": "1" })))).toEqual([expect.objectContaining({ path: "/x-aaaa" })]);
  });

  it("refuses backreferences and lookaround at registration, with the path", async () => {
    await expect(refused({ properties: { a: { type: "string", pattern: "^(a)\\1$" } } })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { path: "/properties/a/pattern", pattern: "^(a)\\1$" },
    });
    await expect(refused({ type: "string", pattern: "^(?=a)" })).rejects.toMatchObject({ details: { path: "/pattern" } });
    await expect(refused({ patternProperties: { "(?<!a)b": {} } })).rejects.toMatchObject({
      details: { path: "/patternProperties/(?<!a)b" },
    });
  });
});

describe("JSON Schema: validate, decode, encode", () => {
  it("reports every problem (allErrors) with JSON Pointer paths", async () => {
    const s = await json(order);
    const r = s.validate(enc({ id: "", email: "nope", items: [{ price: -1 }, {}], extra: true }));
    expect(r.ok).toBe(false);
    const issues = issuesOf(r);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "/id", keyword: "minLength" }),
        expect.objectContaining({ path: "/email", keyword: "format" }),
        expect.objectContaining({ path: "/items/0/price", keyword: "minimum" }),
        expect.objectContaining({ path: "/items/1", keyword: "required" }),
        expect.objectContaining({ path: "", keyword: "additionalProperties" }),
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it("returns the decoded value when valid", async () => {
    const s = await json(order);
    const value = { id: "o1", email: "a@b.example", items: [{ price: 2.5 }] };
    expect(s.validate(enc(value))).toEqual({ ok: true, value });
    expect(s.decode(enc(value))).toEqual(value);
  });

  it('treats a payload that is not JSON as invalid (path "", keyword json)', async () => {
    const s = await json({ type: "object" });
    expect(s.validate(new TextEncoder().encode("{not json"))).toEqual({
      ok: false,
      issues: [expect.objectContaining({ path: "", keyword: "json" })],
    });
    expect(s.validate(new Uint8Array([0x7b, 0xff, 0x7d])).ok).toBe(false);
    expect(s.validate(new Uint8Array()).ok).toBe(false);
  });

  it("decode throws SchemaValidationError with the issues", async () => {
    const s = await json(order);
    const err = (() => {
      try {
        s.decode(enc({ id: 7 }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SchemaValidationError);
    expect(err).toMatchObject({ code: "SCHEMA_VALIDATION_FAILED", issues: [{ path: "/id", keyword: "type" }] });
  });

  it("encode validates then returns JSON bytes", async () => {
    const s = await json(order);
    const bytes = s.encode({ id: "o2" });
    expect(new TextDecoder().decode(bytes)).toBe('{"id":"o2"}');
    expect(() => s.encode({ id: "o2", extra: 1 })).toThrow(SchemaValidationError);
    expect(() => s.encode(undefined)).toThrow(SchemaValidationError);
  });
});
