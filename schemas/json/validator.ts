// Junction's own JSON Schema validator: drafts 04, 06, 07, 2019-09 and 2020-12, with
// vocabularies, embedded resources, anchors, $recursiveRef/$dynamicRef and unevaluated*.
// It is the reference for every schema; ajv (compiled code, faster) is used instead only for
// the schemas where both are known to agree (see ./engine.ts).
import { pointerSegment } from "../common.js";
import type { SchemaIssue } from "../types.js";
import {
  builtInDocuments,
  customVocabulary,
  idKeyword,
  refOverridesSiblings,
  standardDialect,
  standardVocabulary,
  type JsonDialect,
  type Vocabulary,
} from "./dialect.js";
import { firstDuplicate, jsonDeepEqual, valueSet } from "./equal.js";
import { formatCheck } from "./formats.js";
import { compileRe2, PatternError } from "./regexp.js";
import { pointerSegments, resolveUri, splitFragment } from "./uri.js";

/** A schema document the validator can reach by URI. */
export interface JsonDocument {
  /** The document. */
  readonly schema: unknown;
  /** Its dialect when it has no `$schema`. */
  readonly dialect: JsonDialect;
  /** Its base URI when it has no `$id` (where it is published); else the URI it is looked up by. */
  readonly baseUri?: string | undefined;
}

/** A schema that cannot be compiled; `uri` and `pointer` say where. */
export class CompileError extends Error {
  readonly pointer: string;
  readonly uri: string;
  readonly keyword: string | undefined;
  readonly extra: Record<string, unknown>;
  constructor(uri: string, pointer: string, message: string, keyword?: string, extra: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "CompileError";
    this.uri = uri;
    this.pointer = pointer;
    this.keyword = keyword;
    this.extra = extra;
  }
}

/** Options of {@link JsonValidatorSet}. */
export interface ValidatorSetOptions {
  /** `assert`: known formats are checked; `annotate`: `format` is an annotation only. */
  formats: "assert" | "annotate";
  /** Documents reachable by URI (without fragment) besides the built-in meta-schemas. */
  documents: ReadonlyMap<string, JsonDocument>;
  /** Treat an unknown custom `$schema` as the inherited dialect instead of failing (to list references). */
  lenientMeta?: boolean;
}

/** A schema resource: a document or a subschema with its own `$id`. */
interface Resource {
  readonly uri: string;
  readonly vocab: Vocabulary;
  readonly dynamicAnchors: Map<string, object>;
  recursiveAnchor: boolean;
}

interface NodeInfo {
  readonly base: string;
  readonly resource: Resource;
  readonly docUri: string;
  readonly pointer: string;
}

/** What a schema evaluation marked as evaluated (for unevaluatedProperties/Items). */
interface Ev {
  props: Set<string> | undefined;
  allProps: boolean;
  items: number;
  allItems: boolean;
  itemSet: Set<number> | undefined;
}

const newEv = (): Ev => ({ props: undefined, allProps: false, items: 0, allItems: false, itemSet: undefined });

function mergeEv(into: Ev, from: Ev): void {
  if (from.allProps) into.allProps = true;
  else if (from.props !== undefined) {
    into.props ??= new Set();
    for (const p of from.props) into.props.add(p);
  }
  if (from.allItems) into.allItems = true;
  if (from.items > into.items) into.items = from.items;
  if (from.itemSet !== undefined) {
    into.itemSet ??= new Set();
    for (const i of from.itemSet) into.itemSet.add(i);
  }
}

function markProp(ev: Ev | undefined, name: string): void {
  if (ev === undefined || ev.allProps) return;
  (ev.props ??= new Set()).add(name);
}

interface State {
  readonly collect: boolean;
  /** Whether annotations are tracked (some schema uses unevaluatedProperties/Items). */
  readonly annotate: boolean;
  readonly issues: SchemaIssue[];
  readonly scope: Resource[];
  readonly maxIssues: number;
}

type Check = (inst: unknown, st: State, path: string, ev: Ev | undefined) => boolean;

/** A compiled schema: a boolean schema or an object schema's keyword checks. */
interface Node {
  readonly resource: Resource | undefined;
  checks: Check[];
  /** The schema value (object or boolean). */
  readonly schema: unknown;
  readonly info: NodeInfo | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function issue(st: State, path: string, keyword: string, message: string): false {
  if (st.collect && st.issues.length < st.maxIssues) st.issues.push({ path, message, keyword });
  return false;
}

const child = (st: State, path: string, seg: string | number): string => (st.collect ? `${path}/${pointerSegment(seg)}` : path);

function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** `multipleOf` with a tolerance for binary floating point (0.0075 is a multiple of 0.0001). */
export function isMultipleOf(x: number, m: number): boolean {
  if (Number.isInteger(x) && Number.isInteger(m) && Number.isSafeInteger(x)) return x % m === 0;
  const q = x / m;
  if (!Number.isFinite(q)) {
    // The quotient overflows: an integer is still a multiple of 1/n.
    const inverse = 1 / m;
    return (Number.isInteger(x) && Number.isInteger(inverse)) || x % m === 0;
  }
  if (Number.isInteger(q)) return true;
  return Math.abs(q - Math.round(q)) <= Math.abs(q) * 1e-12;
}

const JSON_TYPE_CHECK: Record<string, (v: unknown) => boolean> = {
  null: (v) => v === null,
  boolean: (v) => typeof v === "boolean",
  object: isObject,
  array: Array.isArray,
  number: (v) => typeof v === "number",
  integer: (v) => typeof v === "number" && Number.isInteger(v),
  string: (v) => typeof v === "string",
};

/** Subschema-bearing keywords of a dialect, to find `$id`s and anchors. */
function subschemaKeys(d: JsonDialect): { single: string[]; arrays: string[]; maps: string[] } {
  const single = ["additionalItems", "additionalProperties", "not"];
  const arrays = ["allOf", "anyOf", "oneOf"];
  const maps = ["properties", "patternProperties", "definitions", "dependencies"];
  if (d !== "draft-04") single.push("contains", "propertyNames");
  if (d !== "draft-04" && d !== "draft-06") single.push("if", "then", "else");
  if (d === "2019-09" || d === "2020-12") {
    single.push("unevaluatedItems", "unevaluatedProperties", "contentSchema");
    maps.push("$defs", "dependentSchemas");
  }
  if (d === "2020-12") arrays.push("prefixItems");
  single.push("items");
  if (d !== "2020-12") arrays.push("items");
  return { single, arrays, maps };
}

/**
 * A set of schema documents, indexed by URI, from which validators are compiled. One set per
 * loaded schema version: nothing is shared between sets.
 */
export class JsonValidatorSet {
  readonly #opts: ValidatorSetOptions;
  readonly #resources = new Map<string, { root: unknown; resource: Resource; info: NodeInfo }>();
  readonly #anchors = new Map<string, { schema: object; info: NodeInfo }>();
  readonly #info = new Map<object, NodeInfo>();
  readonly #nodes = new Map<object, Node>();
  readonly #loaded = new Set<string>();
  readonly #vocabCache = new Map<string, Vocabulary>();
  #usesUnevaluated = false;

