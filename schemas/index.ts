// Junction's schema engine: JSON Schema (ajv) and Protobuf (buf + @bufbuild/protobuf) definitions
// are prepared once at registration, loaded per schema version, and compared for compatibility.
// Pure: no NATS, no store; the registry in KV is built on top of it.
import { SchemaError } from "./errors.js";
import { loadJsonSchema, prepareJsonSchema } from "./json/schema.js";
import { loadProtobufSchema, prepareProtobufSchema } from "./protobuf/schema.js";
import type { CompiledSchema, LoadOptions, PreparedSchema, SchemaSource } from "./types.js";
import { SCHEMA_TYPES } from "./types.js";

export { COMPATIBILITY_MODES, MAX_SCHEMA_BYTES, SCHEMA_TYPES } from "./types.js";
export { SchemaError, SchemaValidationError } from "./errors.js";
export { assertCompatible, checkCompatibility } from "./compat.js";
export { COMPATIBILITY_RULES } from "./rules.js";

/**
 * Checks a schema definition for registration and returns its storable form. JSON Schema is
 * compiled with ajv; Protobuf is compiled by `buf build` (a child process, in a temporary
 * directory) into a FileDescriptorSet. Throws {@link SchemaError}: SCHEMA_TOO_LARGE over
 * {@link MAX_SCHEMA_BYTES}; SCHEMA_INVALID with `details` `{ path, message }` (JSON),
 * `{ file, line, column, message, errors }` (.proto) or `{ messageType, available }`.
 */
export async function prepareSchema(src: SchemaSource): Promise<PreparedSchema> {
  if (src === null || typeof src !== "object" || !(SCHEMA_TYPES as readonly unknown[]).includes(src.type)) {
    throw new SchemaError("SCHEMA_INVALID", `schema type must be one of ${SCHEMA_TYPES.join(", ")}`, {
      details: { path: "type", message: "unknown schema type" },
    });
  }
  if (typeof src.definition !== "string") {
    throw new SchemaError("SCHEMA_INVALID", "the schema definition must be a string", {
      details: { path: "definition", message: "must be a string" },
    });
  }
  return src.type === "json" ? prepareJsonSchema(src) : prepareProtobufSchema(src);
}

/**
 * Compiles a prepared schema into a validator/codec. Synchronous, no child process; compile once
 * per schema version and cache the result. Throws SCHEMA_INVALID if the stored form is unusable.
 */
export function loadSchema(prepared: PreparedSchema, opts: LoadOptions = {}): CompiledSchema {
  switch (prepared.type) {
    case "json":
      return loadJsonSchema(prepared);
    case "protobuf":
      return loadProtobufSchema(prepared, opts);
    default:
      throw new SchemaError("SCHEMA_INVALID", `unknown schema type ${JSON.stringify(prepared.type)}`, {
        details: { path: "type", message: "unknown schema type" },
      });
  }
}

export type { CompatibilityRule } from "./rules.js";
export type { SchemaErrorCode, SchemaErrorOptions } from "./errors.js";
export type {
  BreakingChange,
  CompatibilityMode,
  CompiledSchema,
  LoadOptions,
  PreparedSchema,
  SchemaIssue,
  SchemaSource,
  SchemaType,
  ValidationResult,
} from "./types.js";
