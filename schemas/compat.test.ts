import { describe, expect, it } from "vitest";
import {
  CANONICAL_COMPATIBILITY_MODES,
  COMPATIBILITY_MODES,
  COMPATIBILITY_RULES,
  checkCompatibility,
  diffSchemas,
  isCompatibilityMode,
  normalizeCompatibilityMode,
  prepareSchema,
} from "./index.js";
import type { PreparedSchema } from "./index.js";

const json = (schema: unknown): Promise<PreparedSchema> => prepareSchema({ type: "json", definition: JSON.stringify(schema) });
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: "object", properties, required });

describe("compatibility modes", () => {
  it("accepts Confluent's names and the legacy lowercase aliases", () => {
    expect(CANONICAL_COMPATIBILITY_MODES).toEqual([
      "NONE",
      "BACKWARD",
      "BACKWARD_TRANSITIVE",
      "FORWARD",
      "FORWARD_TRANSITIVE",
      "FULL",
      "FULL_TRANSITIVE",
    ]);
    expect(COMPATIBILITY_MODES).toEqual([...CANONICAL_COMPATIBILITY_MODES, "none", "backward", "forward", "full"]);
    expect(normalizeCompatibilityMode("backward")).toBe("BACKWARD");
    expect(normalizeCompatibilityMode("FULL_TRANSITIVE")).toBe("FULL_TRANSITIVE");
    expect(normalizeCompatibilityMode("Backward")).toBeUndefined();
    expect(isCompatibilityMode("full")).toBe(true);
    expect(isCompatibilityMode("total")).toBe(false);
  });

  it("refuses an unknown mode", async () => {
    const v = await json({});
    expect(() => checkCompatibility("sideways" as never, v, v)).toThrow(expect.objectContaining({ code: "SCHEMA_OPTIONS_INVALID" }));
  });

  it("transitive modes check every earlier version, the others only the latest", async () => {
    // v1 requires nothing; v2 adds an optional "b"; v3 makes "b" required with a default, then drops the default.
    const v1 = await json(obj({ a: { type: "string" } }));
    const v2 = await json(obj({ a: { type: "string" }, b: { type: "string", default: "" } }, ["b"]));
    const v3 = await json(obj({ a: { type: "string" }, b: { type: "string" } }, ["b"]));
    // v3 against v2: "b" was already required, so BACKWARD passes.
    expect(checkCompatibility("BACKWARD", [v1, v2], v3)).toEqual([]);
    expect(checkCompatibility("backward", [v1, v2], v3)).toEqual([]);
    // Against v1, whose data may lack "b", it breaks.
    expect(checkCompatibility("BACKWARD_TRANSITIVE", [v1, v2], v3)).toEqual([
      { path: "/required", rule: "json.required-added", message: expect.stringContaining('"b"'), against: 0 },
    ]);
    expect(checkCompatibility("FULL_TRANSITIVE", [v1, v2], v3).map((c) => [c.rule, c.against])).toEqual([["json.required-added", 0]]);
    expect(checkCompatibility("NONE", [v1, v2], v3)).toEqual([]);
    expect(checkCompatibility("BACKWARD_TRANSITIVE", [], v3)).toEqual([]);
  });

  it("every rule lists the modes it breaks", () => {
    for (const r of COMPATIBILITY_RULES) {
      expect(r.modes.length, r.id).toBeGreaterThan(0);
      expect(r.modes).not.toContain("NONE");
      if (r.direction === "backward") expect(r.modes).toEqual(["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"]);
      if (r.direction === "forward") expect(r.modes).toEqual(["FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"]);
    }
  });

  it("the enum check is linear: two enums of 44,000 values compare correctly", async () => {
    const values = Array.from({ length: 44_000 }, (_, i) => `v${i}`);
    const a = { type: "json", definition: JSON.stringify({ enum: values }), fingerprint: "a" } as PreparedSchema;
    const b = { type: "json", definition: JSON.stringify({ enum: values.slice(1) }), fingerprint: "b" } as PreparedSchema;
    expect(checkCompatibility("FULL", a, a)).toEqual([]);
    expect(checkCompatibility("BACKWARD", a, b)).toEqual([
      { path: "/enum", rule: "json.enum-value-removed", message: expect.stringContaining('"v0"') },
    ]);
    const objects = Array.from({ length: 20_000 }, (_, i) => ({ id: i, tags: [i % 7] }));
    const c = { type: "json", definition: JSON.stringify({ enum: objects }), fingerprint: "c" } as PreparedSchema;
    const d = { type: "json", definition: JSON.stringify({ enum: [...objects].reverse() }), fingerprint: "d" } as PreparedSchema;
    expect(checkCompatibility("FULL", c, d)).toEqual([]);
  });
});

describe("diffSchemas", () => {
  it("lists each change with its rule and the modes it breaks", async () => {
    const a = await json(obj({ id: { type: "string" }, colour: { enum: ["red", "green"] } }, ["id"]));
    const b = await json(
      obj({ id: { type: "string", maxLength: 8 }, colour: { enum: ["red", "green", "blue"] }, email: { type: "string" } }, ["id", "email"]),
    );
    expect(diffSchemas(a, b)).toEqual([
      {
        path: "/properties/colour/enum",
        rule: "json.enum-value-added",
        message: expect.any(String),
        breaks: ["FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
      },
      {
        path: "/properties/id/maxLength",
        rule: "json.limit-tightened",
        message: expect.any(String),
        breaks: ["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
      },
      {
        path: "/required",
        rule: "json.required-added",
        message: expect.any(String),
        breaks: ["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
      },
    ]);
    expect(diffSchemas(a, a)).toEqual([]);
  });

  it("a change found in both directions breaks every mode but NONE", async () => {
    const a = await json({ type: "string", pattern: "^a" });
    const b = await json({ type: "string", pattern: "^b" });
    expect(diffSchemas(a, b)).toEqual([
      {
        path: "/pattern",
        rule: "json.pattern-changed",
        message: expect.any(String),
        breaks: ["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
      },
    ]);
  });

  it("works across types: protobuf and avro", async () => {
    const p1 = await prepareSchema({ type: "protobuf", definition: 'syntax = "proto3";\nmessage A { int32 x = 1; }\n' });
    const p2 = await prepareSchema({ type: "protobuf", definition: 'syntax = "proto3";\nmessage A { int64 x = 1; }\n' });
    expect(diffSchemas(p1, p2)).toEqual([expect.objectContaining({ rule: "protobuf.field-type-changed", path: "A.x" })]);
    const a1 = await prepareSchema({
      type: "avro",
      definition: JSON.stringify({ type: "record", name: "R", fields: [{ name: "n", type: "int" }] }),
    });
    const a2 = await prepareSchema({
      type: "avro",
      definition: JSON.stringify({ type: "record", name: "R", fields: [{ name: "n", type: "long" }] }),
    });
    expect(diffSchemas(a1, a2)).toEqual([
      {
        path: "/n",
        rule: "avro.type-widened",
        message: expect.any(String),
        breaks: ["FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"],
      },
    ]);
    expect(diffSchemas(a1, p1)).toEqual([expect.objectContaining({ rule: "schema.type-changed" })]);
  });
});
