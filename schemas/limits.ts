import { SchemaError } from "./errors.js";

/**
 * Bounds on what a schema definition may contain, so registering one has a bounded cost. A
 * definition over a limit is refused with `SCHEMA_TOO_COMPLEX` (`SCHEMA_TOO_LARGE` for
 * `maxDefinitionBytes`), `details: { limit, max, actual, path? }`.
 */
export interface SchemaLimits {
  /**
   * Largest definition, in UTF-8 bytes.
   * @defaultValue 262144 (256 KiB)
   */
  maxDefinitionBytes?: number;
  /**
   * Deepest nesting of the definition: JSON arrays and objects (JSON Schema, Avro), nested
   * message declarations (Protobuf).
   * @defaultValue 64
   */
  maxDepth?: number;
  /**
   * Most values in one `enum` (JSON Schema), symbols in one enum (Avro), values in one enum (Protobuf).
   * @defaultValue 10000
   */
  maxEnumValues?: number;
  /**
   * Most declared properties (JSON Schema `properties` entries), record fields (Avro) or message
   * fields (Protobuf) in the whole definition.
   * @defaultValue 10000
   */
  maxProperties?: number;
  /**
   * Most regular expressions (`pattern` values and `patternProperties` keys) in a JSON Schema.
   * @defaultValue 500
   */
  maxPatterns?: number;
  /**
   * Most subschemas (JSON Schema) or named types (Avro) in the whole definition.
   * @defaultValue 50000
   */
  maxSchemaNodes?: number;
  /**
   * Most schema versions one schema may reference, directly or through others.
   * @defaultValue 64
   */
  maxReferences?: number;
}

/** The default {@link SchemaLimits}. */
export const DEFAULT_SCHEMA_LIMITS: Readonly<Required<SchemaLimits>> = Object.freeze({
  maxDefinitionBytes: 256 * 1024,
  maxDepth: 64,
  maxEnumValues: 10_000,
  maxProperties: 10_000,
  maxPatterns: 500,
  maxSchemaNodes: 50_000,
  maxReferences: 64,
});

/** The largest value each limit may be raised to. */
export const SCHEMA_LIMIT_MAXIMA: Readonly<Required<SchemaLimits>> = Object.freeze({
  maxDefinitionBytes: 16 * 1024 * 1024,
  maxDepth: 1000,
  maxEnumValues: 1_000_000,
  maxProperties: 1_000_000,
  maxPatterns: 100_000,
  maxSchemaNodes: 10_000_000,
  maxReferences: 10_000,
});

/** Fills in default limits and checks them; throws `SCHEMA_OPTIONS_INVALID` naming the bad one. Frozen. */
export function resolveSchemaLimits(limits: SchemaLimits = {}): Readonly<Required<SchemaLimits>> {
  if (limits === null || typeof limits !== "object") {
    throw new SchemaError("SCHEMA_OPTIONS_INVALID", "limits must be an object", { details: { option: "limits" } });
  }
  const resolved: Required<SchemaLimits> = { ...DEFAULT_SCHEMA_LIMITS };
  for (const key of Object.keys(DEFAULT_SCHEMA_LIMITS) as (keyof SchemaLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    const max = SCHEMA_LIMIT_MAXIMA[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
      throw new SchemaError("SCHEMA_OPTIONS_INVALID", `limits.${key} must be an integer between 1 and ${max}, got ${String(value)}`, {
        details: { option: `limits.${key}`, value, min: 1, max },
      });
    }
    resolved[key] = value;
  }
  for (const key of Object.keys(limits)) {
    if (!(key in DEFAULT_SCHEMA_LIMITS)) {
      throw new SchemaError("SCHEMA_OPTIONS_INVALID", `unknown limit limits.${key}`, { details: { option: `limits.${key}` } });
    }
  }
  return Object.freeze(resolved);
}

/** The error for a definition over a limit. */
export function tooComplex(limit: keyof SchemaLimits, max: number, actual: number, what: string, path?: string): SchemaError {
  const where = path === undefined ? "" : path === "" ? " (at the root)" : ` (at ${path})`;
  return new SchemaError("SCHEMA_TOO_COMPLEX", `the schema is too complex: ${what} is ${actual}${where}; the limit ${limit} is ${max}`, {
    details: { limit, max, actual, ...(path === undefined ? {} : { path }) },
  });
}

/** Throws SCHEMA_TOO_LARGE when the definition is over `maxDefinitionBytes`. */
export function assertDefinitionSize(definition: string, limits: Readonly<Required<SchemaLimits>>): void {
  // Cheap upper bound first: a UTF-8 byte is at most 3 per UTF-16 unit.
  if (definition.length * 3 <= limits.maxDefinitionBytes) return;
  const bytes = Buffer.byteLength(definition, "utf8");
  if (bytes > limits.maxDefinitionBytes) {
    throw new SchemaError(
      "SCHEMA_TOO_LARGE",
      `the schema definition is ${bytes} bytes; the limit maxDefinitionBytes is ${limits.maxDefinitionBytes}`,
      {
        details: { limit: "maxDefinitionBytes", max: limits.maxDefinitionBytes, actual: bytes, bytes, maxBytes: limits.maxDefinitionBytes },
      },
    );
  }
}
