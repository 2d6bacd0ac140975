/**
 * The ports between Junction's core and its store (the shape of BullMQ's backend interface):
 * small interfaces of plain data, implemented on NATS in this folder and in memory for unit
 * tests. Nothing outside core/nats/ sees a nats.js type.
 */
import type { GroupConfig, Scope, StationConfig } from "../protocol/index.js";
import type { AuthDecision, AuthRequest } from "./callout.js";
import type { SystemAdmin } from "./system.js";

/** Who sent a request, as the NATS server reports it (service imports share it). */
export interface Requester {
  /** The NATS account the request came from. */
  account: string;
  /** The NATS user name (empty when the server does not say). */
  user: string;
  /** The client's connection name. */
  name?: string | undefined;
  /** The server's id of the client connection. */
  clientId?: number | undefined;
  /** When the client connection was made (ms since epoch), when the server says. */
  connectedAtMs?: number | undefined;
}

/** A request received on the bus. */
export interface BusRequest {
  readonly subject: string;
  /** Where the answer goes; undefined when the sender expects none. */
  readonly reply: string | undefined;
  readonly data: Uint8Array;
  /** One header's value (first value), or undefined. */
  header(name: string): string | undefined;
  /** Every header name, in order. */
  headerNames(): string[];
  /** Who sent it, when the server says (service imports with shared request info); else undefined. */
  requester(): Requester | undefined;
  /** Answers on the reply subject; false when there is none or the connection is closed. */
  respond(data: Uint8Array): boolean;
}

/** Request/reply and publish: how the gateway serves and announces. */
export interface Bus {
  /** Serves requests on `subject` (wildcards allowed), in queue group `queue` when given. */
  serve(subject: string, handler: (req: BusRequest) => void, o?: { queue?: string }): { stop(): void };
  /** Publishes a message (fire-and-forget). */
  publish(subject: string, data: Uint8Array): void;
  /** Resolves when the server has seen everything sent so far. */
  flush(): Promise<void>;
  /** Whether the connection is up now. */
  connected(): boolean;
  /** Calls `cb` on every connection change (up / down); returns an unsubscribe function. */
  onStatus(cb: (s: "up" | "down") => void): () => void;
}

/** One message to store. */
export interface StoreMessage {
  /** `Nats-Msg-Id` for de-duplication; empty = none. */
  id: string;
  headers: Record<string, string> | undefined;
  payload: Uint8Array;
  /** Stored on this subject instead of the one the writer is given (a delayed message's own subject). */
  subject?: string | undefined;
  /** Store directives the gateway sets itself (`Nats-TTL`, `Nats-Schedule`…), written after the headers. */
  control?: Readonly<Record<string, string>> | undefined;
}

/** What the store answered for a publish or a batch commit. */
export type StoreAck =
  { ok: true; seq: number; duplicate: boolean; count: number } | { ok: false; errCode: number; description: string; timeout?: boolean };

/** Writes messages to streams and waits for the store's acknowledgement. */
export interface StoreWriter {
  /** Publishes one message and waits for the store ack. */
  publish(subject: string, m: StoreMessage): Promise<StoreAck>;
  /**
   * Publishes messages as one atomic batch (at most 1,000): all are stored or none. The ack's
   * `seq` is the last message's; the batch is stored contiguously.
   */
  publishAtomic(subject: string, msgs: readonly StoreMessage[]): Promise<StoreAck>;
  /** Fails what is pending and stops. Idempotent. */
  close(): void;
}

/** Store error codes Junction reacts to (from nats-server's errors.json). */
export const StoreErrorCode = {
  StreamNotFound: 10059,
  ConsumerNotFound: 10014,
  StreamNameInUse: 10058,
  /** An atomic batch holds a message id already stored. */
  BatchDuplicateMsgId: 10201,
} as const;

/** A stream's state. */
export interface StreamState {
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumers: number;
}

