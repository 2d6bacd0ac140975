/**
 * The announcements of a consumer group's members on `jn.members.<stream>.<group>`: JSON
 * `{"id", "kind", "parts"}`. On a partitioned station the members share the partitions out by
 * them (sdk/membership.ts); the gateway counts and shows them in group info.
 */
import { MAX_PARTITIONS } from "./keys.js";

/** `hello` on joining (the others answer at once), `beat` now and then, `bye` on leaving. */
export type PresenceKind = "hello" | "beat" | "bye";

/** One announcement. */
export interface Presence {
  /** The member's id, unique in its group. */
  id: string;
  kind: PresenceKind;
  /** The partitions the member reads, by its own view. */
  parts: number[];
  /** Keys whose message the member is retrying now (a few at most, see MAX_RETRYING). */
  retrying?: string[] | undefined;
}

/** Keys being retried one announcement lists at most. */
export const MAX_RETRYING = 20;
/** Longest key listed, in characters. */
const MAX_LISTED_KEY = 256;

/** Longest member id accepted, in characters. */
export const MAX_MEMBER_ID = 64;
/** Partition numbers accepted in an announcement. */
const MAX_PART = MAX_PARTITIONS;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes an announcement. */
export function encodePresence(p: Presence): Uint8Array {
  return enc.encode(JSON.stringify(p));
}

/** Decodes an announcement; undefined for anything malformed (it is ignored). */
export function parsePresence(data: Uint8Array): Presence | undefined {
  let m: unknown;
  try {
    m = JSON.parse(dec.decode(data));
  } catch {
    return undefined;
  }
  if (typeof m !== "object" || m === null) return undefined;
  const { id, kind, parts, retrying } = m as { id?: unknown; kind?: unknown; parts?: unknown; retrying?: unknown };
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_MEMBER_ID) return undefined;
  if (kind !== "hello" && kind !== "beat" && kind !== "bye") return undefined;
  const list = Array.isArray(parts)
    ? parts.slice(0, MAX_PART).filter((p): p is number => Number.isInteger(p) && p >= 0 && p < MAX_PART)
    : [];
  const keys = Array.isArray(retrying)
    ? retrying.slice(0, MAX_RETRYING).filter((k): k is string => typeof k === "string" && k.length > 0 && k.length <= MAX_LISTED_KEY)
    : [];
  return { id, kind, parts: list, ...(keys.length > 0 ? { retrying: keys } : {}) };
}
