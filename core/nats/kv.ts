import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { Buckets } from "../protocol/index.js";

/** A small typed view of a KV bucket holding JSON values. */
export interface JsonBucket<T> {
  get(key: string): Promise<{ value: T; revision: number } | undefined>;
  put(key: string, value: T): Promise<number>;
  /** Creates the key only if absent; false when it existed. */
  create(key: string, value: T): Promise<boolean>;
  delete(key: string): Promise<void>;
  keys(filter?: string): Promise<string[]>;
  /** Calls `onChange` for every current and future value (undefined = deleted). */
  watch(onChange: (key: string, value: T | undefined) => void, filter?: string): Promise<{ stop(): void }>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function decodeEntry<T>(e: KvEntry | null): { value: T; revision: number } | undefined {
  if (!e || e.operation !== "PUT" || e.value.length === 0) return undefined;
  return { value: JSON.parse(dec.decode(e.value)) as T, revision: e.revision };
}

function wrap<T>(kv: KV): JsonBucket<T> {
  return {
    async get(key) {
      return decodeEntry<T>(await kv.get(key));
    },
    async put(key, value) {
      return await kv.put(key, enc.encode(JSON.stringify(value)));
    },
    async create(key, value) {
      try {
        await kv.create(key, enc.encode(JSON.stringify(value)));
        return true;
      } catch (err) {
        if (/wrong last sequence|key exists/i.test((err as Error).message)) return false;
        throw err;
      }
    },
    async delete(key) {
      await kv.purge(key);
    },
    async keys(filter) {
      const out: string[] = [];
      const it = await kv.keys(filter ?? ">");
      for await (const k of it) out.push(k);
      return out;
    },
    async watch(onChange, filter) {
      const it = await kv.watch({ key: filter ?? ">" });
      void (async () => {
        for await (const e of it) {
          try {
            onChange(e.key, e.operation === "PUT" && e.value.length > 0 ? (JSON.parse(dec.decode(e.value)) as T) : undefined);
          } catch {
            /* a malformed value is ignored; the writer validated it */
          }
        }
      })();
      return { stop: () => it.stop() };
    },
  };
}

/** The metadata buckets. */
export interface MetadataBuckets {
  stations: JsonBucket<unknown>;
  groups: JsonBucket<unknown>;
  schemas: JsonBucket<unknown>;
  functions: JsonBucket<unknown>;
}

/** Creates (or opens) the metadata KV buckets. */
export async function openMetadataBuckets(nc: NatsConnection, replicas = 1): Promise<MetadataBuckets> {
  const kvm = new Kvm(nc);
  const open = async (name: string) => wrap<unknown>(await kvm.create(name, { history: 5, replicas }));
  return {
    stations: await open(Buckets.Stations),
    groups: await open(Buckets.Groups),
    schemas: await open(Buckets.Schemas),
    functions: await open(Buckets.Functions),
  };
}
