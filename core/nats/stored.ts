import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StoredMsg, type StreamConfig } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import { JsErrorCode, msToNs } from "./streams.js";

/** A message read back from a stream, as plain data. */
export interface StreamMessage {
  subject: string;
  seq: number;
  headers: Record<string, string>;
  data: Uint8Array;
  /** When the stream stored it. */
  time: Date;
}

function isJsError(err: unknown, code: number): boolean {
  const e = err as { code?: unknown } | undefined;
  return typeof e?.code === "number" && e.code === code;
}

/** JetStream: "no message found" (10037). */
const NoMessageFound = 10037;

function headersOf(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) {
    // nats.js hands back the direct-get bookkeeping headers too; they are not the message's.
    if (k.startsWith("Nats-") && /^Nats-(Stream|Sequence|Time-Stamp|Subject|Last-Sequence|Num-Pending|UpTo-Sequence)$/.test(k)) continue;
    out[k] = h.get(k);
  }
  return out;
}

function plain(m: StoredMsg): StreamMessage {
  return { subject: m.subject, seq: m.seq, headers: headersOf(m.header), data: m.data, time: m.time };
}

/**
 * Creates (or updates) a limits stream whose messages carry their own max age (`Nats-TTL`,
 * nats-server 2.11+), so one stream can keep different entries for different times.
 * `maxMessagesPerSubject` caps each subject; `maxMessages` caps the stream.
 */
export async function ensureTtlStream(
  jsm: JetStreamManager,
  o: { name: string; subjects: string[]; replicas: number; maxMessages: number; maxMessagesPerSubject: number; duplicateWindowMs: number },
): Promise<void> {
  const cfg: Partial<StreamConfig> & { name: string } = {
    name: o.name,
    subjects: o.subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: o.replicas,
    // No stream-wide age: every entry carries its own TTL.
    max_age: 0,
    max_msgs: o.maxMessages,
    max_msgs_per_subject: o.maxMessagesPerSubject,
    discard: DiscardPolicy.Old,
    duplicate_window: msToNs(o.duplicateWindowMs),
    allow_direct: true,
    allow_msg_ttl: true,
  };
  try {
    await jsm.streams.add(cfg);
  } catch (err) {
    if (!isJsError(err, JsErrorCode.StreamNameInUse)) throw err;
    await jsm.streams.update(o.name, cfg);
  }
}

/** One stored message by sequence (direct get), or undefined when there is none. */
export async function getStreamMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<StreamMessage | undefined> {
  try {
    const m = await jsm.direct.getMessage(stream, { seq });
    if (!m || m.seq !== seq) return undefined;
    return plain(m);
  } catch (err) {
    if (
      isJsError(err, NoMessageFound) ||
      isJsError(err, JsErrorCode.StreamNotFound) ||
      /message not found|no message found|stream not found/i.test((err as Error).message)
    ) {
      return undefined;
    }
    throw err;
  }
}

/**
 * Reads up to `batch` messages with sequence >= `fromSeq` whose subject matches `filter`
 * (direct batch get). Returns them and whether more matching messages may follow.
 */
export async function readStream(
  jsm: JetStreamManager,
  stream: string,
  o: { fromSeq: number; filter: string; batch: number },
): Promise<{ messages: StreamMessage[]; more: boolean }> {
  const out: StreamMessage[] = [];
  let pending = 0;
  try {
    const it = await jsm.direct.getBatch(stream, { seq: Math.max(1, o.fromSeq), batch: o.batch, next_by_subj: o.filter });
    for await (const m of it) {
      out.push(plain(m));
      pending = m.pending;
    }
  } catch (err) {
    if (isJsError(err, NoMessageFound) || /message not found|no message found|404/i.test((err as Error).message))
      return { messages: out, more: false };
    throw err;
  }
  return { messages: out, more: out.length > 0 && pending > 0 };
}

/** Deletes one message. False when it was not there. */
export async function deleteStreamMessage(jsm: JetStreamManager, stream: string, seq: number): Promise<boolean> {
  try {
    return await jsm.streams.deleteMessage(stream, seq, false);
  } catch (err) {
    if (/message not found|no message found/i.test((err as Error).message) || isJsError(err, NoMessageFound)) return false;
    throw err;
  }
}

/** Message counts per subject matching `filter`. */
export async function subjectCounts(jsm: JetStreamManager, stream: string, filter: string): Promise<Record<string, number>> {
  try {
    const si = await jsm.streams.info(stream, { subjects_filter: filter });
    return { ...(si.state.subjects ?? {}) };
  } catch (err) {
    if (isJsError(err, JsErrorCode.StreamNotFound)) return {};
    throw err;
  }
}

/** Removes the oldest messages matching `filter` so that at most `keep` remain. Returns how many went. */
export async function purgeKeep(jsm: JetStreamManager, stream: string, filter: string, keep: number): Promise<number> {
  const r = await jsm.streams.purge(stream, { filter, keep });
  return r.purged;
}

/** A small JSON key/value bucket (one value per key, no history). */
export interface JsonStore<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Creates (or opens) a KV bucket holding JSON values. */
export async function openJsonStore<T>(nc: NatsConnection, bucket: string, replicas: number): Promise<JsonStore<T>> {
  const kv: KV = await new Kvm(nc).create(bucket, { history: 1, replicas });
  return {
    async get(key) {
      const e = await kv.get(key);
      if (!e || e.operation !== "PUT" || e.value.length === 0) return undefined;
      return JSON.parse(dec.decode(e.value)) as T;
    },
    async put(key, value) {
      await kv.put(key, enc.encode(JSON.stringify(value)));
    },
    async delete(key) {
      await kv.purge(key);
    },
  };
}
