import { describe, expect, it } from "vitest";
import { loadSchema, prepareSchema } from "../index.js";
import type { CompiledSchema, PreparedSchema, SchemaSource } from "../index.js";
import { jsonEngineOf, loadJsonSchema } from "./schema.js";

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const S2020 = "https://json-schema.org/draft/2020-12/schema";
const S2019 = "https://json-schema.org/draft/2019-09/schema";

async function prep(schema: unknown, extra: Partial<SchemaSource> = {}): Promise<PreparedSchema> {
  return prepareSchema({ type: "json", definition: JSON.stringify(schema), ...extra });
}

/** Both validators (ajv where it runs, Junction's own always) must give `valid` for each value. */
async function expectVerdicts(schema: unknown, cases: [unknown, boolean][], extra: Partial<SchemaSource> = {}): Promise<void> {
  const p = await prep(schema, extra);
  const engines: CompiledSchema[] = [loadSchema(p), loadJsonSchema(p, {}, false)];
  for (const [value, valid] of cases) {
    for (const [i, c] of engines.entries())
      expect(c.validate(enc(value)).ok, `${i === 0 ? "chosen" : "own"} engine, ${JSON.stringify(value)}`).toBe(valid);
  }
}

describe("JSON Schema: legal schemas are accepted (no strict mode)", () => {
  it("a lone then/else, minContains without contains, additionalItems without items: accepted with warnings, ignored", async () => {
    const p = await prep({ $schema: S2020, then: { type: "string" }, else: false, minContains: 2, type: "array" });
    expect(p.warnings).toEqual([
      expect.stringContaining('"then"/"else" without "if" are ignored'),
      expect.stringContaining('"minContains"/"maxContains" without "contains" are ignored'),
    ]);
    expect(loadSchema(p).validate(enc([1])).ok).toBe(true);
    const d7 = await prep({ additionalItems: false });
    expect(d7.warnings).toEqual([expect.stringContaining('"additionalItems" without an array "items" is ignored')]);
    expect(loadSchema(d7).validate(enc([1, 2])).ok).toBe(true);
  });

  it("$anchor and $dynamicAnchor are usable", async () => {
    await expectVerdicts({ $schema: S2020, $defs: { name: { $anchor: "name", type: "string" } }, properties: { n: { $ref: "#name" } } }, [
      [{ n: "x" }, true],
      [{ n: 1 }, false],
    ]);
  });

  it("an empty enum is legal from draft-06 on and accepts nothing; draft-04 refuses it", async () => {
    await expectVerdicts({ enum: [] }, [
      [1, false],
      [null, false],
    ]);
    await expect(prep({ enum: [] }, { dialect: "draft-04" })).rejects.toMatchObject({ code: "SCHEMA_INVALID", details: { path: "/enum" } });
  });

  it("idn-email, idn-hostname, iri and iri-reference are accepted and checked", async () => {
    const p = await prep({
      properties: { e: { format: "idn-email" }, h: { format: "idn-hostname" }, i: { format: "iri" }, r: { format: "iri-reference" } },
    });
    expect(p.warnings).toBeUndefined();
    const s = loadSchema(p);
    expect(s.validate(enc({ e: "用户@例子.广告", h: "münchen.example", i: "https://例え.テスト/パス", r: "../ü" })).ok).toBe(true);
    expect(s.validate(enc({ e: "no-at-sign" })).ok).toBe(false);
    expect(s.validate(enc({ i: "not an iri" })).ok).toBe(false);
  });

  it("keywords of another draft are ignored with a warning that names the draft", async () => {
    const p = await prep({ type: "array", prefixItems: [{ type: "string" }] });
    expect(p.warnings).toEqual([expect.stringContaining('"prefixItems" is not a draft-07 keyword and is ignored (it belongs to 2020-12')]);
    expect(loadSchema(p).validate(enc([1])).ok).toBe(true);
  });
});

