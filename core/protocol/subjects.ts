/**
 * The wire grammar: every NATS subject, stream and bucket name Junction uses is built AND parsed
 * here, nowhere else. docs/protocol.md describes them for client authors.
 *
 * Names are scoped by tenant. The default tenant keeps the plain forms (`jn.st.<station>.msg`,
 * `JN_ST_<station>`, `jn_stations`); another tenant `t` gets a `jn.t.<t>.` subject prefix, a
 * `JN_T_<t>_` stream prefix and `jn_t_<t>_` buckets. Tenant names never hold `_` or `.`, so every
 * form parses back without ambiguity.
 */

/** Admin API prefix: `jn.api.<resource>.<verb>`. */
export const API_PREFIX = "jn.api";
/** Produce prefix: `jn.produce.<station>`. */
export const PRODUCE_PREFIX = "jn.produce";
/** The queue group every gateway joins. */
export const GATEWAY_QUEUE = "jn-gateway";
/** Live events prefix of the default tenant: `jn.events.<station>.<kind>`. */
export const EVENTS_PREFIX = "jn.events";

/** The tenant every name belongs to unless said otherwise. */
export const DEFAULT_TENANT = "default";

/**
 * The NATS accounts of a Junction deployment: the internal one (streams, KV, the gateway), the
 * one applications connect to (reaching the internal one only through service imports), and the
 * system account.
 */
export const Accounts = { Internal: "JUNCTION", Clients: "CLIENTS", System: "SYS" } as const;

/**
 * The JetStream API prefix clients use (`jetstream(nc, { apiPrefix })`): the client account
 * imports the consumer INFO and MSG.NEXT subjects of the internal account under it. (A client
 * account's own `$JS.API` is answered by the server with "JetStream not enabled".)
 */
export const CLIENT_JS_API_PREFIX = "jn.js.API";

