import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { BucketKind, type Scope } from "../protocol/index.js";
import type { JsonBucket, MetadataBuckets } from "./ports.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

function decodeEntry<T>(e: KvEntry | null): { value: T; revision: number } | undefined {
  if (!e || e.operation !== "PUT" || e.value.length === 0) return undefined;
  return { value: JSON.parse(dec.decode(e.value)) as T, revision: e.revision };
}

/** A KV bucket holding JSON values. */
export function jsonBucket<T>(kv: KV): JsonBucket<T> {
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
    async watch(onChange, filter, onInvalid) {
      const it = await kv.watch({ key: filter ?? ">" });
      void (async () => {
        for await (const e of it) {
          if (e.operation !== "PUT" || e.value.length === 0) {
            onChange(e.key, undefined);
            continue;
          }
          let value: T;
          try {
            value = JSON.parse(dec.decode(e.value)) as T;
          } catch (err) {
            onInvalid?.(e.key, err);
            continue;
          }
          onChange(e.key, value);
        }
      })();
      return { stop: () => it.stop() };
    },
  };
}

/** Creates (or opens) a KV bucket of JSON values. */
export async function openBucket<T>(nc: NatsConnection, name: string, o: { history: number; replicas: number }): Promise<JsonBucket<T>> {
  return jsonBucket<T>(await new Kvm(nc).create(name, { history: o.history, replicas: o.replicas }));
}

/** Creates (or opens) a tenant's metadata buckets. */
export async function openMetadataBuckets(nc: NatsConnection, scope: Scope, replicas: number): Promise<MetadataBuckets> {
  const open = (kind: BucketKind) => openBucket<unknown>(nc, scope.bucket(kind), { history: 5, replicas });
  return {
    stations: await open(BucketKind.Stations),
    groups: await open(BucketKind.Groups),
    schemas: await open(BucketKind.Schemas),
    functions: await open(BucketKind.Functions),
  };
}
