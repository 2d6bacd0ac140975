import { Ajv, type AnySchema, type ErrorObject, type Options, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { assertSchemaSize, canonicalJson, decodeUtf8Strict, fingerprint, pointerSegment } from "../common.js";
import { SchemaError, SchemaValidationError } from "../errors.js";
import type { CompiledSchema, PreparedSchema, SchemaIssue, SchemaSource, ValidationResult } from "../types.js";
import { compileRe2, re2RegExpEngine } from "./regexp.js";
import { asObject, collectSchemaNodes, localRefPointer, type SchemaNode } from "./walk.js";

/** The JSON Schema dialects Junction compiles. */
export type JsonDraft = "draft-07" | "2020-12";

const DIALECTS: Record<string, JsonDraft> = {
  "http://json-schema.org/draft-07/schema": "draft-07",
  "http://json-schema.org/draft-07/schema#": "draft-07",
  "https://json-schema.org/draft-07/schema": "draft-07",
  "https://json-schema.org/draft-07/schema#": "draft-07",
  "https://json-schema.org/draft/2020-12/schema": "2020-12",
  "https://json-schema.org/draft/2020-12/schema#": "2020-12",
};

// strictSchema rejects unknown keywords (a typo such as "requried" would otherwise be ignored
// silently) and unknown formats; the other strict checks only warn about legal schemas.
const AJV_OPTIONS: Options = {
  allErrors: true,
  strictSchema: true,
  strictNumbers: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  allowUnionTypes: true,
  logger: false,
  code: { regExp: re2RegExpEngine },
};

/** Cap on the issues reported for one payload or schema. */
const MAX_ISSUES = 50;

// Values every working validator must get through; a $ref loop that never consumes input
// overflows the stack on one of them.
const PROBES: unknown[] = [null, true, 0, 0.5, "", "a", [], [0], {}, { a: 0 }];

function newAjv(draft: JsonDraft): Ajv | Ajv2020 {
  const ajv = draft === "2020-12" ? new Ajv2020(AJV_OPTIONS) : new Ajv(AJV_OPTIONS);
  ajvFormats.default(ajv);
  return ajv;
}

/** Parses a JSON Schema definition and picks its dialect from `$schema` (draft-07 when absent). */
export function parseJsonSchema(definition: string): { schema: unknown; draft: JsonDraft } {
  let schema: unknown;
  try {
    schema = JSON.parse(definition);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new SchemaError("SCHEMA_INVALID", `the schema is not valid JSON: ${message}`, {
      details: { path: "", message },
      cause: err,
    });
  }
  if (typeof schema !== "boolean" && asObject(schema) === undefined) {
    throw new SchemaError("SCHEMA_INVALID", "a JSON Schema must be an object or a boolean", {
      details: { path: "", message: "must be object or boolean" },
    });
  }
  const declared = asObject(schema)?.$schema;
  if (declared === undefined) return { schema, draft: "draft-07" };
  const draft = typeof declared === "string" ? DIALECTS[declared] : undefined;
  if (draft === undefined) {
    throw new SchemaError("SCHEMA_INVALID", `unsupported $schema ${JSON.stringify(declared)}; use draft-07 or 2020-12`, {
      details: { path: "/$schema", message: "unsupported $schema", supported: Object.keys(DIALECTS) },
    });
  }
  return { schema, draft };
}

function invalid(path: string, message: string, extra: Record<string, unknown> = {}, cause?: unknown): SchemaError {
  const where = path === "" ? "" : ` at ${path}`;
  return new SchemaError("SCHEMA_INVALID", `invalid JSON Schema${where}: ${message}`, {
    details: { path, message, ...extra },
    cause,
  });
}

function withoutDialect(schema: unknown): AnySchema {
  const obj = asObject(schema);
  if (obj === undefined || !("$schema" in obj)) return schema as AnySchema;
  // The Ajv class already is the dialect; the meta-schema URI variants ("…#") need not resolve.
  const { $schema: _dialect, ...rest } = obj;
  return rest;
}

function compileValidator(schema: unknown, draft: JsonDraft, nodes: () => SchemaNode[]): ValidateFunction {
  const ajv = newAjv(draft);
  try {
    return ajv.compile(withoutDialect(schema));
  } catch (err) {
    throw compileError(err, nodes);
  }
}

function compileError(err: unknown, nodes: () => SchemaNode[]): SchemaError {
  if (err instanceof RangeError) {
    return invalid("", "the schema's $ref graph recurses without end", { keyword: "$ref" }, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err !== null && typeof err === "object" && "missingRef" in err) {
    const missingRef = String((err as { missingRef: unknown }).missingRef);
    const node = nodes().find((n) => {
      const ref = asObject(n.schema)?.$ref;
      return typeof ref === "string" && (missingRef === ref || missingRef.endsWith(ref));
    });
    return invalid(node === undefined ? "" : `${node.pointer}/$ref`, message, { keyword: "$ref", missingRef }, err);
  }
  const at = /at path "#([^"]*)"/.exec(message);
  if (at?.[1] !== undefined) return invalid(at[1], message, {}, err);
  const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
  if (keyword !== undefined) {
    const node = nodes().find((n) => asObject(n.schema)?.[keyword] !== undefined);
    return invalid(node === undefined ? "" : `${node.pointer}/${pointerSegment(keyword)}`, message, { keyword }, err);
  }
  return invalid("", message, {}, err);
}

