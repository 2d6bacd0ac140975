import type { JsonBucket } from "../nats/index.js";
import { DEFAULT_TENANT, JunctionError } from "../protocol/index.js";
import type { Clock } from "../support/index.js";

/** The KV bucket holding per-station DLS retention (key = station, or `<tenant>.<station>`). */
export const DLS_RETENTION_BUCKET = "jn_dls_retention";

/** How long a station's dead letters are kept, and how many. */
export interface DlsRetention {
  /** Seconds a dead letter is kept; 0 = until the cap removes it. */
  maxAgeSeconds: number;
  /** At most this many dead letters for the station (the oldest go first). */
  maxEntries: number;
}

const LIMITS = [
  ["maxAgeSeconds", 0],
  ["maxEntries", 1],
] as const;

function key(tenant: string, station: string): string {
  return tenant === DEFAULT_TENANT ? station : `${tenant}.${station}`;
}

/** The valid fields of a stored setting (a stored value is untrusted input: bad fields are ignored). */
function validStored(v: unknown): Partial<DlsRetention> {
  const out: Partial<DlsRetention> = {};
  if (typeof v !== "object" || v === null) return out;
  for (const [k, min] of LIMITS) {
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === "number" && Number.isInteger(x) && x >= min) out[k] = x;
  }
  return out;
}

/**
 * Per-station DLS retention: stored in KV, read through a short cache (a change made through one
 * gateway reaches the others within `cacheMs`). The age applies to dead letters written after
 * the change (it travels with each entry as its TTL); the cap applies at once.
 */
export class RetentionStore {
  readonly #kv: JsonBucket<unknown>;
  readonly #defaults: DlsRetention;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { at: number; value: DlsRetention }>();
  readonly #clock: Clock;

  constructor(kv: JsonBucket<unknown>, defaults: DlsRetention, cacheMs: number, clock: Clock) {
    this.#kv = kv;
    this.#defaults = defaults;
    this.#cacheMs = cacheMs;
    this.#clock = clock;
  }

  async #stored(k: string): Promise<Partial<DlsRetention>> {
    try {
      return validStored((await this.#kv.get(k))?.value);
    } catch {
      return {}; // not JSON: ignored like any bad field
    }
  }

  /** The station's effective retention. */
  async get(station: string, tenant: string = DEFAULT_TENANT): Promise<DlsRetention> {
    const k = key(tenant, station);
    const c = this.#cache.get(k);
    if (c && this.#clock.now() - c.at < this.#cacheMs) return c.value;
    const value = { ...this.#defaults, ...(await this.#stored(k)) };
    this.#cache.set(k, { at: this.#clock.now(), value });
    return value;
  }

  /** Changes the given fields; returns the effective retention. */
  async set(station: string, change: Partial<DlsRetention>, tenant: string = DEFAULT_TENANT): Promise<DlsRetention> {
    for (const [k, min] of LIMITS) {
      const v = change[k];
      if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v) || v < min)) {
        throw new JunctionError("INVALID_ARGUMENT", `'${k}' must be an integer >= ${min}`, { details: { field: k, value: v } });
      }
    }
    const kk = key(tenant, station);
    const next: Partial<DlsRetention> = { ...(await this.#stored(kk)) };
    if (change.maxAgeSeconds !== undefined) next.maxAgeSeconds = change.maxAgeSeconds;
    if (change.maxEntries !== undefined) next.maxEntries = change.maxEntries;
    await this.#kv.put(kk, next);
    const value = { ...this.#defaults, ...next };
    this.#cache.set(kk, { at: this.#clock.now(), value });
    return value;
  }

  /** Forgets a station's setting (station deleted). */
  async forget(station: string, tenant: string = DEFAULT_TENANT): Promise<void> {
    const k = key(tenant, station);
    this.#cache.delete(k);
    await this.#kv.delete(k);
  }
}
