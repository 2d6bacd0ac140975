/**
 * Every NATS subject, stream and bucket name Junction uses, in one place.
 * docs/protocol.md describes them for client authors.
 */

/** Admin API prefix: `jn.api.<resource>.<verb>`. */
export const API_PREFIX = "jn.api";
/** Produce prefix: `jn.produce.<station>`. */
export const PRODUCE_PREFIX = "jn.produce";
/** The queue group every gateway joins. */
export const GATEWAY_QUEUE = "jn-gateway";
/** Live events prefix: `jn.events.<station>.<kind>`. */
export const EVENTS_PREFIX = "jn.events";

/** KV bucket names. */
export const Buckets = {
  Stations: "jn_stations",
  Schemas: "jn_schemas",
  Functions: "jn_functions",
  Groups: "jn_groups",
} as const;

/** The dead-letter stream and the advisory stream. */
export const DLS_STREAM = "JN_DLS";
export const ADVISORY_STREAM = "JN_ADV";

/** Every station stream's name starts with this. */
export const STATION_STREAM_PREFIX = "JN_ST_";

export const subjects = {
  api: (resource: string, verb: string) => `${API_PREFIX}.${resource}.${verb}`,
  produce: (station: string) => `${PRODUCE_PREFIX}.${station}`,
  stationStream: (station: string) => `${STATION_STREAM_PREFIX}${station}`,
  stationAll: (station: string) => `jn.st.${station}.>`,
  stationMsg: (station: string) => `jn.st.${station}.msg`,
  stationResend: (station: string, group: string) => `jn.st.${station}.resend.${group}`,
  dls: (station: string, reason: string) => `jn.dls.${station}.${reason}`,
  events: (station: string, kind: string) => `${EVENTS_PREFIX}.${station}.${kind}`,
} as const;

/** The station name inside a `jn.produce.<station>` subject, or undefined. */
export function stationFromProduceSubject(subject: string): string | undefined {
  const prefix = PRODUCE_PREFIX + ".";
  if (!subject.startsWith(prefix)) return undefined;
  return subject.slice(prefix.length);
}

/** Header names on the wire. User headers may not start with `Jn-` or `Nats-`. */
export const Headers = {
  /** The producer-chosen message id; becomes `Nats-Msg-Id` for de-duplication. */
  MsgId: "Jn-Msg-Id",
  /** Marks a produce request whose body is a batch frame. */
  Batch: "Jn-Batch",
  /** The producer's name, stored with the message. */
  Producer: "Jn-Producer",
  /** `<schema>@<version>` the stored message was checked against. */
  Schema: "Jn-Schema",
  /** Set on a message that the DLS resent. */
  ResentFrom: "Jn-Resent-From",
} as const;

/** Whether a user may set this header (reserved prefixes are refused). */
export function isReservedHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith("jn-") || n.startsWith("nats-");
}

/** Splits a `Jn-Schema` header value (`<name>@<version>`); undefined when it is not one. */
export function parseSchemaTag(tag: string | undefined): { name: string; version: number } | undefined {
  if (!tag) return undefined;
  const i = tag.lastIndexOf("@");
  if (i <= 0) return undefined;
  const version = Number(tag.slice(i + 1));
  return Number.isInteger(version) && version > 0 ? { name: tag.slice(0, i), version } : undefined;
}
