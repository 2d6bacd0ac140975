import { canonicalJson, decodeUtf8Strict, fingerprint } from "../common.js";
import { SchemaError, SchemaValidationError } from "../errors.js";
import { assertDefinitionSize, tooComplex, type SchemaLimits } from "../limits.js";
import type {
  CompiledSchema,
  FormatMode,
  LoadOptions,
  PreparedSchema,
  ReferencedSchema,
  ReferenceRequest,
  SchemaIssue,
  SchemaReference,
  SchemaSource,
  ValidationResult,
} from "../types.js";
import { validateAsyncWith } from "../async.js";
import { checkJsonLimits, jsonWarnings } from "./analyze.js";
import { DEFAULT_JSON_DIALECT, DIALECT_URIS, JSON_DIALECTS, standardDialect, type JsonDialect } from "./dialect.js";
import { buildJsonValidator, SELF_URI, validatorSet, type JsonEngineKind } from "./engine.js";
import { CompileError, type JsonDocument, type JsonValidator } from "./validator.js";
import { asObject, collectSchemaNodes, localRefPointer } from "./walk.js";
import { hasScheme } from "./uri.js";
import { pointerSegment } from "../common.js";

/** Cap on the issues reported for one payload or schema. */
export const MAX_ISSUES = 50;

// Values every working validator must get through; a reference loop that never consumes input
// overflows the stack on one of them.
const PROBES: unknown[] = [null, true, 0, 0.5, "", "a", [], [0], {}, { a: 0 }];

const JUNCTION_REF = /^junction:([a-z0-9][a-z0-9_-]{0,63})@([1-9][0-9]{0,8})$/;

/** The URI a referenced schema version is known by: `junction:<name>@<version>`. */
export function referenceUri(name: string, version: number): string {
  return `junction:${name}@${version}`;
}

function invalid(path: string, message: string, extra: Record<string, unknown> = {}, cause?: unknown): SchemaError {
  const where = path === "" ? "" : ` at ${path}`;
  return new SchemaError("SCHEMA_INVALID", `invalid JSON Schema${where}: ${message}`, {
    details: { path, message, ...extra },
    cause,
  });
}

/** Parses a JSON Schema definition. */
export function parseJsonDefinition(definition: string): unknown {
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
  return schema;
}

function sourceOptions(src: SchemaSource): { formats: FormatMode; dialect: JsonDialect; baseUri: string | undefined } {
  const formats = src.formats ?? "assert";
  if (formats !== "assert" && formats !== "annotate") {
    throw new SchemaError("SCHEMA_INVALID", `formats must be "assert" or "annotate", got ${JSON.stringify(formats)}`, {
      details: { path: "formats", message: "must be assert or annotate" },
    });
  }
  const dialect = src.dialect ?? DEFAULT_JSON_DIALECT;
  if (!(JSON_DIALECTS as readonly string[]).includes(dialect)) {
    throw new SchemaError("SCHEMA_INVALID", `dialect must be one of ${JSON_DIALECTS.join(", ")}, got ${JSON.stringify(dialect)}`, {
      details: { path: "dialect", message: "unknown dialect", supported: JSON_DIALECTS },
    });
  }
  const baseUri = src.baseUri;
  if (
    baseUri !== undefined &&
    (typeof baseUri !== "string" || !hasScheme(baseUri) || baseUri.includes("#") || baseUri.startsWith("junction:"))
  ) {
    throw new SchemaError("SCHEMA_INVALID", `baseUri must be an absolute URI without fragment, got ${JSON.stringify(baseUri)}`, {
      details: { path: "baseUri", message: "must be an absolute URI without fragment" },
    });
  }
  return { formats, dialect, baseUri };
}

