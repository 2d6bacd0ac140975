/**
 * Memphis concepts in Junction's terms, as pure functions: station and consumer-group settings,
 * produce results as JetStream publish acknowledgements, Junction errors as the texts and
 * JetStream errors the SDK understands.
 */
import type { ErrorBody, GroupConfig, ProduceResult, StartPosition, StationConfig } from "../protocol/index.js";
import { junctionName, memphisNameProblem } from "./names.js";

/** A Memphis request field, read leniently (Memphis's broker unmarshalled with Go zero values). */
export function field<T extends "string" | "number" | "boolean" | "object">(
  body: Record<string, unknown>,
  key: string,
  type: T,
): (T extends "string" ? string : T extends "number" ? number : T extends "boolean" ? boolean : Record<string, unknown>) | undefined {
  const v = body[key];
  if (type === "object") return (typeof v === "object" && v !== null && !Array.isArray(v) ? v : undefined) as never;
  if (type === "number") return (typeof v === "number" && Number.isFinite(v) ? v : undefined) as never;
  return (typeof v === type ? v : undefined) as never;
}

/** What a `$memphis_station_creations` request asks for, in Junction terms. */
export interface StationRequest {
  station: string;
  config: Partial<StationConfig>;
  /** A schema to attach once the station exists. */
  schema: string | undefined;
  /** Things asked for that Junction does differently (logged). */
  notes: string[];
}

/**
 * Maps a station creation request: retention `message_age_sec` (value in seconds; ≤ 0 means one
 * hour, as in Memphis), `messages`, `bytes` and `ack_based` (Junction's `interest` retention:
 * kept until every consumer group acked); storage; replicas (Memphis rounds 2 and 4 up to 3);
 * the de-duplication window (≤ 0: 2 minutes; at least 100 ms; at most 24 hours, and not longer
 * than an age retention). Errors are Memphis's own texts.
 */
export function stationRequest(body: Record<string, unknown>): StationRequest | { problem: string } {
  const name = junctionName(field(body, "name", "string") ?? "", "station");
  if (typeof name !== "string") return name;
  const notes: string[] = [];
  const config: Partial<StationConfig> = {};
  let type = (field(body, "retention_type", "string") ?? "").toLowerCase();
  let value = Math.trunc(field(body, "retention_value", "number") ?? 0);
  if (type === "") type = "message_age_sec";
  if (!["message_age_sec", "messages", "bytes", "ack_based"].includes(type)) {
    return { problem: "retention type can be one of the following message_age_sec/messages/bytes/ack_based" };
  }
  if (value <= 0 && type !== "ack_based") {
    type = "message_age_sec";
    value = 3600;
  }
  if (type === "message_age_sec") config.maxAgeSeconds = value;
  else if (type === "messages") config.maxMessages = value;
  else if (type === "bytes") config.maxBytes = value;
  else config.retention = "interest";
  const storage = (field(body, "storage_type", "string") ?? "file").toLowerCase() || "file";
  if (storage !== "file" && storage !== "memory") return { problem: "storage type can be one of the following file/memory" };
  config.storage = storage;
  const r = Math.trunc(field(body, "replicas", "number") ?? 1);
  config.replicas = r <= 0 ? 1 : r === 2 || r === 4 ? 3 : Math.min(r, 5);
  let window = Math.trunc(field(body, "idempotency_window_in_ms", "number") ?? 0);
  if (window <= 0) window = 120_000;
  else if (window < 100) window = 100;
  if (window > 86_400_000) return { problem: "idempotency window can not exceed 24 hours" };
  if (type === "message_age_sec" && value * 1000 < window)
    return { problem: "idempotency window cannot be greater than the station retention" };
  config.idempotencyWindowMs = window;
  const partitions = field(body, "partitions_number", "number") ?? 1;
  if (partitions === 0) return { problem: "you are using an old SDK, make sure to update your SDK" };
  if (partitions > 1) notes.push(`${partitions} partitions asked; a Junction station is one ordered partition`);
  if (field(body, "tiered_storage_enabled", "boolean") === true) notes.push("tiered storage is not supported (ignored)");
  const dlsStation = field(body, "dls_station", "string") ?? "";
  if (dlsStation !== "") notes.push(`dead letters stay in Junction's DLS; no copy goes to station '${dlsStation}'`);
  const dls = field(body, "dls_configuration", "object");
  if (dls && (dls["poison"] === false || dls["Schemaverse"] === false || dls["schemaverse"] === false)) {
    notes.push("Junction always records poison and schema dead letters");
  }
  const schemaRaw = field(body, "schema_name", "string") ?? "";
  let schema: string | undefined;
  if (schemaRaw !== "") {
    const s = junctionName(schemaRaw, "schema");
    if (typeof s !== "string") return s;
    schema = s;
  }
  return { station: name, config, schema, notes };
}

/** What a `$memphis_consumer_creations` request asks for, in Junction terms. */
export interface ConsumerRequest {
  station: string;
  group: string;
  config: Partial<GroupConfig> & { startPosition: StartPosition };
}

/**
 * Maps a consumer creation request as Memphis did: the group is `consumers_group` or else the
 * consumer's name; `max_ack_time_ms` ≤ 0 is 30 s; `max_msg_deliveries` outside 1–10 is 10; the
 * start position is the last N messages (`last_messages` > 0), new messages only
 * (`last_messages` 0 with `start_consume_from_sequence` 1), a sequence (> 1), else the first.
 */
