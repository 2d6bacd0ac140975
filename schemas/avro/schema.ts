import { createRequire } from "node:module";
import type { Type } from "avsc";
import { canonicalJson, fingerprint } from "../common.js";
import { SchemaError, SchemaValidationError } from "../errors.js";
import { assertDefinitionSize, tooComplex, type SchemaLimits } from "../limits.js";
import { validateAsyncWith } from "../async.js";
import type { CompiledSchema, LoadOptions, PreparedSchema, SchemaSource, ValidationResult } from "../types.js";
import { AvroDataError, decodeAvro, encodeAvro } from "./codec.js";

const avsc = createRequire(import.meta.url)("avsc") as typeof import("avsc");

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function invalid(path: string, message: string, extra: Record<string, unknown> = {}, cause?: unknown): SchemaError {
  const where = path === "" ? "" : ` at ${path}`;
  return new SchemaError("SCHEMA_INVALID", `invalid Avro schema${where}: ${message}`, { details: { path, message, ...extra }, cause });
}

/** JSON Pointers of every object and array in the definition, to say where avsc failed. */
function pointers(root: unknown): Map<unknown, string> {
  const out = new Map<unknown, string>();
  const stack: [unknown, string][] = [[root, ""]];
  while (stack.length > 0) {
    const [v, p] = stack.pop() as [unknown, string];
    if (v === null || typeof v !== "object") continue;
    out.set(v, p);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, `${p}/${i}`]));
    else for (const [k, x] of Object.entries(v)) stack.push([x, `${p}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`]);
  }
  return out;
}

/** Checks the complexity limits on the parsed definition (iteratively). */
function checkAvroLimits(root: unknown, limits: Readonly<Required<SchemaLimits>>): void {
  let fields = 0;
  let named = 0;
  const stack: [unknown, number, string][] = [[root, 1, ""]];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop() as [unknown, number, string];
    if (v === null || typeof v !== "object") continue;
    if (depth > limits.maxDepth) throw tooComplex("maxDepth", limits.maxDepth, depth, "the nesting depth", path);
    if (isObject(v)) {
      if (Array.isArray(v.fields)) {
        fields += v.fields.length;
        if (fields > limits.maxProperties)
          throw tooComplex("maxProperties", limits.maxProperties, fields, "the number of record fields", `${path}/fields`);
      }
      if (Array.isArray(v.symbols) && v.symbols.length > limits.maxEnumValues) {
        throw tooComplex("maxEnumValues", limits.maxEnumValues, v.symbols.length, "the number of enum symbols", `${path}/symbols`);
      }
      if (typeof v.name === "string" && typeof v.type === "string" && ["record", "error", "enum", "fixed"].includes(v.type)) {
        if (++named > limits.maxSchemaNodes) throw tooComplex("maxSchemaNodes", limits.maxSchemaNodes, named, "the number of named types");
      }
      for (const [k, x] of Object.entries(v)) stack.push([x, depth + 1, `${path}/${k}`]);
    } else (v as unknown[]).forEach((x, i) => stack.push([x, depth + 1, `${path}/${i}`]));
  }
}

/** Parses an Avro schema (.avsc JSON text) with avsc; errors name the place in the definition. */
export function parseAvro(definition: string): { schema: unknown; type: Type } {
  let schema: unknown;
  try {
    schema = JSON.parse(definition);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw invalid("", `the schema is not valid JSON: ${message}`, {}, err);
  }
  return { schema, type: avroType(schema) };
}

function avroType(schema: unknown): Type {
  const where = pointers(schema);
  let last = "";
  try {
    return avsc.Type.forSchema(schema as never, {
      // Unions stay unions of named branches; logical types are their underlying types.
      wrapUnions: true,
      typeHook: (s: unknown) => {
        const p = where.get(s);
        if (p !== undefined) last = p;
        return undefined;
      },
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw invalid(last, message, {}, err);
  }
}

function normalizedFullName(t: Type): string | undefined {
  return t.name ?? undefined;
}

/** Checks an Avro schema for registration. */
export function prepareAvroSchema(src: SchemaSource, limits: Readonly<Required<SchemaLimits>>): PreparedSchema {
  assertDefinitionSize(src.definition, limits);
  let schema: unknown;
  try {
    schema = JSON.parse(src.definition);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw invalid("", `the schema is not valid JSON: ${message}`, {}, err);
  }
  checkAvroLimits(schema, limits);
  const type = avroType(schema);
  const name = normalizedFullName(type);
  return {
    type: "avro",
    definition: src.definition,
    ...(name === undefined ? {} : { messageType: name }),
    fingerprint: fingerprint("avro", canonicalJson(schema), name),
  };
}

/** Compiles a prepared Avro schema: strict binary validation, JSON-form decode and encode. */
export function loadAvroSchema(prepared: PreparedSchema, opts: LoadOptions = {}): CompiledSchema {
  const { type } = parseAvro(prepared.definition);

  const validate = (payload: Uint8Array): ValidationResult => {
    try {
      return { ok: true, value: decodeAvro(type, payload) };
    } catch (err) {
      if (err instanceof AvroDataError) return { ok: false, issues: [err.toIssue()] };
      if (err instanceof RangeError)
        return { ok: false, issues: [{ path: "", message: `cannot decode: ${err.message}`, keyword: "decode" }] };
      throw err;
    }
  };

  return {
    type: "avro",
    messageType: normalizedFullName(type),
    validate,
    validateAsync: validateAsyncWith(validate, prepared, opts),
    decode(payload) {
      const result = validate(payload);
      if (!result.ok) throw new SchemaValidationError(result.issues);
      return result.value;
    },
    encode(value) {
      try {
        return encodeAvro(type, value);
      } catch (err) {
        if (err instanceof AvroDataError) throw new SchemaValidationError([err.toIssue()], { cause: err });
        throw err;
      }
    },
  };
}

/** The avsc type of a prepared Avro schema (for compatibility checks). */
export function avroTypeOf(prepared: PreparedSchema): Type {
  return parseAvro(prepared.definition).type;
}