/** The documents of the references, by every URI they are known by. */
function referenceDocuments(
  refs: readonly ReferencedSchema[],
  uriOverrides?: ReadonlyMap<string, string | undefined>,
): Map<string, JsonDocument> {
  const docs = new Map<string, JsonDocument>();
  const owner = new Map<string, string>();
  const claim = (uri: string, doc: JsonDocument, who: string): void => {
    const prev = owner.get(uri);
    if (prev !== undefined && prev !== who) {
      throw new SchemaError("SCHEMA_INVALID", `the referenced schemas ${prev} and ${who} are both known as ${uri}`, {
        details: { path: "", message: "ambiguous reference", uri, references: [prev, who] },
      });
    }
    owner.set(uri, who);
    docs.set(uri, doc);
  };
  for (const ref of refs) {
    const who = `${ref.name}@${ref.version}`;
    const p = ref.prepared;
    if (p === null || typeof p !== "object" || p.type !== "json" || typeof p.definition !== "string") {
      throw new SchemaError("SCHEMA_INVALID", `the referenced schema ${who} is not a JSON Schema`, {
        details: { path: "", message: "a JSON Schema can only reference JSON Schemas", reference: who },
      });
    }
    let schema: unknown;
    try {
      schema = parseJsonDefinition(p.definition);
    } catch (err) {
      throw new SchemaError("SCHEMA_INVALID", `the referenced schema ${who} cannot be read`, {
        details: { path: "", message: "unreadable reference", reference: who },
        cause: err,
      });
    }
    const doc: JsonDocument = { schema, dialect: p.dialect ?? DEFAULT_JSON_DIALECT, baseUri: p.baseUri };
    claim(referenceUri(ref.name, ref.version), doc, who);
    if (p.baseUri !== undefined) claim(p.baseUri, doc, who);
    const alias = uriOverrides?.has(who) === true ? uriOverrides.get(who) : ref.uri;
    if (alias !== undefined) claim(alias, doc, who);
    for (const id of p.ids ?? []) claim(id, doc, who);
  }
  return docs;
}

function compileFailure(err: unknown, self: string = SELF_URI): SchemaError {
  if (err instanceof SchemaError) return err;
  if (err instanceof CompileError) {
    const path = err.uri === self ? err.pointer : `${err.uri}#${err.pointer}`;
    return invalid(path, err.message, { ...(err.keyword === undefined ? {} : { keyword: err.keyword }), ...err.extra }, err);
  }
  if (err instanceof RangeError) return invalid("", "the schema's references recurse without end", { keyword: "$ref" }, err);
  return invalid("", err instanceof Error ? err.message : String(err), {}, err);
}

/** The dialect a document declares with `$schema` (standard ones), `custom` for another URI. */
function declaredDialect(schema: unknown, fallback: JsonDialect): { dialect: JsonDialect; metaUri: string; custom: boolean } {
  const o = asObject(schema);
  if (o === undefined || o.$schema === undefined) return { dialect: fallback, metaUri: DIALECT_URIS[fallback], custom: false };
  if (typeof o.$schema !== "string") throw invalid("/$schema", "$schema must be a string");
  const std = standardDialect(o.$schema);
  if (std !== undefined) return { dialect: std, metaUri: DIALECT_URIS[std], custom: false };
  return { dialect: fallback, metaUri: o.$schema, custom: true };
}

/** What the definition refers to outside itself (for the registry to resolve before preparing). */
export function jsonReferenceRequests(src: SchemaSource): ReferenceRequest[] {
  const { dialect, baseUri } = sourceOptions(src);
  return referenceRequestsOf(parseJsonDefinition(src.definition), dialect, baseUri);
}

function referenceRequestsOf(schema: unknown, dialect: JsonDialect, baseUri: string | undefined): ReferenceRequest[] {
  let set;
  const self = baseUri ?? SELF_URI;
  try {
    set = validatorSet({ schema, dialect, formats: "annotate", documents: new Map(), maxIssues: MAX_ISSUES, lenientMeta: true, baseUri });
  } catch (err) {
    throw compileFailure(err, self);
  }
  return requestsOf(set.externalReferences(self).filter((r) => r.uri !== self));
}

function requestsOf(found: { uri: string; pointer: string }[]): ReferenceRequest[] {
  const out: ReferenceRequest[] = [];
  const seen = new Set<string>();
  for (const { uri, pointer } of found) {
    if (seen.has(uri)) continue;
    seen.add(uri);
    if (uri.startsWith("junction:")) {
      const m = JUNCTION_REF.exec(uri);
      if (m === null) {
        throw invalid(pointer, `${JSON.stringify(uri)} is not a schema reference; write junction:<name>@<version>`, { missingRef: uri });
      }
      out.push({ kind: "version", name: m[1] as string, version: Number(m[2]) });
    } else out.push({ kind: "uri", uri });
  }
  return out;
}

function metaSchemaError(issues: SchemaIssue[]): SchemaError {
  // Combinator errors ("must match a schema in anyOf") restate a more precise error: report that one.
  const best =
    [...issues]
      .filter((i) => !["anyOf", "oneOf", "if", "not"].includes(i.keyword ?? ""))
      .sort((a, b) => b.path.length - a.path.length)[0] ?? issues[0];
  return invalid(best?.path ?? "", best?.message ?? "invalid schema", { issues });
}

