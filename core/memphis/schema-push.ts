/**
 * What the SDK is told about a station's schema: in the producer and consumer creation replies
 * (`schema_update`) and pushed on `$memphis_schema_updates_<station>` when it changes, so the SDK
 * refuses invalid messages locally first, as it did against Memphis. The gateway stays the
 * authority: it checks every message again.
 *
 * The SDK compiles what it is sent, and a schema it cannot compile makes it fail every produce
 * (JSON: its last fallback leaves no validator) or crash (an unhandled rejection in its update
 * listener). So only schemas it can compile are sent; for any other the SDK is told "no schema"
 * and the gateway alone checks.
 */
import { createRequire } from "node:module";
import { Ajv, type AnySchema, type AnySchemaObject } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";

const require = createRequire(import.meta.url);
// ajv-draft-04 is CommonJS with a default export.
const AjvDraft04 = (require("ajv-draft-04") as { default: typeof Ajv }).default;
const draft7Meta = require("ajv/dist/refs/json-schema-draft-07.json") as AnySchemaObject;

/** Memphis's `SchemaUpdateInit`. */
export interface SchemaUpdateInit {
  schema_name: string;
  active_version: { version_number: number; descriptor: string; schema_content: string; message_struct_name: string };
  type: string;
}

/** Memphis's `SchemaUpdate` (UpdateType 1 = init, 2 = drop). */
export interface SchemaUpdate {
  UpdateType: 1 | 2;
  init: SchemaUpdateInit;
}

/** "No schema": what Memphis sent for a station without one. */
export function noSchema(): SchemaUpdateInit {
  return { schema_name: "", active_version: { version_number: 0, descriptor: "", schema_content: "", message_struct_name: "" }, type: "" };
}

/** A schema version as the SDK will see it. */
export interface PushableSchema {
  name: string;
  version: number;
  type: string;
  definition: string;
  messageType?: string | undefined;
  /** Other schema versions it uses (the SDK cannot resolve them). */
  references?: readonly unknown[] | undefined;
}

const silent = { log: () => {}, warn: () => {}, error: () => {} };

/** Whether the SDK's JSON Schema chain (ajv 8: draft-07 with formats, draft-04, 2020-12) compiles it. */
function sdkCompilesJson(definition: string): boolean {
  let schema: AnySchema;
  try {
    schema = JSON.parse(definition) as AnySchema;
  } catch {
    return false;
  }
  const attempts: (() => unknown)[] = [
    () => {
      const ajv = new Ajv({ logger: silent });
      ajvFormats.default(ajv);
      return ajv.compile(schema);
    },
    () => {
      const ajv = new Ajv({ logger: silent });
      ajvFormats.default(ajv);
      ajv.addMetaSchema(draft7Meta);
      return ajv.compile(schema);
    },
    () => new AjvDraft04({ logger: silent }).compile(schema),
    () => new Ajv2020({ logger: silent }).compile(schema),
  ];
  for (const a of attempts) {
    try {
      if (typeof a() === "function") return true;
    } catch {
      /* the SDK tries the next one */
    }
  }
  return false;
}

/** Whether the SDK can compile this schema (only then is it sent). */
export function sdkCanCompile(s: PushableSchema): boolean {
  if (s.references && s.references.length > 0) return false;
  switch (s.type) {
    case "json":
      return sdkCompilesJson(s.definition);
    case "protobuf":
      // protobufjs loads the file alone: imports other than Google's well-known types fail.
      return !/^\s*import\s+(public\s+|weak\s+)?"(?!google\/protobuf\/)/m.test(s.definition) && !!s.messageType;
    case "avro":
      return true;
    default:
      return false;
  }
}

/** The init the SDK gets for a schema version (or "no schema" when it could not use it). */
export function schemaInit(s: PushableSchema | undefined): SchemaUpdateInit {
  if (!s || !sdkCanCompile(s)) return noSchema();
  return {
    schema_name: s.name,
    active_version: { version_number: s.version, descriptor: "", schema_content: s.definition, message_struct_name: s.messageType ?? "" },
    type: s.type,
  };
}

/** The push for a station whose schema changed. */
export function schemaUpdate(s: PushableSchema | undefined): SchemaUpdate {
  const init = schemaInit(s);
  return { UpdateType: init.schema_name === "" ? 2 : 1, init };
}
