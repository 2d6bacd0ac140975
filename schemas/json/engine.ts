// Chooses how a JSON Schema is validated. Junction's own validator (./validator.ts) handles every
// schema and passes the whole official test suite; ajv compiles a schema to JavaScript and is
// several times faster, but gets some features wrong (dynamic references, unevaluated*,
// embedded resources, $ref siblings before 2019-09, empty enums…). ajv is used only for schemas
// made of the features where both agree, which covers nearly every schema people write.
import { Ajv, type AnySchema, type ErrorObject, type Options, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { createRequire } from "node:module";
import type { FormatMode, SchemaIssue } from "../types.js";
import { refOverridesSiblings, standardDialect, type JsonDialect } from "./dialect.js";
import { firstDuplicate } from "./equal.js";
import { extraAjvFormats, formatCheck } from "./formats.js";
import { re2RegExpEngine } from "./regexp.js";
import { JsonValidatorSet, isMultipleOf, type JsonDocument, type JsonValidator } from "./validator.js";
import { hasScheme, splitFragment } from "./uri.js";

// ajv-draft-04 is CommonJS with a default export.
const AjvDraft04 = (createRequire(import.meta.url)("ajv-draft-04") as { default: typeof Ajv }).default;

/** The URI a main document without `$id` is known by. */
export const SELF_URI = "junction:self";

/** Which validator runs a schema. */
export type JsonEngineKind = "ajv" | "interpreter";

/** A built JSON validator. */
export interface BuiltJsonValidator {
  readonly validate: JsonValidator;
  readonly engine: JsonEngineKind;
}

/** What {@link buildJsonValidator} needs. */
export interface JsonBuildInput {
  /** The parsed main document. */
  readonly schema: unknown;
  /** Its dialect when it has no `$schema`. */
  readonly dialect: JsonDialect;
  readonly formats: FormatMode;
  /** Referenced documents, by every URI they are known by. */
  readonly documents: ReadonlyMap<string, JsonDocument>;
  /** Cap on reported issues. */
  readonly maxIssues: number;
  /** Treat an unknown custom `$schema` as the default dialect instead of failing (to list references). */
  readonly lenientMeta?: boolean;
  /** The main document's base URI when it has no `$id`. @defaultValue SELF_URI */
  readonly baseUri?: string | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The validator set (Junction's validator) for a main document and its references. */
export function validatorSet(input: JsonBuildInput): JsonValidatorSet {
  const docs = new Map(input.documents);
  const self: JsonDocument = { schema: input.schema, dialect: input.dialect, baseUri: input.baseUri };
  docs.set(SELF_URI, self);
  if (input.baseUri !== undefined) docs.set(input.baseUri, self);
  const set = new JsonValidatorSet({ formats: input.formats, documents: docs, lenientMeta: input.lenientMeta === true });
  set.addDocument(SELF_URI, self);
  return set;
}

/**
 * Builds the validator for a schema: ajv when the schema is within the features ajv gets right
 * (and ajv compiles it), Junction's validator otherwise. `preferAjv: false` forces the latter.
 * Throws {@link CompileError} from Junction's validator for a schema that cannot be compiled.
 */
export function buildJsonValidator(input: JsonBuildInput, preferAjv = true, verify = false): BuiltJsonValidator {
  // At registration (`verify`), Junction's validator is compiled even when ajv will serve: it
  // reports unresolvable references and bad patterns with their place in the schema.
  const reference = verify || !preferAjv ? validatorSet(input).validator(input.baseUri ?? SELF_URI, input.maxIssues) : undefined;
  if (preferAjv) {
    const dialect = resolvedDialect(input.schema, input.dialect);
    if (dialect !== undefined && ajvCanRun(input.schema, dialect, input.documents)) {
      const fast = compileWithAjv(input, dialect);
      if (fast !== undefined) return { validate: fast, engine: "ajv" };
    }
  }
  return { validate: reference ?? validatorSet(input).validator(input.baseUri ?? SELF_URI, input.maxIssues), engine: "interpreter" };
}

function resolvedDialect(schema: unknown, fallback: JsonDialect): JsonDialect | undefined {
  if (!isObject(schema) || schema.$schema === undefined) return fallback;
  return typeof schema.$schema === "string" ? standardDialect(schema.$schema) : undefined;
}

// Keywords whose semantics ajv does not implement as the specification says (or at all).
const NOT_FOR_AJV = [
  "$dynamicRef",
  "$dynamicAnchor",
  "$recursiveRef",
  "$recursiveAnchor",
  "$anchor",
  "$vocabulary",
  "unevaluatedProperties",
  "unevaluatedItems",
];
// Keywords that only annotate: harmless beside "$ref" in draft-07 and before.
const ANNOTATIONS = new Set([
  "$comment",
  "title",
  "description",
  "default",
  "examples",
  "definitions",
  "readOnly",
  "writeOnly",
  "deprecated",
]);
const DRAFT_07_ONLY = ["if", "then", "else"];

const SINGLE = ["additionalItems", "additionalProperties", "items", "contains", "propertyNames", "not", "if", "then", "else"];
const ARRAYS = ["allOf", "anyOf", "oneOf", "items", "prefixItems"];
const MAPS = ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies"];

/** Whether ajv runs this schema (and the documents it references) exactly as the specification says. */
export function ajvCanRun(schema: unknown, dialect: JsonDialect, documents: ReadonlyMap<string, JsonDocument>): boolean {
  const known = new Set<string>();
  for (const [uri, doc] of documents) {
    known.add(uri);
    if (isObject(doc.schema) && typeof doc.schema.$id === "string") known.add(splitFragment(doc.schema.$id)[0]);
  }
  const visitedDocs = new Set<unknown>();
  const docOk = (root: unknown, d: JsonDialect): boolean => {
    if (visitedDocs.has(root)) return true;
    visitedDocs.add(root);
    const refs: string[] = [];
    if (!walkOk(root, d, true, refs)) return false;
    for (const ref of refs) {
      if (ref.startsWith("#")) {
        if (ref !== "#" && !ref.startsWith("#/")) return false;
        continue;
      }
      if (!hasScheme(ref)) return false;
      const [uri, fragment] = splitFragment(ref);
      if (fragment !== "" && !fragment.startsWith("/")) return false;
      const doc = documents.get(uri);
      if (doc === undefined || !known.has(uri)) return false;
      // Every referenced document must be ajv-safe too, in the same dialect.
      if (resolvedDialect(doc.schema, doc.dialect) !== d) return false;
      // ajv registers a document under one key: an alias that is not its $id cannot be served.
      if (isObject(doc.schema) && typeof doc.schema.$id === "string" && splitFragment(doc.schema.$id)[0] !== uri) {
        if (!uri.startsWith("junction:")) return false;
      }
      if (!docOk(doc.schema, d)) return false;
    }
    return true;
  };
  return docOk(schema, dialect);
}

function walkOk(s: unknown, d: JsonDialect, root: boolean, refs: string[]): boolean {
  if (typeof s === "boolean") return true;
  if (!isObject(s)) return true;
  for (const k of NOT_FOR_AJV) if (k in s) return false;
  const idKey = d === "draft-04" ? "id" : "$id";
  if (idKey in s) {
    const id = s[idKey];
    if (!root || typeof id !== "string" || !hasScheme(id) || splitFragment(id)[1] !== "") return false;
  }
  if (!root && "$schema" in s) return false;
  // ajv's generated code reads properties named __proto__ through the prototype accessor.
  for (const k of ["properties", "dependencies", "dependentRequired", "dependentSchemas", "patternProperties"]) {
    const m = s[k];
    if (isObject(m) && Object.hasOwn(m, "__proto__")) return false;
  }
  if (Array.isArray(s.required) && s.required.includes("__proto__")) return false;
  if ("enum" in s && (!Array.isArray(s.enum) || s.enum.length === 0)) return false;
  if (d === "draft-06" && DRAFT_07_ONLY.some((k) => k in s)) return false;
  if (typeof s.$ref === "string") {
    refs.push(s.$ref);
    if (refOverridesSiblings(d) && Object.keys(s).some((k) => k !== "$ref" && k !== "$schema" && !ANNOTATIONS.has(k))) return false;
    if (refOverridesSiblings(d) && "$id" in s) return false;
  } else if ("$ref" in s) return false;
  for (const k of SINGLE) if (k in s && !Array.isArray(s[k]) && !walkOk(s[k], d, false, refs)) return false;
  for (const k of ARRAYS) {
    const a = s[k];
    if (Array.isArray(a)) for (const x of a) if (!walkOk(x, d, false, refs)) return false;
  }
  for (const k of MAPS) {
    const m = s[k];
    if (!isObject(m)) continue;
    for (const x of Object.values(m)) if (!Array.isArray(x) && !walkOk(x, d, false, refs)) return false;
  }
  return true;
}

function collectFormats(s: unknown, out: Set<string>): void {
  if (Array.isArray(s)) {
    for (const x of s) collectFormats(x, out);
    return;
  }
  if (!isObject(s)) return;
  if (typeof s.format === "string") out.add(s.format);
  for (const v of Object.values(s)) if (typeof v === "object") collectFormats(v, out);
}

function withoutDialect(schema: unknown): AnySchema {
  if (!isObject(schema) || !("$schema" in schema)) return schema as AnySchema;
  // The Ajv class already is the dialect; the meta-schema URI variants ("…#") need not resolve.
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

// Names every parsed JSON object inherits (toString, constructor…): ajv reads `data.name`, so
// `required: ["toString"]` would be satisfied by `{}` unless it checks own properties only.
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Whether a schema names a property that plain objects inherit (then ajv must check own properties). */
function namesInherited(s: unknown): boolean {
  if (Array.isArray(s)) return s.some(namesInherited);
  if (!isObject(s)) return false;
  for (const k of ["properties", "dependencies", "dependentRequired", "dependentSchemas"]) {
    const m = s[k];
    if (isObject(m) && Object.keys(m).some((n) => INHERITED.has(n))) return true;
  }
  for (const k of ["required"]) {
    const a = s[k];
    if (Array.isArray(a) && a.some((n) => typeof n === "string" && INHERITED.has(n))) return true;
  }
  const deps = s.dependencies ?? s.dependentRequired;
  if (isObject(deps) && Object.values(deps).some((v) => Array.isArray(v) && v.some((n) => INHERITED.has(n as string)))) return true;
  return Object.values(s).some((v) => typeof v === "object" && v !== null && namesInherited(v));
}

function newAjv(dialect: JsonDialect, formats: FormatMode, ownProperties: boolean): Ajv {
  const options: Options = {
    strict: false,
    allErrors: true,
    // Own properties only where it matters: the check costs every validation some 10%.
    ownProperties,
    validateSchema: false,
    validateFormats: formats === "assert",
    allowUnionTypes: true,
    logger: false,
    code: { regExp: re2RegExpEngine },
  };
  const ajv =
    dialect === "2020-12"
      ? new Ajv2020(options)
      : dialect === "2019-09"
        ? new Ajv2019(options)
        : dialect === "draft-04"
          ? new AjvDraft04(options)
          : new Ajv(options);
  ajvFormats.default(ajv);
  for (const [name, check] of Object.entries(extraAjvFormats())) ajv.addFormat(name, check);
  // ajv compares every pair of items for uniqueItems (quadratic) and divides for multipleOf with
  // exact float equality; both are replaced by Junction's checks, which the interpreter shares.
  ajv.removeKeyword("uniqueItems");
  ajv.addKeyword({
    keyword: "uniqueItems",
    type: "array",
    schemaType: "boolean",
    errors: true,
    validate: function uniqueItems(this: unknown, schema: boolean, data: unknown[]): boolean {
      if (!schema || data.length < 2) return true;
      const dup = firstDuplicate(data);
      if (dup === undefined) return true;
      (uniqueItems as { errors?: Partial<ErrorObject>[] }).errors = [
        {
          keyword: "uniqueItems",
          message: `must NOT have duplicate items (items ## ${dup[1]} and ${dup[0]} are identical)`,
          params: { i: dup[1], j: dup[0] },
        },
      ];
      return false;
    },
  });
  ajv.removeKeyword("multipleOf");
  ajv.addKeyword({
    keyword: "multipleOf",
    type: "number",
    schemaType: "number",
    errors: true,
    validate: function multipleOf(schema: number, data: number): boolean {
      if (isMultipleOf(data, schema)) return true;
      (multipleOf as { errors?: Partial<ErrorObject>[] }).errors = [
        { keyword: "multipleOf", message: `must be multiple of ${schema}`, params: { multipleOf: schema } },
      ];
      return false;
    },
  });
  return ajv;
}

function compileWithAjv(input: JsonBuildInput, dialect: JsonDialect): JsonValidator | undefined {
  let validate: ValidateFunction;
  try {
    const own = namesInherited(input.schema) || [...input.documents.values()].some((d) => namesInherited(d.schema));
    const ajv = newAjv(dialect, input.formats, own);
    const formats = new Set<string>();
    collectFormats(input.schema, formats);
    const added = new Set<unknown>();
    for (const [uri, doc] of input.documents) {
      if (added.has(doc.schema) || !uri.startsWith("junction:")) continue;
      added.add(doc.schema);
      collectFormats(doc.schema, formats);
      ajv.addSchema(withoutDialect(doc.schema), uri);
    }
    // An unknown format is an annotation: it must not fail compilation or validation.
    for (const f of formats) if (formatCheck(f) === undefined) ajv.addFormat(f, true);
    validate = ajv.compile(withoutDialect(input.schema));
  } catch {
    return undefined;
  }
  const max = input.maxIssues;
  return (value, _collect) => {
    if (validate(value)) return [];
    return toIssues(validate.errors, max);
  };
}

function toIssues(errors: ErrorObject[] | null | undefined, max: number): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  for (const e of errors ?? []) {
    if (out.length >= max) break;
    let message = e.message ?? "invalid";
    let path = e.instancePath;
    if (e.keyword === "additionalProperties" && typeof e.params.additionalProperty === "string") {
      message = `${message} ('${e.params.additionalProperty}')`;
    }
    if (e.keyword === "propertyNames" && typeof e.params.propertyName === "string") {
      message = `property name '${e.params.propertyName}' is invalid`;
    }
    if (e.keyword === "required" && typeof e.params.missingProperty === "string") path = e.instancePath;
    out.push({ path, message, keyword: e.keyword });
  }
  return out;
}