  constructor(opts: ValidatorSetOptions) {
    this.#opts = opts;
  }

  /** Whether any compiled schema uses unevaluatedProperties/unevaluatedItems (annotations are then tracked). */
  get annotates(): boolean {
    return this.#usesUnevaluated;
  }

  /** Indexes a document under its retrieval URI (and any `$id` it declares). */
  addDocument(uri: string, doc: JsonDocument): void {
    if (this.#loaded.has(uri)) return;
    this.#loaded.add(uri);
    const known = isObject(doc.schema) ? this.#info.get(doc.schema) : undefined;
    if (known !== undefined) {
      // The same document under another URI (a reference known by its name and by an alias).
      if (!this.#resources.has(uri)) this.#resources.set(uri, { root: doc.schema, resource: known.resource, info: known });
      return;
    }
    const base = doc.baseUri ?? uri;
    const vocab = this.#vocabOf(doc.schema, standardVocabulary(doc.dialect), base, "");
    this.#index(doc.schema, base, undefined, vocab, base, "", true);
    // A document is also found under the URI it was retrieved by (once its own $ids are known).
    const info = isObject(doc.schema) ? this.#info.get(doc.schema) : undefined;
    if (info !== undefined && !this.#resources.has(uri)) this.#resources.set(uri, { root: doc.schema, resource: info.resource, info });
  }

  /**
   * The absolute URIs (without fragment) that schemas of the document `docUri` refer to and that
   * no indexed resource or built-in meta-schema provides: `$ref`, `$dynamicRef`,
   * `$recursiveRef` targets and a custom `$schema`. Each with the JSON Pointer of its keyword.
   */
  externalReferences(docUri: string): { uri: string; pointer: string }[] {
    const out: { uri: string; pointer: string }[] = [];
    for (const [schema, info] of this.#info) {
      if (info.docUri !== docUri) continue;
      const s = schema as Record<string, unknown>;
      for (const key of ["$ref", "$dynamicRef", "$recursiveRef", "$schema"] as const) {
        const ref = s[key];
        if (typeof ref !== "string") continue;
        if (key === "$schema" && standardDialect(ref) !== undefined) continue;
        const [uri] = splitFragment(resolveUri(info.base, ref));
        if (this.#resources.has(uri) || builtInDocuments().has(uri) || builtInDocuments().has(alternateScheme(uri))) continue;
        out.push({ uri, pointer: `${info.pointer}/${key}` });
      }
    }
    return out;
  }

  /** The absolute URIs of the schema resources the document `docUri` declares with `$id`. */
  declaredIds(docUri: string): string[] {
    const out = new Set<string>();
    for (const [uri, r] of this.#resources) {
      if (r.info.docUri === docUri && uri !== docUri && r.resource.uri === uri) out.add(uri);
    }
    return [...out].sort();
  }

  #document(uri: string): JsonDocument | undefined {
    const own = this.#opts.documents.get(uri);
    if (own !== undefined) return own;
    const builtin = builtInDocuments().get(uri) ?? builtInDocuments().get(alternateScheme(uri));
    if (builtin === undefined) return undefined;
    const declared = isObject(builtin) && typeof builtin.$schema === "string" ? standardDialect(builtin.$schema) : undefined;
    return { schema: builtin, dialect: declared ?? "draft-07" };
  }

  /** The vocabulary a resource root uses: from its `$schema`, else the one it inherits. */
  #vocabOf(schema: unknown, inherited: Vocabulary, uri: string, pointer: string, seen: Set<string> = new Set()): Vocabulary {
    if (!isObject(schema) || typeof schema.$schema !== "string") return inherited;
    const declared = schema.$schema;
    const std = standardDialect(declared);
    if (std !== undefined) return standardVocabulary(std);
    const metaUri = splitFragment(resolveUri(uri, declared))[0];
    const cached = this.#vocabCache.get(metaUri);
    if (cached !== undefined) return cached;
    const meta = this.#document(metaUri);
    if (meta === undefined && this.#opts.lenientMeta === true) return inherited;
    if (meta === undefined || seen.has(metaUri)) {
      throw new CompileError(uri, `${pointer}/$schema`, `unknown $schema ${JSON.stringify(declared)}`, "$schema", {
        missingRef: metaUri,
      });
    }
    seen.add(metaUri);
    const base = this.#vocabOf(meta.schema, standardVocabulary(meta.dialect), metaUri, "", seen);
    let vocab = base;
    const declaredVocab = isObject(meta.schema) ? meta.schema.$vocabulary : undefined;
    if ((base.dialect === "2019-09" || base.dialect === "2020-12") && isObject(declaredVocab)) {
      const custom = customVocabulary(base.dialect, declaredVocab);
      if ("unknownRequired" in custom) {
        throw new CompileError(
          uri,
          `${pointer}/$schema`,
          `the meta-schema requires the unknown vocabulary ${custom.unknownRequired}`,
          "$schema",
          {
            vocabulary: custom.unknownRequired,
          },
        );
      }
      vocab = custom;
    }
    this.#vocabCache.set(metaUri, vocab);
    // The meta-schema is a document like any other: $ref may reach it.
    this.addDocument(metaUri, meta);
    return vocab;
  }

  #index(
    value: unknown,
    base: string,
    resource: Resource | undefined,
    vocab: Vocabulary,
    docUri: string,
    pointer: string,
    isDocRoot: boolean,
  ): void {
    if (!isObject(value)) {
      if (isDocRoot && typeof value === "boolean" && !this.#resources.has(docUri)) {
        const resource: Resource = { uri: docUri, vocab, dynamicAnchors: new Map(), recursiveAnchor: false };
        this.#resources.set(docUri, { root: value, resource, info: { base, resource, docUri, pointer } });
      }
      return;
    }
    if (this.#info.has(value)) return;
    const d = vocab.dialect;
    let v = vocab;
    let here = base;
    let res = resource;
    const idKey = idKeyword(d);
    const idValue = value[idKey];
    const ignoresSiblings = refOverridesSiblings(d) && typeof value.$ref === "string";
    let newResourceUri: string | undefined;
    if (typeof idValue === "string" && !ignoresSiblings) {
      if (refOverridesSiblings(d) && idValue.startsWith("#")) {
        // draft-04..07: "$id": "#name" is a plain-name fragment, not a new base.
        this.#addAnchor(resolveUri(base, idValue), value, { base, resource: res ?? this.#fallbackResource(base, v), docUri, pointer });
      } else {
        const resolved = resolveUri(base, idValue);
        const [abs, frag] = splitFragment(resolved);
        newResourceUri = abs;
        here = abs;
        if (frag !== "" && refOverridesSiblings(d)) this.#pendingAnchor = { uri: resolved, schema: value };
      }
    }
    if (isDocRoot || newResourceUri !== undefined) {
      v = isDocRoot ? vocab : this.#vocabOf(value, vocab, here, pointer);
      res = { uri: newResourceUri ?? splitFragment(base)[0], vocab: v, dynamicAnchors: new Map(), recursiveAnchor: false };
      const info: NodeInfo = { base: here, resource: res, docUri, pointer };
      const existing = this.#resources.get(res.uri);
      if (existing !== undefined && existing.root !== value) {
        throw new CompileError(docUri, pointer, `two schema resources have the URI ${res.uri}`, idKey, { uri: res.uri });
      }
      this.#resources.set(res.uri, { root: value, resource: res, info });
      if (v.dialect === "2019-09" && value.$recursiveAnchor === true) res.recursiveAnchor = true;
    }
    const resourceHere = res as Resource;
    const info: NodeInfo = { base: here, resource: resourceHere, docUri, pointer };
    this.#info.set(value, info);
    if (this.#pendingAnchor !== undefined) {
      this.#addAnchor(this.#pendingAnchor.uri, this.#pendingAnchor.schema, info);
      this.#pendingAnchor = undefined;
    }
    const dv = v.dialect;
    if (dv === "2019-09" || dv === "2020-12") {
      if (typeof value.$anchor === "string") this.#addAnchor(`${resourceHere.uri}#${value.$anchor}`, value, info);
      if (dv === "2020-12" && typeof value.$dynamicAnchor === "string") {
        this.#addAnchor(`${resourceHere.uri}#${value.$dynamicAnchor}`, value, info, true);
        if (!resourceHere.dynamicAnchors.has(value.$dynamicAnchor)) resourceHere.dynamicAnchors.set(value.$dynamicAnchor, value);
      }
    }
    if (v.keywords.has("unevaluatedProperties") && "unevaluatedProperties" in value) this.#usesUnevaluated = true;
    if (v.keywords.has("unevaluatedItems") && "unevaluatedItems" in value) this.#usesUnevaluated = true;
    const keys = subschemaKeys(dv);
    for (const k of keys.single) {
      if (k in value && !Array.isArray(value[k])) this.#index(value[k], here, resourceHere, v, docUri, `${pointer}/${k}`, false);
    }
    for (const k of keys.arrays) {
      const arr = value[k];
      if (Array.isArray(arr)) arr.forEach((s, i) => this.#index(s, here, resourceHere, v, docUri, `${pointer}/${k}/${i}`, false));
    }
    for (const k of keys.maps) {
      const map = value[k];
      if (!isObject(map)) continue;
      for (const [name, s] of Object.entries(map)) {
        if (k === "dependencies" && Array.isArray(s)) continue;
        this.#index(s, here, resourceHere, v, docUri, `${pointer}/${pointerSegment(k)}/${pointerSegment(name)}`, false);
      }
    }
  }

  #pendingAnchor: { uri: string; schema: object } | undefined;

  #fallbackResource(base: string, vocab: Vocabulary): Resource {
    return { uri: splitFragment(base)[0], vocab, dynamicAnchors: new Map(), recursiveAnchor: false };
  }

  #addAnchor(uri: string, schema: object, info: NodeInfo, dynamic = false): void {
    const existing = this.#anchors.get(uri);
    if (existing !== undefined && existing.schema !== schema) {
      throw new CompileError(info.docUri, info.pointer, `the anchor ${uri} is defined twice`, dynamic ? "$dynamicAnchor" : "$anchor", {
        uri,
      });
    }
    this.#anchors.set(uri, { schema, info });
  }

  /** Finds a resource by absolute URI (without fragment), loading a known document on demand. */
  #resource(uri: string): { root: unknown; resource: Resource; info: NodeInfo } | undefined {
    let r = this.#resources.get(uri);
    if (r !== undefined) return r;
    const doc = this.#document(uri);
    if (doc === undefined) return undefined;
    this.addDocument(uri, doc);
    r = this.#resources.get(uri);
    return r;
  }

  /**
   * Resolves a reference from a schema with the given base. Returns the target schema and its
   * info, or throws CompileError.
   */
  #resolve(ref: string, from: NodeInfo, keyword: string): { schema: unknown; info: NodeInfo | undefined; fragment: string } {
    const target = resolveUri(from.base, ref);
    const [uri, fragment] = splitFragment(target);
    const fail = (why: string): never => {
      throw new CompileError(
        from.docUri,
        `${from.pointer}/${keyword}`,
        `cannot resolve ${keyword} ${JSON.stringify(ref)}: ${why}`,
        keyword,
        {
          missingRef: target,
        },
      );
    };
    const segments = pointerSegments(fragment);
    if (segments === undefined) {
      // A plain-name fragment: an anchor.
      const r = this.#resource(uri);
      const a = this.#anchors.get(target) ?? (r === undefined ? undefined : this.#anchors.get(`${r.resource.uri}#${fragment}`));
      if (a === undefined) return fail(`no anchor ${JSON.stringify(fragment)} in ${uri}`);
      return { schema: a.schema, info: a.info, fragment };
    }
    const res = this.#resource(uri);
    if (res === undefined) return fail(`no schema has the URI ${uri}`);
    let cur: unknown = res.root;
    let info: NodeInfo | undefined = res.info;
    for (const seg of segments) {
      if (Array.isArray(cur)) {
        if (!/^(0|[1-9]\d*)$/.test(seg)) return fail(`the pointer has no ${JSON.stringify(seg)}`);
        cur = cur[Number(seg)];
      } else if (isObject(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
      else return fail(`the pointer has no ${JSON.stringify(seg)}`);
      if (cur === undefined) return fail(`the pointer has no ${JSON.stringify(seg)}`);
      if (isObject(cur)) {
        const known = this.#info.get(cur);
        if (known !== undefined) info = known;
      }
    }
    if (isObject(cur) && !this.#info.has(cur) && info !== undefined) {
      // A location no keyword walk reached (inside an unknown keyword, say): index it now.
      const pointer = `${res.info.pointer}${segments.map((s) => `/${pointerSegment(s)}`).join("")}`;
      this.#index(cur, info.base, info.resource, info.resource.vocab, info.docUri, pointer, false);
      info = this.#info.get(cur);
    }
    if (!isObject(cur) && typeof cur !== "boolean") return fail("the target is not a schema");
    return { schema: cur, info: isObject(cur) ? this.#info.get(cur) : info, fragment };
  }

  /** Compiles the schema at a URI (a document URI, with an optional fragment). */
  compileUri(uri: string): Node {
    const [abs] = splitFragment(uri);
    const r = this.#resource(abs);
    if (r === undefined) throw new CompileError(uri, "", `no schema has the URI ${abs}`);
    const dummy: NodeInfo = { base: uri, resource: r.resource, docUri: r.info.docUri, pointer: "" };
    const t = this.#resolve(uri, dummy, "$ref");
    return this.#node(t.schema, t.info);
  }

  /** Compiles every schema reachable from `node` now, so unresolvable references fail early. */
  compileAll(root: Node): void {
    const stack: Node[] = [root];
    const seen = new Set<Node>();
    while (stack.length > 0) {
      const n = stack.pop() as Node;
      if (seen.has(n)) continue;
      seen.add(n);
      this.#ensure(n);
      for (const c of this.#children.get(n) ?? []) stack.push(c);
    }
  }

  readonly #children = new Map<Node, Node[]>();

  #node(schema: unknown, info: NodeInfo | undefined): Node {
    if (typeof schema === "boolean" || !isObject(schema)) {
      return { resource: info?.resource, checks: schema === false ? [FALSE_CHECK] : [], schema, info };
    }
    let n = this.#nodes.get(schema);
    if (n !== undefined) return n;
    const i = this.#info.get(schema) ?? info;
    n = { resource: i?.resource, checks: PENDING, schema, info: i };
    this.#nodes.set(schema, n);
    return n;
  }

  #ensure(n: Node): Check[] {
    if (n.checks !== PENDING) return n.checks;
    n.checks = [];
    const kids: Node[] = [];
    this.#children.set(n, kids);
    n.checks = this.#compileKeywords(n.schema as Record<string, unknown>, n.info as NodeInfo, kids);
    return n.checks;
  }

  /** Compiles a subschema and returns its evaluation function. */
  #sub(schema: unknown, parent: NodeInfo, keywordPath: string, kids: Node[]): Node {
    if (isObject(schema) && !this.#info.has(schema)) {
      this.#index(schema, parent.base, parent.resource, parent.resource.vocab, parent.docUri, `${parent.pointer}${keywordPath}`, false);
    }
    const info = isObject(schema) ? this.#info.get(schema) : parent;
    if (!isObject(schema) && typeof schema !== "boolean") {
      throw new CompileError(parent.docUri, `${parent.pointer}${keywordPath}`, "a subschema must be an object or a boolean", keywordPath);
    }
    const node = this.#node(schema, info);
    kids.push(node);
    return node;
  }

  #compileKeywords(s: Record<string, unknown>, info: NodeInfo, kids: Node[]): Check[] {
    const vocab = info.resource.vocab;
    const d = vocab.dialect;
    const has = (k: string): boolean => vocab.keywords.has(k) && k in s;
    const checks: Check[] = [];
    const late: Check[] = [];

    // References.
    if (typeof s.$ref === "string") {
      const t = this.#resolve(s.$ref, info, "$ref");
      const target = this.#node(t.schema, t.info);
      kids.push(target);
      checks.push((inst, st, path, ev) => evalInPlace(this, target, inst, st, path, ev));
      if (refOverridesSiblings(d)) return checks;
    }
    if (d === "2019-09" && typeof s.$recursiveRef === "string") {
      const t = this.#resolve(s.$recursiveRef, info, "$recursiveRef");
      const initial = this.#node(t.schema, t.info);
      kids.push(initial);
      const dynamic = isObject(t.schema) && t.schema.$recursiveAnchor === true;
      checks.push((inst, st, path, ev) => {
        let target = initial;
        if (dynamic) {
          for (const r of st.scope) {
            if (r.recursiveAnchor) {
              const root = this.#resources.get(r.uri);
              if (root !== undefined) target = this.#node(root.root, root.info);
              break;
            }
          }
        }
        return evalInPlace(this, target, inst, st, path, ev);
      });
    }
    if (d === "2020-12" && typeof s.$dynamicRef === "string") {
      const t = this.#resolve(s.$dynamicRef, info, "$dynamicRef");
      const initial = this.#node(t.schema, t.info);
      kids.push(initial);
      const name = t.fragment;
      // Dynamic only when the initial target is itself a $dynamicAnchor of that name.
      const dynamic = isObject(t.schema) && t.schema.$dynamicAnchor === name && pointerSegments(name) === undefined;
      checks.push((inst, st, path, ev) => {
        let target = initial;
        if (dynamic) {
          for (const r of st.scope) {
            const a = r.dynamicAnchors.get(name);
            if (a !== undefined) {
              target = this.#node(a, this.#info.get(a));
              break;
            }
          }
        }
        return evalInPlace(this, target, inst, st, path, ev);
      });
    }

    // Any type.
    if (has("type")) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      const fns = types.map((t) => JSON_TYPE_CHECK[t]).filter((f): f is (v: unknown) => boolean => f !== undefined);
      const label = types.join(",");
      checks.push((inst, st, path) => {
        for (const f of fns) if (f(inst)) return true;
        return issue(st, path, "type", `must be ${label}`);
      });
    }
    if (has("enum") && Array.isArray(s.enum)) {
      const member = valueSet(s.enum);
      checks.push((inst, st, path) => member(inst) || issue(st, path, "enum", "must be equal to one of the allowed values"));
    }
    if (has("const")) {
      const c = s.const;
      checks.push((inst, st, path) => jsonDeepEqual(inst, c) || issue(st, path, "const", "must be equal to constant"));
    }

