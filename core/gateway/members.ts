/**
 * The members of consumer groups, as they announce themselves on `jn.members.<stream>.<group>`
 * (the client account exports that subject to the broker's): who is online and, on a partitioned
 * station, which partitions each reads by its own view. Group info shows it; nothing depends on
 * it (the members share the partitions among themselves). Bounded: a flood of made-up members
 * cannot grow the gateway's memory past MAX_TRACKED.
 */
import { parseMembersSubject, parsePresence } from "../protocol/index.js";
import type { Clock } from "../support/index.js";

/** One member as last heard. */
export interface MemberSeen {
  id: string;
  /** The partitions it reads, by its view. */
  partitions: number[];
  /** When it was last heard (ms). */
  at: number;
  /** Keys whose message it is retrying now (a few at most). */
  retrying: string[];
}

/**
 * The members of a group online: those heard; on a one-partition station the pull requests
 * waiting if more (clients that do not announce themselves: a Memphis SDK, an older SDK). On a
 * partitioned station each member waits only on its own partitions, so waiting requests say nothing.
 */
export function membersOnline(partitioned: boolean, heard: number, waiting: number): number {
  return partitioned ? heard : Math.max(heard, waiting);
}

/** Members tracked at most, over every group. */
export const MAX_TRACKED = 100_000;
/** Members forgotten after this long unheard, whatever the group's member timeout (ms). */
const FORGET_MS = 10 * 60_000;

/** Live presence of consumer groups' members. */
export class MemberBoard {
  readonly #clock: Clock;
  /** By `<stream> <group>`, then by member id. */
  readonly #groups = new Map<string, Map<string, MemberSeen>>();
  #count = 0;
  #lastPrune = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Members tracked now (every group). */
  get size(): number {
    return this.#count;
  }

  /** Takes one announcement; anything malformed is ignored. */
  heard(subject: string, data: Uint8Array): void {
    const where = parseMembersSubject(subject);
    const p = where ? parsePresence(data) : undefined;
    if (!where || !p) return;
    const key = `${where.stream} ${where.group}`;
    let g = this.#groups.get(key);
    if (p.kind === "bye") {
      if (g?.delete(p.id)) this.#count--;
      if (g?.size === 0) this.#groups.delete(key);
      return;
    }
    if (!g?.has(p.id)) {
      if (this.#count >= MAX_TRACKED) this.#prune();
      if (this.#count >= MAX_TRACKED) return;
      if (!g) this.#groups.set(key, (g = new Map()));
      this.#count++;
    }
    const now = this.#clock.now();
    g!.set(p.id, { id: p.id, partitions: p.parts, at: now, retrying: p.retrying ?? [] });
    if (now - this.#lastPrune > FORGET_MS) {
      this.#lastPrune = now;
      this.#prune();
    }
  }

  /** The members of a group heard within `expiryMs` (its member timeout), sorted by id. */
  members(stream: string, group: string, expiryMs: number): MemberSeen[] {
    const g = this.#groups.get(`${stream} ${group}`);
    if (!g) return [];
    const now = this.#clock.now();
    return [...g.values()].filter((m) => now - m.at <= expiryMs).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Forgets members unheard for FORGET_MS; runs now and then as announcements arrive, and when full. */
  #prune(): void {
    const now = this.#clock.now();
    for (const [key, g] of this.#groups) {
      for (const [id, m] of g) {
        if (now - m.at > FORGET_MS) {
          g.delete(id);
          this.#count--;
        }
      }
      if (g.size === 0) this.#groups.delete(key);
    }
  }
}
