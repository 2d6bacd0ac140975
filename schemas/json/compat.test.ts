import { describe, expect, it } from "vitest";
import { checkCompatibility, prepareSchema } from "../index.js";
import type { BreakingChange, CompatibilityMode, PreparedSchema } from "../index.js";

const prep = (schema: unknown): Promise<PreparedSchema> => prepareSchema({ type: "json", definition: JSON.stringify(schema) });

async function changes(mode: CompatibilityMode, oldSchema: unknown, newSchema: unknown): Promise<BreakingChange[]> {
  return checkCompatibility(mode, await prep(oldSchema), await prep(newSchema));
}
const rules = (cs: BreakingChange[]): string[] => cs.map((c) => c.rule);

const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: "object", properties, ...extra });

describe("JSON compatibility: modes", () => {
  const v1 = obj({ id: { type: "string" } }, { required: ["id"] });

  it("identical schemas are compatible in every mode", async () => {
    for (const mode of ["none", "backward", "forward", "full"] as const) expect(await changes(mode, v1, v1)).toEqual([]);
  });

  it("none accepts anything", async () => {
    expect(await changes("none", v1, { type: "integer" })).toEqual([]);
  });

  it("full is backward plus forward", async () => {
    const narrowed = obj({ id: { type: "string" } }, { required: ["id"], additionalProperties: false });
    expect(rules(await changes("backward", v1, narrowed))).toEqual(["json.additional-properties-closed"]);
    expect(await changes("forward", v1, narrowed)).toEqual([]);
    expect(rules(await changes("full", v1, narrowed))).toEqual(["json.additional-properties-closed"]);
    expect(rules(await changes("full", narrowed, v1))).toEqual(["json.additional-properties-opened"]);
  });

  it("changing the schema type is breaking", async () => {
    const json = await prep({ type: "string" });
    const proto = await prepareSchema({ type: "protobuf", definition: 'syntax = "proto3";\nmessage A { int32 x = 1; }\n' });
    expect(rules(checkCompatibility("backward", json, proto))).toEqual(["schema.type-changed"]);
    expect(checkCompatibility("none", json, proto)).toEqual([]);
  });
});