describe("JSON Schema: drafts and the default dialect", () => {
  it("without $schema the dialect is draft-07; the dialect option changes it and is stored", async () => {
    const schema = { type: "array", prefixItems: [{ type: "string" }], items: false };
    const d7 = await prep(schema);
    expect(d7.dialect).toBe("draft-07");
    // draft-07: prefixItems is unknown, items: false forbids any item
    expect(loadSchema(d7).validate(enc(["a"])).ok).toBe(false);
    const d2020 = await prep(schema, { dialect: "2020-12" });
    expect(d2020.dialect).toBe("2020-12");
    expect(loadSchema(d2020).validate(enc(["a"])).ok).toBe(true);
    expect(loadSchema(d2020).validate(enc(["a", "b"])).ok).toBe(false);
    expect(d2020.fingerprint).not.toBe(d7.fingerprint);
  });

  it("draft-04: boolean exclusiveMinimum and id", async () => {
    await expectVerdicts(
      { $schema: "http://json-schema.org/draft-04/schema#", id: "http://example.com/n", minimum: 5, exclusiveMinimum: true },
      [
        [5, false],
        [5.5, true],
      ],
    );
  });

  it("draft-06 ignores if/then/else (draft-07 keywords)", async () => {
    await expectVerdicts({ $schema: "http://json-schema.org/draft-06/schema#", if: true, then: false }, [[1, true]]);
    await expectVerdicts({ $schema: "http://json-schema.org/draft-07/schema#", if: true, then: false }, [[1, false]]);
  });

  it("before 2019-09 $ref overrides its siblings; from 2019-09 on they apply too", async () => {
    const schema = (s: string) => ({
      $schema: s,
      $defs: { n: { type: "number" } },
      definitions: { n: { type: "number" } },
      $ref: "#/definitions/n",
      maximum: 5,
    });
    await expectVerdicts(schema("http://json-schema.org/draft-07/schema#"), [[10, true]]);
    await expectVerdicts(schema(S2019), [[10, false]]);
  });

  it("multipleOf tolerates binary floating point", async () => {
    await expectVerdicts({ multipleOf: 0.0001 }, [
      [0.0075, true],
      [0.00751, false],
    ]);
    await expectVerdicts({ multipleOf: 0.01 }, [[19.99, true]]);
  });
});

describe("JSON Schema: wrong verdicts fixed", () => {
  it("required properties are own properties: {} lacks toString, constructor and __proto__", async () => {
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      await expectVerdicts({ required: [name] }, [
        [{}, false],
        [JSON.parse(`{"${name}": 1}`), true],
      ]);
    }
  });

  it("properties named after Object.prototype members validate the value, not the prototype", async () => {
    await expectVerdicts(JSON.parse('{"properties": {"__proto__": {"type": "number"}, "toString": {"type": "string"}}}'), [
      [JSON.parse('{"__proto__": "x"}'), false],
      [JSON.parse('{"__proto__": 1}'), true],
      [{ toString: 1 }, false],
      [{}, true],
    ]);
  });

  it("$dynamicRef resolves to the outermost $dynamicAnchor in scope (an extended tree)", async () => {
    const tree = {
      $schema: S2020,
      $id: "https://example.com/tree",
      $dynamicAnchor: "node",
      type: "object",
      properties: { data: true, children: { type: "array", items: { $dynamicRef: "#node" } } },
    };
    const strictTree = {
      $schema: S2020,
      $id: "https://example.com/strict-tree",
      $dynamicAnchor: "node",
      $ref: "tree",
      unevaluatedProperties: false,
      $defs: { tree },
    };
    await expectVerdicts(strictTree, [
      [{ children: [{ data: 1 }] }, true],
      [{ children: [{ daat: 1 }] }, false],
    ]);
    // The base tree alone lets any property through.
    await expectVerdicts(tree, [[{ children: [{ daat: 1 }] }, true]]);
  });

  it("$recursiveRef (2019-09) extends a recursive schema", async () => {
    const base = {
      $id: "https://example.com/base",
      $recursiveAnchor: true,
      type: "object",
      properties: { next: { $recursiveRef: "#" } },
    };
    const extended = {
      $schema: S2019,
      $id: "https://example.com/ext",
      $recursiveAnchor: true,
      $ref: "base",
      required: ["v"],
      $defs: { base },
    };
    await expectVerdicts(extended, [
      [{ v: 1, next: { v: 2 } }, true],
      [{ v: 1, next: {} }, false],
    ]);
  });

  it("unevaluatedProperties sees through allOf, anyOf, if/then and $ref", async () => {
    const schema = {
      $schema: S2020,
      $defs: { named: { properties: { name: { type: "string" } } } },
      allOf: [{ $ref: "#/$defs/named" }],
      anyOf: [
        { properties: { a: true }, required: ["a"] },
        { properties: { b: true }, required: ["b"] },
      ],
      if: { properties: { kind: { const: "x" } }, required: ["kind"] },
      then: { properties: { x: true } },
      unevaluatedProperties: false,
    };
    await expectVerdicts(schema, [
      [{ name: "n", a: 1 }, true],
      [{ name: "n", a: 1, b: 2 }, true],
      [{ a: 1, kind: "x", x: 1 }, true],
      [{ a: 1, x: 1 }, false],
      [{ a: 1, other: 1 }, false],
    ]);
  });

  it("unevaluatedItems sees prefixItems, contains and nested applicators", async () => {
    await expectVerdicts({ $schema: S2020, prefixItems: [{ type: "string" }], contains: { type: "number" }, unevaluatedItems: false }, [
      [["a", 1], true],
      [["a", 1, 2], true],
      [["a", 1, true], false],
    ]);
    await expectVerdicts({ $schema: S2020, anyOf: [{ prefixItems: [true, true] }, { prefixItems: [true] }], unevaluatedItems: false }, [
      [[1, 2], true],
      [[1, 2, 3], false],
    ]);
  });

  it("relative $id and URN-based $ref resolve", async () => {
    await expectVerdicts(
      {
        $schema: S2020,
        $id: "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed",
        $defs: { bar: { type: "string" } },
        properties: { foo: { $ref: "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/bar" } },
      },
      [
        [{ foo: "x" }, true],
        [{ foo: 1 }, false],
      ],
    );
    await expectVerdicts(
      {
        $schema: S2020,
        $id: "https://example.com/schemas/root.json",
        properties: { a: { $ref: "item.json" } },
        $defs: { item: { $id: "item.json", type: "integer" } },
      },
      [
        [{ a: 1 }, true],
        [{ a: "1" }, false],
      ],
    );
  });
});

