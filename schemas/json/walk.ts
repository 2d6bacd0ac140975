import { pointerSegment } from "../common.js";

/** A schema object or boolean schema found at a JSON Pointer inside the document. */
export interface SchemaNode {
  pointer: string;
  schema: unknown;
}

/** Keywords whose value is one subschema. */
export const SINGLE_SUBSCHEMA = [
  "additionalProperties",
  "additionalItems",
  "items",
  "contains",
  "propertyNames",
  "not",
  "if",
  "then",
  "else",
  "unevaluatedItems",
  "unevaluatedProperties",
] as const;
/** Keywords whose value is an array of subschemas. */
export const ARRAY_SUBSCHEMAS = ["allOf", "anyOf", "oneOf", "items", "prefixItems"] as const;
/** Keywords whose value maps names to subschemas. */
export const MAP_SUBSCHEMAS = ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies"] as const;

/** Whether a value can be a schema (object or boolean). */
export function isSchemaLike(value: unknown): boolean {
  return typeof value === "boolean" || (value !== null && typeof value === "object" && !Array.isArray(value));
}

/** A plain object view of a schema, or undefined for boolean schemas and non-objects. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Every subschema of a document (the root included), depth first, with its JSON Pointer. */
export function collectSchemaNodes(root: unknown): SchemaNode[] {
  const out: SchemaNode[] = [];
  const visit = (schema: unknown, pointer: string, depth: number): void => {
    if (!isSchemaLike(schema) || depth > 500) return;
    out.push({ pointer, schema });
    const obj = asObject(schema);
    if (obj === undefined) return;
    for (const key of SINGLE_SUBSCHEMA) {
      if (key in obj && !Array.isArray(obj[key])) visit(obj[key], `${pointer}/${pointerSegment(key)}`, depth + 1);
    }
    for (const key of ARRAY_SUBSCHEMAS) {
      const arr = obj[key];
      if (Array.isArray(arr)) arr.forEach((s, i) => visit(s, `${pointer}/${key}/${i}`, depth + 1));
    }
    for (const key of MAP_SUBSCHEMAS) {
      const map = asObject(obj[key]);
      if (map === undefined) continue;
      for (const [name, s] of Object.entries(map)) visit(s, `${pointer}/${pointerSegment(key)}/${pointerSegment(name)}`, depth + 1);
    }
  };
  visit(root, "", 0);
  return out;
}

/**
 * The JSON Pointer a local `$ref` points to (`#` → `""`, `#/definitions/a` → `/definitions/a`),
 * or undefined for references to anchors or other documents.
 */
export function localRefPointer(ref: string): string | undefined {
  if (ref === "#") return "";
  if (!ref.startsWith("#/")) return undefined;
  try {
    return decodeURIComponent(ref.slice(1));
  } catch {
    return undefined;
  }
}

/** Resolves a JSON Pointer inside a document. */
export function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (cur !== null && typeof cur === "object" && Object.hasOwn(cur, seg)) cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}