    // Numbers.
    if (has("multipleOf") && typeof s.multipleOf === "number") {
      const m = s.multipleOf;
      checks.push(
        (inst, st, path) => typeof inst !== "number" || isMultipleOf(inst, m) || issue(st, path, "multipleOf", `must be multiple of ${m}`),
      );
    }
    const bound = (key: "maximum" | "minimum", exKey: "exclusiveMaximum" | "exclusiveMinimum", upper: boolean): void => {
      const limit = has(key) && typeof s[key] === "number" ? (s[key] as number) : undefined;
      if (d === "draft-04") {
        if (limit === undefined) return;
        const exclusive = s[exKey] === true;
        const op = upper ? (exclusive ? "<" : "<=") : exclusive ? ">" : ">=";
        checks.push((inst, st, path) => {
          if (typeof inst !== "number") return true;
          const ok = upper ? (exclusive ? inst < limit : inst <= limit) : exclusive ? inst > limit : inst >= limit;
          return ok || issue(st, path, exclusive ? exKey : key, `must be ${op} ${limit}`);
        });
        return;
      }
      if (limit !== undefined) {
        checks.push(
          (inst, st, path) =>
            typeof inst !== "number" ||
            (upper ? inst <= limit : inst >= limit) ||
            issue(st, path, key, `must be ${upper ? "<=" : ">="} ${limit}`),
        );
      }
      if (has(exKey) && typeof s[exKey] === "number") {
        const ex = s[exKey] as number;
        checks.push(
          (inst, st, path) =>
            typeof inst !== "number" || (upper ? inst < ex : inst > ex) || issue(st, path, exKey, `must be ${upper ? "<" : ">"} ${ex}`),
        );
      }
    };
    bound("maximum", "exclusiveMaximum", true);
    bound("minimum", "exclusiveMinimum", false);

