import type { SystemAdmin } from "../nats/index.js";
import type { Clock, Logger } from "../support/index.js";

/** What the connection counter needs. */
export interface ConnectionCounterOptions {
  /** The system account (finds a user's live connections on every server); without it nothing is counted. */
  system: Pick<SystemAdmin, "connections"> | undefined;
  /** The account application users are in. */
  account: string;
  clock: Clock;
  logger: Logger;
  /** How long a count read from the servers is used before it is read again, in ms. @default 2000 */
  freshMs?: number | undefined;
  /** Users remembered at most (the least recently seen go first). @default 10000 */
  maxUsers?: number | undefined;
}

interface Entry {
  /** Live connections the servers reported at the last read. */
  base: number;
  /** Connections this gateway admitted since that read started. */
  admitted: number;
  /** When the last read started (ms). */
  readAt: number;
  /** The read under way, if any. */
  reading: Promise<void> | undefined;
}

/**
 * Counts a user's live connections for the auth callout without making each connection wait:
 * the count comes from the servers (through the system account, which takes up to half a
 * second) at most every `freshMs` per user, in the background, and the connections this
 * gateway admits in between are added to it. A burst from one user is therefore counted at once
 * on this gateway; what other gateways admitted shows at the next read. Only a refusal waits: for
 * the read under way, or for a new one when connections were admitted since the last read
 * started, so a user is refused only on a count the servers confirmed.
 */
export class ConnectionCounter {
  readonly #o: ConnectionCounterOptions & { freshMs: number; maxUsers: number };
  readonly #entries = new Map<string, Entry>();
  #lastError = -Infinity;

  constructor(o: ConnectionCounterOptions) {
    this.#o = { ...o, freshMs: o.freshMs ?? 2000, maxUsers: o.maxUsers ?? 10_000 };
  }

  /** Whether live connections can be counted at all (there is a system account). */
  get enabled(): boolean {
    return this.#o.system !== undefined;
  }

  /**
   * Admits one more connection of `user` unless it has `limit` already; returns the count it was
   * judged by (the admitted one not included) and whether it was admitted.
   */
  async admit(user: string, limit: number): Promise<{ admitted: boolean; current: number }> {
    if (!this.#o.system) return { admitted: true, current: 0 };
    const now = this.#o.clock.now();
    let e = this.#entries.get(user);
    if (e)
      this.#entries.delete(user); // re-inserted below: the map stays in least-recently-seen order
    else e = { base: 0, admitted: 0, readAt: -Infinity, reading: undefined };
    this.#entries.set(user, e);
    this.#trim();
    if (!e.reading && now - e.readAt >= this.#o.freshMs) e.reading = this.#read(user, e, now);
    if (e.base + e.admitted >= limit) {
      // Refuse only on a count the servers confirm: wait for the read under way, and read again
      // when this gateway admitted connections since that read started (they may be in its
      // answer and counted twice).
      if (e.reading) await e.reading;
      if (e.base + e.admitted >= limit && e.admitted > 0) await (e.reading ??= this.#read(user, e, this.#o.clock.now()));
    }
    const current = e.base + e.admitted;
    if (current >= limit) return { admitted: false, current };
    e.admitted++;
    return { admitted: true, current };
  }

  /** The count this gateway holds for a user now (tests, `quota list`). */
  count(user: string): number | undefined {
    const e = this.#entries.get(user);
    return e ? e.base + e.admitted : undefined;
  }

  #read(user: string, e: Entry, now: number): Promise<void> {
    e.readAt = now;
    const before = e.admitted;
    return this.#o.system!.connections(this.#o.account, user).then(
      (list) => {
        // Connections admitted after the read started are (mostly) not in its answer: keep
        // counting them; one counted twice for a moment errs on the safe side.
        e.base = list.length;
        e.admitted -= before;
        e.reading = undefined;
      },
      (err: unknown) => {
        e.reading = undefined;
        const t = this.#o.clock.now();
        // A failing system account must not lock users out: keep the local count, log once a minute.
        if (t - this.#lastError > 60_000) {
          this.#lastError = t;
          this.#o.logger.warn("could not count a user's connections; the connections quota counts this gateway's admissions only", {
            user,
            error: String(err),
          });
        }
      },
    );
  }

  #trim(): void {
    while (this.#entries.size > this.#o.maxUsers) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}
