/**
 * The shapes that cross the wire between the SDK and the gateway.
 * Units are in the names: Ms, Seconds, Bytes.
 */
import type { TraceHeaders } from "./trace.js";

/** Where a station keeps its messages. */
export const StorageType = { File: "file", Memory: "memory" } as const;
export type StorageType = (typeof StorageType)[keyof typeof StorageType];

/** How a station decides to let messages go. */
export const RetentionPolicy = {
  /** Keep messages until a limit (age, count, bytes) is reached. */
  Limits: "limits",
  /** Keep a message until every consumer group has acked it (and within the limits). */
  Interest: "interest",
} as const;
export type RetentionPolicy = (typeof RetentionPolicy)[keyof typeof RetentionPolicy];

/** A station's settings. Omitted fields take the defaults below. */
export interface StationConfig {
  /** @default "limits" */
  retention: RetentionPolicy;
  /** Messages older than this are removed; 0 = no age limit. @default 0 */
  maxAgeSeconds: number;
  /** At most this many messages are kept; -1 = unlimited. @default -1 */
  maxMessages: number;
  /** At most this many bytes are kept; -1 = unlimited. @default -1 */
  maxBytes: number;
  /** @default "file" */
  storage: StorageType;
  /** JetStream replicas (1, 3 or 5 in a cluster). @default the gateway's default replicas (1) */
  replicas: number;
  /** A message id seen again within this window is reported as a duplicate and not stored. @default 120000 */
  idempotencyWindowMs: number;
  /** The largest message payload accepted, in bytes. @default 1048576 */
  maxMessageSize: number;
  /**
   * Partitions for ordering keys (1 to 256). With more than one, a message's key picks its
   * partition (FNV-1a of the key, mod partitions) and every consumer group reads each partition
   * in order, one message at a time, with one member per partition: the messages of one key are
   * processed in order while different keys are processed in parallel. Fixed at creation.
   * @default 1
   */
  partitions: number;
}

/** A station as the admin API returns it. */
export interface StationInfo {
  name: string;
  config: StationConfig;
  createdAt: string;
  /** Stored messages, bytes and sequence range. */
  state?: {
    messages: number;
    bytes: number;
    firstSeq: number;
    lastSeq: number;
    consumers: number;
    /** Delayed messages stored and not yet visible (`station.get` only; they count in `messages`). */
    delayed?: number;
  };
  /** Attached schema, if any. */
  schema?: { name: string; version: number | "latest"; allowUnknownFields?: boolean | undefined } | undefined;
  /** Function pipeline, in order. */
  functions?: { name: string; version: number | "latest"; inputs: Record<string, string> }[];
}

/** Where a new consumer group starts reading. */
export type StartPosition = { kind: "earliest" } | { kind: "latest" } | { kind: "sequence"; seq: number } | { kind: "last"; count: number };

/** A consumer group's settings. */
export interface GroupConfig {
  /** Time a member has to ack a message, from when the application is given it; then it is resent. @default 30000 */
  maxAckTimeMs: number;
  /** Deliveries before the message becomes a dead letter. @default 10 */
  maxMsgDeliveries: number;
  /**
   * The n-th delivery's time to ack, one per delivery (the last repeats), in place of
   * maxAckTimeMs. Empty = maxAckTimeMs for every delivery. @default []
   */
  backoffMs: number[];
  /**
   * Time after which the messages a member holds go back to the group when it stops renewing
   * them (it crashed or hung), in ms. Members renew what they hold every quarter of it. It is the
   * consumer's ack wait in JetStream (or maxAckTimeMs when that is shorter). @default 5000
   */
  memberTimeoutMs: number;
  /** @default { kind: "earliest" } */
  startPosition: StartPosition;
  /**
   * One member at a time receives the group's messages, in stream order; when it stops pulling
   * for memberTimeoutMs (it crashed or hung), another member takes over, starting with what the
   * first one left unacked. Set when the group is created; it cannot change later. @default false
   */
  exclusive: boolean;
}

/** A consumer group as the admin API returns it. */
export interface GroupInfo {
  station: string;
  name: string;
  /** The JetStream stream members pull from (a tenant's streams carry its name). */
  stream?: string | undefined;
  config: GroupConfig;
  stats: {
    /** Messages not yet delivered to the group. */
    pending: number;
    /** Delivered, not yet acked. */
    unacked: number;
    /** Messages delivered more than once. */
    redelivered: number;
    /**
     * Members online: those announcing themselves (heard within the member timeout); on a
     * one-partition station the pull requests waiting now, if more (clients that do not announce).
     */
    membersOnline: number;
    /** Last stream sequence delivered. */
    deliveredSeq: number;
    /** Last stream sequence acked by the floor. */
    ackFloorSeq: number;
    /** Dead letters of this group in the DLS now (poison + terminated). */
    deadLettered?: number;
    /** Age of the oldest message the group was given and has not acked, by its store time; 0 when nothing is unacked. */
    oldestUnackedAgeMs?: number;
    /** Exclusive groups: since when the active member has held the group (ISO time); absent while no member does. */
    activeMemberSince?: string | undefined;
    /** Groups on a partitioned station: one entry per partition, in order. */
    partitions?: PartitionStats[] | undefined;
    /**
     * The members online (heard within the member timeout), by id, with the partitions each reads
     * by its own view (none on a one-partition station); absent while none announces itself.
     */
    members?: GroupMember[] | undefined;
  };
}