    // Strings.
    if (has("maxLength") && typeof s.maxLength === "number") {
      const n = s.maxLength;
      checks.push(
        (inst, st, path) =>
          typeof inst !== "string" ||
          inst.length <= n ||
          codePointLength(inst) <= n ||
          issue(st, path, "maxLength", `must NOT have more than ${n} characters`),
      );
    }
    if (has("minLength") && typeof s.minLength === "number") {
      const n = s.minLength;
      checks.push(
        (inst, st, path) =>
          typeof inst !== "string" ||
          (inst.length >= n && codePointLength(inst) >= n) ||
          issue(st, path, "minLength", `must NOT have fewer than ${n} characters`),
      );
    }
    if (has("pattern") && typeof s.pattern === "string") {
      const pattern = s.pattern;
      const re = this.#regex(pattern, info, "/pattern");
      checks.push(
        (inst, st, path) => typeof inst !== "string" || re.test(inst) || issue(st, path, "pattern", `must match pattern "${pattern}"`),
      );
    }
    if (has("format") && typeof s.format === "string" && (this.#opts.formats === "assert" || vocab.formatAssertion)) {
      const name = s.format;
      const fc = formatCheck(name);
      if (fc !== undefined) {
        const check = fc.check as (v: unknown) => boolean;
        checks.push((inst, st, path) => typeof inst !== fc.type || check(inst) || issue(st, path, "format", `must match format "${name}"`));
      }
    }

    // Arrays.
    this.#compileArray(s, info, has, checks, late, kids);
    // Objects.
    this.#compileObject(s, info, has, checks, late, kids);

    // In-place applicators.
    for (const key of ["allOf", "anyOf", "oneOf"] as const) {
      if (!has(key) || !Array.isArray(s[key])) continue;
      const subs = (s[key] as unknown[]).map((x, i) => this.#sub(x, info, `/${key}/${i}`, kids));
      if (key === "allOf") {
        checks.push((inst, st, path, ev) => {
          let ok = true;
          for (const n of subs) {
            if (!evalInPlace(this, n, inst, st, path, ev)) {
              ok = false;
              if (!st.collect) return false;
            }
          }
          return ok;
        });
      } else if (key === "anyOf") {
        checks.push((inst, st, path, ev) => {
          const mark = st.issues.length;
          let ok = false;
          for (const n of subs) {
            if (evalInPlace(this, n, inst, st, path, ev)) {
              ok = true;
              if (ev === undefined) break;
            }
          }
          if (ok) {
            st.issues.length = mark;
            return true;
          }
          return issue(st, path, "anyOf", "must match a schema in anyOf");
        });
      } else {
        checks.push((inst, st, path, ev) => {
          const mark = st.issues.length;
          let count = 0;
          let passing: Ev | undefined;
          for (const n of subs) {
            const cev = ev === undefined ? undefined : newEv();
            if (evalNode(this, n, inst, st, path, cev)) {
              count++;
              passing = cev;
              if (count > 1 && ev === undefined && !st.collect) break;
            }
          }
          if (count === 1) {
            st.issues.length = mark;
            if (ev !== undefined && passing !== undefined) mergeEv(ev, passing);
            return true;
          }
          if (count > 1) st.issues.length = mark;
          return issue(st, path, "oneOf", "must match exactly one schema in oneOf");
        });
      }
    }
    if (has("not")) {
      const n = this.#sub(s.not, info, "/not", kids);
      checks.push((inst, st, path) => {
        const mark = st.issues.length;
        const inner = evalNode(this, n, inst, { ...st, collect: false }, path, undefined);
        st.issues.length = mark;
        return !inner || issue(st, path, "not", "must NOT be valid");
      });
    }
    if (has("if")) {
      const cond = this.#sub(s.if, info, "/if", kids);
      const then = has("then") ? this.#sub(s.then, info, "/then", kids) : undefined;
      const els = has("else") ? this.#sub(s.else, info, "/else", kids) : undefined;
      checks.push((inst, st, path, ev) => {
        const cev = ev === undefined ? undefined : newEv();
        const mark = st.issues.length;
        const ok = evalNode(this, cond, inst, { ...st, collect: false }, path, cev);
        st.issues.length = mark;
        if (ok && ev !== undefined && cev !== undefined) mergeEv(ev, cev);
        const branch = ok ? then : els;
        if (branch === undefined) return true;
        return evalInPlace(this, branch, inst, st, path, ev) || issue(st, path, "if", `must match "${ok ? "then" : "else"}" schema`);
      });
    } else {
      // A lone then/else does nothing; still compile it so its references are checked.
      if (has("then")) this.#sub(s.then, info, "/then", kids);
      if (has("else")) this.#sub(s.else, info, "/else", kids);
    }
    if (d === "2019-09" || d === "2020-12") {
      if (typeof s.contentSchema !== "undefined" && (isObject(s.contentSchema) || typeof s.contentSchema === "boolean")) {
        this.#sub(s.contentSchema, info, "/contentSchema", kids);
      }
    }
    return [...checks, ...late];
  }

  #regex(pattern: string, info: NodeInfo, where: string): { test: (s: string) => boolean } {
    try {
      const re = compileRe2(pattern);
      return { test: (s: string) => re.test(s) };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new CompileError(
        info.docUri,
        `${info.pointer}${where}`,
        `pattern ${JSON.stringify(pattern)}: ${reason}`,
        where.split("/")[1],
        {
          pattern,
          ...(err instanceof PatternError ? { reason: err.kind } : {}),
        },
        err,
      );
    }
  }

