import type { JsonBucket } from "../nats/index.js";
import { groupKey, parseGroupRecord, parseStationRecord, type GroupRecord, type StationRecord } from "./records.js";

/** Told about a record in the store that fails validation (it is skipped). */
export type InvalidRecordHandler = (key: string, err: unknown) => void;

/**
 * Station records with an in-memory cache kept fresh by a KV watch. A cache miss reads KV, so a
 * station created through another gateway is found before its watch event arrives. Every record
 * read is validated; an invalid one is reported to `onInvalid` and treated as absent, so one bad
 * record never stops a gateway or the other stations.
 */
export class StationRegistry {
  readonly #bucket: JsonBucket<unknown>;
  readonly #cache = new Map<string, StationRecord>();
  readonly #onInvalid: InvalidRecordHandler;
  #watch: { stop(): void } | undefined;
  readonly #listeners = new Set<(name: string, rec: StationRecord | undefined) => void>();

  constructor(bucket: JsonBucket<unknown>, onInvalid: InvalidRecordHandler = () => {}) {
    this.#bucket = bucket;
    this.#onInvalid = onInvalid;
  }

  #parse(key: string, value: unknown): StationRecord | undefined {
    try {
      return parseStationRecord(key, value);
    } catch (err) {
      this.#onInvalid(key, err);
      return undefined;
    }
  }

  /** Starts the watch. */
  async start(): Promise<void> {
    this.#watch = await this.#bucket.watch(
      (key, value) => {
        const rec = value === undefined ? undefined : this.#parse(key, value);
        if (rec === undefined) this.#cache.delete(key);
        else this.#cache.set(key, rec);
        for (const l of this.#listeners) l(key, rec);
      },
      undefined,
      (key, err) => {
        this.#cache.delete(key);
        this.#onInvalid(key, err);
      },
    );
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
    const rec = await this.fresh(name);
    if (rec) this.#cache.set(name, rec);
    return rec;
  }

  /** Reads KV, bypassing the cache. */
  async fresh(name: string): Promise<StationRecord | undefined> {
    const e = await this.#readRaw(name);
    return e === undefined ? undefined : this.#parse(name, e);
  }

  async #readRaw(key: string): Promise<unknown> {
    try {
      return (await this.#bucket.get(key))?.value;
    } catch (err) {
      // A value that is not even JSON.
      if (err instanceof SyntaxError) {
        this.#onInvalid(key, err);
        return undefined;
      }
      throw err;
    }
  }

  async put(rec: StationRecord): Promise<void> {
    await this.#bucket.put(rec.name, rec);
    this.#cache.set(rec.name, rec);
  }

  async delete(name: string): Promise<void> {
    await this.#bucket.delete(name);
    this.#cache.delete(name);
  }

  /** Every station name in the store (valid or not), sorted. */
  async names(): Promise<string[]> {
    return (await this.#bucket.keys()).sort();
  }

  /** Every valid station record, sorted by name. */
  async list(): Promise<StationRecord[]> {
    const out: StationRecord[] = [];
    for (const n of await this.names()) {
      const r = await this.fresh(n);
      if (r) out.push(r);
    }
    return out;
  }

  close(): void {
    this.#watch?.stop();
    this.#listeners.clear();
  }
}

/** Consumer group records (validated on read like stations). */
export class GroupStore {
  readonly #bucket: JsonBucket<unknown>;
  readonly #onInvalid: InvalidRecordHandler;

  constructor(bucket: JsonBucket<unknown>, onInvalid: InvalidRecordHandler = () => {}) {
    this.#bucket = bucket;
    this.#onInvalid = onInvalid;
  }

  async get(station: string, group: string): Promise<GroupRecord | undefined> {
    const key = groupKey(station, group);
    let raw: unknown;
    try {
      raw = (await this.#bucket.get(key))?.value;
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      this.#onInvalid(key, err);
      return undefined;
    }
    if (raw === undefined) return undefined;
    try {
      return parseGroupRecord(key, raw);
    } catch (err) {
      this.#onInvalid(key, err);
      return undefined;
    }
  }

  async put(rec: GroupRecord): Promise<void> {
    await this.#bucket.put(groupKey(rec.station, rec.name), rec);
  }

  async delete(station: string, group: string): Promise<void> {
    await this.#bucket.delete(groupKey(station, group));
  }

  /** The names of a station's groups (keys present, valid or not), sorted. */
  async names(station: string): Promise<string[]> {
    const prefix = `${station}.`;
    return (await this.#bucket.keys(`${station}.*`))
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .sort();
  }

  /** Every valid group record of a station, sorted by name. */
  async list(station: string): Promise<GroupRecord[]> {
    const out: GroupRecord[] = [];
    for (const g of await this.names(station)) {
      const r = await this.get(station, g);
      if (r) out.push(r);
    }
    return out;
  }

  /** Deletes every group record of a station. */
  async deleteAll(station: string): Promise<void> {
    for (const g of await this.names(station)) await this.delete(station, g);
  }
}
