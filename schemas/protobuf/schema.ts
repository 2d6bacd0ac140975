import {
  createFileRegistry,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type FileRegistry,
  type JsonValue,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { fingerprint } from "../common.js";
import { SchemaError, SchemaValidationError } from "../errors.js";
import { validateAsyncWith } from "../async.js";
import { assertDefinitionSize, tooComplex, type SchemaLimits } from "../limits.js";
import type {
  CompiledSchema,
  LoadOptions,
  PreparedSchema,
  ReferencedSchema,
  ReferenceRequest,
  SchemaIssue,
  SchemaReference,
  SchemaSource,
  ValidationResult,
} from "../types.js";
import { bufBuild, PROTO_FILE_NAME } from "./buf.js";
import { scanWire } from "./wire.js";

/** Builds a registry from a binary FileDescriptorSet. */
export function openDescriptorSet(bytes: Uint8Array): FileRegistry {
  try {
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new SchemaError("SCHEMA_INVALID", `the descriptor set cannot be loaded: ${message}`, {
      details: { message },
      cause: err,
    });
  }
}

/** Opens the stored descriptor set of a prepared protobuf schema. */
export function registryOf(prepared: PreparedSchema): FileRegistry {
  if (prepared.descriptorSetBase64 === undefined) {
    throw new SchemaError("SCHEMA_INVALID", "the protobuf schema has no descriptor set; prepare it first", {
      details: { message: "missing descriptorSetBase64" },
    });
  }
  return openDescriptorSet(Buffer.from(prepared.descriptorSetBase64, "base64"));
}

/** Every message declared in the user's file (nested ones included, map entries excluded). */
export function userMessages(registry: FileRegistry): DescMessage[] {
  const file = registry.getFile(PROTO_FILE_NAME);
  if (file === undefined) return [];
  const out: DescMessage[] = [];
  const add = (m: DescMessage): void => {
    if (m.proto.options?.mapEntry === true) return;
    out.push(m);
    m.nestedMessages.forEach(add);
  };
  file.messages.forEach(add);
  return out;
}

/** Resolves a full or short message name (or none, for a file with one top-level message). */
export function resolveMessage(registry: FileRegistry, messageType: string | undefined): DescMessage {
  const all = userMessages(registry);
  const available = all.map((m) => m.typeName);
  const fail = (message: string): SchemaError => new SchemaError("SCHEMA_INVALID", message, { details: { messageType, available } });
  if (messageType === undefined || messageType === "") {
    const top = all.filter((m) => m.parent === undefined);
    if (top.length === 1) return top[0] as DescMessage;
    throw fail(
      top.length === 0
        ? "the .proto file declares no message"
        : `the .proto file declares ${top.length} messages; say which one with messageType (${available.join(", ")})`,
    );
  }
  const name = messageType.replace(/^\./, "");
  const exact = all.find((m) => m.typeName === name);
  if (exact !== undefined) return exact;
  const bySuffix = all.filter((m) => m.typeName.endsWith(`.${name}`));
  if (bySuffix.length === 1) return bySuffix[0] as DescMessage;
  throw fail(
    bySuffix.length > 1
      ? `message type "${messageType}" is ambiguous: ${bySuffix.map((m) => m.typeName).join(", ")}`
      : `unknown message type "${messageType}"; available: ${available.join(", ") || "none"}`,
  );
}

function normalizeProto(definition: string): string {
  return definition
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();
}

const IMPORT_RE = /^\s*import\s+(?:public\s+|weak\s+)?"junction\/([a-z0-9][a-z0-9_-]{0,63})@([1-9][0-9]{0,8})\.proto"\s*;/gm;

/** The import path of a referenced schema version: `junction/<name>@<version>.proto`. */
export function protoImportPath(name: string, version: number): string {
  return `junction/${name}@${version}.proto`;
}

/** The registered schemas a .proto imports (`import "junction/<name>@<version>.proto";`). */
export function protobufReferenceRequests(definition: string): ReferenceRequest[] {
  const out: ReferenceRequest[] = [];
  const seen = new Set<string>();
  for (const m of definition.matchAll(IMPORT_RE)) {
    const key = `${m[1]}@${m[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind: "version", name: m[1] as string, version: Number(m[2]) });
  }
  return out;
}

/** The imported files (the closure) and what to record, from the supplied references. */
function importedFiles(
  definition: string,
  supplied: readonly ReferencedSchema[],
  limits: Readonly<Required<SchemaLimits>>,
): { files: Map<string, string>; recorded: SchemaReference[] } {
  const byKey = new Map(supplied.map((r) => [`${r.name}@${r.version}`, r]));
  const files = new Map<string, string>();
  const recorded: SchemaReference[] = [];
  const visit = (text: string, who: string): void => {
    for (const req of protobufReferenceRequests(text)) {
      if (req.kind !== "version") continue;
      const key = `${req.name}@${req.version}`;
      const path = protoImportPath(req.name, req.version);
      if (files.has(path)) continue;
      const ref = byKey.get(key);
      if (ref === undefined) {
        throw new SchemaError("SCHEMA_INVALID", `${who} imports ${path}, but schema ${key} was not supplied`, {
          details: { file: PROTO_FILE_NAME, message: "missing reference", missing: { name: req.name, version: req.version } },
        });
      }
      if (ref.prepared.type !== "protobuf") {
        throw new SchemaError("SCHEMA_INVALID", `${path} is a ${ref.prepared.type} schema; a .proto can only import .proto schemas`, {
          details: { file: PROTO_FILE_NAME, message: "not a protobuf schema", reference: key },
        });
      }
      files.set(path, ref.prepared.definition);
      recorded.push({ name: ref.name, version: ref.version });
      if (recorded.length > limits.maxReferences) {
        throw tooComplex("maxReferences", limits.maxReferences, recorded.length, "the number of referenced schema versions");
      }
      visit(ref.prepared.definition, path);
    }
  };
  visit(definition, "the schema");
  recorded.sort((a, b) => (a.name === b.name ? a.version - b.version : a.name < b.name ? -1 : 1));
  return { files, recorded };
}

/** The files a .proto imports from the registry (the closure), by import path. */
export function protobufImports(
  definition: string,
  supplied: readonly ReferencedSchema[],
  limits: Readonly<Required<SchemaLimits>>,
): Map<string, string> {
  return importedFiles(definition, supplied, limits).files;
}

function checkProtobufLimits(registry: FileRegistry, limits: Readonly<Required<SchemaLimits>>): void {
  let fields = 0;
  const file = registry.getFile(PROTO_FILE_NAME);
  if (file === undefined) return;
  const visit = (m: DescMessage, depth: number): void => {
    if (depth > limits.maxDepth) throw tooComplex("maxDepth", limits.maxDepth, depth, "the nesting of message declarations", m.typeName);
    fields += m.fields.length;
    if (fields > limits.maxProperties)
      throw tooComplex("maxProperties", limits.maxProperties, fields, "the number of message fields", m.typeName);
    for (const e of m.nestedEnums) {
      if (e.values.length > limits.maxEnumValues)
        throw tooComplex("maxEnumValues", limits.maxEnumValues, e.values.length, "the number of enum values", e.typeName);
    }
    m.nestedMessages.forEach((n) => visit(n, depth + 1));
  };
  for (const e of file.enums) {
    if (e.values.length > limits.maxEnumValues)
      throw tooComplex("maxEnumValues", limits.maxEnumValues, e.values.length, "the number of enum values", e.typeName);
  }
  file.messages.forEach((m) => visit(m, 1));
}

/** Compiles .proto text with buf (imported schemas beside it) and resolves the message type. */
export async function prepareProtobufSchema(
  src: SchemaSource,
  references: readonly ReferencedSchema[],
  limits: Readonly<Required<SchemaLimits>>,
  build: (definition: string, files: ReadonlyMap<string, string>) => Promise<Uint8Array> = (d, files) => bufBuild(d, { files }),
): Promise<PreparedSchema> {
  assertDefinitionSize(src.definition, limits);
  const { files, recorded } = importedFiles(src.definition, references, limits);
  const bytes = await build(src.definition, files);
  const registry = openDescriptorSet(bytes);
  checkProtobufLimits(registry, limits);
  const desc = resolveMessage(registry, src.messageType);
  const prepared: PreparedSchema = {
    type: "protobuf",
    definition: src.definition,
    messageType: desc.typeName,
    descriptorSetBase64: Buffer.from(bytes).toString("base64"),
    fingerprint: fingerprint("protobuf", normalizeProto(src.definition), desc.typeName),
    ...(recorded.length > 0 ? { references: recorded } : {}),
  };
  loadProtobufSchema(prepared); // anything the runtime cannot handle fails now, not at first use
  return prepared;
}

/** Names the field an encode error is about (`field shop.Order.id`), or "" when unknown. */
function fieldErrorPath(err: unknown): string {
  // @bufbuild/protobuf wraps its FieldError (which has field()) in a plain Error as `cause`.
  for (let e: unknown = err, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    const field = (e as { field?: unknown }).field;
    if (typeof field === "function") {
      try {
        return String((field as () => unknown).call(e));
      } catch {
        break;
      }
    }
  }
  const named = err instanceof Error ? /cannot decode (field [\w.]+)/.exec(err.message) : null;
  return named?.[1] ?? "";
}

/** Compiles a prepared protobuf schema. */
export function loadProtobufSchema(prepared: PreparedSchema, opts: LoadOptions = {}): CompiledSchema {
  const registry = registryOf(prepared);
  const desc = resolveMessage(registry, prepared.messageType);
  const allowUnknown = opts.allowUnknownFields ?? false;
  // Implicit-presence fields are emitted even when default, so consumers need not know proto3 defaults.
  const jsonWrite = { registry, alwaysEmitImplicit: true } as const;
  const jsonRead = { registry, ignoreUnknownFields: allowUnknown } as const;

  const validate = (payload: Uint8Array): ValidationResult => {
    const issues = scanWire(desc, payload, allowUnknown);
    if (issues.length > 0) return { ok: false, issues };
    try {
      const message = fromBinary(desc, payload, { readUnknownFields: false });
      return { ok: true, value: toJson(desc, message, jsonWrite) };
    } catch (err) {
      const issue: SchemaIssue = {
        path: "",
        message: `cannot decode: ${err instanceof Error ? err.message : String(err)}`,
        keyword: "decode",
      };
      return { ok: false, issues: [issue] };
    }
  };

  return {
    type: "protobuf",
    messageType: desc.typeName,
    validate,
    validateAsync: validateAsyncWith(validate, prepared, opts),
    decode(payload) {
      const result = validate(payload);
      if (!result.ok) throw new SchemaValidationError(result.issues);
      return result.value;
    },
    encode(value) {
      try {
        return toBinary(desc, fromJson(desc, value as JsonValue, jsonRead));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new SchemaValidationError([{ path: fieldErrorPath(err), message, keyword: "encode" }], { cause: err });
      }
    },
  };
}