export function consumerRequest(body: Record<string, unknown>): ConsumerRequest | { problem: string } {
  const consumer = (field(body, "name", "string") ?? "").toLowerCase();
  const cp = memphisNameProblem(consumer, "consumer");
  if (cp !== undefined) return { problem: cp };
  const rawGroup = (field(body, "consumers_group", "string") ?? "") || consumer;
  const group = junctionName(rawGroup, "consumer group");
  if (typeof group !== "string") return group;
  // The SDK listens for pushed dead letters on `$memphis_dls_<station>.<group>`; subscriptions
  // on `*.final` (where other clients produce) are denied to Memphis users.
  if (group === "final") return { problem: "consumer group name 'final' is reserved" };
  const station = junctionName(field(body, "station_name", "string") ?? "", "station");
  if (typeof station !== "string") return station;
  const seq = Math.trunc(field(body, "start_consume_from_sequence", "number") ?? 1);
  const last = Math.trunc(field(body, "last_messages", "number") ?? -1);
  if (seq <= 0) return { problem: "startConsumeFromSequence has to be a positive number" };
  if (last < -1) return { problem: "min value for LastMessages is -1" };
  if (seq > 1 && last > -1) return { problem: "consumer creation options can't contain both startConsumeFromSequence and lastMessages" };
  const ack = Math.trunc(field(body, "max_ack_time_ms", "number") ?? 0);
  const deliveries = Math.trunc(field(body, "max_msg_deliveries", "number") ?? 0);
  const startPosition: StartPosition =
    last > 0
      ? { kind: "last", count: last }
      : last === 0 && seq === 1
        ? { kind: "latest" }
        : seq > 1
          ? { kind: "sequence", seq }
          : { kind: "earliest" };
  const maxAckTimeMs = ack <= 0 ? 30_000 : Math.max(ack, 100);
  return {
    station,
    group,
    config: {
      maxAckTimeMs,
      // memphis.js never renews what it holds: the group's lease must be the whole ack time.
      memberTimeoutMs: maxAckTimeMs,
      maxMsgDeliveries: deliveries <= 0 || deliveries > 10 ? 10 : deliveries,
      startPosition,
    },
  };
}

/** A JetStream publish acknowledgement, as `js.publish()` expects it. */
export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

/** A JetStream API error body, as JetStream clients parse it. */
export interface JsApiError {
  type?: string;
  error: { code: number; err_code?: number; description: string; junction_code?: string };
}

/**
 * The HTTP-like status of a Junction error in a JetStream-shaped error: 503 for a station that is
 * not there (the SDK then says "please check whether Station/Producer still exist"), 403 for a
 * missing right, 413 for a message too large, 500 when trying again can help (the store or the
 * function workers did not answer), 400 for any other refusal of the message.
 */
export function jsStatus(code: string): number {
  switch (code) {
    case "STATION_NOT_FOUND":
      return 503;
    case "PERMISSION_DENIED":
      return 403;
    case "PAYLOAD_TOO_LARGE":
    case "MESSAGE_TOO_LARGE":
      return 413;
    case "STORE_FAILED":
    case "STORE_TIMEOUT":
    case "FUNCTION_UNAVAILABLE":
    case "SCHEMA_UNAVAILABLE":
    case "INTERNAL":
    case "TIMEOUT":
      return 500;
    default:
      return 400;
  }
}

/**
 * A refused message's description. A schema refusal reads as Memphis's ("Schema validation has
 * failed: …", with the validator's paths and messages).
 */
export function describeRefusal(e: ErrorBody): string {
  if (e.code === "SCHEMA_VALIDATION_FAILED") {
    const issues = (e.details?.["issues"] as { path?: string; message?: string }[] | undefined) ?? [];
    const text = issues.length > 0 ? issues.map((i) => `${i.path || "/"} ${i.message ?? ""}`.trim()).join(", ") : e.message;
    return `Schema validation has failed: ${text}`;
  }
  return e.message;
}

/** The answer to one `<stream>.final` publish: a PubAck, or a JetStream-shaped error. */
export function publishAnswer(stream: string, r: ProduceResult): PubAck | JsApiError {
  if ("error" in r) return jsError(jsStatus(r.error.code), describeRefusal(r.error), r.error.code);
  return { stream, seq: r.seq, duplicate: r.duplicate };
}

/** A JetStream-shaped error. */
export function jsError(code: number, description: string, junctionCode?: string, type?: string): JsApiError {
  return { ...(type ? { type } : {}), error: { code, description, ...(junctionCode ? { junction_code: junctionCode } : {}) } };
}

/** nats-server's errors for a consumer-info request whose stream or consumer is missing. */
export const JsErrors = {
  streamNotFound: { code: 404, err_code: 10059, description: "stream not found" },
  consumerNotFound: { code: 404, err_code: 10014, description: "consumer not found" },
} as const;

/** The consumer-info response type (JetStream's). */
export const CONSUMER_INFO_TYPE = "io.nats.jetstream.api.v1.consumer_info_response";

/** `$JS.API.INFO`'s answer: JetStream is there (the SDK checks only that). */
export function accountInfo(): Record<string, unknown> {
  return {
    type: "io.nats.jetstream.api.v1.account_info_response",
    memory: 0,
    storage: 0,
    reserved_memory: 0,
    reserved_storage: 0,
    streams: 0,
    consumers: 0,
    limits: {
      max_memory: -1,
      max_storage: -1,
      max_streams: -1,
      max_consumers: -1,
      max_ack_pending: -1,
      memory_max_stream_bytes: -1,
      storage_max_stream_bytes: -1,
      max_bytes_required: false,
    },
    api: { total: 0, errors: 0 },
  };
}
