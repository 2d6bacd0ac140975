/**
 * The wire contract between the SDK and the gateway: subjects, frames, message types, error
 * codes and option checks. No runtime dependencies.
 */
export { ERROR_CODES, JunctionError, isErrorCode, isJunctionError } from "./errors.js";
export { NAME_PATTERN, MAX_NAME_LENGTH, TENANT_NAME_PATTERN, assertName, nameProblem, tenantNameProblem } from "./names.js";
export {
  API_PREFIX,
  PRODUCE_PREFIX,
  GATEWAY_QUEUE,
  EVENTS_PREFIX,
  DEFAULT_TENANT,
  Accounts,
  CLIENT_JS_API_PREFIX,
  inboxPrefixOf,
  BucketKind,
  Buckets,
  DLS_STREAM,
  DLS_STREAM_SUBJECTS,
  ADVISORY_STREAM,
  ADVISORY_SUBJECTS,
  STATION_STREAM_PREFIX,
  Headers,
  subjects,
  scopeOf,
  defaultScope,
  parseApiSubject,
  parseProduceSubject,
  parseStationStream,
  parseStationSubject,
  parseDlsSubject,
  parseEventSubject,
  parseAdvisorySubject,
  isReservedHeader,
  parseSchemaTag,
  deadLetterId,
  parseDeadLetterId,
  isConsumerReason,
  partitionConsumer,
  membersSubject,
  parseMembersSubject,
  MEMBERS_PREFIX,
  parseGroupConsumer,
  groupConsumers,
  FUNCTION_RELEASE_SUBJECT,
  encodeFunctionRelease,
  parseFunctionRelease,
} from "./subjects.js";
export type { FunctionReleaseNote } from "./subjects.js";
export { MAX_MEMBER_ID, MAX_RETRYING, encodePresence, parsePresence } from "./presence.js";
export type { Presence, PresenceKind } from "./presence.js";
export {
  MAX_KEY_BYTES,
  MAX_PARTITIONS,
  PARTITION_WINDOW,
  POISON_TERM_PREFIX,
  keyProblem,
  assertKey,
  fnv1a32,
  partitionOf,
  messagePartition,
  messageSubject,
} from "./keys.js";
export { MAX_HEADER_BYTES, headerBytes, headersProblem } from "./headers.js";
export { parseTraceparent, formatTraceparent, traceHeadersOf, isTraceHeader } from "./trace.js";
export type { HeaderProblem } from "./headers.js";
export type { TraceHeaders, Traceparent } from "./trace.js";
export { BATCH_MAGIC, encodeBatch, decodeBatch } from "./frames.js";
export { MAX_DELAY_MS, MIN_TTL_MS, MAX_TTL_MS, DELIVERY_HEADERS, deliveryHeaders, takeDelivery } from "./delivery.js";
export type { DeliveryOptions, Delivery } from "./delivery.js";
export { errorFromNats } from "./nats-errors.js";
export { natsConnectOptions } from "./connect.js";
export { check, resolveOptions } from "./options.js";
export { API_REQUEST_SCHEMAS, isApiOperation, DoctorStatus, QuotaSource } from "./api.js";
export { StorageType, RetentionPolicy, DeadLetterReason, EventKind } from "./types.js";
export type { ErrorCode, ErrorBody, JunctionErrorOptions } from "./errors.js";
export type { NameKind } from "./names.js";
export type { Scope, StationSubject, DlsSubject, EventSubject, DeadLetterIdParts } from "./subjects.js";
export type { ProduceMessage, ProduceResult, ProduceReply, ApiReply } from "./frames.js";
export type { ConnectSettings } from "./connect.js";
export type { OptionCheck, Filled } from "./options.js";
export type { ApiOperation, DoctorCheckResult, DoctorReport, QuotaEntry, QuotaReport } from "./api.js";
export type {
  StationConfig,
  StationInfo,
  StartPosition,
  GroupConfig,
  GroupInfo,
  PartitionStats,
  GroupMember,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  Grants,
  Identity,
} from "./types.js";
