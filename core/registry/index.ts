/** KV-backed registries of schemas and functions, shared by every gateway, and the gateway's schema machinery. */
export { SchemaRegistry, fromSchemaError, compatibilityModeOf } from "./schemas.js";
export type {
  SchemaMeta,
  SchemaVersion,
  CreateSchemaInput,
  CreateSchemaResult,
  SchemaCandidate,
  SchemaReferrer,
  SchemaRegistryOptions,
  VersionedBreakingChange,
} from "./schemas.js";
export { createSchemaRuntime, resolveSchemaRuntimeOptions, DEFAULT_SCHEMA_RUNTIME_OPTIONS } from "./runtime.js";
export type { SchemaRuntime, SchemaRuntimeOptions, SchemaRuntimeStats, ResolvedSchemaRuntimeOptions } from "./runtime.js";
export { FunctionRegistry, fromFunctionError, MAX_FUNCTION_SOURCE_BYTES } from "./functions.js";
export type { FunctionMeta, FunctionVersion, CreateFunctionInput } from "./functions.js";
export { VersionedStore } from "./versioned.js";
export type { VersionedMeta, StoredVersion } from "./versioned.js";
