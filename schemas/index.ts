// Junction's schema engine: JSON Schema (drafts 04 to 2020-12), Protobuf (buf + @bufbuild/protobuf)
// and Avro (avsc) definitions are prepared once at registration, loaded per schema version, and
// compared for compatibility. Pure: no NATS, no store; the registry in KV is built on top of it.
import { load, prepare, references } from "./engine.js";
import type { CompiledSchema, LoadOptions, PreparedSchema, PrepareOptions, ReferenceRequest, SchemaSource } from "./types.js";

export { CANONICAL_COMPATIBILITY_MODES, COMPATIBILITY_MODES, LEGACY_COMPATIBILITY_MODES, MAX_SCHEMA_BYTES, SCHEMA_TYPES } from "./types.js";
export { SchemaError, SchemaValidationError, SCHEMA_ERROR_RETRIABLE, isSchemaError } from "./errors.js";
export { assertCompatible, checkCompatibility, isCompatibilityMode, normalizeCompatibilityMode } from "./compat.js";
export { diffSchemas } from "./diff.js";
export { COMPATIBILITY_RULES } from "./rules.js";
export { DEFAULT_SCHEMA_LIMITS, resolveSchemaLimits } from "./limits.js";
export { DEFAULT_JSON_DIALECT, JSON_DIALECTS } from "./json/dialect.js";
export { DEFAULT_ASYNC_THRESHOLD_BYTES } from "./async.js";
export { referenceUri } from "./json/schema.js";
export { protoImportPath } from "./protobuf/schema.js";
export { createSchemaWorkerPool, DEFAULT_SCHEMA_WORKER_POOL_OPTIONS, resolveSchemaWorkerPoolOptions } from "./pool/pool.js";

/**
 * Checks a schema definition for registration and returns its storable form. JSON Schema is
 * checked against its draft's meta-schema and compiled; Protobuf is compiled by `buf build` (a
 * child process, in a temporary directory) into a FileDescriptorSet; Avro is parsed by avsc.
 * `options.references` supplies the schema versions the definition refers to (see
 * {@link schemaReferences}); `options.limits` bounds its complexity. Throws {@link SchemaError}:
 * SCHEMA_TOO_LARGE over `maxDefinitionBytes`; SCHEMA_TOO_COMPLEX over another limit
 * (`details: { limit, max, actual, path? }`); SCHEMA_INVALID with `details` `{ path, message }`
 * (JSON, Avro), `{ file, line, column, message, errors }` (.proto) or `{ messageType, available }`.
 * Runs in the caller's thread: use a {@link createSchemaWorkerPool} pool for untrusted input.
 */
export function prepareSchema(src: SchemaSource, options: PrepareOptions = {}): Promise<PreparedSchema> {
  return prepare(src, options);
}

/**
 * What a definition refers to outside itself: `{ kind: "version", name, version }` for
 * `junction:<name>@<version>` (JSON) and `import "junction/<name>@<version>.proto"` (Protobuf),
 * `{ kind: "uri", uri }` for another absolute URI a JSON Schema uses (`$ref`, `$schema`) that is
 * no built-in meta-schema, to be found among the registered schemas' `ids`. The registry resolves
 * them, adds what those versions reference in turn, and passes them all to {@link prepareSchema}.
 * Throws SCHEMA_INVALID for an unreadable definition or a malformed `junction:` reference.
 */
export function schemaReferences(src: SchemaSource): ReferenceRequest[] {
  return references(src);
}

/**
 * Compiles a prepared schema into a validator/codec. Synchronous, no child process; compile once
 * per schema version and cache the result. A JSON Schema with `references` needs them in
 * `opts.references`. Throws SCHEMA_INVALID if the stored form is unusable.
 */
export function loadSchema(prepared: PreparedSchema, opts: LoadOptions = {}): CompiledSchema {
  return load(prepared, opts);
}

export type { CompatibilityRule, RuleDirection } from "./rules.js";
export type { SchemaErrorCode, SchemaErrorOptions } from "./errors.js";
export type { SchemaLimits } from "./limits.js";
export type { JsonDialect } from "./json/dialect.js";
export type { SchemaWorkerPool, SchemaWorkerPoolOptions } from "./pool/pool.js";
export type {
  AsyncValidator,
  BreakingChange,
  CanonicalCompatibilityMode,
  CompatibilityMode,
  CompiledSchema,
  FormatMode,
  LoadOptions,
  PreparedSchema,
  PrepareOptions,
  ReferencedSchema,
  ReferenceRequest,
  SchemaChange,
  SchemaIssue,
  SchemaReference,
  SchemaSource,
  SchemaType,
  ValidationResult,
} from "./types.js";
