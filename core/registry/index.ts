/** KV-backed registries of schemas and functions, shared by every gateway. */
export { SchemaRegistry, fromSchemaError } from "./schemas.js";
export type { SchemaMeta, SchemaVersion, CreateSchemaInput } from "./schemas.js";
export { FunctionRegistry, fromFunctionError, MAX_FUNCTION_SOURCE_BYTES } from "./functions.js";
export type { FunctionMeta, FunctionVersion, CreateFunctionInput } from "./functions.js";
export { VersionedStore } from "./versioned.js";
export type { VersionedMeta, StoredVersion } from "./versioned.js";
