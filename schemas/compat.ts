import { SchemaError } from "./errors.js";
import { jsonBreakingChanges } from "./json/compat.js";
import { parseJsonSchema } from "./json/schema.js";
import { protobufBreakingChanges } from "./protobuf/compat.js";
import type { BreakingChange, CompatibilityMode, PreparedSchema } from "./types.js";

/**
 * Lists how `next` breaks `mode` relative to `previous`; an empty list means compatible.
 * JSON Schema: `backward` checks that the new schema accepts everything the old one accepted,
 * `forward` the reverse, `full` both. Protobuf: the descriptor rules apply in every mode but `none`.
 * Throws SCHEMA_INVALID when either schema cannot be read.
 */
export function checkCompatibility(mode: CompatibilityMode, previous: PreparedSchema, next: PreparedSchema): BreakingChange[] {
  if (mode === "none") return [];
  if (previous.type !== next.type) {
    return [{ path: "", rule: "schema.type-changed", message: `the schema type changed from ${previous.type} to ${next.type}` }];
  }
  if (next.type === "protobuf") return protobufBreakingChanges(previous, next);
  const prev = parseJsonSchema(previous.definition).schema;
  const nxt = parseJsonSchema(next.definition).schema;
  const out: BreakingChange[] = [];
  if (mode === "backward" || mode === "full") out.push(...jsonBreakingChanges("backward", prev, nxt));
  if (mode === "forward" || mode === "full") {
    for (const c of jsonBreakingChanges("forward", prev, nxt)) {
      if (!out.some((o) => o.rule === c.rule && o.path === c.path)) out.push(c);
    }
  }
  return out;
}

/** Like {@link checkCompatibility}, but throws SCHEMA_INCOMPATIBLE listing the breaking changes. */
export function assertCompatible(mode: CompatibilityMode, previous: PreparedSchema, next: PreparedSchema): void {
  const changes = checkCompatibility(mode, previous, next);
  if (changes.length === 0) return;
  const first = changes[0] as BreakingChange;
  const more = changes.length > 1 ? ` (and ${changes.length - 1} more)` : "";
  throw new SchemaError("SCHEMA_INCOMPATIBLE", `the new schema version breaks ${mode} compatibility: ${first.message}${more}`, {
    details: { mode, changes },
  });
}