/** A consumer group's state, as the store reports it. */
export interface GroupState {
  name: string;
  /** Messages not yet delivered. */
  pending: number;
  /** Delivered, not yet acked. */
  ackPending: number;
  /** Messages delivered more than once and not yet acked. */
  redelivered: number;
  /** Pull requests waiting (members pulling). */
  waiting: number;
  /** Last stream sequence delivered. */
  deliveredSeq: number;
  /** Stream sequence of the ack floor. */
  ackFloorSeq: number;
  /** Exclusive groups: since when the active member holds the group (ISO time); absent when none does. */
  activeSince?: string | undefined;
  /** Groups on a partitioned station: each partition's consumer, in partition order (the fields above are their sums). */
  partitions?: PartitionState[] | undefined;
}

/** The consumer of one partition of a group. */
export interface PartitionState {
  partition: number;
  pending: number;
  ackPending: number;
  redelivered: number;
  waiting: number;
  /** The pin id of the member holding the partition; absent while none does. */
  pinnedId?: string | undefined;
  /** Since when it has (ISO time). */
  pinnedSince?: string | undefined;
}

/** Where a group reset moves the group: a stream sequence, the first message stored at or after a time, or past the last message. */
export type ResetTarget = { seq: number } | { timeMs: number } | { latest: true };

/** A message read back from a stream, as plain data. */
export interface StreamMessage {
  subject: string;
  seq: number;
  headers: Record<string, string>;
  data: Uint8Array;
  /** When the stream stored it. */
  time: Date;
}

/** The settings of a limits stream whose entries carry their own TTL (the DLS). */
export interface TtlStreamSettings {
  name: string;
  subjects: string[];
  replicas: number;
  maxMessages: number;
  maxMessagesPerSubject: number;
  duplicateWindowMs: number;
}

/** Station streams and consumer groups: JetStream administration. */
export interface StreamAdmin {
  /** The account's JetStream file storage in use and its limit (-1 = no account limit), in bytes. */
  accountStorage(): Promise<{ usedBytes: number; limitBytes: number }>;
  /** Creates the station's stream, or updates what JetStream lets change. */
  ensureStation(scope: Scope, station: string, config: StationConfig): Promise<StreamState>;
  /** The stream's state, or undefined when it does not exist. */
  stationState(scope: Scope, station: string): Promise<StreamState | undefined>;
  /** Deletes the stream (and its consumers). */
  deleteStation(scope: Scope, station: string): Promise<void>;
  /**
   * Creates a group's consumer (one per partition on a station with `partitions` > 1), or applies
   * ack time, deliveries and backoff to the live one(s).
   */
  ensureGroup(scope: Scope, station: string, group: string, config: GroupConfig, partitions?: number): Promise<GroupState>;
  groupState(scope: Scope, station: string, group: string, partitions?: number): Promise<GroupState | undefined>;
  /** False when it did not exist. */
  deleteGroup(scope: Scope, station: string, group: string, partitions?: number): Promise<boolean>;
  listGroups(scope: Scope, station: string): Promise<GroupState[]>;
  /**
   * Moves a group's read position (JetStream consumer reset, nats-server 2.14): the group then
   * reads from `to` on; unacked deliveries are forgotten. Members keep pulling. Resolves with
   * the sequence it now reads from; undefined when the group does not exist.
   */
  resetGroup(
    scope: Scope,
    station: string,
    group: string,
    to: ResetTarget,
    partitions?: number,
  ): Promise<{ seq: number; state: GroupState } | undefined>;
  /** Creates or upgrades a TTL stream (the DLS). */
  ensureTtlStream(s: TtlStreamSettings): Promise<void>;
}

