/**
 * The wire contract between the SDK and the gateway: subjects, frames, message types and error
 * codes. No runtime dependencies.
 */
export { ERROR_CODES, JunctionError, isErrorCode, isJunctionError } from "./errors.js";
export { NAME_PATTERN, MAX_NAME_LENGTH, assertName, nameProblem } from "./names.js";
export {
  API_PREFIX,
  PRODUCE_PREFIX,
  GATEWAY_QUEUE,
  EVENTS_PREFIX,
  Buckets,
  DLS_STREAM,
  ADVISORY_STREAM,
  Headers,
  subjects,
  stationFromProduceSubject,
  isReservedHeader,
  parseSchemaTag,
  STATION_STREAM_PREFIX,
} from "./subjects.js";
export { BATCH_MAGIC, encodeBatch, decodeBatch } from "./frames.js";
export { errorFromNats } from "./nats-errors.js";
export { natsConnectOptions } from "./connect.js";
export type { ConnectSettings } from "./connect.js";
export { StorageType, RetentionPolicy, DeadLetterReason, EventKind } from "./types.js";
export type { ErrorCode, ErrorBody, JunctionErrorOptions } from "./errors.js";
export type { NameKind } from "./names.js";
export type { ProduceMessage, ProduceResult, ProduceReply, ApiReply } from "./frames.js";
export type {
  StationConfig,
  StationInfo,
  StartPosition,
  GroupConfig,
  GroupInfo,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
} from "./types.js";
