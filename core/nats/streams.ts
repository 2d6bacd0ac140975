import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy as JsRetention,
  StorageType as JsStorage,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { JunctionError, subjects, type GroupConfig, type StationConfig } from "../protocol/index.js";

const NS_PER_MS = 1_000_000;
export const msToNs = (ms: number) => Math.round(ms * NS_PER_MS);

/** JetStream error codes Junction reacts to (from the server's errors.json). */
export const JsErrorCode = {
  StreamNotFound: 10059,
  ConsumerNotFound: 10014,
  StreamNameInUse: 10058,
  /** An atomic batch holds a message id already stored. */
  BatchDuplicateMsgId: 10201,
} as const;

/** The JetStream stream config of a station. */
export function stationStreamConfig(station: string, c: StationConfig): Partial<StreamConfig> & { name: string } {
  return {
    name: subjects.stationStream(station),
    subjects: [subjects.stationAll(station)],
    retention: c.retention === "interest" ? JsRetention.Interest : JsRetention.Limits,
    storage: c.storage === "memory" ? JsStorage.Memory : JsStorage.File,
    num_replicas: c.replicas,
    max_age: c.maxAgeSeconds * 1_000_000_000,
    max_msgs: c.maxMessages,
    max_bytes: c.maxBytes,
    max_msg_size: c.maxMessageSize + 64 * 1024, // room for headers
    duplicate_window: msToNs(c.idempotencyWindowMs),
    discard: DiscardPolicy.Old,
    allow_atomic: true,
    allow_direct: true,
  } as Partial<StreamConfig> & { name: string };
}

function isJsError(err: unknown, code: number): boolean {
  // nats.js v3: JetStreamApiError exposes the server's err_code as `code`.
  const e = err as { name?: string; code?: unknown } | undefined;
  return typeof e?.code === "number" && e.code === code;
}

/** Creates the station's stream, or updates the settings JetStream lets change. */
export async function ensureStationStream(jsm: JetStreamManager, station: string, c: StationConfig): Promise<StreamInfo> {
  const cfg = stationStreamConfig(station, c);
  try {
    return await jsm.streams.add(cfg);
  } catch (err) {
    if (!isJsError(err, JsErrorCode.StreamNameInUse)) throw err;
    return await jsm.streams.update(cfg.name, cfg);
  }
}

/** Info of a station stream, or undefined when it does not exist. */
export async function stationStreamInfo(jsm: JetStreamManager, station: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(subjects.stationStream(station));
  } catch (err) {
    if (isJsError(err, JsErrorCode.StreamNotFound)) return undefined;
    throw err;
  }
}

/** Deletes a station stream (and with it its consumers). */
export async function deleteStationStream(jsm: JetStreamManager, station: string): Promise<void> {
  try {
    await jsm.streams.delete(subjects.stationStream(station));
  } catch (err) {
    if (!isJsError(err, JsErrorCode.StreamNotFound)) throw err;
  }
}

/** The durable pull consumer of a consumer group. */
export function groupConsumerConfig(station: string, group: string, g: GroupConfig): Partial<ConsumerConfig> {
  const c: Partial<ConsumerConfig> = {
    durable_name: group,
    ack_policy: AckPolicy.Explicit,
    ack_wait: msToNs(g.maxAckTimeMs),
    max_deliver: g.maxMsgDeliveries,
    filter_subjects: [subjects.stationMsg(station), subjects.stationResend(station, group)],
    max_ack_pending: 10_000,
    max_waiting: 512,
  };
  if (g.backoffMs.length > 0) c.backoff = g.backoffMs.map(msToNs);
  const sp = g.startPosition;
  switch (sp.kind) {
    case "earliest":
      c.deliver_policy = DeliverPolicy.All;
      break;
    case "latest":
      c.deliver_policy = DeliverPolicy.New;
      break;
    case "sequence":
      c.deliver_policy = DeliverPolicy.StartSequence;
      c.opt_start_seq = sp.seq;
      break;
    case "last":
      c.deliver_policy = DeliverPolicy.StartSequence;
      break;
  }
  return c;
}

/** Group consumer info, or undefined. */
export async function groupConsumerInfo(jsm: JetStreamManager, station: string, group: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(subjects.stationStream(station), group);
  } catch (err) {
    if (isJsError(err, JsErrorCode.ConsumerNotFound) || isJsError(err, JsErrorCode.StreamNotFound)) return undefined;
    throw err;
  }
}

/**
 * Creates a group's consumer, or applies ack time, deliveries and backoff to the live one.
 * `last N` is resolved to a start sequence from the stream's last sequence.
 */
export async function ensureGroupConsumer(jsm: JetStreamManager, station: string, group: string, g: GroupConfig): Promise<ConsumerInfo> {
  const stream = subjects.stationStream(station);
  const existing = await groupConsumerInfo(jsm, station, group);
  const cfg = groupConsumerConfig(station, group, g);
  if (existing) {
    const upd: Partial<ConsumerConfig> = {
      ack_wait: cfg.ack_wait!,
      max_deliver: cfg.max_deliver!,
      filter_subjects: cfg.filter_subjects!,
      max_ack_pending: cfg.max_ack_pending!,
    };
    if (cfg.backoff) upd.backoff = cfg.backoff;
    else if (existing.config.backoff) upd.backoff = [];
    return await jsm.consumers.update(stream, group, upd);
  }
  if (g.startPosition.kind === "last") {
    const si = await jsm.streams.info(stream);
    cfg.opt_start_seq = Math.max(1, si.state.last_seq - g.startPosition.count + 1);
  }
  try {
    return await jsm.consumers.add(stream, cfg);
  } catch (err) {
    throw new JunctionError("INTERNAL", `cannot create consumer group '${group}' on '${station}': ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Deletes a group's consumer. Returns false when it did not exist. */
export async function deleteGroupConsumer(jsm: JetStreamManager, station: string, group: string): Promise<boolean> {
  try {
    return await jsm.consumers.delete(subjects.stationStream(station), group);
  } catch (err) {
    if (isJsError(err, JsErrorCode.ConsumerNotFound) || isJsError(err, JsErrorCode.StreamNotFound)) return false;
    throw err;
  }
}

/** Names of the consumers (groups) on a station stream. */
export async function listGroupConsumers(jsm: JetStreamManager, station: string): Promise<ConsumerInfo[]> {
  const out: ConsumerInfo[] = [];
  try {
    for await (const ci of jsm.consumers.list(subjects.stationStream(station))) out.push(ci);
  } catch (err) {
    if (isJsError(err, JsErrorCode.StreamNotFound)) return [];
    throw err;
  }
  return out;
}
