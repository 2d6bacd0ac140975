/**
 * The Memphis wire grammar: the subjects the memphis.js SDK (1.3.2) and its Go and Python
 * siblings use in their own NATS account, the subjects the gateway serves them on in the internal
 * account, and how a Memphis name maps to a Junction one. Every Memphis subject is built and
 * parsed here.
 *
 * Each Memphis user lives in a NATS account of its own (`MEMPHIS_<user>`). It reaches the internal one
 * only through the imports in {@link MEMPHIS_IMPORTS}: the control plane, produce (`<station>.final`),
 * consumer info and acknowledgements go to the gateway (which authorizes each request by who
 * sent it); pulls go to JetStream directly (the pull subjects a user may publish are its NATS
 * permissions); pushes (schema updates) come from the gateway through one stream import.
 */
import { nameProblem } from "../protocol/index.js";

/**
 * The NATS account a Memphis user is placed in: one per user. The unmodified SDK listens on
 * `_INBOX.>` and on per-station subjects it cannot narrow, so two Memphis users sharing an
 * account would see each other's replies (and the messages they pull).
 */
export function memphisAccount(user: string): string {
  return `MEMPHIS_${user}`;
}

/** The control-plane subjects (request/reply JSON or text), by their Memphis name. */
export const ControlSubjects = {
  StationCreations: "$memphis_station_creations",
  StationDestructions: "$memphis_station_destructions",
  ProducerCreations: "$memphis_producer_creations",
  ProducerDestructions: "$memphis_producer_destructions",
  ConsumerCreations: "$memphis_consumer_creations",
  ConsumerDestructions: "$memphis_consumer_destructions",
  SchemaCreations: "$memphis_schema_creations",
  SchemaAttachments: "$memphis_schema_attachments",
  SchemaDetachments: "$memphis_schema_detachments",
} as const;
export type ControlSubject = (typeof ControlSubjects)[keyof typeof ControlSubjects];

/** Fire-and-forget subjects the SDK publishes on (no reply expected). */
export const IngestSubjects = {
  /** `message.deadLetter(reason)`: the reason of a message the SDK just terminated. */
  NackedDls: "$memphis_nacked_dls",
  /** A message the SDK refused locally against the station's schema. */
  SchemaverseDls: "$memphis_schemaverse_dls",
  /** Acks of dead letters the broker pushed to a consumer (Junction never pushes them). */
  PmAcks: "$memphis_pm_acks",
  /** Notifications the SDK raises (schema failures when the broker asked for them). */
  Notifications: "$memphis_notifications",
} as const;
export type IngestSubject = (typeof IngestSubjects)[keyof typeof IngestSubjects];

/** What the SDK subscribes to: updates pushed to every client, and per-station pushes. */
export const PushSubjects = {
  ClientsUpdates: "$memphis_sdk_clients_updates",
  schemaUpdates: (station: string) => `$memphis_schema_updates_${station}`,
  functionsUpdates: (station: string) => `$memphis_functions_updates_${station}`,
  /** Dead letters a Memphis broker pushed to one group (Junction resends through JetStream instead). */
  dls: (station: string, group: string) => `$memphis_dls_${station}.${group}`,
} as const;

/** The prefix of every subject the gateway serves Memphis on, in the internal account. */
export const GATEWAY_PREFIX = "jn.memphis";

/** Subjects of the internal account (served by the gateway in its queue group). */
export const GatewaySubjects = {
  /** `jn.memphis.api.<station_creations…>`: the control plane. */
  control: (s: ControlSubject) => `${GATEWAY_PREFIX}.api.${s.slice("$memphis_".length)}`,
  /** `jn.memphis.ingest.<nacked_dls…>`: fire-and-forget reports. */
  ingest: (s: IngestSubject) => `${GATEWAY_PREFIX}.ingest.${s.slice("$memphis_".length)}`,
  /** `$JS.API.INFO` answered by the gateway. */
  accountInfo: `${GATEWAY_PREFIX}.js.account`,
  /** `$JS.API.CONSUMER.INFO.<stream>.<consumer>` answered by the gateway. */
  consumerInfo: `${GATEWAY_PREFIX}.js.consumer.*.*`,
  /** `$JS.ACK.>` checked and forwarded by the gateway. */
  ack: `${GATEWAY_PREFIX}.ack.>`,
  /** `<stream>.final` (produce) answered by the gateway. */
  produce: `${GATEWAY_PREFIX}.produce.*`,
  /** What the gateway publishes here reaches the Memphis account as the last token. */
  push: (subject: string) => `${GATEWAY_PREFIX}.push.${subject}`,
  /** Gateways tell each other what they learnt (a dead-letter reason); never exported. */
  internal: `${GATEWAY_PREFIX}.internal.reasons`,
} as const;