/** Reads and trims streams. */
export interface StreamReader {
  /** One message by sequence, or undefined. */
  get(stream: string, seq: number): Promise<StreamMessage | undefined>;
  /** Up to `batch` messages with seq >= fromSeq matching `filter`, and whether more may follow. */
  read(stream: string, o: { fromSeq: number; filter: string; batch: number }): Promise<{ messages: StreamMessage[]; more: boolean }>;
  /** Deletes one message; false when it was not there. */
  delete(stream: string, seq: number): Promise<boolean>;
  /** Message counts per subject matching `filter` ({} when the stream does not exist). */
  subjectCounts(stream: string, filter: string): Promise<Record<string, number>>;
  /** Removes the oldest messages matching `filter` so that at most `keep` remain; how many went. */
  purgeKeep(stream: string, filter: string, keep: number): Promise<number>;
}

/** A JSON key/value bucket with revisions and a watch. */
export interface JsonBucket<T> {
  get(key: string): Promise<{ value: T; revision: number } | undefined>;
  put(key: string, value: T): Promise<number>;
  /** Creates the key only if absent; false when it existed. */
  create(key: string, value: T): Promise<boolean>;
  delete(key: string): Promise<void>;
  keys(filter?: string): Promise<string[]>;
  /**
   * Calls `onChange` for every current and future value (undefined = deleted). A value that is
   * not JSON is reported as `undefined` to `onInvalid` and skipped.
   */
  watch(
    onChange: (key: string, value: T | undefined) => void,
    filter?: string,
    onInvalid?: (key: string, err: unknown) => void,
  ): Promise<{ stop(): void }>;
}

/** The metadata buckets of one tenant. */
export interface MetadataBuckets {
  stations: JsonBucket<unknown>;
  groups: JsonBucket<unknown>;
  schemas: JsonBucket<unknown>;
  functions: JsonBucket<unknown>;
}

/** A consumer advisory (max deliveries or terminated), parsed. */
export interface ConsumerAdvisory {
  kind: "max-deliveries" | "terminated";
  stream: string;
  consumer: string;
  streamSeq: number;
  deliveries: number;
  /** The consumer's reason (terminated only; empty when none was given). */
  reason: string;
  /** When the server gave up (ISO). */
  timestamp: string;
  /** The advisory's own id (unique per event). */
  advisoryId: string;
}

/** One advisory delivery: ack only after its effect is stored; nak to have it again later. */
export interface AdvisoryDelivery {
  /** Undefined when the message is not a consumer advisory Junction understands. */
  advisory: ConsumerAdvisory | undefined;
  /** How many times this advisory was delivered. */
  redeliveries: number;
  ack(): Promise<boolean>;
  nak(delayMs?: number): void;
}

/** The shared, durable advisory feed (every gateway pulls from one durable consumer). */
export interface AdvisoryFeed {
  /** Creates or upgrades the advisory stream and its shared consumer. */
  ensure(o: { replicas: number; maxAgeSeconds: number; ackWaitMs: number }): Promise<void>;
  /** Hands each advisory to `handle`, one at a time; `stop()` ends the loop. */
  consume(handle: (d: AdvisoryDelivery) => Promise<void>, onError: (err: unknown) => void): Promise<{ stop(): Promise<void> }>;
  /**
   * Makes the store emit the max-deliveries advisories it owes to consumer groups that nobody
   * pulls from: every station group with unacked messages, a redelivered one among them (or a
   * limit of one delivery), and no pull request waiting is probed (the store looks at its next
   * messages and gives up on those past their last delivery, handing out nothing). At most
   * `maxProbesPerGroup` probes per group. Returns how many groups were probed.
   */
  nudge(o: { maxProbesPerGroup: number }): Promise<number>;
}

/** A message pulled for a consumer group, as plain data. */
export interface PulledMessage {
  /** The subject it was stored on. */
  subject: string;
  /** Stream sequence. */
  seq: number;
  /** How many times it was delivered to the group (1 on the first delivery). */
  deliveryCount: number;
  /** When the stream stored it (ms since epoch). */
  timeMs: number;
  /** Messages left for the group after this one. */
  pending: number;
  headers: Record<string, string>;
  data: Uint8Array;
  /** The delivery's reply subject: acks, naks and terms go there (see {@link GroupPuller.answer}). */
  reply: string;
}

