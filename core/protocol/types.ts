/**
 * The shapes that cross the wire between the SDK and the gateway.
 * Units are in the names: Ms, Seconds, Bytes.
 */

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
}

/** A station as the admin API returns it. */
export interface StationInfo {
  name: string;
  config: StationConfig;
  createdAt: string;
  /** Stored messages, bytes and sequence range. */
  state?: { messages: number; bytes: number; firstSeq: number; lastSeq: number; consumers: number };
  /** Attached schema, if any. */
  schema?: { name: string; version: number | "latest"; allowUnknownFields?: boolean } | undefined;
  /** Function pipeline, in order. */
  functions?: { name: string; version: number | "latest"; inputs: Record<string, string> }[];
}

/** Where a new consumer group starts reading. */
export type StartPosition =
  | { kind: "earliest" }
  | { kind: "latest" }
  | { kind: "sequence"; seq: number }
  | { kind: "last"; count: number };

/** A consumer group's settings. */
export interface GroupConfig {
  /** Time a member has to ack before the message is resent. @default 30000 */
  maxAckTimeMs: number;
  /** Deliveries before the message becomes a dead letter. @default 10 */
  maxMsgDeliveries: number;
  /** Redelivery delays, one per attempt (the last repeats). Empty = resend after maxAckTimeMs. @default [] */
  backoffMs: number[];
  /** @default { kind: "earliest" } */
  startPosition: StartPosition;
}

/** A consumer group as the admin API returns it. */
export interface GroupInfo {
  station: string;
  name: string;
  config: GroupConfig;
  stats: {
    /** Messages not yet delivered to the group. */
    pending: number;
    /** Delivered, not yet acked. */
    unacked: number;
    /** Messages delivered more than once. */
    redelivered: number;
    /** Members pulling right now. */
    membersOnline: number;
    /** Last stream sequence delivered. */
    deliveredSeq: number;
    /** Last stream sequence acked by the floor. */
    ackFloorSeq: number;
  };
}
