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
import {
  JunctionError,
  groupConsumers,
  parseGroupConsumer,
  partitionConsumer,
  PARTITION_WINDOW,
  type GroupConfig,
  type Scope,
  type StationConfig,
} from "../protocol/index.js";
import {
  StoreErrorCode,
  type GroupState,
  type PartitionState,
  type ResetTarget,
  type StreamAdmin,
  type StreamState,
  type TtlStreamSettings,
} from "./ports.js";

/** nats-server errors.json: JSConsumerInvalidResetErr (a reset below the consumer's configured start). */
const INVALID_RESET = 10204;

const NS_PER_MS = 1_000_000;
/** Milliseconds to JetStream's nanoseconds (the only place units are converted). */
export const msToNs = (ms: number) => Math.round(ms * NS_PER_MS);

/** Whether a nats.js v3 JetStream API error carries this server error code. */
export function isJsError(err: unknown, code: number): boolean {
  const e = err as { code?: unknown } | undefined;
  return typeof e?.code === "number" && e.code === code;
}

/** The JetStream stream config of a station. */
export function stationStreamConfig(scope: Scope, station: string, c: StationConfig): Partial<StreamConfig> & { name: string } {
  return {
    name: scope.stationStream(station),
    subjects: [scope.stationAll(station)],
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
    // Per-message TTL (Nats-TTL, 2.11) and delayed delivery (message schedules, 2.12). Both are
    // turned on for an existing station's stream at gateway start or station update, and cannot
    // be turned off again (nats-server refuses it); schedules make the server allow roll-ups,
    // which only the gateway can ask for (clients cannot set Nats-* headers).
    allow_msg_ttl: true,
    allow_msg_schedules: true,
  } as Partial<StreamConfig> & { name: string };
}

/**
 * The server's ack wait of a group: a lease the members renew (`+WPI`) while they hold a message,
 * so it bounds how long a crashed member keeps its messages. The application's own deadlines
 * (maxAckTimeMs, backoffMs) run in the member from when it hands a message out; a JetStream
 * backoff would replace this lease with the backoff delays, so none is set.
 */
export function groupAckWaitMs(g: GroupConfig, partitioned = false): number {
  // Exclusive groups and partitions (each partition is an exclusive consumer): half, so a crashed member's messages are back in the group before its pin
  // (memberTimeoutMs after its last pull) passes to another member, which then gets them first,
  // in stream order, ahead of newer messages.
  return Math.min(g.exclusive || partitioned ? Math.floor(g.memberTimeoutMs / 2) : g.memberTimeoutMs, g.maxAckTimeMs);
}

/** The priority group name members of an exclusive consumer group pull in. */
export const EXCLUSIVE_PRIORITY_GROUP = "jn";

/**
 * The durable pull consumer of a consumer group, or (with `partition`) of one partition of a
 * group on a partitioned station: an exclusive consumer reading that partition's subject and its
 * own resend subject.
 */
export function groupConsumerConfig(
  scope: Scope,
  station: string,
  group: string,
  g: GroupConfig,
  partition?: number,
): Partial<ConsumerConfig> {
  const name = partition === undefined ? group : partitionConsumer(group, partition);
  const c: Partial<ConsumerConfig> = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: msToNs(groupAckWaitMs(g, partition !== undefined)),
    max_deliver: g.maxMsgDeliveries,
    filter_subjects: [
      partition === undefined ? scope.stationMsg(station) : scope.stationPartition(station, partition),
      scope.stationResend(station, name),
    ],
    max_ack_pending: 10_000,
    max_waiting: 512,
  };
  if (g.exclusive || partition !== undefined) {
    // Consumer priority groups with a pinned client (nats-server 2.11): the server sends every
    // message to the one member holding the pin, and gives the pin to another member's pull once
    // the holder has not pulled for priority_timeout.
    // An exclusive group has one message out at a time: that keeps stream order through
    // redeliveries, naks and failover (JetStream queues redeliveries in the order their leases
    // ran out, which is not stream order once a member renewed some of them). A partition has a
    // window out: its member hands messages out by key, retries them itself and renews all of
    // them together, so a crash returns them oldest first (expired leases are queued sorted).
    c.max_ack_pending = partition !== undefined ? PARTITION_WINDOW : 1;
    Object.assign(c, {
      priority_groups: [EXCLUSIVE_PRIORITY_GROUP],
      priority_policy: "pinned_client",
      priority_timeout: msToNs(g.memberTimeoutMs),
    });
  }
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

