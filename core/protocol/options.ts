import { JunctionError } from "./errors.js";

/** Options with every field filled (undefined removed): what a resolver returns. */
export type Filled<T> = { readonly [K in keyof T]-?: Exclude<T[K], undefined> };

/** Checks one option's value; returns why it is bad, or undefined when it is fine. */
export type OptionCheck = (value: unknown) => string | undefined;

/** Option checks, shared by every `resolve*Options()` in core and the SDK. */
export const check = {
  /** An integer in [min, max]. */
  int:
    (min: number, max = Number.MAX_SAFE_INTEGER): OptionCheck =>
    (v) =>
      typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? undefined : `an integer from ${min} to ${max}`,
  /** A finite number in [min, max]. */
  number:
    (min: number, max = Number.MAX_VALUE): OptionCheck =>
    (v) =>
      typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? undefined : `a number from ${min} to ${max}`,
  /** One of the given values. */
  oneOf:
    (...values: readonly unknown[]): OptionCheck =>
    (v) =>
      values.includes(v) ? undefined : `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`,
  /** A boolean. */
  bool: ((v) => (typeof v === "boolean" ? undefined : "a boolean")) as OptionCheck,
  /** A non-empty string. */
  string: ((v) => (typeof v === "string" && v.length > 0 ? undefined : "a non-empty string")) as OptionCheck,
  /** A function. */
  fn: ((v) => (typeof v === "function" ? undefined : "a function")) as OptionCheck,
  /** An object (or anything: for injected collaborators checked by their own types). */
  any: (() => undefined) as OptionCheck,
  /** A string or a non-empty list of strings. */
  strings: ((v) =>
    typeof v === "string"
      ? v
        ? undefined
        : "a non-empty string"
      : Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x)
        ? undefined
        : "a string or a list of strings") as OptionCheck,
} as const;

/**
 * Fills defaults, validates every option and freezes the result: the one way options are
 * resolved in Junction (`DEFAULT_X_OPTIONS` + `resolveXOptions()`). Undefined values take the
 * default; an unknown option or a bad value throws `INVALID_ARGUMENT` naming
 * `<component>.<option>`, what was expected and what was given.
 */
export function resolveOptions<T extends object>(
  component: string,
  defaults: T,
  given: { readonly [K in keyof T]?: T[K] | undefined } | undefined,
  checks: { readonly [K in keyof T]?: OptionCheck },
): T {
  const out = { ...defaults } as T;
  if (given !== undefined && (typeof given !== "object" || given === null)) {
    throw new JunctionError("INVALID_ARGUMENT", `${component} options must be an object`, { details: { option: component } });
  }
  for (const [k, v] of Object.entries(given ?? {})) {
    if (!Object.hasOwn(defaults, k) && !Object.hasOwn(checks, k)) {
      throw new JunctionError("INVALID_ARGUMENT", `unknown ${component} option '${k}'`, { details: { option: `${component}.${k}` } });
    }
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  for (const [k, c] of Object.entries(checks) as [string, OptionCheck | undefined][]) {
    const v = (out as Record<string, unknown>)[k];
    if (v === undefined || !c) continue;
    const want = c(v);
    if (want !== undefined) {
      throw new JunctionError("INVALID_ARGUMENT", `${component}.${k} must be ${want} (got ${show(v)})`, {
        details: { option: `${component}.${k}`, expected: want, got: typeof v === "function" ? "function" : v },
      });
    }
  }
  return Object.freeze(out);
}

function show(v: unknown): string {
  if (typeof v === "function") return "a function";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