function checkPatterns(nodes: SchemaNode[]): void {
  const tryCompile = (pattern: string, path: string): void => {
    try {
      compileRe2(pattern);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw invalid(path, `pattern ${JSON.stringify(pattern)} is not supported by the RE2 engine (${reason})`, { pattern }, err);
    }
  };
  for (const { pointer, schema } of nodes) {
    const obj = asObject(schema);
    if (obj === undefined) continue;
    if (typeof obj.pattern === "string") tryCompile(obj.pattern, `${pointer}/pattern`);
    const pp = asObject(obj.patternProperties);
    if (pp !== undefined) {
      for (const key of Object.keys(pp)) tryCompile(key, `${pointer}/patternProperties/${pointerSegment(key)}`);
    }
  }
}

function metaSchemaError(errors: ErrorObject[]): SchemaError {
  const issues = errors.slice(0, MAX_ISSUES).map((e) => ({ path: e.instancePath, message: e.message ?? "invalid", keyword: e.keyword }));
  // Combinator errors ("must match a schema in anyOf") restate a more precise error: report that one.
  const best =
    [...issues].filter((i) => !["anyOf", "oneOf", "if", "not"].includes(i.keyword)).sort((a, b) => b.path.length - a.path.length)[0] ??
    issues[0];
  return invalid(best?.path ?? "", best?.message ?? "invalid schema", { issues });
}

// Keywords that apply their subschemas to the same instance: a cycle through only these never
// terminates (JSON Schema forbids such schemas). Descending into properties/items consumes input.
const IN_PLACE_ARRAYS = ["allOf", "anyOf", "oneOf"] as const;
const IN_PLACE_SINGLE = ["not", "if", "then", "else"] as const;

