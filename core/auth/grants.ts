import { JunctionError, type Grants } from "../protocol/index.js";

/** No rights at all. */
export const NO_GRANTS: Readonly<Grants> = Object.freeze({ produce: [], consume: [], admin: false });

/** A pattern: name characters and `*`. */
const PATTERN = /^[a-z0-9_*-]{1,64}$/;

/** Why a pattern is not one, or undefined. */
export function patternProblem(p: unknown): string | undefined {
  if (typeof p !== "string") return "must be a string";
  if (!PATTERN.test(p)) return "must hold only lowercase letters, digits, '-', '_' and '*' (at most 64)";
  return undefined;
}

/** Whether a name matches a pattern (`*` = any run of characters, possibly empty). */
export function globMatch(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  const parts = pattern.split("*");
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!name.startsWith(first) || name.length < first.length + last.length || !name.endsWith(last)) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const j = name.indexOf(parts[i]!, at);
    if (j < 0 || j > name.length - last.length) return false;
    at = j + parts[i]!.length;
  }
  return at <= name.length - last.length;
}

/** Whether a pattern names exactly one thing. */
export function isExact(pattern: string): boolean {
  return !pattern.includes("*");
}

/** Splits a consume grant `station:group`. */
export function splitConsume(grant: string): { station: string; group: string } {
  const i = grant.indexOf(":");
  return i < 0 ? { station: grant, group: "*" } : { station: grant.slice(0, i), group: grant.slice(i + 1) };
}

/** Validates grants from a request or a record; INVALID_ARGUMENT names the bad one. */
export function resolveGrants(input: unknown): Grants {
  const bad = (field: string, why: string) =>
    new JunctionError("INVALID_ARGUMENT", `grants.${field} ${why}`, { details: { field: `grants.${field}` } });
  if (input === undefined) return { produce: [], consume: [], admin: false };
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw bad("", "must be an object");
  const g = input as Record<string, unknown>;
  const list = (k: "produce" | "consume"): string[] => {
    const v = g[k] ?? [];
    if (!Array.isArray(v) || v.length > 256) throw bad(k, "must be a list of at most 256 patterns");
    return v.map((p, i) => {
      if (k === "consume") {
        if (typeof p !== "string") throw bad(`${k}[${i}]`, "must be a string");
        const { station, group } = splitConsume(p);
        const why = patternProblem(station) ?? patternProblem(group);
        if (why) throw bad(`${k}[${i}]`, `('${p}') ${why}`);
        return `${station}:${group}`;
      }
      const why = patternProblem(p);
      if (why) throw bad(`${k}[${i}]`, `('${String(p)}') ${why}`);
      return p as string;
    });
  };
  if (g["admin"] !== undefined && typeof g["admin"] !== "boolean") throw bad("admin", "must be a boolean");
  for (const k of Object.keys(g))
    if (!["produce", "consume", "admin"].includes(k)) throw bad(k, "is not a grant (produce, consume, admin)");
  return { produce: [...new Set(list("produce"))], consume: [...new Set(list("consume"))], admin: g["admin"] === true };
}

/** Whether the grants let the user produce to the station. */
export function canProduce(g: Grants, station: string): boolean {
  return g.admin || g.produce.some((p) => globMatch(p, station));
}

/** Whether the grants let the user consume as the group of the station. */
export function canConsume(g: Grants, station: string, group: string): boolean {
  return (
    g.admin ||
    g.consume.some((c) => {
      const { station: s, group: gr } = splitConsume(c);
      return globMatch(s, station) && globMatch(gr, group);
    })
  );
}

/** Whether the user has any grant on the station (and may see it). */
export function canSee(g: Grants, station: string): boolean {
  return g.admin || canProduce(g, station) || g.consume.some((c) => globMatch(splitConsume(c).station, station));
}
