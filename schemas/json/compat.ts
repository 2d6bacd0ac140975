import { jsonEqual, pointerSegment } from "../common.js";
import type { BreakingChange } from "../types.js";
import { valueSet } from "./equal.js";
import { compileRe2 } from "./regexp.js";
import { asObject, isSchemaLike, localRefPointer, resolvePointer } from "./walk.js";

type Direction = "backward" | "forward";

// [rule under backward (new reads old), rule under forward (old reads new)]
const RULE_PAIRS = {
  type: ["json.type-narrowed", "json.type-widened"],
  required: ["json.required-added", "json.required-removed"],
  enum: ["json.enum-value-removed", "json.enum-value-added"],
  closed: ["json.additional-properties-closed", "json.additional-properties-opened"],
  property: ["json.property-removed", "json.property-added"],
  limit: ["json.limit-tightened", "json.limit-relaxed"],
  pattern: ["json.pattern-changed", "json.pattern-changed"],
  format: ["json.format-changed", "json.format-changed"],
  unsupported: ["json.unsupported-change", "json.unsupported-change"],
} as const;

type RuleKind = keyof typeof RULE_PAIRS;

// Keywords not analysed structurally: the reader's value must equal the writer's.
const COMPARED_WHOLE = [
  "allOf",
  "anyOf",
  "oneOf",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "dependencies",
  "dependentRequired",
  "dependentSchemas",
  "patternProperties",
  "unevaluatedItems",
  "unevaluatedProperties",
  "$ref",
  "$dynamicRef",
  "$recursiveRef",
] as const;

const LOWER_LIMITS = ["minLength", "minItems", "minProperties", "minContains"] as const;
const UPPER_LIMITS = ["maxLength", "maxItems", "maxProperties", "maxContains"] as const;
const JSON_TYPES = ["null", "boolean", "object", "array", "number", "string"] as const;

interface Ctx {
  dir: Direction;
  readerRoot: unknown;
  writerRoot: unknown;
  seen: Set<string>;
  out: BreakingChange[];
  reader: string;
  writer: string;
}

type Obj = Record<string, unknown>;

function report(ctx: Ctx, kind: RuleKind, path: string, message: string): void {
  const rule = RULE_PAIRS[kind][ctx.dir === "backward" ? 0 : 1];
  if (!ctx.out.some((c) => c.rule === rule && c.path === path && c.message === message)) ctx.out.push({ path, rule, message });
}

// Keywords beside a $ref that do not constrain data.
const NOT_CONSTRAINTS = new Set([
  "$ref",
  "definitions",
  "$defs",
  "$schema",
  "$id",
  "$comment",
  "title",
  "description",
  "default",
  "examples",
]);

