import { avroBreakingChanges } from "./avro/compat.js";
import { SchemaError } from "./errors.js";
import { jsonBreakingChanges } from "./json/compat.js";
import { parseJsonDefinition } from "./json/schema.js";
import { protobufBreakingChanges } from "./protobuf/compat.js";
import type { BreakingChange, CanonicalCompatibilityMode, CompatibilityMode, PreparedSchema } from "./types.js";
import { CANONICAL_COMPATIBILITY_MODES, LEGACY_COMPATIBILITY_MODES } from "./types.js";

/** The canonical name of a mode (`backward` → `BACKWARD`), or undefined for an unknown one. */
export function normalizeCompatibilityMode(mode: unknown): CanonicalCompatibilityMode | undefined {
  if (typeof mode !== "string") return undefined;
  if ((CANONICAL_COMPATIBILITY_MODES as readonly string[]).includes(mode)) return mode as CanonicalCompatibilityMode;
  return Object.hasOwn(LEGACY_COMPATIBILITY_MODES, mode)
    ? LEGACY_COMPATIBILITY_MODES[mode as keyof typeof LEGACY_COMPATIBILITY_MODES]
    : undefined;
}

/** Whether `mode` is a compatibility mode, canonical or legacy alias. */
export function isCompatibilityMode(mode: unknown): mode is CompatibilityMode {
  return normalizeCompatibilityMode(mode) !== undefined;
}

function canonical(mode: CompatibilityMode): CanonicalCompatibilityMode {
  const m = normalizeCompatibilityMode(mode);
  if (m === undefined) {
    throw new SchemaError(
      "SCHEMA_OPTIONS_INVALID",
      `compatibility mode must be one of ${CANONICAL_COMPATIBILITY_MODES.join(", ")} (got ${JSON.stringify(mode)})`,
      {
        details: { option: "mode", value: mode, supported: CANONICAL_COMPATIBILITY_MODES },
      },
    );
  }
  return m;
}

/** Which directions a mode checks, and whether against every earlier version. */
export function modeChecks(mode: CompatibilityMode): { backward: boolean; forward: boolean; transitive: boolean } {
  const m = canonical(mode);
  return {
    backward: m.startsWith("BACKWARD") || m.startsWith("FULL"),
    forward: m.startsWith("FORWARD") || m.startsWith("FULL"),
    transitive: m.endsWith("_TRANSITIVE"),
  };
}

/** The breaking changes from `previous` to `next` in one direction (the registry's pairwise check). */
export function directionalChanges(direction: "backward" | "forward", previous: PreparedSchema, next: PreparedSchema): BreakingChange[] {
  if (previous.type !== next.type) {
    return [{ path: "", rule: "schema.type-changed", message: `the schema type changed from ${previous.type} to ${next.type}` }];
  }
  switch (next.type) {
    case "protobuf":
      // Protobuf readers skip unknown fields, so one set of rules protects both directions.
      return protobufBreakingChanges(previous, next);
    case "avro":
      return avroBreakingChanges(direction, previous, next);
    case "json":
      return jsonBreakingChanges(direction, parseJsonDefinition(previous.definition), parseJsonDefinition(next.definition));
    default:
      throw new SchemaError("SCHEMA_INVALID", `unknown schema type ${JSON.stringify((next as PreparedSchema).type)}`, {
        details: { path: "type", message: "unknown schema type" },
      });
  }
}

function pairChanges(mode: CanonicalCompatibilityMode, previous: PreparedSchema, next: PreparedSchema): BreakingChange[] {
  const { backward, forward } = modeChecks(mode);
  const out: BreakingChange[] = [];
  const add = (c: BreakingChange): void => {
    if (!out.some((o) => o.rule === c.rule && o.path === c.path)) out.push(c);
  };
  if (backward) directionalChanges("backward", previous, next).forEach(add);
  if (forward) directionalChanges("forward", previous, next).forEach(add);
  return out;
}

/**
 * Lists how `next` breaks `mode`; an empty list means compatible. `previous` is the version
 * before it, or the list of earlier versions oldest first: transitive modes check every one of
 * them, the others only the last. Changes found against one of several versions carry `against`,
 * its position in the list.
 *
 * JSON Schema: backward checks that the new schema accepts everything the old one accepted,
 * forward the reverse. Avro: the specification's schema resolution, new reading old (backward)
 * and old reading new (forward). Protobuf: the descriptor rules apply in every mode but NONE.
 * Throws SCHEMA_INVALID when a schema cannot be read, SCHEMA_OPTIONS_INVALID for an unknown mode.
 */
export function checkCompatibility(
  mode: CompatibilityMode,
  previous: PreparedSchema | readonly PreparedSchema[],
  next: PreparedSchema,
): BreakingChange[] {
  const m = canonical(mode);
  if (m === "NONE") return [];
  if (!Array.isArray(previous)) return pairChanges(m, previous as PreparedSchema, next);
  const list = previous as readonly PreparedSchema[];
  if (list.length === 0) return [];
  const { transitive } = modeChecks(m);
  const from = transitive ? 0 : list.length - 1;
  const out: BreakingChange[] = [];
  for (let i = list.length - 1; i >= from; i--) {
    for (const c of pairChanges(m, list[i] as PreparedSchema, next)) out.push({ ...c, against: i });
  }
  return out;
}

/** Like {@link checkCompatibility}, but throws SCHEMA_INCOMPATIBLE listing the breaking changes. */
export function assertCompatible(
  mode: CompatibilityMode,
  previous: PreparedSchema | readonly PreparedSchema[],
  next: PreparedSchema,
): void {
  const changes = checkCompatibility(mode, previous, next);
  if (changes.length === 0) return;
  const first = changes[0] as BreakingChange;
  const more = changes.length > 1 ? ` (and ${changes.length - 1} more)` : "";
  throw new SchemaError("SCHEMA_INCOMPATIBLE", `the new schema version breaks ${mode} compatibility: ${first.message}${more}`, {
    details: { mode, changes },
  });
}
