import { describe, expect, it } from "vitest";
import { DEFAULT_SCHEMA_LIMITS, prepareSchema, resolveSchemaLimits } from "./index.js";
import type { SchemaLimits, SchemaSource } from "./index.js";

const json = (schema: unknown, limits?: SchemaLimits) =>
  prepareSchema({ type: "json", definition: JSON.stringify(schema) }, limits === undefined ? {} : { limits });

describe("schema limits", () => {
  it("resolves defaults and refuses bad values naming the limit", () => {
    expect(resolveSchemaLimits()).toEqual(DEFAULT_SCHEMA_LIMITS);
    expect(Object.isFrozen(resolveSchemaLimits({ maxDepth: 10 }))).toBe(true);
    expect(resolveSchemaLimits({ maxDepth: 10 }).maxDepth).toBe(10);
    expect(() => resolveSchemaLimits({ maxDepth: 0 })).toThrow(
      expect.objectContaining({ code: "SCHEMA_OPTIONS_INVALID", details: expect.objectContaining({ option: "limits.maxDepth" }) }),
    );
    expect(() => resolveSchemaLimits({ maxEnumValues: 1.5 })).toThrow(/limits.maxEnumValues/);
    expect(() => resolveSchemaLimits({ maxEnums: 3 } as SchemaLimits)).toThrow(/unknown limit limits.maxEnums/);
  });

  it("refuses an enum over maxEnumValues with SCHEMA_TOO_COMPLEX naming the limit, the value and the size", async () => {
    const values = Array.from({ length: DEFAULT_SCHEMA_LIMITS.maxEnumValues + 1 }, (_, i) => i);
    await expect(json({ properties: { c: { enum: values } } })).rejects.toMatchObject({
      code: "SCHEMA_TOO_COMPLEX",
      retriable: false,
      details: { limit: "maxEnumValues", max: DEFAULT_SCHEMA_LIMITS.maxEnumValues, actual: values.length, path: "/properties/c/enum" },
    });
    await expect(json({ enum: [1, 2, 3] }, { maxEnumValues: 3 })).resolves.toMatchObject({ type: "json" });
  });

  it("refuses too many properties, patterns, subschemas or too deep a nesting", async () => {
    const props = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`p${i}`, {}]));
    await expect(json({ properties: props }, { maxProperties: 10 })).rejects.toMatchObject({
      code: "SCHEMA_TOO_COMPLEX",
      details: { limit: "maxProperties", max: 10, actual: 11 },
    });
    const patterns = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`^x${i}$`, {}]));
    await expect(json({ patternProperties: patterns })).rejects.toMatchObject({
      code: "SCHEMA_TOO_COMPLEX",
      details: { limit: "maxPatterns", max: DEFAULT_SCHEMA_LIMITS.maxPatterns, actual: 4000 },
    });
    let deep: unknown = {};
    for (let i = 0; i < 70; i++) deep = { items: deep };
    await expect(json(deep)).rejects.toMatchObject({ code: "SCHEMA_TOO_COMPLEX", details: { limit: "maxDepth", max: 64 } });
    await expect(json({ allOf: [{}, {}, {}] }, { maxSchemaNodes: 3 })).rejects.toMatchObject({
      code: "SCHEMA_TOO_COMPLEX",
      details: { limit: "maxSchemaNodes" },
    });
  });

  it("values inside enum, const and default are data, not subschemas", async () => {
    const data = Array.from({ length: 10 }, () => ({ properties: { a: {} } }));
    await expect(json({ const: data, default: data }, { maxSchemaNodes: 2, maxProperties: 1 })).resolves.toMatchObject({ type: "json" });
  });

  it("refuses a definition over maxDefinitionBytes with SCHEMA_TOO_LARGE", async () => {
    const src: SchemaSource = { type: "avro", definition: JSON.stringify({ type: "string", doc: "x".repeat(200) }) };
    await expect(prepareSchema(src, { limits: { maxDefinitionBytes: 100 } })).rejects.toMatchObject({
      code: "SCHEMA_TOO_LARGE",
      details: { limit: "maxDefinitionBytes", max: 100 },
    });
  });

  it("applies to Avro and Protobuf too", async () => {
    const symbols = Array.from({ length: 5 }, (_, i) => `S${i}`);
    await expect(
      prepareSchema({ type: "avro", definition: JSON.stringify({ type: "enum", name: "E", symbols }) }, { limits: { maxEnumValues: 4 } }),
    ).rejects.toMatchObject({ code: "SCHEMA_TOO_COMPLEX", details: { limit: "maxEnumValues", actual: 5, path: "/symbols" } });
    const fields = Array.from({ length: 5 }, (_, i) => `  int32 f${i} = ${i + 1};`).join("\n");
    await expect(
      prepareSchema({ type: "protobuf", definition: `syntax = "proto3";\nmessage M {\n${fields}\n}\n` }, { limits: { maxProperties: 4 } }),
    ).rejects.toMatchObject({ code: "SCHEMA_TOO_COMPLEX", details: { limit: "maxProperties", actual: 5 } });
  });
});
