// Static checks of a parsed JSON Schema before anything is compiled: the complexity limits
// (cheap, linear in the document) and the warnings shown to the author.
import { pointerSegment } from "../common.js";
import type { SchemaLimits } from "../limits.js";
import { tooComplex } from "../limits.js";
import { JSON_DIALECTS, refOverridesSiblings, standardVocabulary, type JsonDialect } from "./dialect.js";
import { formatCheck } from "./formats.js";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

// Keys whose values are data, not schemas: nothing below them counts as a subschema.
const DATA_KEYWORDS = new Set(["enum", "const", "default", "examples"]);

/**
 * Checks the definition against the complexity limits; throws SCHEMA_TOO_COMPLEX naming the
 * first limit exceeded. Linear in the document, iterative (no recursion on the input's depth).
 */
export function checkJsonLimits(root: unknown, limits: Readonly<Required<SchemaLimits>>): void {
  let properties = 0;
  let patterns = 0;
  let nodes = 0;
  const stack: { v: unknown; depth: number; path: string; data: boolean }[] = [{ v: root, depth: 1, path: "", data: false }];
  while (stack.length > 0) {
    const { v, depth, path, data } = stack.pop() as { v: unknown; depth: number; path: string; data: boolean };
    if (v === null || typeof v !== "object") continue;
    if (depth > limits.maxDepth) throw tooComplex("maxDepth", limits.maxDepth, depth, "the nesting depth", path);
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], depth: depth + 1, path: `${path}/${i}`, data });
      continue;
    }
    const o = v as Record<string, unknown>;
    if (!data) {
      if (++nodes > limits.maxSchemaNodes) throw tooComplex("maxSchemaNodes", limits.maxSchemaNodes, nodes, "the number of subschemas");
      if (Array.isArray(o.enum) && o.enum.length > limits.maxEnumValues) {
        throw tooComplex("maxEnumValues", limits.maxEnumValues, o.enum.length, "the number of enum values", `${path}/enum`);
      }
      if (isObject(o.properties)) {
        properties += Object.keys(o.properties).length;
        if (properties > limits.maxProperties) {
          throw tooComplex("maxProperties", limits.maxProperties, properties, "the number of declared properties", `${path}/properties`);
        }
      }
      if (typeof o.pattern === "string") patterns++;
      if (isObject(o.patternProperties)) patterns += Object.keys(o.patternProperties).length;
      if (patterns > limits.maxPatterns) throw tooComplex("maxPatterns", limits.maxPatterns, patterns, "the number of patterns", path);
    }
    for (const [k, child] of Object.entries(o)) {
      if (child !== null && typeof child === "object") {
        stack.push({ v: child, depth: depth + 1, path: `${path}/${pointerSegment(k)}`, data: data || DATA_KEYWORDS.has(k) });
      }
    }
  }
}

const CORE: Record<JsonDialect, readonly string[]> = {
  "draft-04": ["id", "$schema", "$ref", "definitions"],
  "draft-06": ["$id", "$schema", "$ref", "definitions"],
  "draft-07": ["$id", "$schema", "$ref", "definitions", "$comment"],
  "2019-09": ["$id", "$schema", "$anchor", "$ref", "$recursiveRef", "$recursiveAnchor", "$vocabulary", "$comment", "$defs", "definitions"],
  "2020-12": ["$id", "$schema", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs", "definitions"],
};

function keywordsOf(d: JsonDialect): Set<string> {
  return new Set([...CORE[d], ...standardVocabulary(d).keywords]);
}

const DIALECT_KEYWORDS = new Map(JSON_DIALECTS.map((d) => [d, keywordsOf(d)]));
const EVERY_KEYWORD = [...new Set(JSON_DIALECTS.flatMap((d) => [...(DIALECT_KEYWORDS.get(d) as Set<string>)]))];

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] as number;
      prev[j] = Math.min((prev[j] as number) + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] as number;
}

