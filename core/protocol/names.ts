import { JunctionError } from "./errors.js";

/** What a name names: used in error messages and details. */
export type NameKind = "station" | "group" | "schema" | "function" | "user" | "tenant";

/** Station, group, schema and function names become NATS subject tokens, so they are narrow. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The longest name allowed. */
export const MAX_NAME_LENGTH = 64;

/**
 * Returns why `name` is not a valid Junction name, or `undefined` when it is.
 */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return "must be a string";
  if (name.length === 0) return "must not be empty";
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters (got ${name.length})`;
  if (/[.*>]/.test(name)) return "must not contain '.', '*' or '>' (names become subject tokens)";
  if (/\s/.test(name)) return "must not contain spaces";
  if (/[A-Z]/.test(name)) return "must be lowercase";
  if (!NAME_PATTERN.test(name)) return `must match ${NAME_PATTERN.source}`;
  return undefined;
}

/**
 * Tenant names are stricter: they become part of stream and bucket names next to other names,
 * so they hold no `_` (and never `.`), and `default` is the built-in tenant.
 */
export const TENANT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Returns why `name` is not a valid tenant name, or undefined. */
export function tenantNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return "must be a string";
  if (!TENANT_NAME_PATTERN.test(name)) return `must match ${TENANT_NAME_PATTERN.source} (lowercase letters, digits and '-', at most 32)`;
  return undefined;
}

/** Throws `INVALID_NAME` unless `name` is a valid name of the given kind. */
export function assertName(kind: NameKind, name: unknown): asserts name is string {
  const problem = kind === "tenant" ? tenantNameProblem(name) : nameProblem(name);
  if (problem !== undefined) {
    throw new JunctionError("INVALID_NAME", `invalid ${kind} name ${JSON.stringify(name)}: ${problem}`, {
      details: { kind, name, rule: kind === "tenant" ? TENANT_NAME_PATTERN.source : NAME_PATTERN.source },
    });
  }
}