describe("JSON Schema: which validator runs", () => {
  it("common schemas run on ajv, the rest on Junction's validator", async () => {
    expect(jsonEngineOf(await prep({ type: "object", properties: { a: { type: "string" } }, required: ["a"] }))).toBe("ajv");
    expect(jsonEngineOf(await prep({ $schema: S2020, unevaluatedProperties: false }))).toBe("interpreter");
    expect(jsonEngineOf(await prep({ $schema: S2020, $defs: { a: { $anchor: "a" } }, $ref: "#a" }))).toBe("interpreter");
    expect(jsonEngineOf(await prep({ enum: [] }))).toBe("interpreter");
    expect(jsonEngineOf(await prep({ $ref: "#/definitions/a", maximum: 1, definitions: { a: {} } }))).toBe("interpreter");
  });
});

describe("JSON Schema: formats", () => {
  it("formats assert by default; formats: annotate only records them; the choice is stored and fingerprinted", async () => {
    const schema = { type: "string", format: "email" };
    const assert = await prep(schema);
    const annotate = await prep(schema, { formats: "annotate" });
    expect(assert.formats).toBe("assert");
    expect(annotate.formats).toBe("annotate");
    expect(annotate.fingerprint).not.toBe(assert.fingerprint);
    expect(loadSchema(assert).validate(enc("nope")).ok).toBe(false);
    expect(loadSchema(annotate).validate(enc("nope")).ok).toBe(true);
    await expect(prep(schema, { formats: "loose" as never })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { path: "formats" },
    });
  });

  it("a schema whose meta-schema turns on format-assertion asserts even with formats: annotate", async () => {
    const meta = await prep({
      $schema: S2020,
      $id: "https://example.com/meta/assert-formats",
      $vocabulary: {
        "https://json-schema.org/draft/2020-12/vocab/core": true,
        "https://json-schema.org/draft/2020-12/vocab/format-assertion": true,
      },
    });
    const src: SchemaSource = {
      type: "json",
      definition: JSON.stringify({ $schema: "https://example.com/meta/assert-formats", format: "ipv4" }),
      formats: "annotate",
    };
    const references = [{ name: "meta", version: 1, prepared: meta }];
    const p = await prepareSchema(src, { references });
    const s = loadSchema(p, { references });
    expect(s.validate(enc("127.0.0.1")).ok).toBe(true);
    expect(s.validate(enc("127.0.0.300")).ok).toBe(false);
  });
});