const SINGLE = [
  "additionalItems",
  "additionalProperties",
  "items",
  "contains",
  "propertyNames",
  "not",
  "if",
  "then",
  "else",
  "unevaluatedItems",
  "unevaluatedProperties",
  "contentSchema",
];
const ARRAYS = ["allOf", "anyOf", "oneOf", "items", "prefixItems"];
const MAPS = ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies"];

/** Most warnings returned for one schema. */
const MAX_WARNINGS = 50;

/**
 * What the author should know about a valid schema: keywords that are ignored (unknown, from
 * another draft, or without the keyword they depend on) and formats that are not checked.
 * `customVocabulary` skips the unknown-keyword warnings (a custom meta-schema defines its own).
 */
export function jsonWarnings(root: unknown, dialect: JsonDialect, formats: "assert" | "annotate", customVocabulary: boolean): string[] {
  const out: string[] = [];
  const add = (path: string, text: string): void => {
    if (out.length < MAX_WARNINGS) out.push(`${path === "" ? "(root)" : path}: ${text}`);
  };
  const known = DIALECT_KEYWORDS.get(dialect) as Set<string>;
  const seen = new Set<unknown>();
  const visit = (s: unknown, path: string): void => {
    if (!isObject(s) || seen.has(s) || out.length >= MAX_WARNINGS) return;
    seen.add(s);
    const keys = Object.keys(s);
    if (typeof s.$ref === "string" && refOverridesSiblings(dialect)) {
      const ignored = keys.filter(
        (k) => k !== "$ref" && known.has(k) && !["definitions", "$comment", "title", "description", "$schema"].includes(k),
      );
      if (ignored.length > 0) add(path, `keywords beside "$ref" are ignored in ${dialect}: ${ignored.join(", ")}`);
    }
    if (!customVocabulary) {
      for (const k of keys) {
        if (known.has(k)) continue;
        const other = JSON_DIALECTS.filter((d) => (DIALECT_KEYWORDS.get(d) as Set<string>).has(k));
        if (other.length > 0) {
          add(
            `${path}/${pointerSegment(k)}`,
            `"${k}" is not a ${dialect} keyword and is ignored (it belongs to ${other.join(", ")}; set "$schema" to use it)`,
          );
          continue;
        }
        const near = EVERY_KEYWORD.filter((w) => known.has(w) && distance(k, w) <= 2 && k.length > 3);
        const hint = near.length > 0 ? ` (did you mean "${near[0]}"?)` : "";
        add(`${path}/${pointerSegment(k)}`, `unknown keyword "${k}" is ignored${hint}`);
      }
    }
    if (("then" in s || "else" in s) && !("if" in s) && known.has("if")) add(path, `"then"/"else" without "if" are ignored`);
    if (("minContains" in s || "maxContains" in s) && !("contains" in s))
      add(path, `"minContains"/"maxContains" without "contains" are ignored`);
    if ("additionalItems" in s && !Array.isArray(s.items) && known.has("additionalItems")) {
      add(path, `"additionalItems" without an array "items" is ignored`);
    }
    if (typeof s.format === "string" && known.has("format") && formats === "assert" && formatCheck(s.format) === undefined) {
      add(`${path}/format`, `format "${s.format}" is not known to Junction; it is an annotation only (not checked)`);
    }
    for (const k of SINGLE) if (k in s && !Array.isArray(s[k])) visit(s[k], `${path}/${k}`);
    for (const k of ARRAYS) {
      const a = s[k];
      if (Array.isArray(a)) a.forEach((x, i) => visit(x, `${path}/${k}/${i}`));
    }
    for (const k of MAPS) {
      const m = s[k];
      if (!isObject(m)) continue;
      for (const [name, x] of Object.entries(m)) visit(x, `${path}/${k}/${pointerSegment(name)}`);
    }
  };
  visit(root, "");
  return out;
}