function streamState(si: StreamInfo): StreamState {
  return {
    messages: si.state.messages,
    bytes: si.state.bytes,
    firstSeq: si.state.first_seq,
    lastSeq: si.state.last_seq,
    consumers: si.state.consumer_count,
  };
}

function groupState(ci: ConsumerInfo): GroupState {
  // nats-server 2.11+: the pin of a pinned-client priority group (not in nats.js's types).
  const pin = (ci as { priority_groups?: { pinned_client_id?: string; pinned_ts?: string }[] }).priority_groups?.[0];
  return {
    ...(pin?.pinned_client_id ? { activeSince: pin.pinned_ts } : {}),
    name: ci.name,
    pending: ci.num_pending,
    ackPending: ci.num_ack_pending,
    redelivered: ci.num_redelivered,
    waiting: ci.num_waiting,
    deliveredSeq: ci.delivered.stream_seq,
    ackFloorSeq: ci.ack_floor.stream_seq,
  };
}

function partitionState(partition: number, ci: ConsumerInfo): PartitionState {
  const pin = (ci as { priority_groups?: { pinned_client_id?: string; pinned_ts?: string }[] }).priority_groups?.[0];
  return {
    partition,
    pending: ci.num_pending,
    ackPending: ci.num_ack_pending,
    redelivered: ci.num_redelivered,
    waiting: ci.num_waiting,
    ...(pin?.pinned_client_id ? { pinnedId: pin.pinned_client_id, pinnedSince: pin.pinned_ts } : {}),
  };
}

/** A partitioned group's state: the sums of its partitions' consumers, and each of them. */
function partitionedState(group: string, infos: ConsumerInfo[]): GroupState {
  const parts = infos.map((ci, i) => partitionState(i, ci));
  return {
    name: group,
    pending: parts.reduce((a, p) => a + p.pending, 0),
    ackPending: parts.reduce((a, p) => a + p.ackPending, 0),
    redelivered: parts.reduce((a, p) => a + p.redelivered, 0),
    // Each member keeps one request on every partition: the most on any partition is the members pulling.
    waiting: parts.reduce((a, p) => Math.max(a, p.waiting), 0),
    deliveredSeq: infos.reduce((a, ci) => Math.max(a, ci.delivered.stream_seq), 0),
    ackFloorSeq: infos.reduce((a, ci) => Math.min(a, ci.ack_floor.stream_seq), Number.MAX_SAFE_INTEGER),
    partitions: parts,
  };
}

/** Station streams and consumer groups on JetStream. */
export class NatsStreamAdmin implements StreamAdmin {
  readonly #jsm: JetStreamManager;

  constructor(jsm: JetStreamManager) {
    this.#jsm = jsm;
  }

