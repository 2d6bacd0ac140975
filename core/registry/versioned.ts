import type { JsonBucket } from "../nats/index.js";
import type { JunctionError } from "../protocol/index.js";

/** What every versioned thing's metadata has. */
export interface VersionedMeta {
  name: string;
  latest: number;
  createdAt: string;
  updatedAt: string;
}

/** What every stored version has. */
export interface StoredVersion {
  name: string;
  version: number;
  createdAt: string;
}

/**
 * Named things with immutable versions in one KV bucket: metadata under `<name>.meta`, versions
 * under `<name>.v<N>`. Metadata is cached and kept fresh by a watch (so every gateway sees a new
 * version without a restart); versions are cached forever, since they never change.
 */
export class VersionedStore<M extends VersionedMeta, V extends StoredVersion> {
  readonly #bucket: JsonBucket<unknown>;
  readonly #notFound: (name: string, version?: number) => JunctionError;
  readonly #meta = new Map<string, M>();
  readonly #versions = new Map<string, V>();
  readonly #listeners = new Set<(name: string, meta: M | undefined) => void>();
  #watch: { stop(): void } | undefined;

  constructor(bucket: JsonBucket<unknown>, notFound: (name: string, version?: number) => JunctionError) {
    this.#bucket = bucket;
    this.#notFound = notFound;
  }

  async start(): Promise<void> {
    this.#watch = await this.#bucket.watch((key, value) => {
      if (!key.endsWith(".meta")) return;
      const name = key.slice(0, -".meta".length);
      if (value === undefined) {
        this.#meta.delete(name);
        for (const k of [...this.#versions.keys()]) if (k.startsWith(name + "@")) this.#versions.delete(k);
      } else this.#meta.set(name, value as M);
      for (const l of this.#listeners) l(name, value as M | undefined);
    }, "*.meta");
  }

  /** Calls `fn` on every metadata change the watch sees. */
  onChange(fn: (name: string, meta: M | undefined) => void): void {
    this.#listeners.add(fn);
  }

  close(): void {
    this.#watch?.stop();
    this.#listeners.clear();
  }

  /** The metadata, from the cache or KV (always KV when `fresh`); throws the not-found error. */
  async meta(name: string, fresh = false): Promise<M> {
    const c = fresh ? undefined : this.#meta.get(name);
    if (c) return c;
    const e = await this.#bucket.get(`${name}.meta`);
    if (!e) throw this.#notFound(name);
    const m = e.value as M;
    this.#meta.set(name, m);
    return m;
  }

  /** The metadata, or undefined when there is none. */
  async maybeMeta(name: string): Promise<M | undefined> {
    const e = await this.#bucket.get(`${name}.meta`);
    return e?.value as M | undefined;
  }

  /** The cached latest version number (no I/O). */
  cachedLatest(name: string): number | undefined {
    return this.#meta.get(name)?.latest;
  }

  /** One version; `latest` resolves through the (cached) metadata. */
  async version(name: string, version: number | "latest"): Promise<V> {
    const v = version === "latest" ? (this.cachedLatest(name) ?? (await this.meta(name)).latest) : version;
    const key = `${name}@${v}`;
    const c = this.#versions.get(key);
    if (c) return c;
    const e = await this.#bucket.get(`${name}.v${v}`);
    if (!e) {
      await this.meta(name); // an unknown name is reported as such
      throw this.#notFound(name, v);
    }
    const rec = e.value as V;
    this.#versions.set(key, rec);
    return rec;
  }

  /**
   * Stores a new version and then its metadata. Returns false when another writer stored that
   * version number first (the caller retries with the next number).
   */
  async add(meta: M, version: V): Promise<boolean> {
    if (!(await this.#bucket.create(`${version.name}.v${version.version}`, version))) return false;
    await this.putMeta(meta);
    return true;
  }

  /** Stores a version only (its metadata comes later); false when that version number is taken. */
  async addVersion(version: V): Promise<boolean> {
    return await this.#bucket.create(`${version.name}.v${version.version}`, version);
  }

  /** A stored version read straight from KV (not cached), or undefined. */
  async peekVersion(name: string, version: number): Promise<V | undefined> {
    return (await this.#bucket.get(`${name}.v${version}`))?.value as V | undefined;
  }

  /** Removes one version's key (a registration that did not complete). */
  async removeVersion(name: string, version: number): Promise<void> {
    await this.#bucket.delete(`${name}.v${version}`);
    this.#versions.delete(`${name}@${version}`);
  }

  async putMeta(meta: M): Promise<void> {
    await this.#bucket.put(`${meta.name}.meta`, meta);
    this.#meta.set(meta.name, meta);
  }

  async list(): Promise<M[]> {
    const out: M[] = [];
    for (const k of (await this.#bucket.keys("*.meta")).sort()) {
      const e = await this.#bucket.get(k);
      if (e) out.push(e.value as M);
    }
    return out;
  }

  /** Every version, oldest first. */
  async versions(name: string): Promise<V[]> {
    const meta = await this.meta(name, true);
    const out: V[] = [];
    for (let v = 1; v <= meta.latest; v++) out.push(await this.version(name, v));
    return out;
  }

  async delete(name: string): Promise<void> {
    const meta = await this.meta(name, true);
    for (let v = 1; v <= meta.latest; v++) await this.#bucket.delete(`${name}.v${v}`);
    await this.#bucket.delete(`${name}.meta`);
    this.#meta.delete(name);
    for (const k of [...this.#versions.keys()]) if (k.startsWith(name + "@")) this.#versions.delete(k);
  }
}