describe("JSON compatibility: rules", () => {
  it("json.required-added: a new required property without default breaks backward", async () => {
    const v1 = obj({ id: { type: "string" } });
    const v2 = obj({ id: { type: "string" }, email: { type: "string" } }, { required: ["email"] });
    expect(await changes("backward", v1, v2)).toEqual([
      { path: "/required", rule: "json.required-added", message: expect.stringContaining('"email"') },
    ]);
    expect(await changes("forward", v1, v2)).toEqual([]);
    const withDefault = obj({ id: { type: "string" }, email: { type: "string", default: "" } }, { required: ["email"] });
    expect(await changes("backward", v1, withDefault)).toEqual([]);
  });

  it("json.required-removed: dropping a required property breaks forward", async () => {
    const v1 = obj({ id: { type: "string" }, email: { type: "string" } }, { required: ["id", "email"] });
    const v2 = obj({ id: { type: "string" }, email: { type: "string" } }, { required: ["id"] });
    expect(rules(await changes("forward", v1, v2))).toEqual(["json.required-removed"]);
    expect(await changes("backward", v1, v2)).toEqual([]);
  });

  it("json.type-narrowed: [string, null] -> string and number -> integer break backward", async () => {
    const a = await changes("backward", obj({ n: { type: ["string", "null"] } }), obj({ n: { type: "string" } }));
    expect(a).toEqual([{ path: "/properties/n/type", rule: "json.type-narrowed", message: expect.stringContaining('"null"') }]);
    expect(rules(await changes("backward", { type: "number" }, { type: "integer" }))).toEqual(["json.type-narrowed"]);
    expect(await changes("forward", { type: "number" }, { type: "integer" })).toEqual([]);
    expect(rules(await changes("backward", { type: "string" }, false))).toEqual(["json.type-narrowed"]);
  });

  it("json.type-widened: integer -> number and string -> [string, null] break forward", async () => {
    expect(rules(await changes("forward", { type: "integer" }, { type: "number" }))).toEqual(["json.type-widened"]);
    expect(await changes("backward", { type: "integer" }, { type: "number" })).toEqual([]);
    expect(rules(await changes("forward", { type: "string" }, { type: ["string", "null"] }))).toEqual(["json.type-widened"]);
  });

  it("json.enum-value-removed: removing an enum value (or adding an enum) breaks backward", async () => {
    const v1 = { enum: ["red", "green", "blue"] };
    const v2 = { enum: ["red", "green"] };
    expect(await changes("backward", v1, v2)).toEqual([
      { path: "/enum", rule: "json.enum-value-removed", message: expect.stringContaining('"blue"') },
    ]);
    expect(await changes("forward", v1, v2)).toEqual([]);
    expect(rules(await changes("backward", { type: "string" }, { type: "string", enum: ["a"] }))).toEqual(["json.enum-value-removed"]);
    expect(rules(await changes("backward", { const: 1 }, { const: 2 }))).toEqual(["json.enum-value-removed"]);
  });

  it("json.enum-value-added: adding an enum value breaks forward", async () => {
    expect(rules(await changes("forward", { enum: ["a"] }, { enum: ["a", "b"] }))).toEqual(["json.enum-value-added"]);
    expect(await changes("backward", { enum: ["a"] }, { enum: ["a", "b"] })).toEqual([]);
  });

  it("json.additional-properties-closed / -opened", async () => {
    const open = obj({ a: { type: "string" } });
    const closed = obj({ a: { type: "string" } }, { additionalProperties: false });
    expect(await changes("backward", open, closed)).toEqual([
      { path: "/additionalProperties", rule: "json.additional-properties-closed", message: expect.any(String) },
    ]);
    expect(rules(await changes("forward", closed, open))).toEqual(["json.additional-properties-opened"]);
    expect(await changes("forward", open, closed)).toEqual([]);
  });

  it("additionalProperties as a schema is compared like a property", async () => {
    const v1 = { type: "object", additionalProperties: { type: "string" } };
    const v2 = { type: "object", additionalProperties: { type: "string", maxLength: 3 } };
    expect(await changes("backward", v1, v2)).toEqual([
      { path: "/additionalProperties/maxLength", rule: "json.limit-tightened", message: expect.any(String) },
    ]);
  });

  it("json.property-removed: dropping a declared property of a closed object breaks backward", async () => {
    const v1 = obj({ a: { type: "string" }, b: { type: "string" } }, { additionalProperties: false });
    const v2 = obj({ a: { type: "string" } }, { additionalProperties: false });
    expect(await changes("backward", v1, v2)).toEqual([
      { path: "/properties/b", rule: "json.property-removed", message: expect.any(String) },
    ]);
  });

  it("json.property-added: a new property breaks forward when the old object was closed", async () => {
    const v1 = obj({ a: { type: "string" } }, { additionalProperties: false });
    const v2 = obj({ a: { type: "string" }, b: { type: "string" } }, { additionalProperties: false });
    expect(rules(await changes("forward", v1, v2))).toEqual(["json.property-added"]);
    expect(await changes("backward", v1, v2)).toEqual([]);
    // With an open old schema, adding an optional property is compatible both ways.
    expect(await changes("full", obj({ a: { type: "string" } }), obj({ a: { type: "string" }, b: { type: "string" } }))).toEqual([]);
  });

  it("json.limit-tightened: stricter min/max limits break backward", async () => {
    const cases: [unknown, unknown, string][] = [
      [{ type: "string", maxLength: 10 }, { type: "string", maxLength: 5 }, "/maxLength"],
      [{ type: "string" }, { type: "string", minLength: 1 }, "/minLength"],
      [{ type: "number", minimum: 0 }, { type: "number", minimum: 1 }, "/minimum"],
      [{ type: "number", maximum: 10 }, { type: "number", exclusiveMaximum: 10 }, "/exclusiveMaximum"],
      [{ type: "array", maxItems: 3 }, { type: "array", maxItems: 2 }, "/maxItems"],
      [{ type: "array" }, { type: "array", uniqueItems: true }, "/uniqueItems"],
      [{ type: "number", multipleOf: 2 }, { type: "number", multipleOf: 4 }, "/multipleOf"],
      [{ type: "object" }, { type: "object", minProperties: 1 }, "/minProperties"],
    ];
    for (const [v1, v2, path] of cases) {
      expect(await changes("backward", v1, v2), JSON.stringify(v2)).toEqual([
        { path, rule: "json.limit-tightened", message: expect.any(String) },
      ]);
    }
  });

  it("json.limit-relaxed: looser limits break forward, equivalent bounds break nothing", async () => {
    expect(rules(await changes("forward", { type: "string", maxLength: 5 }, { type: "string", maxLength: 10 }))).toEqual([
      "json.limit-relaxed",
    ]);
    expect(rules(await changes("forward", { type: "number", minimum: 1 }, { type: "number" }))).toEqual(["json.limit-relaxed"]);
    expect(await changes("backward", { type: "string", maxLength: 5 }, { type: "string", maxLength: 10 })).toEqual([]);
    // exclusiveMinimum 0 admits nothing minimum 0 rejects
    expect(await changes("backward", { type: "number", exclusiveMinimum: 0 }, { type: "number", minimum: 0 })).toEqual([]);
    expect(await changes("backward", { type: "number", multipleOf: 4 }, { type: "number", multipleOf: 2 })).toEqual([]);
  });

  it("json.pattern-changed and json.format-changed", async () => {
    expect(await changes("backward", { type: "string", pattern: "^a" }, { type: "string", pattern: "^b" })).toEqual([
      { path: "/pattern", rule: "json.pattern-changed", message: expect.any(String) },
    ]);
    expect(await changes("backward", { type: "string", pattern: "^a" }, { type: "string" })).toEqual([]);
    expect(rules(await changes("forward", { type: "string", pattern: "^a" }, { type: "string" }))).toEqual(["json.pattern-changed"]);
    expect(rules(await changes("backward", { type: "string" }, { type: "string", format: "email" }))).toEqual(["json.format-changed"]);
  });

  it("json.unsupported-change: combinators are compared as a whole", async () => {
    const v1 = { anyOf: [{ type: "string" }, { type: "integer" }] };
    const v2 = { anyOf: [{ type: "string" }, { type: "number" }] };
    expect(await changes("backward", v1, v2)).toEqual([{ path: "/anyOf", rule: "json.unsupported-change", message: expect.any(String) }]);
    expect(await changes("backward", v1, v1)).toEqual([]);
  });
});

