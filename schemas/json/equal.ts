/** JSON equality as JSON Schema defines it: 1 equals 1.0, object key order does not matter. */
export function jsonDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonDeepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  for (const k of ak) {
    if (!Object.hasOwn(b, k) || !jsonDeepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * A string that is equal for equal JSON values and different otherwise (types tagged, object
 * keys sorted), so sets of values can be compared in linear time instead of pairwise.
 */
export function canonicalKey(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      // -0 and 0 are the same JSON number
      return v === 0 ? "0" : String(v);
    case "boolean":
      return v ? "true" : "false";
    default:
      break;
  }
  if (v === null) return "null";
  if (Array.isArray(v)) return `[${v.map(canonicalKey).join(",")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalKey(o[k])}`)
      .join(",")}}`;
  }
  return String(v);
}

// Up to this many items, comparing pairs is cheaper than building canonical keys.
const PAIRWISE_MAX = 24;

/** The first pair of equal items ([earlier index, later index]), found in linear time, or undefined. */
export function firstDuplicate(items: readonly unknown[]): [number, number] | undefined {
  if (items.length <= PAIRWISE_MAX) {
    for (let i = 1; i < items.length; i++) {
      for (let j = 0; j < i; j++) if (jsonDeepEqual(items[j], items[i])) return [j, i];
    }
    return undefined;
  }
  const seenPrimitive = new Map<unknown, number>();
  const seenComposite = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (v !== null && typeof v === "object") {
      const key = canonicalKey(v);
      const j = seenComposite.get(key);
      if (j !== undefined) return [j, i];
      seenComposite.set(key, i);
    } else {
      // Map keys compare with SameValueZero: 0 and -0 are one key, strings and numbers differ.
      const j = seenPrimitive.get(v);
      if (j !== undefined) return [j, i];
      seenPrimitive.set(v, i);
    }
  }
  return undefined;
}

/** A membership test for a fixed list of JSON values, linear in the size of the value tested. */
export function valueSet(values: readonly unknown[]): (v: unknown) => boolean {
  const primitives = new Set<unknown>();
  const composites = new Set<string>();
  for (const v of values) {
    if (v !== null && typeof v === "object") composites.add(canonicalKey(v));
    else primitives.add(v);
  }
  if (composites.size === 0) return (v) => primitives.has(v);
  return (v) => (v !== null && typeof v === "object" ? composites.has(canonicalKey(v)) : primitives.has(v));
}