/** Options of one {@link GroupPuller.fetch}. */
export interface PullOptions {
  /** At most this many messages. */
  max: number;
  /** Wait at most this long for the first message, in ms; 0 = answer at once. */
  expiresMs: number;
  /** At most this many bytes of messages (the server stops before). */
  maxBytes?: number | undefined;
  /** When it aborts, the messages of the fetch are given back (nak) and it resolves with none. */
  signal?: AbortSignal | undefined;
}

/** How a member answers a delivery. */
export type DeliveryAnswer =
  { kind: "ack" } | { kind: "nak"; delayMs?: number | undefined } | { kind: "term"; reason?: string | undefined } | { kind: "working" };

/** Pulls messages as a member of a consumer group and answers them (the HTTP API's consume path). */
export interface GroupPuller {
  /**
   * Long-polls the group: resolves as soon as messages are there (up to `max`), or with none
   * after `expiresMs`. Rejects GROUP_NOT_FOUND when the group's consumer does not exist.
   */
  fetch(stream: string, group: string, o: PullOptions): Promise<PulledMessage[]>;
  /** Answers a delivery on its reply subject and waits for the server's confirmation (TIMEOUT when none). */
  answer(reply: string, a: DeliveryAnswer): Promise<void>;
}

/** What the connected server is and can do. */
export interface ServerFacts {
  version: string;
  /** Largest message the server accepts, in bytes. */
  maxPayload: number;
}

/**
 * JetStream requests forwarded for a client by a front that answers in JetStream's own shape
 * (Memphis compatibility): the raw bytes JetStream answered are relayed unchanged. The front
 * authorizes every call first.
 */
export interface JetStreamBridge {
  /** JetStream's answer to a consumer-info request (the JSON it sent, an error included). */
  consumerInfo(stream: string, consumer: string): Promise<Uint8Array>;
  /** Publishes an acknowledgement body (`+ACK`, `-NAK`, `+TERM`, `+WPI`…) on a `$JS.ACK.…` subject. */
  ack(subject: string, body: Uint8Array): void;
  /** The same as a request: resolves with JetStream's confirmation. */
  ackAndWait(subject: string, body: Uint8Array): Promise<Uint8Array>;
}

/** Answers the server's authorization requests (see callout.ts). */
export type AuthDecider = (r: AuthRequest) => Promise<AuthDecision>;

/** Everything core needs from the store, behind one object. */
export interface Backend {
  readonly bus: Bus;
  readonly writer: StoreWriter;
  readonly admin: StreamAdmin;
  readonly reader: StreamReader;
  readonly advisories: AdvisoryFeed;
  /** JetStream requests relayed for clients of a compatibility front. */
  readonly jetstream: JetStreamBridge;
  /** Pulls for consumer groups on the gateway's own connection (absent in stores that do not deliver). */
  readonly puller?: GroupPuller | undefined;
  readonly server: ServerFacts;
  /** Opens (creating when needed) a tenant's metadata buckets. */
  metadata(scope: Scope, replicas: number): Promise<MetadataBuckets>;
  /** Opens (creating when needed) a JSON bucket with one value per key. */
  bucket<T>(name: string, replicas: number): Promise<JsonBucket<T>>;
  /**
   * Serves NATS auth callout with `decide` (needs the issuer seed in the backend options); throws
   * INVALID_ARGUMENT otherwise.
   */
  serveAuth(decide: AuthDecider, onError: (err: unknown) => void): { stop(): void };
  /** The system-account connection, when system credentials were given. */
  readonly system: SystemAdmin | undefined;
  /** Whether the connection is closed for good. */
  closed(): boolean;
  /** Drains and closes. Idempotent. */
  close(): Promise<void>;
}