describe("JSON compatibility: structure", () => {
  it("recurses into nested properties and array items, with paths", async () => {
    const v1 = obj({ address: obj({ zip: { type: ["string", "integer"] } }), tags: { type: "array", items: { type: "string" } } });
    const v2 = obj({ address: obj({ zip: { type: "string" } }), tags: { type: "array", items: { type: "string", maxLength: 8 } } });
    expect(await changes("backward", v1, v2)).toEqual([
      { path: "/properties/address/properties/zip/type", rule: "json.type-narrowed", message: expect.any(String) },
      { path: "/properties/tags/items/maxLength", rule: "json.limit-tightened", message: expect.any(String) },
    ]);
  });

  it("compares tuple items position by position", async () => {
    const v1 = { type: "array", items: [{ type: "string" }, { type: "number" }] };
    const v2 = { type: "array", items: [{ type: "string" }, { type: "integer" }] };
    expect(rules(await changes("backward", v1, v2))).toEqual(["json.type-narrowed"]);
  });

  it("follows local $refs, so a change inside a definition is found", async () => {
    const mk = (zip: unknown) => ({
      definitions: { address: obj({ zip }, { required: ["zip"] }) },
      ...obj({ home: { $ref: "#/definitions/address" }, work: { $ref: "#/definitions/address" } }),
    });
    const found = await changes("backward", mk({ type: "string" }), mk({ type: "integer" }));
    expect(found).toEqual([{ path: "/definitions/address/properties/zip/type", rule: "json.type-narrowed", message: expect.any(String) }]);
    expect(await changes("full", mk({ type: "string" }), mk({ type: "string" }))).toEqual([]);
  });

  it("terminates on recursive schemas and still finds changes", async () => {
    const tree = (valueType: string) => ({
      definitions: { node: obj({ value: { type: valueType }, children: { type: "array", items: { $ref: "#/definitions/node" } } }) },
      $ref: "#/definitions/node",
    });
    expect(await changes("full", tree("integer"), tree("integer"))).toEqual([]);
    expect(await changes("backward", tree("number"), tree("integer"))).toEqual([
      { path: "/definitions/node/properties/value/type", rule: "json.type-narrowed", message: expect.any(String) },
    ]);
  });
});
