// The engine's entry points without the worker pool: what index.ts exports and what the pool's
// workers run.
import { loadAvroSchema, prepareAvroSchema } from "./avro/schema.js";
import { SchemaError } from "./errors.js";
import { jsonReferenceRequests, loadJsonSchema, prepareJsonSchema } from "./json/schema.js";
import { resolveSchemaLimits } from "./limits.js";
import { protobufReferenceRequests, loadProtobufSchema, prepareProtobufSchema } from "./protobuf/schema.js";
import type {
  CompiledSchema,
  LoadOptions,
  PreparedSchema,
  PrepareOptions,
  ReferencedSchema,
  ReferenceRequest,
  SchemaSource,
} from "./types.js";
import { SCHEMA_TYPES } from "./types.js";

/** Checks the shape of a schema source; throws SCHEMA_INVALID naming the bad field. */
export function checkSource(src: SchemaSource): void {
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
}

function checkReferences(refs: unknown): readonly ReferencedSchema[] {
  if (refs === undefined) return [];
  if (!Array.isArray(refs)) {
    throw new SchemaError("SCHEMA_OPTIONS_INVALID", "references must be an array", { details: { option: "references" } });
  }
  for (const r of refs as ReferencedSchema[]) {
    if (
      r === null ||
      typeof r !== "object" ||
      typeof r.name !== "string" ||
      !Number.isInteger(r.version) ||
      r.prepared === null ||
      typeof r.prepared !== "object" ||
      typeof r.prepared.definition !== "string"
    ) {
      throw new SchemaError("SCHEMA_OPTIONS_INVALID", "each reference needs a name, an integer version and its prepared schema", {
        details: { option: "references" },
      });
    }
  }
  return refs as readonly ReferencedSchema[];
}

/** Prepares a JSON Schema or Avro schema (synchronous: no child process). */
export function prepareSync(src: SchemaSource, options: PrepareOptions = {}): PreparedSchema {
  checkSource(src);
  const limits = resolveSchemaLimits(options.limits);
  const refs = checkReferences(options.references);
  if (src.type === "json") return prepareJsonSchema(src, refs, limits);
  if (src.type === "avro") return prepareAvroSchema(src, limits);
  throw new SchemaError("SCHEMA_INVALID", "protobuf schemas are compiled by buf: use prepareSchema", { details: { path: "type" } });
}

/**
 * Prepares a Protobuf schema; `build` compiles the .proto text with its imported files into a
 * FileDescriptorSet (buf by default).
 */
export function prepareProtobuf(
  src: SchemaSource,
  options: PrepareOptions,
  build?: (definition: string, files: ReadonlyMap<string, string>) => Promise<Uint8Array>,
): Promise<PreparedSchema> {
  checkSource(src);
  return prepareProtobufSchema(src, checkReferences(options.references), resolveSchemaLimits(options.limits), build);
}

/** See {@link prepareSchema} in index.ts. */
export async function prepare(src: SchemaSource, options: PrepareOptions = {}): Promise<PreparedSchema> {
  checkSource(src);
  return src.type === "protobuf" ? prepareProtobuf(src, options) : prepareSync(src, options);
}

/** See {@link schemaReferences} in index.ts. */
export function references(src: SchemaSource): ReferenceRequest[] {
  checkSource(src);
  if (src.type === "json") return jsonReferenceRequests(src);
  if (src.type === "protobuf") return protobufReferenceRequests(src.definition);
  return [];
}

/** See {@link loadSchema} in index.ts. */
export function load(prepared: PreparedSchema, opts: LoadOptions = {}): CompiledSchema {
  switch (prepared?.type) {
    case "json":
      return loadJsonSchema(prepared, opts);
    case "protobuf":
      return loadProtobufSchema(prepared, opts);
    case "avro":
      return loadAvroSchema(prepared, opts);
    default:
      throw new SchemaError("SCHEMA_INVALID", `unknown schema type ${JSON.stringify(prepared?.type)}`, {
        details: { path: "type", message: "unknown schema type" },
      });
  }
}