/** A user's private inbox prefix (`_INBOX_<user>`): only that user may subscribe below it. */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user}`;
}

/** The kinds of metadata bucket. */
export const BucketKind = {
  Stations: "stations",
  Schemas: "schemas",
  Functions: "functions",
  Groups: "groups",
} as const;
export type BucketKind = (typeof BucketKind)[keyof typeof BucketKind];

/** KV bucket names of the default tenant. */
export const Buckets = {
  Stations: "jn_stations",
  Schemas: "jn_schemas",
  Functions: "jn_functions",
  Groups: "jn_groups",
} as const;

/** The dead-letter stream and the advisory stream (one each, shared by every tenant). */
export const DLS_STREAM = "JN_DLS";
export const ADVISORY_STREAM = "JN_ADV";

/** Every station stream of the default tenant starts with this. */
export const STATION_STREAM_PREFIX = "JN_ST_";
const TENANT_STREAM_PREFIX = "JN_T_";

/** The JetStream consumer advisories the DLS listens to. */
export const ADVISORY_SUBJECTS = ["$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>", "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>"] as const;

/** Dead-letter reasons that come from a consumer group (their subject names the group). */
const CONSUMER_REASONS: ReadonlySet<string> = new Set(["poison", "terminated"]);
/** Every dead-letter reason, in the grammar's terms. */
const DLS_REASONS: ReadonlySet<string> = new Set(["poison", "terminated", "schema", "function"]);

/** Names of one tenant: subjects, streams and buckets. */
export interface Scope {
  readonly tenant: string;
  /** `jn.st.<station>.>`: every subject of a station stream. */
  stationAll(station: string): string;
  /** `jn.st.<station>.msg`: new messages. */
  stationMsg(station: string): string;
  /**
   * `jn.st.<station>.part.<i>`: the messages of partition `i` of a partitioned station (stations
   * with more than one partition store every message on a partition subject, none on `…msg`).
   */
  stationPartition(station: string, partition: number): string;
  /**
   * `jn.st.<station>.resend.<consumer>`: dead letters resent to one group only (`consumer` is the
   * group's name, or one partition's consumer name, see {@link partitionConsumer}).
   */
  stationResend(station: string, group: string): string;
  /**
   * `jn.st.<station>.delay.<token>`: a delayed message waiting for its time (a JetStream message
   * schedule, one subject each: a schedule rolls up its own subject). No consumer group reads it.
   */
  stationDelayed(station: string, token: string): string;
  /** `jn.st.<station>.delay.>`: every delayed message of a station. */
  stationDelayedAll(station: string): string;
  /** `JN_ST_<station>`. */
  stationStream(station: string): string;
  /**
   * The subject of a dead letter: `jn.dls.<station>.<reason>` for produce failures (schema,
   * function) and `jn.dls.<station>.<reason>.<group>` for consumer failures (poison,
   * terminated), so counts per station, reason and group come from subject counts.
   */
  dls(station: string, reason: string, group?: string): string;
  /**
   * The narrowest subject filter for dead letters with these properties (any unset one matches
   * all); undefined when nothing can match (a group with a produce-side reason).
   */
  dlsFilter(f: { station?: string | undefined; reason?: string | undefined; group?: string | undefined }): string | undefined;
  /** `jn.events.<station>.<kind>`. */
  events(station: string, kind: string): string;
  /** Every event of the tenant (`jn.events.>`), or of one station. */
  eventsAll(station?: string): string;
  /** The KV bucket of one kind of metadata. */
  bucket(kind: BucketKind): string;
}

/** Where a station subject points. */
export interface StationSubject {
  tenant: string;
  station: string;
  /** `msg` for new messages, `part` for partition `partition`'s messages, `resend` for a resend to `group`. */
  kind: "msg" | "part" | "resend";
  group?: string;
  /** The partition of a `part` subject, or of a resend to a partition's consumer. */
  partition?: number;
}

/** A parsed dead-letter subject. */
export interface DlsSubject {
  tenant: string;
  station: string;
  reason: string;
  /** Set for poison and terminated dead letters. */
  group?: string;
}

/** A parsed event subject. */
export interface EventSubject {
  tenant: string;
  station: string;
  kind: string;
}

function makeScope(tenant: string): Scope {
  const plain = tenant === DEFAULT_TENANT;
  const st = plain ? "jn.st" : `jn.t.${tenant}.st`;
  const dls = plain ? "jn.dls" : `jn.t.${tenant}.dls`;
  const ev = plain ? EVENTS_PREFIX : `jn.t.${tenant}.events`;
  const streamPrefix = plain ? STATION_STREAM_PREFIX : `${TENANT_STREAM_PREFIX}${tenant}_ST_`;
  return Object.freeze({
    tenant,
    stationAll: (station: string) => `${st}.${station}.>`,
    stationMsg: (station: string) => `${st}.${station}.msg`,
    stationPartition: (station: string, partition: number) => `${st}.${station}.part.${partition}`,
    stationResend: (station: string, group: string) => `${st}.${station}.resend.${group}`,
    stationDelayed: (station: string, token: string) => `${st}.${station}.delay.${token}`,
    stationDelayedAll: (station: string) => `${st}.${station}.delay.>`,
    stationStream: (station: string) => `${streamPrefix}${station}`,
    dls: (station: string, reason: string, group?: string) =>
      group !== undefined && CONSUMER_REASONS.has(reason) ? `${dls}.${station}.${reason}.${group}` : `${dls}.${station}.${reason}`,
    dlsFilter(f: { station?: string | undefined; reason?: string | undefined; group?: string | undefined }) {
      const s = f.station ?? "*";
      if (f.reason !== undefined && !CONSUMER_REASONS.has(f.reason)) return f.group !== undefined ? undefined : `${dls}.${s}.${f.reason}`;
      if (f.group !== undefined) return `${dls}.${s}.${f.reason ?? "*"}.${f.group}`;
      if (f.reason !== undefined) return `${dls}.${s}.${f.reason}.*`;
      return `${dls}.${s}.>`;
    },
    events: (station: string, kind: string) => `${ev}.${station}.${kind}`,
    eventsAll: (station?: string) => (station === undefined ? `${ev}.>` : `${ev}.${station}.*`),
    bucket: (kind: BucketKind) => (plain ? `jn_${kind}` : `jn_t_${tenant}_${kind}`),
  });
}

const scopes = new Map<string, Scope>();

/** The names of a tenant (cached). The tenant name must be valid (see names.ts). */
export function scopeOf(tenant: string = DEFAULT_TENANT): Scope {
  let s = scopes.get(tenant);
  if (!s) {
    s = makeScope(tenant);
    if (scopes.size < 10_000) scopes.set(tenant, s);
  }
  return s;
}

/** The names of the default tenant. */
export const defaultScope: Scope = scopeOf(DEFAULT_TENANT);

/** Subject filters that capture every tenant's dead letters (the DLS stream's subjects). */
export const DLS_STREAM_SUBJECTS = ["jn.dls.>", "jn.t.*.dls.>"] as const;

/** Subject builders of the default tenant, and the tenant-free ones. */
export const subjects = {
  api: (resource: string, verb: string) => `${API_PREFIX}.${resource}.${verb}`,
  /** The subject of an admin operation (`station.create`, `ping`…). */
  apiOp: (op: string) => `${API_PREFIX}.${op}`,
  produce: (station: string) => `${PRODUCE_PREFIX}.${station}`,
  stationStream: defaultScope.stationStream,
  stationAll: defaultScope.stationAll,
  stationMsg: defaultScope.stationMsg,
  stationResend: defaultScope.stationResend,
  dls: defaultScope.dls,
  events: defaultScope.events,
} as const;

/** Splits `jn.<tenant-part>.<rest>` into tenant and the tokens after the section name. */
function tenantAndRest(tokens: string[], section: string): { tenant: string; rest: string[] } | undefined {
  if (tokens[0] !== "jn") return undefined;
  if (tokens[1] === section) return { tenant: DEFAULT_TENANT, rest: tokens.slice(2) };
  if (tokens[1] === "t" && tokens[2] !== undefined && tokens[2] !== "" && tokens[3] === section)
    return { tenant: tokens[2], rest: tokens.slice(4) };
  return undefined;
}

/** The admin operation (`<resource>.<verb>`, or a single token like `ping`) of a `jn.api.…` subject. */
export function parseApiSubject(subject: string): string | undefined {
  const prefix = API_PREFIX + ".";
  if (!subject.startsWith(prefix) || subject.length === prefix.length) return undefined;
  return subject.slice(prefix.length);
}

/** The raw station token of a `jn.produce.<station>` subject (not yet checked against the name rule). */
export function parseProduceSubject(subject: string): string | undefined {
  const prefix = PRODUCE_PREFIX + ".";
  if (!subject.startsWith(prefix)) return undefined;
  return subject.slice(prefix.length);
}

/** Tenant and station of a station stream name, or undefined for any other stream. */
export function parseStationStream(stream: string): { tenant: string; station: string } | undefined {
  if (stream.startsWith(STATION_STREAM_PREFIX)) {
    const station = stream.slice(STATION_STREAM_PREFIX.length);
    return station ? { tenant: DEFAULT_TENANT, station } : undefined;
  }
  if (stream.startsWith(TENANT_STREAM_PREFIX)) {
    const rest = stream.slice(TENANT_STREAM_PREFIX.length);
    const i = rest.indexOf("_ST_");
    if (i <= 0) return undefined;
    const station = rest.slice(i + 4);
    return station ? { tenant: rest.slice(0, i), station } : undefined;
  }
  return undefined;
}

/** A station stream subject (`…msg` or `…resend.<group>`), parsed. */
export function parseStationSubject(subject: string): StationSubject | undefined {
  const p = tenantAndRest(subject.split("."), "st");
  if (!p) return undefined;
  const [station, kind, group, extra] = p.rest;
  if (!station || extra !== undefined) return undefined;
  if (kind === "msg" && group === undefined) return { tenant: p.tenant, station, kind: "msg" };
  if (kind === "part" && group !== undefined && /^(0|[1-9]\d{0,3})$/.test(group))
    return { tenant: p.tenant, station, kind: "part", partition: Number(group) };
  if (kind === "resend" && group) {
    const c = parseGroupConsumer(group);
    if (!c) return undefined;
    return { tenant: p.tenant, station, kind: "resend", group: c.group, ...(c.partition !== undefined ? { partition: c.partition } : {}) };
  }
  return undefined;
}

/**
 * The JetStream consumer of partition `i` of a consumer group on a partitioned station:
 * `<group>-P<i>`. Group names are lower case, so no group is ever named like a partition's
 * consumer. A station with one partition has one consumer per group, named as the group.
 */
export function partitionConsumer(group: string, partition: number): string {
  return `${group}-P${partition}`;
}

/** Where the members of a consumer group announce themselves: `jn.members.<stream>.<group>`. */
export const MEMBERS_PREFIX = "jn.members";

/**
 * The presence subject of a consumer group (in the client account): its members announce
 * themselves there (the gateway counts them); on a partitioned station they also share the
 * partitions out by the list they hear.
 */
export function membersSubject(stream: string, group: string): string {
  return `${MEMBERS_PREFIX}.${stream}.${group}`;
}

/** A presence subject, parsed; undefined for anything else. */
export function parseMembersSubject(subject: string): { stream: string; group: string } | undefined {
  const t = subject.split(".");
  if (t.length !== 4 || `${t[0]}.${t[1]}` !== MEMBERS_PREFIX || !t[2] || !t[3]) return undefined;
  return { stream: t[2], group: t[3] };
}

/** The group (and partition) a JetStream consumer of a station stream belongs to. */
export function parseGroupConsumer(consumer: string): { group: string; partition?: number } | undefined {
  if (!consumer) return undefined;
  const m = /^(.+)-P(0|[1-9]\d{0,3})$/.exec(consumer);
  return m ? { group: m[1]!, partition: Number(m[2]) } : { group: consumer };
}

/** The JetStream consumers of a group: its name alone, or one per partition. */
export function groupConsumers(group: string, partitions: number): string[] {
  if (partitions <= 1) return [group];
  return Array.from({ length: partitions }, (_, i) => partitionConsumer(group, i));
}

/** A dead-letter subject in either form, parsed; undefined for anything else. */
export function parseDlsSubject(subject: string): DlsSubject | undefined {
  const p = tenantAndRest(subject.split("."), "dls");
  if (!p) return undefined;
  const [station, reason, group, extra] = p.rest;
  if (!station || !reason || extra !== undefined || !DLS_REASONS.has(reason)) return undefined;
  if (group === undefined) return CONSUMER_REASONS.has(reason) ? undefined : { tenant: p.tenant, station, reason };
  return CONSUMER_REASONS.has(reason) && group ? { tenant: p.tenant, station, reason, group } : undefined;
}

/** An event subject, parsed. */
export function parseEventSubject(subject: string): EventSubject | undefined {
  const p = tenantAndRest(subject.split("."), "events");
  if (!p) return undefined;
  const [station, kind, extra] = p.rest;
  return station && kind && extra === undefined ? { tenant: p.tenant, station, kind } : undefined;
}

/** Which consumer advisory a subject carries. */
export function parseAdvisorySubject(subject: string): "max-deliveries" | "terminated" | undefined {
  if (subject.startsWith("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.")) return "max-deliveries";
  if (subject.startsWith("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.")) return "terminated";
  return undefined;
}

/** A dead-letter id, parsed: where its entries live. */
export interface DeadLetterIdParts {
  tenant: string;
  reason: string;
  station: string;
  /** The last `:` part (the group, for poison and terminated dead letters). */
  last: string;
}

/**
 * A dead-letter id: `<reason>:<station>:<detail…>` (consumer reasons end in `:<group>`), with a
 * `<tenant>/` prefix outside the default tenant, so ids are unique across tenants (they are the
 * DLS stream's de-duplication ids) and name the subject their entry lives on.
 */
export function deadLetterId(tenant: string, reason: string, station: string, ...detail: (string | number)[]): string {
  const base = [reason, station, ...detail].join(":");
  return tenant === DEFAULT_TENANT ? base : `${tenant}/${base}`;
}

/** Splits a dead-letter id (see {@link deadLetterId}); undefined when it is not one. */
export function parseDeadLetterId(id: string): DeadLetterIdParts | undefined {
  let tenant = DEFAULT_TENANT;
  let rest = id;
  const slash = id.indexOf("/");
  if (slash > 0 && slash < id.indexOf(":")) {
    tenant = id.slice(0, slash);
    rest = id.slice(slash + 1);
  }
  const parts = rest.split(":");
  const [reason, station] = parts;
  if (reason === undefined || station === undefined || parts.length < 3 || !DLS_REASONS.has(reason)) return undefined;
  return { tenant, reason, station, last: parts[parts.length - 1]! };
}

/** Whether a dead-letter reason comes from a consumer group (poison, terminated). */
export function isConsumerReason(reason: string): boolean {
  return CONSUMER_REASONS.has(reason);
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
  /** On an admin request: the tenant an operator acts in (others act in their own). */
  Tenant: "Jn-Tenant",
  /** On a stored dead letter: its reason and station. */
  DlsReason: "Jn-Dls-Reason",
  DlsStation: "Jn-Dls-Station",
  /**
   * The ordering key of a message: messages of one key are delivered in order, one at a time, to
   * every group of a partitioned station. Set on produce and stored with the message.
   */
  Key: "Jn-Key",
  /** JetStream's de-duplication id, as stored on a message. */
  NatsMsgId: "Nats-Msg-Id",
  /**
   * W3C Trace Context: the message's creation context and vendor entries. Ordinary user headers
   * (not reserved); the gateway stores them as the producer sent them and keeps functions from
   * changing them.
   */
  Traceparent: "traceparent",
  Tracestate: "tracestate",
  /** On a produced message: how long to hold it before groups see it, in ms (gateway's clock). */
  DelayMs: "Jn-Delay-Ms",
  /** On a produced message: when groups may see it, in ms since the epoch. */
  DeliverAt: "Jn-Deliver-At",
  /** On a produced message: how long it stays deliverable once visible, in ms (whole seconds). */
  TtlMs: "Jn-Ttl-Ms",
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

/**
 * Where a gateway tells the others that an operator released a quarantined function version
 * (internal account only, never exported): every gateway lifts its own quarantine of it.
 * JSON `{"fn": "<runtime name>", "version"?: <n>}` (no version: every version).
 */
export const FUNCTION_RELEASE_SUBJECT = "jn.gw.functions.release";

/** A function release note. */
export interface FunctionReleaseNote {
  /** The function's runtime name (its tenant's prefix and its name). */
  fn: string;
  version?: number | undefined;
}

/** Encodes a {@link FunctionReleaseNote}. */
export function encodeFunctionRelease(n: FunctionReleaseNote): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(n.version === undefined ? { fn: n.fn } : { fn: n.fn, version: n.version }));
}

/** Parses a {@link FunctionReleaseNote}; undefined for anything malformed. */
export function parseFunctionRelease(data: Uint8Array): FunctionReleaseNote | undefined {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const { fn, version } = v as Record<string, unknown>;
  if (typeof fn !== "string" || fn === "" || fn.length > 1024) return undefined;
  if (version !== undefined && !(typeof version === "number" && Number.isSafeInteger(version) && version > 0)) return undefined;
  return version === undefined ? { fn } : { fn, version };
}
