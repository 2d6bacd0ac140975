import type { JsonStore } from "../nats/index.js";
import { JunctionError } from "../protocol/index.js";

/** The KV bucket holding per-station DLS retention (key = station). */
export const DLS_RETENTION_BUCKET = "jn_dls_retention";

/** How long a station's dead letters are kept, and how many. */
export interface DlsRetention {
  /** Seconds a dead letter is kept; 0 = until the cap removes it. */
  maxAgeSeconds: number;
  /** At most this many dead letters for the station (the oldest go first). */
  maxEntries: number;
}

/**
 * Per-station DLS retention: stored in KV, read through a short cache (a change made through one
 * gateway reaches the others within `cacheMs`). The age applies to dead letters written after
 * the change (it travels with each entry as its TTL); the cap applies at once.
 */
export class RetentionStore {
  readonly #kv: JsonStore<Partial<DlsRetention>>;
  readonly #defaults: DlsRetention;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { at: number; value: DlsRetention }>();
  readonly #now: () => number;

  constructor(kv: JsonStore<Partial<DlsRetention>>, defaults: DlsRetention, cacheMs: number, now: () => number = Date.now) {
    this.#kv = kv;
    this.#defaults = defaults;
    this.#cacheMs = cacheMs;
    this.#now = now;
  }

  /** The station's effective retention. */
  async get(station: string): Promise<DlsRetention> {
    const c = this.#cache.get(station);
    if (c && this.#now() - c.at < this.#cacheMs) return c.value;
    const stored = await this.#kv.get(station);
    const value = { ...this.#defaults, ...stored };
    this.#cache.set(station, { at: this.#now(), value });
    return value;
  }

  /** Changes the given fields; returns the effective retention. */
  async set(station: string, change: Partial<DlsRetention>): Promise<DlsRetention> {
    for (const [k, min] of [
      ["maxAgeSeconds", 0],
      ["maxEntries", 1],
    ] as const) {
      const v = change[k];
      if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min)) {
        throw new JunctionError("INVALID_ARGUMENT", `'${k}' must be an integer >= ${min}`, { details: { field: k, value: v } });
      }
    }
    const stored = (await this.#kv.get(station)) ?? {};
    const next: Partial<DlsRetention> = { ...stored };
    if (change.maxAgeSeconds !== undefined) next.maxAgeSeconds = change.maxAgeSeconds;
    if (change.maxEntries !== undefined) next.maxEntries = change.maxEntries;
    await this.#kv.put(station, next);
    const value = { ...this.#defaults, ...next };
    this.#cache.set(station, { at: this.#now(), value });
    return value;
  }

  /** Forgets a station's setting (station deleted). */
  async forget(station: string): Promise<void> {
    this.#cache.delete(station);
    await this.#kv.delete(station);
  }
}