/** Follows local `$ref`s; 2020-12 style sibling keywords are merged over the target. */
function deref(schema: unknown, pointer: string, root: unknown): [unknown, string] {
  let cur = schema;
  let ptr = pointer;
  for (let hops = 0; hops < 32; hops++) {
    const obj = asObject(cur);
    const ref = obj?.$ref;
    if (obj === undefined || typeof ref !== "string") break;
    const target = localRefPointer(ref);
    const resolved = target === undefined ? undefined : resolvePointer(root, target);
    if (target === undefined || !isSchemaLike(resolved)) break;
    const siblings = Object.fromEntries(Object.entries(obj).filter(([k]) => !NOT_CONSTRAINTS.has(k)));
    const targetObj = asObject(resolved);
    if (Object.keys(siblings).length === 0 || targetObj === undefined) {
      cur = resolved;
      ptr = target;
    } else {
      cur = { ...targetObj, ...siblings };
      ptr = `${target}+${ptr}`;
    }
  }
  return [cur, ptr];
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function enumOf(s: Obj): unknown[] | undefined {
  if (Array.isArray(s.enum)) return s.enum;
  if ("const" in s) return [s.const];
  return undefined;
}

function declaredTypes(s: Obj): Set<string> | undefined {
  if (typeof s.type === "string") return new Set([s.type]);
  if (Array.isArray(s.type)) return new Set(s.type.filter((t): t is string => typeof t === "string"));
  return undefined;
}

function possibleTypes(s: Obj): Set<string> {
  const declared = declaredTypes(s);
  if (declared !== undefined) return declared;
  const values = enumOf(s);
  if (values !== undefined) return new Set(values.map(jsonType));
  return new Set(JSON_TYPES);
}

function accepts(types: Set<string>, t: string): boolean {
  return types.has(t) || (t === "integer" && types.has("number"));
}

function show(values: unknown[]): string {
  const shown = values
    .slice(0, 10)
    .map((v) => JSON.stringify(v))
    .join(", ");
  return values.length > 10 ? `${shown} (and ${values.length - 10} more)` : shown;
}

function checkTypes(ctx: Ctx, r: Obj, w: Obj, path: string): void {
  const readerTypes = declaredTypes(r);
  if (readerTypes === undefined) return;
  const missing = [...possibleTypes(w)].filter((t) => !accepts(readerTypes, t));
  if (missing.length > 0) {
    report(ctx, "type", `${path}/type`, `${ctx.reader} does not accept type ${show(missing)}, which ${ctx.writer} allows`);
  }
}

function checkEnum(ctx: Ctx, r: Obj, w: Obj, path: string): void {
  const readerValues = enumOf(r);
  if (readerValues === undefined) return;
  const where = `${path}/${Array.isArray(r.enum) ? "enum" : "const"}`;
  const writerValues = enumOf(w);
  if (writerValues === undefined) {
    report(ctx, "enum", where, `${ctx.reader} only accepts ${show(readerValues)}; ${ctx.writer} has no such restriction`);
    return;
  }
  // A set of canonical values: linear, however long both enums are.
  const accepted = valueSet(readerValues);
  const missing = writerValues.filter((v) => !accepted(v));
  if (missing.length > 0) {
    report(ctx, "enum", where, `${ctx.reader} does not accept ${show(missing)}, which ${ctx.writer} allows`);
  }
}

function checkRequired(ctx: Ctx, r: Obj, w: Obj, path: string): void {
  if (!Array.isArray(r.required)) return;
  const writerRequired = new Set(Array.isArray(w.required) ? w.required : []);
  const readerProps = asObject(r.properties) ?? {};
  for (const p of r.required) {
    if (typeof p !== "string" || writerRequired.has(p)) continue;
    // A default lets the reader fill the value in, as Confluent's rules allow.
    if (asObject(readerProps[p])?.default !== undefined) continue;
    report(
      ctx,
      "required",
      `${path}/required`,
      `${ctx.reader} requires property "${p}" (without a default), which ${ctx.writer} does not require`,
    );
  }
}

function matchingPatterns(r: Obj, name: string): string[] {
  const pp = asObject(r.patternProperties);
  if (pp === undefined) return [];
  return Object.keys(pp).filter((pattern) => {
    try {
      return compileRe2(pattern).test(name);
    } catch {
      return false;
    }
  });
}

function checkObject(ctx: Ctx, r: Obj, w: Obj, path: string, rp: string, wp: string): void {
  const rProps = asObject(r.properties) ?? {};
  const wProps = asObject(w.properties) ?? {};
  const rAdditional = r.additionalProperties;
  const wAdditional = w.additionalProperties;
  for (const [name, wSchema] of Object.entries(wProps)) {
    const seg = `/properties/${pointerSegment(name)}`;
    if (Object.hasOwn(rProps, name)) {
      check(ctx, rProps[name], wSchema, path + seg, rp + seg, wp + seg);
      continue;
    }
    if (matchingPatterns(r, name).length > 0) continue; // compared whole under patternProperties
    if (rAdditional === false) {
      report(
        ctx,
        "property",
        path + seg,
        `${ctx.writer} declares property "${name}", which ${ctx.reader} rejects (additionalProperties is false)`,
      );
    } else if (rAdditional !== undefined && rAdditional !== true) {
      check(ctx, rAdditional, wSchema, `${path}/additionalProperties`, `${rp}/additionalProperties`, wp + seg);
    }
  }
  // Properties only the reader declares: checked against the writer's additionalProperties when it
  // is a schema. When the writer leaves it open, they are assumed absent from its data (leniency).
  if (wAdditional !== undefined && wAdditional !== true && wAdditional !== false) {
    for (const [name, rSchema] of Object.entries(rProps)) {
      if (Object.hasOwn(wProps, name)) continue;
      const seg = `/properties/${pointerSegment(name)}`;
      check(ctx, rSchema, wAdditional, path + seg, rp + seg, `${wp}/additionalProperties`);
    }
  }
  if (rAdditional === false && wAdditional !== false) {
    report(
      ctx,
      "closed",
      `${path}/additionalProperties`,
      `${ctx.reader} rejects undeclared properties (additionalProperties is false); ${ctx.writer} allows them`,
    );
  } else if (rAdditional !== undefined && rAdditional !== true && rAdditional !== false && wAdditional !== false) {
    check(
      ctx,
      rAdditional,
      wAdditional ?? true,
      `${path}/additionalProperties`,
      `${rp}/additionalProperties`,
      `${wp}/additionalProperties`,
    );
  }
}

interface Items {
  prefix: unknown[];
  prefixKey: string;
  rest: unknown;
  restKey: string;
}

function itemsOf(s: Obj): Items {
  if (Array.isArray(s.prefixItems)) return { prefix: s.prefixItems, prefixKey: "prefixItems", rest: s.items, restKey: "items" };
  if (Array.isArray(s.items)) return { prefix: s.items, prefixKey: "items", rest: s.additionalItems, restKey: "additionalItems" };
  return { prefix: [], prefixKey: "items", rest: s.items, restKey: "items" };
}

function checkArray(ctx: Ctx, r: Obj, w: Obj, path: string, rp: string, wp: string): void {
  if (!("items" in r) && !("prefixItems" in r) && !("additionalItems" in r)) return;
  const ri = itemsOf(r);
  const wi = itemsOf(w);
  const n = Math.max(ri.prefix.length, wi.prefix.length);
  for (let i = 0; i < n; i++) {
    const rItem = i < ri.prefix.length ? ri.prefix[i] : ri.rest;
    const wItem = i < wi.prefix.length ? wi.prefix[i] : wi.rest;
    if (rItem === undefined || rItem === true) continue;
    const rPath = i < ri.prefix.length ? `/${ri.prefixKey}/${i}` : `/${ri.restKey}`;
    const wPath = i < wi.prefix.length ? `/${wi.prefixKey}/${i}` : `/${wi.restKey}`;
    check(ctx, rItem, wItem ?? true, path + rPath, rp + rPath, wp + wPath);
  }
  if (ri.rest !== undefined && ri.rest !== true) {
    check(ctx, ri.rest, wi.rest ?? true, `${path}/${ri.restKey}`, `${rp}/${ri.restKey}`, `${wp}/${wi.restKey}`);
  }
}

interface Bound {
  value: number;
  exclusive: boolean;
}

function bound(s: Obj, inclusiveKey: string, exclusiveKey: string, lower: boolean): Bound | undefined {
  const inc = typeof s[inclusiveKey] === "number" ? (s[inclusiveKey] as number) : undefined;
  // draft-04: a boolean exclusiveMinimum/exclusiveMaximum makes the bound beside it exclusive.
  if (s[exclusiveKey] === true) return inc === undefined ? undefined : { value: inc, exclusive: true };
  const exc = typeof s[exclusiveKey] === "number" ? (s[exclusiveKey] as number) : undefined;
  if (inc === undefined) return exc === undefined ? undefined : { value: exc, exclusive: true };
  if (exc === undefined) return { value: inc, exclusive: false };
  const excStronger = lower ? exc >= inc : exc <= inc;
  return excStronger ? { value: exc, exclusive: true } : { value: inc, exclusive: false };
}

function checkNumericBound(ctx: Ctx, r: Obj, w: Obj, path: string, lower: boolean): void {
  const [inc, exc] = lower ? ["minimum", "exclusiveMinimum"] : ["maximum", "exclusiveMaximum"];
  const wb = bound(w, inc, exc, lower);
  for (const [key, exclusive] of [
    [inc, false],
    [exc, true],
  ] as const) {
    const rv = r[key];
    if (typeof rv !== "number") continue;
    const strict = exclusive || r[exc] === true;
    // The writer's bound must be at least as strict as each of the reader's.
    let ok = false;
    if (wb !== undefined) {
      if (lower ? wb.value > rv : wb.value < rv) ok = true;
      else if (wb.value === rv) ok = !strict || wb.exclusive;
    }
    if (!ok) {
      const theirs = wb === undefined ? "no limit" : `${wb.exclusive ? (lower ? ">" : "<") : lower ? ">=" : "<="} ${wb.value}`;
      report(ctx, "limit", `${path}/${key}`, `${ctx.reader} has ${key} ${rv}; ${ctx.writer} allows ${theirs}`);
    }
  }
}

function checkLimits(ctx: Ctx, r: Obj, w: Obj, path: string): void {
  checkNumericBound(ctx, r, w, path, true);
  checkNumericBound(ctx, r, w, path, false);
  for (const key of LOWER_LIMITS) {
    const rv = r[key];
    const wv = w[key];
    if (typeof rv === "number" && rv > 0 && !(typeof wv === "number" && wv >= rv)) {
      report(
        ctx,
        "limit",
        `${path}/${key}`,
        `${ctx.reader} has ${key} ${rv}; ${ctx.writer} allows ${typeof wv === "number" ? wv : "no limit"}`,
      );
    }
  }
  for (const key of UPPER_LIMITS) {
    const rv = r[key];
    const wv = w[key];
    if (typeof rv === "number" && !(typeof wv === "number" && wv <= rv)) {
      report(
        ctx,
        "limit",
        `${path}/${key}`,
        `${ctx.reader} has ${key} ${rv}; ${ctx.writer} allows ${typeof wv === "number" ? wv : "no limit"}`,
      );
    }
  }
  if (typeof r.multipleOf === "number") {
    const wv = w.multipleOf;
    const ratio = typeof wv === "number" ? wv / r.multipleOf : NaN;
    if (!(Math.abs(ratio - Math.round(ratio)) < 1e-9 && Math.round(ratio) >= 1)) {
      report(
        ctx,
        "limit",
        `${path}/multipleOf`,
        `${ctx.reader} has multipleOf ${r.multipleOf}; ${ctx.writer} has ${typeof wv === "number" ? wv : "none"}`,
      );
    }
  }
  if (r.uniqueItems === true && w.uniqueItems !== true) {
    report(ctx, "limit", `${path}/uniqueItems`, `${ctx.reader} requires unique items; ${ctx.writer} does not`);
  }
}

function checkWhole(ctx: Ctx, r: Obj, w: Obj, path: string): void {
  for (const key of ["pattern", "format"] as const) {
    if (r[key] !== undefined && !jsonEqual(r[key], w[key])) {
      const theirs = w[key] === undefined ? "none" : JSON.stringify(w[key]);
      report(ctx, key, `${path}/${key}`, `${ctx.reader} has ${key} ${JSON.stringify(r[key])}; ${ctx.writer} has ${theirs}`);
    }
  }
  for (const key of COMPARED_WHOLE) {
    if (key in r && !jsonEqual(r[key], w[key])) {
      report(ctx, "unsupported", `${path}/${pointerSegment(key)}`, `"${key}" differs between the schemas; it is compared as a whole`);
    }
  }
}

/** Reports everything the reader schema rejects that the writer schema allows. */
function check(ctx: Ctx, reader: unknown, writer: unknown, path: string, rp: string, wp: string): void {
  const [r, rPtr] = deref(reader, rp, ctx.readerRoot);
  const [w, wPtr] = deref(writer, wp, ctx.writerRoot);
  // Past a $ref, paths point into the referenced definition: that is where the change is, and a
  // definition used in several places is reported once.
  if (rPtr !== rp) path = rPtr.split("+")[0] ?? rPtr;
  const key = `${rPtr}\u0000${wPtr}`;
  if (ctx.seen.has(key) || ctx.seen.size > 10_000) return;
  ctx.seen.add(key);
  if (r === true || w === false) return;
  if (r === false) {
    report(ctx, "type", path, `${ctx.reader} accepts nothing here; ${ctx.writer} accepts values`);
    return;
  }
  const ro = asObject(r) ?? {};
  const wo = asObject(w) ?? {};
  checkTypes(ctx, ro, wo, path);
  checkEnum(ctx, ro, wo, path);
  checkRequired(ctx, ro, wo, path);
  checkObject(ctx, ro, wo, path, rPtr, wPtr);
  checkArray(ctx, ro, wo, path, rPtr, wPtr);
  checkLimits(ctx, ro, wo, path);
  checkWhole(ctx, ro, wo, path);
}

/** Compares two parsed JSON Schemas in one direction. Paths point into the reader's layout. */
export function jsonBreakingChanges(direction: Direction, previous: unknown, next: unknown): BreakingChange[] {
  const backward = direction === "backward";
  const ctx: Ctx = {
    dir: direction,
    readerRoot: backward ? next : previous,
    writerRoot: backward ? previous : next,
    seen: new Set(),
    out: [],
    reader: backward ? "the new schema" : "the old schema",
    writer: backward ? "the old schema" : "the new schema",
  };
  check(ctx, ctx.readerRoot, ctx.writerRoot, "", "", "");
  return ctx.out;
}
