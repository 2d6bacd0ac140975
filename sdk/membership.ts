/**
 * Who the members of a consumer group on a partitioned station are, and which partitions are
 * whose (the partitioned group's assignment).
 *
 * Members announce themselves on the group's presence subject (`jn.members.<stream>.<group>`,
 * JSON `{id, kind, parts}`, `parts` being the partitions the member reads by its view):
 * a `hello` on joining (everyone answers at once with a heartbeat, so a newcomer knows the group
 * within a round trip), a heartbeat every `heartbeatMs`, a `bye` on leaving. A member not heard
 * for `expiryMs` (the group's member timeout) is gone. Every member sorts the ids it knows and
 * takes partition i when it is the (i mod members)-th: the same list gives the same answer
 * everywhere, with no leader and no extra round trip. Views that differ for a moment (a
 * heartbeat in flight) cost no order: a partition is read by whoever holds its server-side pin,
 * one message at a time; the cost is a partition waited on by two members, or by none, until the
 * views agree.
 */
import { MAX_RETRYING, encodePresence, parsePresence, type PresenceKind } from "../core/protocol/index.js";
import type { RawMessage } from "./transport.js";

/** What membership needs of the connection. */
export interface PresenceBus {
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, onMessage: (m: RawMessage) => void): () => void;
}

/** Settings of a {@link Membership}. */
export interface MembershipOptions {
  /** The group's presence subject. */
  subject: string;
  /** This member's id (unique in the group). */
  id: string;
  /** The station's partitions. */
  partitions: number;
  /** Between two heartbeats, in ms. */
  heartbeatMs: number;
  /** A member not heard for this long is gone, in ms (the group's member timeout). */
  expiryMs: number;
  /** How long a newcomer listens for the others' answers before taking partitions, in ms. */
  settleMs: number;
  /** The clock, in ms. */
  now: () => number;
  /** The keys this member is retrying now (announced with every heartbeat). */
  retrying?: (() => string[]) | undefined;
  /**
   * Whether the member listens to the others (default true). A member of a group on a
   * one-partition station only announces itself, for the gateway to count and show: it has no
   * partitions to share, so it needs nobody's heartbeats (and a big group costs no N² traffic).
   */
  listen?: boolean | undefined;
}

/** The most members one view holds (announcements past it are ignored: a flood cannot grow memory). */
export const MAX_MEMBERS = 4096;

/** The partitions `self` takes when the group's members are `members` (ids, any order). */
export function assignPartitions(members: readonly string[], partitions: number, self: string): number[] {
  const sorted = [...new Set([...members, self])].sort();
  const at = sorted.indexOf(self);
  const out: number[] = [];
  for (let i = at; i < partitions; i += sorted.length) out.push(i);
  return out;
}

/** One member's view of its group, and the partitions that are its own by that view. */
export class Membership {
  readonly #o: MembershipOptions;
  readonly #bus: PresenceBus;
  readonly #onChange: (owned: ReadonlySet<number>) => void;
  /** The others, by id: when each was last heard (ms). */
  readonly #members = new Map<string, number>();
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #settle: NodeJS.Timeout | undefined;
  #settled = false;
  #owned = "";
  #lastAnswer = -Infinity;
  #lastTick = 0;
  #running = false;
  #partitions: number;

  constructor(bus: PresenceBus, o: MembershipOptions, onChange: (owned: ReadonlySet<number>) => void) {
    this.#bus = bus;
    this.#o = o;
    this.#onChange = onChange;
    this.#partitions = o.partitions;
  }

  /** The station grew to `partitions`: the partitions are shared out again. */
  resize(partitions: number): void {
    if (partitions <= this.#partitions) return;
    this.#partitions = partitions;
    this.#update();
  }

  /** Joins: listens, says hello, and takes its partitions once the others had time to answer. */
  start(): void {
    this.#running = true;
    if (this.#o.listen !== false) {
      this.#unsubscribe = this.#bus.subscribe(this.#o.subject, (m) => this.#heard(m.data));
      this.#settle = setTimeout(() => {
        this.#settled = true;
        this.#update();
      }, this.#o.settleMs);
      this.#settle.unref();
    }
    this.#say("hello");
    this.#lastTick = this.#o.now();
    this.#timer = setInterval(() => this.tick(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /** Every member this one knows of, itself included, sorted. */
  get members(): string[] {
    return [...this.#members.keys(), this.#o.id].sort();
  }

  /** Heartbeat and expiry; runs every heartbeatMs (exposed for tests with their own clock). */
  tick(): void {
    this.#say("beat");
    const now = this.#o.now();
    const late = now - this.#lastTick > 2 * this.#o.heartbeatMs;
    this.#lastTick = now;
    // Back from a stall of this process (a long GC, a blocked event loop): the others'
    // heartbeats of that time are still queued, so nobody is declared gone on this tick.
    if (late) return;
    let changed = false;
    for (const [id, at] of this.#members) {
      if (now - at > this.#o.expiryMs) {
        this.#members.delete(id);
        changed = true;
      }
    }
    if (changed) this.#update();
  }

  /** Leaves: says bye (the others take its partitions at once) and stops listening. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#say("bye");
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#settle) clearTimeout(this.#settle);
  }

  /** Announces this member, with the partitions it reads by its view (the gateway shows them). */
  #say(kind: PresenceKind): void {
    const parts = this.#owned === "" ? [] : this.#owned.split(",").map(Number);
    const retrying = kind === "bye" ? [] : (this.#o.retrying?.() ?? []).slice(0, MAX_RETRYING);
    this.#bus.publish(this.#o.subject, encodePresence({ id: this.#o.id, kind, parts, ...(retrying.length ? { retrying } : {}) }));
  }

  #heard(data: Uint8Array): void {
    const p = parsePresence(data);
    if (!p || p.id === this.#o.id) return;
    const { id, kind } = p;
    if (kind === "bye") {
      if (this.#members.delete(id)) this.#update();
      return;
    }
    const known = this.#members.has(id);
    if (!known && this.#members.size >= MAX_MEMBERS) return;
    this.#members.set(id, this.#o.now());
    if (kind === "hello") {
      // Answer a newcomer at once (each new id once: the view is bounded, so are the answers);
      // a known member saying hello again is answered at most a few times per heartbeat.
      const now = this.#o.now();
      if (!known || now - this.#lastAnswer >= this.#o.heartbeatMs / 8) {
        this.#lastAnswer = now;
        this.#say("beat");
      }
    }
    if (!known) this.#update();
  }

  #update(): void {
    if (!this.#settled || !this.#unsubscribe) return;
    const owned = assignPartitions([...this.#members.keys()], this.#partitions, this.#o.id);
    const key = owned.join(",");
    if (key === this.#owned) return;
    this.#owned = key;
    this.#onChange(new Set(owned));
    this.#say("beat");
  }
}