/** One import of the Memphis account (the internal account exports `remote`). */
export interface MemphisImport {
  kind: "service" | "stream";
  /** The subject in the Memphis account. */
  local: string;
  /** The subject in the internal account. */
  remote: string;
  /** Requests carry who sent them (`Nats-Request-Info`). */
  share: boolean;
  /** Many responses to one request (JetStream pulls). */
  streamResponse?: boolean;
  /** The internal account exports it already (for the client account). */
  alreadyExported?: boolean;
}

/** Everything the Memphis account reaches in the internal account. */
export const MEMPHIS_IMPORTS: readonly MemphisImport[] = Object.freeze([
  ...Object.values(ControlSubjects).map((s) => ({ kind: "service" as const, local: s, remote: GatewaySubjects.control(s), share: true })),
  ...Object.values(IngestSubjects).map((s) => ({ kind: "service" as const, local: s, remote: GatewaySubjects.ingest(s), share: true })),
  { kind: "service", local: "$JS.API.INFO", remote: GatewaySubjects.accountInfo, share: true },
  { kind: "service", local: "$JS.API.CONSUMER.INFO.*.*", remote: GatewaySubjects.consumerInfo, share: true },
  {
    kind: "service",
    local: "$JS.API.CONSUMER.MSG.NEXT.*.*",
    remote: "$JS.API.CONSUMER.MSG.NEXT.*.*",
    share: false,
    streamResponse: true,
    alreadyExported: true,
  },
  { kind: "service", local: "$JS.ACK.>", remote: GatewaySubjects.ack, share: true },
  { kind: "service", local: "*.final", remote: GatewaySubjects.produce, share: true },
  { kind: "stream", local: "*", remote: GatewaySubjects.push("*"), share: false },
]);

/** The stream token and the station a `<token>.final` subject names, as the gateway receives it. */
export function parseProduceToken(subject: string): string | undefined {
  const prefix = `${GATEWAY_PREFIX}.produce.`;
  return subject.startsWith(prefix) ? subject.slice(prefix.length) : undefined;
}

/** The stream and consumer tokens of a consumer-info request, as the gateway receives it. */
export function parseConsumerInfo(subject: string): { stream: string; consumer: string } | undefined {
  const prefix = `${GATEWAY_PREFIX}.js.consumer.`;
  if (!subject.startsWith(prefix)) return undefined;
  const [stream, consumer, extra] = subject.slice(prefix.length).split(".");
  return stream && consumer && extra === undefined ? { stream, consumer } : undefined;
}

/** The `$JS.ACK.…` subject a client published to, from the subject the gateway receives it on. */
export function parseAckForward(subject: string): string | undefined {
  const prefix = `${GATEWAY_PREFIX}.ack.`;
  return subject.startsWith(prefix) && subject.length > prefix.length ? `$JS.ACK.${subject.slice(prefix.length)}` : undefined;
}

/**
 * The station a Memphis stream name (`<station>$<partition>` or `<station>`, in its internal
 * form where `.` is `#`) stands for; undefined when it is not a Memphis name.
 */
export function stationOfMemphisStream(token: string): { station: string; partition: number | undefined } | undefined {
  const m = /^([^$]+)(?:\$(\d{1,9}))?$/.exec(token);
  if (!m) return undefined;
  return { station: m[1]!, partition: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * Memphis's own naming rule (1–128 characters of `a-z 0-9 _ - .`, starting and ending with a
 * letter or digit), as it words its errors; undefined when the name passes.
 */
export function memphisNameProblem(name: string, what: string): string | undefined {
  if (name.length === 0) return `${what} name can not be empty`;
  if (name.length > 128) return `${what} should be under 128 characters`;
  if (!/^[a-z0-9_.-]*$/.test(name)) return `Only alphanumeric and the '_', '-', '.' characters are allowed in ${what}`;
  if (/^[._-]|[._-]$/.test(name)) return `${what} name can not start or end with non alphanumeric character`;
  return undefined;
}

/**
 * The Junction name of a Memphis station, group or schema name (lowercased, as the SDK does), or
 * the reason it has none: Junction names are subject tokens, so a `.` (which Memphis turned into
 * `#` internally) or more than 64 characters cannot be carried over.
 */
export function junctionName(
  raw: unknown,
  what: "station" | "consumer group" | "schema" | "producer" | "consumer",
): string | { problem: string } {
  if (typeof raw !== "string") return { problem: `${what} name must be a string` };
  const name = raw.toLowerCase();
  const memphis = memphisNameProblem(name.replace(/#/g, "."), what);
  if (memphis !== undefined) return { problem: memphis };
  const junction = nameProblem(name);
  if (junction !== undefined) {
    const hint = /[.#]/.test(name) ? " (use '-' or '_' instead of '.')" : "";
    return { problem: `${what} name '${name.replace(/#/g, ".")}' is not supported by Junction: it ${junction}${hint}` };
  }
  return name;
}