  #compileArray(
    s: Record<string, unknown>,
    info: NodeInfo,
    has: (k: string) => boolean,
    checks: Check[],
    late: Check[],
    kids: Node[],
  ): void {
    const d = info.resource.vocab.dialect;
    let prefix: Node[] = [];
    let rest: Node | undefined;
    let restKey = "items";
    if (d === "2020-12") {
      if (has("prefixItems") && Array.isArray(s.prefixItems)) {
        prefix = s.prefixItems.map((x, i) => this.#sub(x, info, `/prefixItems/${i}`, kids));
      }
      if (has("items") && !Array.isArray(s.items)) rest = this.#sub(s.items, info, "/items", kids);
    } else if (has("items")) {
      if (Array.isArray(s.items)) {
        prefix = s.items.map((x, i) => this.#sub(x, info, `/items/${i}`, kids));
        if (has("additionalItems")) {
          rest = this.#sub(s.additionalItems, info, "/additionalItems", kids);
          restKey = "additionalItems";
        }
      } else rest = this.#sub(s.items, info, "/items", kids);
    } else if (has("additionalItems")) {
      // Without an items array, additionalItems does nothing; compile it for its references.
      this.#sub(s.additionalItems, info, "/additionalItems", kids);
    }
    if (prefix.length > 0 || rest !== undefined) {
      const closed = rest !== undefined && rest.schema === false;
      checks.push((inst, st, path, ev) => {
        if (!Array.isArray(inst)) return true;
        let ok = true;
        const n = Math.min(prefix.length, inst.length);
        for (let i = 0; i < n; i++) {
          if (!evalNode(this, prefix[i] as Node, inst[i], st, child(st, path, i), undefined)) {
            ok = false;
            if (!st.collect) return false;
          }
        }
        if (closed) {
          if (inst.length > prefix.length) {
            ok = issue(st, path, restKey, `must NOT have more than ${prefix.length} items`);
            if (!st.collect) return false;
          }
        } else if (rest !== undefined) {
          for (let i = prefix.length; i < inst.length; i++) {
            if (!evalNode(this, rest, inst[i], st, child(st, path, i), undefined)) {
              ok = false;
              if (!st.collect) return false;
            }
          }
        }
        if (ev !== undefined) {
          if (rest !== undefined) ev.allItems = true;
          else if (n > ev.items) ev.items = n;
        }
        return ok;
      });
    }
    if (has("maxItems") && typeof s.maxItems === "number") {
      const n = s.maxItems;
      checks.push(
        (inst, st, path) => !Array.isArray(inst) || inst.length <= n || issue(st, path, "maxItems", `must NOT have more than ${n} items`),
      );
    }
    if (has("minItems") && typeof s.minItems === "number") {
      const n = s.minItems;
      checks.push(
        (inst, st, path) => !Array.isArray(inst) || inst.length >= n || issue(st, path, "minItems", `must NOT have fewer than ${n} items`),
      );
    }
    if (has("uniqueItems") && s.uniqueItems === true) {
      checks.push((inst, st, path) => {
        if (!Array.isArray(inst) || inst.length < 2) return true;
        const dup = firstDuplicate(inst);
        return (
          dup === undefined ||
          issue(st, path, "uniqueItems", `must NOT have duplicate items (items ## ${dup[1]} and ${dup[0]} are identical)`)
        );
      });
    }
    if (has("contains")) {
      const c = this.#sub(s.contains, info, "/contains", kids);
      const modern = d === "2019-09" || d === "2020-12";
      const min = modern && has("minContains") && typeof s.minContains === "number" ? s.minContains : 1;
      const max = modern && has("maxContains") && typeof s.maxContains === "number" ? s.maxContains : undefined;
      const annotates = d === "2020-12";
      checks.push((inst, st, path, ev) => {
        if (!Array.isArray(inst)) return true;
        const mark = st.issues.length;
        const quiet = { ...st, collect: false };
        let count = 0;
        for (let i = 0; i < inst.length; i++) {
          if (evalNode(this, c, inst[i], quiet, path, undefined)) {
            count++;
            if (ev !== undefined && annotates) (ev.itemSet ??= new Set()).add(i);
            else if (max === undefined && count >= min && !st.collect) break;
          }
        }
        st.issues.length = mark;
        if (count < min) return issue(st, path, "contains", `must contain at least ${min} valid item(s)`);
        if (max !== undefined && count > max) return issue(st, path, "maxContains", `must contain at most ${max} valid item(s)`);
        return true;
      });
    }
    if (has("unevaluatedItems")) {
      const u = this.#sub(s.unevaluatedItems, info, "/unevaluatedItems", kids);
      late.push((inst, st, path, ev) => {
        if (!Array.isArray(inst) || ev === undefined) return true;
        if (ev.allItems) return true;
        let ok = true;
        for (let i = ev.items; i < inst.length; i++) {
          if (ev.itemSet?.has(i) === true) continue;
          if (u.schema === false) {
            ok = issue(st, child(st, path, i), "unevaluatedItems", "must NOT have unevaluated items");
            if (!st.collect) return false;
          } else if (!evalNode(this, u, inst[i], st, child(st, path, i), undefined)) {
            ok = false;
            if (!st.collect) return false;
          }
        }
        if (ok) ev.allItems = true;
        return ok;
      });
    }
  }

  #compileObject(
    s: Record<string, unknown>,
    info: NodeInfo,
    has: (k: string) => boolean,
    checks: Check[],
    late: Check[],
    kids: Node[],
  ): void {
    const d = info.resource.vocab.dialect;
    if (has("required") && Array.isArray(s.required)) {
      const names = s.required.filter((x): x is string => typeof x === "string");
      if (names.length > 0) {
        checks.push((inst, st, path) => {
          if (!isObject(inst)) return true;
          let ok = true;
          for (const n of names) {
            if (!Object.hasOwn(inst, n)) {
              ok = issue(st, path, "required", `must have required property '${n}'`);
              if (!st.collect) return false;
            }
          }
          return ok;
        });
      }
    }
    if (has("maxProperties") && typeof s.maxProperties === "number") {
      const n = s.maxProperties;
      checks.push(
        (inst, st, path) =>
          !isObject(inst) || Object.keys(inst).length <= n || issue(st, path, "maxProperties", `must NOT have more than ${n} properties`),
      );
    }
    if (has("minProperties") && typeof s.minProperties === "number") {
      const n = s.minProperties;
      checks.push(
        (inst, st, path) =>
          !isObject(inst) || Object.keys(inst).length >= n || issue(st, path, "minProperties", `must NOT have fewer than ${n} properties`),
      );
    }
    const props = has("properties") && isObject(s.properties) ? s.properties : undefined;
    const propNodes = new Map<string, Node>();
    if (props !== undefined) {
      for (const [name, sub] of Object.entries(props))
        propNodes.set(name, this.#sub(sub, info, `/properties/${pointerSegment(name)}`, kids));
    }
    const patterns: { re: { test: (s: string) => boolean }; node: Node }[] = [];
    if (has("patternProperties") && isObject(s.patternProperties)) {
      for (const [p, sub] of Object.entries(s.patternProperties)) {
        const where = `/patternProperties/${pointerSegment(p)}`;
        patterns.push({ re: this.#regex(p, info, where), node: this.#sub(sub, info, where, kids) });
      }
    }
    const additional = has("additionalProperties") ? this.#sub(s.additionalProperties, info, "/additionalProperties", kids) : undefined;
    if (propNodes.size > 0 || patterns.length > 0 || additional !== undefined) {
      checks.push((inst, st, path, ev) => {
        if (!isObject(inst)) return true;
        let ok = true;
        for (const key of Object.keys(inst)) {
          let matched = false;
          const p = propNodes.get(key);
          const v = inst[key];
          if (p !== undefined) {
            matched = true;
            if (!evalNode(this, p, v, st, child(st, path, key), undefined)) {
              ok = false;
              if (!st.collect) return false;
            }
          }
          for (const pat of patterns) {
            if (!pat.re.test(key)) continue;
            matched = true;
            if (!evalNode(this, pat.node, v, st, child(st, path, key), undefined)) {
              ok = false;
              if (!st.collect) return false;
            }
          }
          if (!matched && additional !== undefined) {
            if (additional.schema === false) {
              ok = issue(st, path, "additionalProperties", `must NOT have additional properties ('${key}')`);
              if (!st.collect) return false;
            } else if (!evalNode(this, additional, v, st, child(st, path, key), undefined)) {
              ok = false;
              if (!st.collect) return false;
            }
            matched = true;
          }
          if (matched) markProp(ev, key);
        }
        return ok;
      });
    }
    const dependentRequired = new Map<string, string[]>();
    const dependentSchemas = new Map<string, Node>();
    if (has("dependencies") && isObject(s.dependencies)) {
      for (const [name, dep] of Object.entries(s.dependencies)) {
        if (Array.isArray(dep))
          dependentRequired.set(
            name,
            dep.filter((x): x is string => typeof x === "string"),
          );
        else dependentSchemas.set(name, this.#sub(dep, info, `/dependencies/${pointerSegment(name)}`, kids));
      }
    }
    if (has("dependentRequired") && isObject(s.dependentRequired)) {
      for (const [name, dep] of Object.entries(s.dependentRequired)) {
        if (Array.isArray(dep))
          dependentRequired.set(
            name,
            dep.filter((x): x is string => typeof x === "string"),
          );
      }
    }
    if (has("dependentSchemas") && isObject(s.dependentSchemas)) {
      for (const [name, dep] of Object.entries(s.dependentSchemas)) {
        dependentSchemas.set(name, this.#sub(dep, info, `/dependentSchemas/${pointerSegment(name)}`, kids));
      }
    }
    if (dependentRequired.size > 0) {
      const keyword = d === "2019-09" || d === "2020-12" ? "dependentRequired" : "dependencies";
      checks.push((inst, st, path) => {
        if (!isObject(inst)) return true;
        let ok = true;
        for (const [name, needs] of dependentRequired) {
          if (!Object.hasOwn(inst, name)) continue;
          for (const n of needs) {
            if (!Object.hasOwn(inst, n)) {
              ok = issue(st, path, keyword, `must have property '${n}' when property '${name}' is present`);
              if (!st.collect) return false;
            }
          }
        }
        return ok;
      });
    }
    if (dependentSchemas.size > 0) {
      checks.push((inst, st, path, ev) => {
        if (!isObject(inst)) return true;
        let ok = true;
        for (const [name, n] of dependentSchemas) {
          if (!Object.hasOwn(inst, name)) continue;
          if (!evalInPlace(this, n, inst, st, path, ev)) {
            ok = false;
            if (!st.collect) return false;
          }
        }
        return ok;
      });
    }
    if (has("propertyNames")) {
      const n = this.#sub(s.propertyNames, info, "/propertyNames", kids);
      checks.push((inst, st, path) => {
        if (!isObject(inst)) return true;
        let ok = true;
        for (const key of Object.keys(inst)) {
          const mark = st.issues.length;
          if (!evalNode(this, n, key, { ...st, collect: false }, path, undefined)) {
            st.issues.length = mark;
            ok = issue(st, path, "propertyNames", `property name '${key}' is invalid`);
            if (!st.collect) return false;
          }
        }
        return ok;
      });
    }
    if (has("unevaluatedProperties")) {
      const u = this.#sub(s.unevaluatedProperties, info, "/unevaluatedProperties", kids);
      late.push((inst, st, path, ev) => {
        if (!isObject(inst) || ev === undefined || ev.allProps) return true;
        let ok = true;
        for (const key of Object.keys(inst)) {
          if (ev.props?.has(key) === true) continue;
          if (u.schema === false) {
            ok = issue(st, path, "unevaluatedProperties", `must NOT have unevaluated properties ('${key}')`);
            if (!st.collect) return false;
            continue;
          }
          if (!evalNode(this, u, inst[key], st, child(st, path, key), undefined)) {
            ok = false;
            if (!st.collect) return false;
          } else markProp(ev, key);
        }
        if (ok) ev.allProps = true;
        return ok;
      });
    }
  }

  /** Builds a validator for the schema at `uri` (a document URI, optionally with a fragment). */
  validator(uri: string, maxIssues = 50): JsonValidator {
    const root = this.compileUri(uri);
    this.compileAll(root);
    const annotate = this.#usesUnevaluated;
    return (value, collect) => {
      const st: State = { collect, annotate, issues: [], scope: [], maxIssues };
      const ok = evalNode(this, root, value, st, "", undefined);
      if (ok) return [];
      if (st.issues.length === 0) st.issues.push({ path: "", message: "must match the schema", keyword: "schema" });
      return st.issues;
    };
  }

  /** @internal */
  ensureChecks(n: Node): Check[] {
    return this.#ensure(n);
  }
}

/**
 * Validates a value; returns the issues (`[]` when valid). With `collect` false it stops at the
 * first problem and returns one generic issue.
 */
export type JsonValidator = (value: unknown, collect: boolean) => SchemaIssue[];

const PENDING: Check[] = [];
const FALSE_CHECK: Check = (_inst, st, path) => issue(st, path, "false schema", "boolean schema is false");

function evalNode(set: JsonValidatorSet, n: Node, inst: unknown, st: State, path: string, given: Ev | undefined): boolean {
  const checks = n.checks === PENDING ? set.ensureChecks(n) : n.checks;
  if (checks.length === 0) return true;
  // Annotations flow up from in-place subschemas only: any other evaluation starts afresh.
  const ev = given ?? (st.annotate ? newEv() : undefined);
  const res = n.resource;
  const scope = st.scope;
  const pushed = res !== undefined && scope[scope.length - 1] !== res;
  if (pushed) scope.push(res);
  let ok = true;
  try {
    for (const c of checks) {
      if (!c(inst, st, path, ev)) {
        ok = false;
        if (!st.collect) break;
      }
    }
  } finally {
    if (pushed) scope.pop();
  }
  return ok;
}

/** Evaluates a subschema on the same instance; its annotations count only when it passes. */
function evalInPlace(set: JsonValidatorSet, n: Node, inst: unknown, st: State, path: string, ev: Ev | undefined): boolean {
  if (ev === undefined || !st.annotate) return evalNode(set, n, inst, st, path, undefined);
  const cev = newEv();
  const ok = evalNode(set, n, inst, st, path, cev);
  if (ok) mergeEv(ev, cev);
  return ok;
}

function alternateScheme(uri: string): string {
  if (uri.startsWith("https://")) return `http://${uri.slice(8)}`;
  if (uri.startsWith("http://")) return `https://${uri.slice(7)}`;
  return uri;
}