  async #addOrUpdate(cfg: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
    try {
      return await this.#jsm.streams.add(cfg);
    } catch (err) {
      if (!isJsError(err, StoreErrorCode.StreamNameInUse)) throw err;
      return await this.#jsm.streams.update(cfg.name, cfg);
    }
  }

  async accountStorage(): Promise<{ usedBytes: number; limitBytes: number }> {
    const info = await this.#jsm.getAccountInfo();
    return { usedBytes: info.storage, limitBytes: info.limits.max_storage };
  }

  async ensureStation(scope: Scope, station: string, config: StationConfig): Promise<StreamState> {
    return streamState(await this.#addOrUpdate(stationStreamConfig(scope, station, config)));
  }

  async stationState(scope: Scope, station: string): Promise<StreamState | undefined> {
    try {
      return streamState(await this.#jsm.streams.info(scope.stationStream(station)));
    } catch (err) {
      if (isJsError(err, StoreErrorCode.StreamNotFound)) return undefined;
      throw err;
    }
  }

  async deleteStation(scope: Scope, station: string): Promise<void> {
    try {
      await this.#jsm.streams.delete(scope.stationStream(station));
    } catch (err) {
      if (!isJsError(err, StoreErrorCode.StreamNotFound)) throw err;
    }
  }

  async #groupInfo(scope: Scope, station: string, consumer: string): Promise<ConsumerInfo | undefined> {
    try {
      return await this.#jsm.consumers.info(scope.stationStream(station), consumer);
    } catch (err) {
      if (isJsError(err, StoreErrorCode.ConsumerNotFound) || isJsError(err, StoreErrorCode.StreamNotFound)) return undefined;
      throw err;
    }
  }

  async groupState(scope: Scope, station: string, group: string, partitions = 1): Promise<GroupState | undefined> {
    if (partitions <= 1) {
      const ci = await this.#groupInfo(scope, station, group);
      return ci ? groupState(ci) : undefined;
    }
    const infos = await Promise.all(groupConsumers(group, partitions).map((c) => this.#groupInfo(scope, station, c)));
    if (infos.some((ci) => ci === undefined)) return undefined;
    return partitionedState(group, infos as ConsumerInfo[]);
  }

  /** `last N` is resolved to a start sequence from the stream's last sequence (once, for every partition). */
  async ensureGroup(scope: Scope, station: string, group: string, g: GroupConfig, partitions = 1): Promise<GroupState> {
    if (partitions <= 1) return groupState(await this.#ensureConsumer(scope, station, group, g, undefined, undefined));
    let start: number | undefined;
    if (g.startPosition.kind === "latest" || g.startPosition.kind === "last") start = await this.#startSeq(scope.stationStream(station), g);
    const infos: ConsumerInfo[] = [];
    for (let i = 0; i < partitions; i++) infos.push(await this.#ensureConsumer(scope, station, group, g, i, start));
    return partitionedState(group, infos);
  }

  async #startSeq(stream: string, g: GroupConfig): Promise<number> {
    if (g.startPosition.kind === "sequence") return g.startPosition.seq;
    return (await this.#jsm.streams.info(stream)).state.last_seq + 1 - (g.startPosition.kind === "last" ? g.startPosition.count : 0);
  }

  async #ensureConsumer(
    scope: Scope,
    station: string,
    group: string,
    g: GroupConfig,
    partition: number | undefined,
    startSeq: number | undefined,
  ): Promise<ConsumerInfo> {
    const stream = scope.stationStream(station);
    const cfg = groupConsumerConfig(scope, station, group, g, partition);
    const name = cfg.durable_name!;
    let existing = await this.#groupInfo(scope, station, name);
    if (existing?.paused === true && existing.config.pause_until !== undefined && existing.delivered.stream_seq === 0) {
      // A creation cut short between add and resume (below): made again, from its start.
      await this.#jsm.consumers.delete(stream, name);
      existing = undefined;
    }
    if (existing) {
      const upd: Partial<ConsumerConfig> = {
        ack_wait: cfg.ack_wait!,
        max_deliver: cfg.max_deliver!,
        filter_subjects: cfg.filter_subjects!,
        max_ack_pending: cfg.max_ack_pending!,
      };
      if (cfg.backoff) upd.backoff = cfg.backoff;
      else if (existing.config.backoff) upd.backoff = [];
      const pinned = (cfg as { priority_timeout?: number }).priority_timeout;
      if (pinned !== undefined) Object.assign(upd, { priority_timeout: pinned });
      return await this.#jsm.consumers.update(stream, name, upd);
    }
    try {
      if (g.startPosition.kind === "earliest") return await this.#jsm.consumers.add(stream, cfg);
      // Any other start: created reading everything but paused, moved to its start by a reset,
      // then resumed. A consumer made with a start sequence or `new` cannot be reset below that
      // start later (nats-server 2.14 refuses it); this one can be rewound anywhere.
      const start = startSeq ?? (await this.#startSeq(stream, g));
      // Paused for a day: a gateway that dies before the resume leaves a group that reads nothing
      // (and is made again by the next group.create) rather than one that replays everything.
      const all: Partial<ConsumerConfig> = {
        ...cfg,
        deliver_policy: DeliverPolicy.All,
        pause_until: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
      };
      delete all.opt_start_seq;
      await this.#jsm.consumers.add(stream, all);
      try {
        await this.#jsm.consumers.reset(stream, name, Math.max(1, start));
        await this.#jsm.consumers.resume(stream, name);
      } catch (err) {
        await this.#jsm.consumers.delete(stream, name).catch(() => {});
        throw err;
      }
      return await this.#jsm.consumers.info(stream, name);
    } catch (err) {
      throw new JunctionError("INTERNAL", `cannot create consumer group '${group}' on '${station}': ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async deleteGroup(scope: Scope, station: string, group: string, partitions = 1): Promise<boolean> {
    let any = false;
    for (const c of groupConsumers(group, partitions)) {
      try {
        if (await this.#jsm.consumers.delete(scope.stationStream(station), c)) any = true;
      } catch (err) {
        if (!isJsError(err, StoreErrorCode.ConsumerNotFound) && !isJsError(err, StoreErrorCode.StreamNotFound)) throw err;
      }
    }
    return any;
  }

  async resetGroup(
    scope: Scope,
    station: string,
    group: string,
    to: ResetTarget,
    partitions = 1,
  ): Promise<{ seq: number; state: GroupState } | undefined> {
    const stream = scope.stationStream(station);
    const consumers = groupConsumers(group, partitions);
    if (!(await this.#groupInfo(scope, station, consumers[0]!))) return undefined;
    let seq: number;
    if ("seq" in to) seq = to.seq;
    else {
      const last = (await this.#jsm.streams.info(stream)).state.last_seq;
      seq = last + 1;
      if ("timeMs" in to) {
        // The first message stored at or after the time (any subject: the group skips what it does not read).
        const m = await this.#jsm.direct.getMessage(stream, { start_time: new Date(to.timeMs) }).catch(() => null);
        if (m) seq = m.seq;
      }
    }
    try {
      // Every partition's consumer moves to the same stream sequence; each skips the others' subjects.
      for (const c of consumers) await this.#jsm.consumers.reset(stream, c, Math.max(1, seq));
    } catch (err) {
      if (isJsError(err, INVALID_RESET)) {
        throw new JunctionError(
          "INVALID_ARGUMENT",
          `consumer group '${group}' on '${station}' cannot be reset to sequence ${seq}: it was created with a start position it cannot go below (${(err as Error).message}); delete and create it again to rewind further`,
          { cause: err, details: { station, group, seq } },
        );
      }
      throw err;
    }
    const state = await this.groupState(scope, station, group, partitions);
    return state ? { seq: Math.max(1, seq), state } : undefined;
  }

  async listGroups(scope: Scope, station: string): Promise<GroupState[]> {
    const out: GroupState[] = [];
    const parts = new Map<string, ConsumerInfo[]>();
    try {
      for await (const ci of this.#jsm.consumers.list(scope.stationStream(station))) {
        const c = parseGroupConsumer(ci.name);
        if (c?.partition === undefined) out.push(groupState(ci));
        else {
          const list = parts.get(c.group) ?? [];
          list[c.partition] = ci;
          parts.set(c.group, list);
        }
      }
    } catch (err) {
      if (isJsError(err, StoreErrorCode.StreamNotFound)) return [];
      throw err;
    }
    for (const [group, infos] of parts)
      out.push(
        partitionedState(
          group,
          infos.filter((x) => x !== undefined),
        ),
      );
    return out;
  }

  /**
   * A limits stream whose messages carry their own max age (`Nats-TTL`, nats-server 2.11+), so one
   * stream keeps different entries for different times.
   */
  async ensureTtlStream(o: TtlStreamSettings): Promise<void> {
    await this.#addOrUpdate({
      name: o.name,
      subjects: o.subjects,
      retention: JsRetention.Limits,
      storage: JsStorage.File,
      num_replicas: o.replicas,
      // No stream-wide age: every entry carries its own TTL.
      max_age: 0,
      max_msgs: o.maxMessages,
      max_msgs_per_subject: o.maxMessagesPerSubject,
      discard: DiscardPolicy.Old,
      duplicate_window: msToNs(o.duplicateWindowMs),
      allow_direct: true,
      allow_msg_ttl: true,
    } as Partial<StreamConfig> & { name: string });
  }
}