/** A member of a consumer group, as it announces itself. */
export interface GroupMember {
  id: string;
  /** The partitions it reads. */
  partitions: number[];
  /** When it was last heard (ISO time). */
  lastSeen: string;
  /** Keys whose message it is retrying now, so their later messages wait (20 at most). */
  retrying?: string[] | undefined;
}

/** One partition of a consumer group on a partitioned station. */
export interface PartitionStats {
  partition: number;
  /** Messages of the partition not yet delivered to the group. */
  pending: number;
  /** Delivered, not yet acked (at most PARTITION_WINDOW: the member hands them out by key). */
  unacked: number;
  /** Pull requests waiting on the partition (members pulling it). */
  waiting: number;
  /** The member holding the partition (the server's pin id), absent while none does. */
  member?: string | undefined;
  /** The member the partition is assigned to (its id, see GroupInfo.stats.members), when one says so. */
  assignedTo?: string | undefined;
  /** Since when that member has held it (ISO time). */
  memberSince?: string | undefined;
  /** Messages out now that the server delivered more than once (after a crash or a hand-over; a member's own retries are not counted here, see GroupMember.retrying). */
  redelivered: number;
}

/** Why a message became a dead letter. */
export const DeadLetterReason = {
  /** Exceeded the group's maxMsgDeliveries. */
  Poison: "poison",
  /** A consumer gave up on it (term / deadLetter). */
  Terminated: "terminated",
  /** Refused by the station's schema on produce. */
  Schema: "schema",
  /** A station function failed on it on produce. */
  Function: "function",
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** A dead letter as stored in `JN_DLS` (JSON body) and returned by `jn.api.dls.*`. */
export interface DeadLetter {
  /** Stable id: the same failure is recorded once (it is also the Nats-Msg-Id). */
  id: string;
  /** The station's tenant; absent = the default tenant. */
  tenant?: string | undefined;
  station: string;
  reason: DeadLetterReason;
  /** Group(s) that failed it (poison / terminated). */
  groups: string[];
  /** Stream sequence in the station, when it was stored there. */
  seq?: number | undefined;
  /** The payload, base64. */
  payload: string;
  headers: Record<string, string>;
  /** What went wrong (schema issues, function error, consumer's reason…). */
  error?: { code: string; message: string; details?: Record<string, unknown> } | undefined;
  /** Delivery count when it was given up. */
  deliveries?: number | undefined;
  firstDeliveryAt?: string | undefined;
  lastDeliveryAt?: string | undefined;
  producer?: string | undefined;
  /** The dead letter this one is a resend of (a resent message that failed again). */
  resentFrom?: string | undefined;
  /**
   * Where the dead-lettering was traced (the gateway's `dead-letter` span), when the gateway
   * traces; the message's own trace context stays in `headers`. A resend links to it.
   */
  trace?: TraceHeaders | undefined;
  createdAt: string;
  /** Sequence in JN_DLS (set when read back). */
  dlsSeq?: number | undefined;
  /** The payload decoded by the station's schema (`dls.get` only, when a schema is attached). */
  decoded?: unknown;
}

/** Selects dead letters. All fields are optional and combine with AND. */
export interface DeadLetterFilter {
  station?: string;
  reason?: DeadLetterReason;
  group?: string;
  /** ISO time: created at or after. */
  since?: string;
  /** ISO time: created before. */
  until?: string;
  /** Substring of the payload (decoded as UTF-8), error message or id. */
  text?: string;
}

/** A page of dead letters. */
export interface DeadLetterPage {
  items: DeadLetter[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  next?: string | undefined;
}

/** Live event kinds on `jn.events.<station>.<kind>`. */
export const EventKind = {
  DeadLettered: "dead-lettered",
  Resent: "resent",
  Dropped: "dropped",
  GroupChanged: "group-changed",
  /** The station's partitions grew (`{ partitions }`): members start reading the new ones. */
  StationChanged: "station-changed",
  /** A function version of the station's pipeline was quarantined (its messages go to the DLS). */
  FunctionQuarantined: "function-quarantined",
  /** An operator released a quarantined function version. */
  FunctionReleased: "function-released",
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/**
 * What a user may do. Patterns are names where `*` matches any run of characters
 * (`orders-*`, `*`, `orders`); a consume grant is `<station pattern>:<group pattern>`.
 */
export interface Grants {
  /** Stations the user may produce to. */
  produce: string[];
  /** `station:group` pairs the user may consume as (pull, ack, create and inspect the group). */
  consume: string[];
  /** Administers the tenant: stations, groups, schemas, functions, dead letters, users. */
  admin: boolean;
}

/** Who asks (`jn.api.auth.whoami` returns it). */
export interface Identity {
  user: string;
  tenant: string;
  grants: Grants;
  /** An admin of the default tenant: manages tenants and every tenant's users. */
  operator: boolean;
  /** When the asking connection was made (ms since epoch), when known. */
  connectedAtMs?: number | undefined;
  /** The server's id of the asking connection, when known. */
  clientId?: number | undefined;
}