// Keywords that apply their subschemas to the same instance: a cycle through only these never
// terminates (JSON Schema forbids such schemas). Descending into properties/items consumes input.
const IN_PLACE_ARRAYS = ["allOf", "anyOf", "oneOf"] as const;
const IN_PLACE_SINGLE = ["not", "if", "then", "else"] as const;

function checkRefCycles(schema: unknown): void {
  const nodes = collectSchemaNodes(schema);
  const byPointer = new Map(nodes.map((n) => [n.pointer, n.schema]));
  const edges = new Map<string, { to: string; via: string }[]>();
  for (const { pointer, schema: s } of nodes) {
    const obj = asObject(s);
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

function fingerprintOf(schema: unknown, formats: FormatMode, dialect: JsonDialect, declared: boolean, baseUri: string | undefined): string {
  // Options at their defaults leave the text alone, so fingerprints of earlier versions still match.
  let text = canonicalJson(schema);
  if (baseUri !== undefined) text += `\nbaseUri=${baseUri}`;
  if (formats !== "assert") text += `\nformats=${formats}`;
  if (!declared && dialect !== DEFAULT_JSON_DIALECT) text += `\ndialect=${dialect}`;
  return fingerprint("json", text);
}

/** The references a document uses (directly and through its references), checked against what was supplied. */
function usedReferences(
  requests: ReferenceRequest[],
  supplied: readonly ReferencedSchema[],
  limits: Readonly<Required<SchemaLimits>>,
): { used: ReferencedSchema[]; recorded: SchemaReference[] } {
  const byKey = new Map(supplied.map((r) => [`${r.name}@${r.version}`, r]));
  const byUri = new Map<string, ReferencedSchema>();
  for (const r of supplied) {
    if (r.uri !== undefined) byUri.set(r.uri, r);
    for (const id of r.prepared.ids ?? []) if (!byUri.has(id)) byUri.set(id, r);
  }
  const recorded = new Map<string, SchemaReference>();
  const used = new Map<string, ReferencedSchema>();
  const add = (r: ReferencedSchema, uri: string | undefined, via: string | undefined): void => {
    const key = `${r.name}@${r.version}`;
    if (used.has(key)) return;
    used.set(key, r);
    recorded.set(key, { name: r.name, version: r.version, ...(uri === undefined ? {} : { uri }) });
    for (const t of r.prepared.references ?? []) {
      const next = byKey.get(`${t.name}@${t.version}`);
      if (next === undefined) {
        throw new SchemaError("SCHEMA_INVALID", `the referenced schema ${t.name}@${t.version} (used by ${key}) was not supplied`, {
          details: { path: "", message: "missing reference", missing: { name: t.name, version: t.version }, via: via ?? key },
        });
      }
      add(next, t.uri, key);
    }
  };
  for (const req of requests) {
    if (req.kind === "version") {
      const r = byKey.get(`${req.name}@${req.version}`);
      if (r !== undefined) add(r, undefined, undefined);
    } else {
      const r = byUri.get(req.uri);
      if (r !== undefined) add(r, (r.prepared.ids ?? []).includes(req.uri) ? undefined : req.uri, undefined);
    }
  }
  if (used.size > limits.maxReferences) {
    throw tooComplex("maxReferences", limits.maxReferences, used.size, "the number of referenced schema versions");
  }
  const recordedList = [...recorded.values()].sort((a, b) => (a.name === b.name ? a.version - b.version : a.name < b.name ? -1 : 1));
  return { used: [...used.values()], recorded: recordedList };
}

/** Validates a JSON Schema definition for registration. */
export function prepareJsonSchema(
  src: SchemaSource,
  references: readonly ReferencedSchema[],
  limits: Readonly<Required<SchemaLimits>>,
): PreparedSchema {
  assertDefinitionSize(src.definition, limits);
  const schema = parseJsonDefinition(src.definition);
  const { formats, dialect: fallback, baseUri } = sourceOptions(src);
  const self = baseUri ?? SELF_URI;
  checkJsonLimits(schema, limits);
  const requests = referenceRequestsOf(schema, fallback, baseUri);
  const { used, recorded } = usedReferences(requests, references, limits);
  const recordedUris = new Map(recorded.map((r) => [`${r.name}@${r.version}`, r.uri]));
  const documents = referenceDocuments(used, recordedUris);
  const { dialect, metaUri, custom } = declaredDialect(schema, fallback);
  if (custom && !documents.has(metaUri.split("#")[0] as string)) {
    throw invalid(
      "/$schema",
      `unsupported $schema ${JSON.stringify(metaUri)}; use a draft (${Object.values(DIALECT_URIS).join(", ")}) or a registered meta-schema`,
      {
        supported: Object.values(DIALECT_URIS),
        missingRef: metaUri,
      },
    );
  }
  for (const req of requests) {
    const uri = req.kind === "version" ? referenceUri(req.name, req.version) : req.uri;
    if (!documents.has(uri)) {
      throw invalid("", `the schema refers to ${uri}, which was not supplied as a reference`, { missingRef: uri, keyword: "$ref" });
    }
  }
  // The schema must be valid against its meta-schema (Junction's validator, formats annotate).
  let set;
  try {
    set = validatorSet({ schema, dialect: fallback, formats: "annotate", documents, maxIssues: MAX_ISSUES, baseUri });
    const meta = set.validator(metaUri, MAX_ISSUES);
    const issues = meta(schema, true);
    if (issues.length > 0) throw metaSchemaError(issues);
  } catch (err) {
    throw compileFailure(err, self);
  }
  checkRefCycles(schema);
  let built: { validate: JsonValidator; engine: JsonEngineKind };
  try {
    built = buildJsonValidator({ schema, dialect: fallback, formats, documents, maxIssues: MAX_ISSUES, baseUri }, true, true);
  } catch (err) {
    throw compileFailure(err, self);
  }
  for (const probe of PROBES) {
    try {
      built.validate(probe, true);
    } catch (err) {
      throw invalid("", "the schema recurses without end while validating", { keyword: "$ref" }, err);
    }
  }
  const warnings = jsonWarnings(schema, dialect, formats, custom);
  const ids = set.declaredIds(self).filter((u) => !u.startsWith("junction:"));
  if (baseUri !== undefined && !ids.includes(baseUri)) ids.unshift(baseUri);
  const declared = asObject(schema)?.$schema !== undefined;
  return {
    type: "json",
    definition: src.definition,
    fingerprint: fingerprintOf(schema, formats, dialect, declared, baseUri),
    formats,
    dialect,
    ...(baseUri === undefined ? {} : { baseUri }),
    ...(recorded.length > 0 ? { references: recorded } : {}),
    ...(ids.length > 0 ? { ids } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Which validator a prepared JSON Schema runs on (for tests and diagnostics). */
export function jsonEngineOf(prepared: PreparedSchema, opts: LoadOptions = {}): JsonEngineKind {
  return compileJson(prepared, opts).engine;
}

function compileJson(prepared: PreparedSchema, opts: LoadOptions, preferAjv = true): { validate: JsonValidator; engine: JsonEngineKind } {
  const schema = parseJsonDefinition(prepared.definition);
  const supplied = opts.references ?? [];
  const byKey = new Map(supplied.map((r) => [`${r.name}@${r.version}`, r]));
  const missing = (prepared.references ?? []).filter((r) => !byKey.has(`${r.name}@${r.version}`));
  if (missing.length > 0) {
    throw new SchemaError(
      "SCHEMA_INVALID",
      `the schema needs ${missing.map((r) => `${r.name}@${r.version}`).join(", ")}; pass ${missing.length === 1 ? "it" : "them"} in references`,
      { details: { path: "", message: "missing references", missing } },
    );
  }
  const used = (prepared.references ?? []).map((r) => byKey.get(`${r.name}@${r.version}`) as ReferencedSchema);
  const uris = new Map((prepared.references ?? []).map((r) => [`${r.name}@${r.version}`, r.uri]));
  const documents = referenceDocuments(used, uris);
  try {
    return buildJsonValidator(
      {
        schema,
        dialect: prepared.dialect ?? DEFAULT_JSON_DIALECT,
        formats: prepared.formats ?? "assert",
        documents,
        maxIssues: MAX_ISSUES,
        baseUri: prepared.baseUri,
      },
      preferAjv,
    );
  } catch (err) {
    throw compileFailure(err, prepared.baseUri ?? SELF_URI);
  }
}

/** Compiles a prepared JSON Schema. `preferAjv: false` forces Junction's own validator. */
export function loadJsonSchema(prepared: PreparedSchema, opts: LoadOptions = {}, preferAjv = true): CompiledSchema {
  const { validate: validator } = compileJson(prepared, opts, preferAjv);

  const check = (value: unknown): SchemaIssue[] => {
    try {
      return validator(value, true);
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
    validateAsync: validateAsyncWith(validate, prepared, opts),
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
