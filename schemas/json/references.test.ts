import { describe, expect, it } from "vitest";
import { loadSchema, prepareSchema, referenceUri, schemaReferences } from "../index.js";
import type { PreparedSchema, ReferencedSchema, SchemaSource } from "../index.js";
import { jsonEngineOf, loadJsonSchema } from "./schema.js";

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const src = (schema: unknown, extra: Partial<SchemaSource> = {}): SchemaSource => ({
  type: "json",
  definition: JSON.stringify(schema),
  ...extra,
});
const ref = (name: string, version: number, prepared: PreparedSchema, uri?: string): ReferencedSchema => ({
  name,
  version,
  prepared,
  ...(uri === undefined ? {} : { uri }),
});

const ADDRESS = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://schemas.example.com/address.json",
  type: "object",
  properties: { street: { type: "string" }, zip: { $ref: "#/$defs/zip" } },
  required: ["street"],
  $defs: { zip: { type: "string", pattern: "^[0-9]{5}$" } },
};

describe("JSON Schema references", () => {
  it("schemaReferences lists junction:<name>@<version> and other absolute URIs, once each", () => {
    const order = {
      properties: {
        a: { $ref: "junction:address@2" },
        b: { $ref: "junction:address@2#/$defs/zip" },
        c: { $ref: "https://schemas.example.com/money.json" },
        d: { $ref: "http://json-schema.org/draft-07/schema#" },
        e: { $ref: "#/definitions/local" },
      },
      definitions: { local: {} },
    };
    expect(schemaReferences(src(order))).toEqual([
      { kind: "version", name: "address", version: 2 },
      { kind: "uri", uri: "https://schemas.example.com/money.json" },
    ]);
    expect(() => schemaReferences(src({ $ref: "junction:address" }))).toThrow(/junction:<name>@<version>/);
  });

  it("a schema refers to another registered schema by name and version, with a pointer into it", async () => {
    const address = await prepareSchema(src(ADDRESS));
    expect(address.ids).toEqual(["https://schemas.example.com/address.json"]);
    const references = [ref("address", 2, address)];
    const order = await prepareSchema(
      src({ type: "object", properties: { ship: { $ref: "junction:address@2" }, zip: { $ref: "junction:address@2#/$defs/zip" } } }),
      { references },
    );
    expect(order.references).toEqual([{ name: "address", version: 2 }]);
    for (const s of [loadSchema(order, { references }), loadJsonSchema(order, { references }, false)]) {
      expect(s.validate(enc({ ship: { street: "Main", zip: "12345" }, zip: "54321" })).ok).toBe(true);
      expect(s.validate(enc({ ship: { zip: "12345" } }))).toEqual({
        ok: false,
        issues: [expect.objectContaining({ path: "/ship", keyword: "required" })],
      });
      expect(s.validate(enc({ zip: "1234" })).ok).toBe(false);
    }
  });

  it("a schema refers to another by its $id; the reference is recorded by name and version", async () => {
    const address = await prepareSchema(src(ADDRESS));
    const requests = schemaReferences(src({ $ref: "https://schemas.example.com/address.json" }));
    expect(requests).toEqual([{ kind: "uri", uri: "https://schemas.example.com/address.json" }]);
    const references = [ref("address", 3, address)];
    const p = await prepareSchema(src({ $ref: "https://schemas.example.com/address.json" }), { references });
    expect(p.references).toEqual([{ name: "address", version: 3 }]);
    expect(loadSchema(p, { references }).validate(enc({ street: "x" })).ok).toBe(true);
  });

  it("records the references of references, and needs them supplied", async () => {
    const zip = await prepareSchema(src({ type: "string", minLength: 5 }));
    const zipRefs = [ref("zip", 1, zip)];
    const address = await prepareSchema(src({ properties: { zip: { $ref: "junction:zip@1" } } }), { references: zipRefs });
    const all = [ref("address", 1, address), ...zipRefs];
    const order = await prepareSchema(src({ properties: { to: { $ref: "junction:address@1" } } }), { references: all });
    expect(order.references).toEqual([
      { name: "address", version: 1 },
      { name: "zip", version: 1 },
    ]);
    expect(loadSchema(order, { references: all }).validate(enc({ to: { zip: "123" } })).ok).toBe(false);
    await expect(
      prepareSchema(src({ properties: { to: { $ref: "junction:address@1" } } }), { references: [ref("address", 1, address)] }),
    ).rejects.toMatchObject({ code: "SCHEMA_INVALID", details: { missing: { name: "zip", version: 1 } } });
  });

  it("refuses a reference that was not supplied, or one that is not a JSON Schema", async () => {
    await expect(prepareSchema(src({ $ref: "junction:address@9" }))).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { missingRef: "junction:address@9" },
    });
    const proto = { type: "protobuf", definition: 'syntax = "proto3";', fingerprint: "x" } as PreparedSchema;
    await expect(prepareSchema(src({ $ref: "junction:p@1" }), { references: [ref("p", 1, proto)] })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { reference: "p@1" },
    });
  });

  it("loadSchema needs the recorded references", async () => {
    const address = await prepareSchema(src(ADDRESS));
    const order = await prepareSchema(src({ $ref: "junction:address@1" }), { references: [ref("address", 1, address)] });
    expect(() => loadSchema(order)).toThrow(/needs address@1/);
  });

  it("a schema published at a baseUri is referenced by it, and its relative references resolve against it", async () => {
    const str = await prepareSchema(src({ type: "string" }, { baseUri: "https://schemas.example.com/nested/string.json" }));
    expect(str.ids).toEqual(["https://schemas.example.com/nested/string.json"]);
    const strRef = ref("string", 1, str);
    const foo = await prepareSchema(
      src({ properties: { foo: { $ref: "string.json" } } }, { baseUri: "https://schemas.example.com/nested/foo.json" }),
      { references: [strRef] },
    );
    expect(foo.references).toEqual([{ name: "string", version: 1 }]);
    const all = [ref("foo", 1, foo), strRef];
    const root = await prepareSchema(src({ $ref: "https://schemas.example.com/nested/foo.json" }), { references: all });
    const s = loadSchema(root, { references: all });
    expect(s.validate(enc({ foo: "x" })).ok).toBe(true);
    expect(s.validate(enc({ foo: 1 })).ok).toBe(false);
  });

  it("a schema may use a registered meta-schema that limits the vocabularies", async () => {
    const meta = await prepareSchema(
      src({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        $id: "https://schemas.example.com/meta/no-validation",
        $vocabulary: {
          "https://json-schema.org/draft/2020-12/vocab/core": true,
          "https://json-schema.org/draft/2020-12/vocab/applicator": true,
        },
      }),
    );
    const references = [ref("meta", 1, meta)];
    const schema = { $schema: "https://schemas.example.com/meta/no-validation", properties: { n: { minimum: 10 }, bad: false } };
    expect(schemaReferences(src(schema))).toEqual([{ kind: "uri", uri: "https://schemas.example.com/meta/no-validation" }]);
    const p = await prepareSchema(src(schema), { references });
    const s = loadSchema(p, { references });
    expect(s.validate(enc({ n: 1 })).ok).toBe(true); // minimum is not in the vocabularies
    expect(s.validate(enc({ bad: 1 })).ok).toBe(false); // properties is
  });

  it("refuses two references known by the same URI", async () => {
    const a = await prepareSchema(src(ADDRESS));
    const b = await prepareSchema(src({ ...ADDRESS, required: [] }));
    await expect(
      prepareSchema(src({ allOf: [{ $ref: "junction:a@1" }, { $ref: "junction:b@1" }] }), { references: [ref("a", 1, a), ref("b", 1, b)] }),
    ).rejects.toMatchObject({ code: "SCHEMA_INVALID", details: { uri: "https://schemas.example.com/address.json" } });
  });

  it("ajv serves references in the same draft, by name and by $id, with the same verdicts", async () => {
    const address = await prepareSchema(
      src({
        ...ADDRESS,
        $schema: undefined,
        $defs: undefined,
        definitions: ADDRESS.$defs,
        properties: { street: { type: "string" }, zip: { $ref: "#/definitions/zip" } },
      }),
    );
    const references = [ref("address", 4, address)];
    const order = await prepareSchema(
      src({ properties: { a: { $ref: "junction:address@4" }, b: { $ref: "https://schemas.example.com/address.json#/definitions/zip" } } }),
      { references },
    );
    expect(jsonEngineOf(order, { references })).toBe("ajv");
    for (const s of [loadSchema(order, { references }), loadJsonSchema(order, { references }, false)]) {
      expect(s.validate(enc({ a: { street: "x", zip: "12345" }, b: "54321" })).ok).toBe(true);
      expect(s.validate(enc({ a: { zip: "12345" } })).ok).toBe(false);
      expect(s.validate(enc({ b: "5432" })).ok).toBe(false);
    }
  });

  it("referenceUri names a version", () => {
    expect(referenceUri("orders", 3)).toBe("junction:orders@3");
  });
});
