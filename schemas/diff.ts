import { directionalChanges } from "./compat.js";
import { modesOf, type RuleDirection } from "./rules.js";
import type { BreakingChange, PreparedSchema, SchemaChange } from "./types.js";

/**
 * The structural changes from version `a` to version `b`, each with the rule it triggers and the
 * compatibility modes under which it is refused. A change that breaks only when old data is read
 * with the new schema breaks the BACKWARD modes (and FULL); one that breaks only the other way
 * round breaks the FORWARD modes (and FULL); Protobuf rules break every mode but NONE.
 * An empty list means the two versions are compatible in every mode.
 */
export function diffSchemas(a: PreparedSchema, b: PreparedSchema): SchemaChange[] {
  const found = new Map<string, { change: BreakingChange; backward: boolean; forward: boolean }>();
  const add = (c: BreakingChange, dir: "backward" | "forward"): void => {
    const key = `${c.rule}\u0000${c.path}`;
    const entry = found.get(key) ?? { change: c, backward: false, forward: false };
    entry[dir] = true;
    found.set(key, entry);
  };
  for (const c of directionalChanges("backward", a, b)) add(c, "backward");
  for (const c of directionalChanges("forward", a, b)) add(c, "forward");
  const out: SchemaChange[] = [];
  for (const { change, backward, forward } of found.values()) {
    const direction: RuleDirection = backward && forward ? "both" : backward ? "backward" : "forward";
    out.push({ path: change.path, rule: change.rule, message: change.message, breaks: [...modesOf(direction)] });
  }
  return out.sort((x, y) => (x.path === y.path ? (x.rule < y.rule ? -1 : 1) : x.path < y.path ? -1 : 1));
}
