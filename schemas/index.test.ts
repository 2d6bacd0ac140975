import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as schemas from "./index.js";
import { COMPATIBILITY_RULES, SchemaError, assertCompatible, checkCompatibility, loadSchema, prepareSchema } from "./index.js";
import type { PreparedSchema, SchemaSource } from "./index.js";

const here = dirname(fileURLToPath(import.meta.url));

describe("schemas front door", () => {
  it("exports the documented values", () => {
    expect(Object.keys(schemas).sort()).toEqual([
      "CANONICAL_COMPATIBILITY_MODES",
      "COMPATIBILITY_MODES",
      "COMPATIBILITY_RULES",
      "DEFAULT_ASYNC_THRESHOLD_BYTES",
      "DEFAULT_JSON_DIALECT",
      "DEFAULT_SCHEMA_LIMITS",
      "DEFAULT_SCHEMA_WORKER_POOL_OPTIONS",
      "JSON_DIALECTS",
      "LEGACY_COMPATIBILITY_MODES",
      "MAX_SCHEMA_BYTES",
      "SCHEMA_ERROR_RETRIABLE",
      "SCHEMA_TYPES",
      "SchemaError",
      "SchemaValidationError",
      "assertCompatible",
      "checkCompatibility",
      "createSchemaWorkerPool",
      "diffSchemas",
      "isCompatibilityMode",
      "isSchemaError",
      "loadSchema",
      "normalizeCompatibilityMode",
      "prepareSchema",
      "protoImportPath",
      "referenceUri",
      "resolveSchemaLimits",
      "resolveSchemaWorkerPoolOptions",
      "schemaReferences",
    ]);
    expect(schemas.MAX_SCHEMA_BYTES).toBe(256 * 1024);
  });

  it("refuses an unknown schema type or a missing definition", async () => {
    await expect(prepareSchema({ type: "xml", definition: "{}" } as unknown as SchemaSource)).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
    });
    await expect(prepareSchema({ type: "json" } as unknown as SchemaSource)).rejects.toBeInstanceOf(SchemaError);
    expect(() => loadSchema({ type: "xml", definition: "{}", fingerprint: "x" } as unknown as PreparedSchema)).toThrow(SchemaError);
  });

  it("assertCompatible throws SCHEMA_INCOMPATIBLE with the changes", async () => {
    const v1 = await prepareSchema({ type: "json", definition: '{"type":"object"}' });
    const v2 = await prepareSchema({ type: "json", definition: '{"type":"object","required":["id"]}' });
    expect(() => assertCompatible("forward", v1, v2)).not.toThrow();
    let err: unknown;
    try {
      assertCompatible("backward", v1, v2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaError);
    expect(err).toMatchObject({
      code: "SCHEMA_INCOMPATIBLE",
      details: { mode: "backward", changes: checkCompatibility("backward", v1, v2) },
    });
  });
});

describe("compatibility rule table", () => {
  const ids = COMPATIBILITY_RULES.map((r) => r.id);

  it("has unique ids", () => {
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("lists every rule id the code can emit", () => {
    const sources: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && entry.name !== "rules.ts")
          sources.push(readFileSync(p, "utf8"));
      }
    };
    walk(here);
    const emitted = new Set(
      sources.flatMap((s) => [...s.matchAll(/"((?:json|protobuf|avro|schema)\.[a-z]+-[a-z-]+)"/g)].map((m) => m[1] as string)),
    );
    expect(emitted.size).toBeGreaterThan(20);
    expect([...emitted].sort()).toEqual([...ids].sort());
  });

  it("is documented in docs/schemas.md", () => {
    const doc = readFileSync(join(here, "..", "docs", "schemas.md"), "utf8");
    for (const id of ids) expect(doc, id).toContain(`\`${id}\``);
  });
});
