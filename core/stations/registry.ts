import type { JsonBucket } from "../nats/index.js";
import type { StationConfig } from "../protocol/index.js";

/** A station's metadata record in KV `jn_stations`. */
export interface StationRecord {
  name: string;
  config: StationConfig;
  createdAt: string;
  /** Attached schema (set by the schema handlers). */
  schema?: { name: string; version: number | "latest"; allowUnknownFields?: boolean } | undefined;
  /** Function pipeline (set by the function handlers). */
  functions?: { name: string; version: number | "latest"; inputs: Record<string, string> }[];
}

/**
 * Station records with an in-memory cache kept fresh by a KV watch. A cache miss reads KV, so
 * a station created through another gateway is found before its watch event arrives.
 */
export class StationRegistry {
  readonly #bucket: JsonBucket<unknown>;
  readonly #cache = new Map<string, StationRecord>();
  #watch: { stop(): void } | undefined;
  readonly #listeners = new Set<(name: string, rec: StationRecord | undefined) => void>();

  constructor(bucket: JsonBucket<unknown>) {
    this.#bucket = bucket;
  }

  /** Starts the watch. */
  async start(): Promise<void> {
    this.#watch = await this.#bucket.watch((key, value) => {
      if (value === undefined) this.#cache.delete(key);
      else this.#cache.set(key, value as StationRecord);
      for (const l of this.#listeners) l(key, value as StationRecord | undefined);
    });
  }

  /** Calls `fn` on every change seen by the watch. */
  onChange(fn: (name: string, rec: StationRecord | undefined) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The cached record (no I/O). */
  cached(name: string): StationRecord | undefined {
    return this.#cache.get(name);
  }

  /** The record, from the cache or KV. */
  async get(name: string): Promise<StationRecord | undefined> {
    const c = this.#cache.get(name);
    if (c) return c;
    const e = await this.#bucket.get(name);
    if (!e) return undefined;
    const rec = e.value as StationRecord;
    this.#cache.set(name, rec);
    return rec;
  }

  /** Reads KV, bypassing the cache. */
  async fresh(name: string): Promise<StationRecord | undefined> {
    const e = await this.#bucket.get(name);
    return e?.value as StationRecord | undefined;
  }

  async put(rec: StationRecord): Promise<void> {
    await this.#bucket.put(rec.name, rec);
    this.#cache.set(rec.name, rec);
  }

  async delete(name: string): Promise<void> {
    await this.#bucket.delete(name);
    this.#cache.delete(name);
  }

  async names(): Promise<string[]> {
    return (await this.#bucket.keys()).sort();
  }

  close(): void {
    this.#watch?.stop();
    this.#listeners.clear();
  }
}