function checkRefCycles(nodes: SchemaNode[]): void {
  const byPointer = new Map(nodes.map((n) => [n.pointer, n.schema]));
  const edges = new Map<string, { to: string; via: string }[]>();
  for (const { pointer, schema } of nodes) {
    const obj = asObject(schema);
    if (obj === undefined) continue;
    const out: { to: string; via: string }[] = [];
    if (typeof obj.$ref === "string") {
      const target = localRefPointer(obj.$ref);
      if (target !== undefined) out.push({ to: target, via: `${pointer}/$ref` });
    }
    for (const key of IN_PLACE_ARRAYS) {
      const arr = obj[key];
      if (Array.isArray(arr)) arr.forEach((_s, i) => out.push({ to: `${pointer}/${key}/${i}`, via: `${pointer}/${key}/${i}` }));
    }
    for (const key of IN_PLACE_SINGLE) if (key in obj) out.push({ to: `${pointer}/${key}`, via: `${pointer}/${key}` });
    const ds = asObject(obj.dependentSchemas);
    if (ds !== undefined) {
      for (const name of Object.keys(ds)) {
        const to = `${pointer}/dependentSchemas/${pointerSegment(name)}`;
        out.push({ to, via: to });
      }
    }
    edges.set(
      pointer,
      out.filter((e) => byPointer.has(e.to)),
    );
  }
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const dfs = (p: string): void => {
    state.set(p, 1);
    stack.push(p);
    for (const { to: next, via } of edges.get(p) ?? []) {
      const s = state.get(next);
      if (s === 1) {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        throw invalid(via, `$ref cycle that never consumes input: ${cycle.map((c) => `#${c}`).join(" -> ")}`, { keyword: "$ref", cycle });
      }
      if (s === undefined) dfs(next);
    }
    stack.pop();
    state.set(p, 2);
  };
  for (const { pointer } of nodes) if (!state.has(pointer)) dfs(pointer);
}

/** Validates a JSON Schema definition for registration. */
export function prepareJsonSchema(src: SchemaSource): PreparedSchema {
  assertSchemaSize(src.definition);
  const { schema, draft } = parseJsonSchema(src.definition);
  const nodes = collectSchemaNodes(schema);
  checkPatterns(nodes);
  const meta = newAjv(draft);
  if (!meta.validateSchema(withoutDialect(schema))) throw metaSchemaError(meta.errors ?? []);
  checkRefCycles(nodes);
  const validate = compileValidator(schema, draft, () => nodes);
  for (const probe of PROBES) {
    try {
      validate(probe);
    } catch (err) {
      throw invalid("", "the schema recurses without end while validating", { keyword: "$ref" }, err);
    }
  }
  return { type: "json", definition: src.definition, fingerprint: fingerprint("json", canonicalJson(schema)) };
}

function toIssues(errors: ErrorObject[] | null | undefined): SchemaIssue[] {
  return (errors ?? []).slice(0, MAX_ISSUES).map((e) => ({
    path: e.instancePath,
    message: e.message ?? "invalid",
    keyword: e.keyword,
  }));
}

/** Compiles a prepared JSON Schema. */
export function loadJsonSchema(prepared: PreparedSchema): CompiledSchema {
  const { schema, draft } = parseJsonSchema(prepared.definition);
  const validator = compileValidator(schema, draft, () => collectSchemaNodes(schema));

  const check = (value: unknown): SchemaIssue[] => {
    try {
      return validator(value) ? [] : toIssues(validator.errors);
    } catch (err) {
      // Only a pathological recursive schema gets here; prepareSchema refuses the known shapes.
      return [{ path: "", message: `validation failed: ${err instanceof Error ? err.message : String(err)}`, keyword: "$ref" }];
    }
  };

  const validate = (payload: Uint8Array): ValidationResult => {
    let value: unknown;
    try {
      value = JSON.parse(decodeUtf8Strict(payload));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return { ok: false, issues: [{ path: "", message: `payload is not JSON: ${reason}`, keyword: "json" }] };
    }
    const issues = check(value);
    return issues.length === 0 ? { ok: true, value } : { ok: false, issues };
  };

  return {
    type: "json",
    messageType: undefined,
    validate,
    decode(payload) {
      const result = validate(payload);
      if (!result.ok) throw new SchemaValidationError(result.issues);
      return result.value;
    },
    encode(value) {
      const text = JSON.stringify(value) as string | undefined;
      if (text === undefined) {
        throw new SchemaValidationError([{ path: "", message: "the value has no JSON form", keyword: "json" }]);
      }
      // Validate what a reader will see (JSON.stringify drops undefined, turns NaN into null…).
      const issues = check(JSON.parse(text));
      if (issues.length > 0) throw new SchemaValidationError(issues);
      return new TextEncoder().encode(text);
    },
  };
}
