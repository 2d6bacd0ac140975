/**
 * Junction's client SDK: connect, administer stations and consumer groups, produce and consume,
 * follow live events.
 */
export { connect, JunctionClient, DEFAULT_CONNECT_OPTIONS, resolveConnectOptions } from "./client.js";
export { Producer, DEFAULT_PRODUCER_OPTIONS, resolveProducerOptions } from "./producer.js";
export { Consumer, Message, DEFAULT_CONSUMER_OPTIONS, resolveConsumerOptions } from "./consumer.js";
export { SchemaCache } from "./schema-cache.js";
export { messageContext, messageTrace, SDK_TRACER_NAME } from "./tracing.js";
export {
  JunctionError,
  ERROR_CODES,
  isJunctionError,
  StorageType,
  RetentionPolicy,
  DeadLetterReason,
  QuotaSource,
  MAX_KEY_BYTES,
  MAX_PARTITIONS,
  partitionOf,
} from "../core/protocol/index.js";
export type { ConnectOptions, ResolvedConnectOptions, ClientEvent, EventStream, ClientStatus } from "./client.js";
export type { ClientContext } from "./context.js";
export type { ConnectionState } from "./transport.js";
export type { ProducerOptions, ResolvedProducerOptions, SendOptions, SendResult, SendOutcome, Payload } from "./producer.js";
export type { ConsumerOptions } from "./consumer.js";
export type {
  StationsApi,
  GroupsApi,
  GroupResetTarget,
  SchemasApi,
  FunctionsApi,
  DlsApi,
  UsersApi,
  TenantsApi,
  QuotasApi,
  SchemaInfo,
  SchemaVersionInfo,
  SchemaKind,
  SchemaCompatibility,
  SchemaCompatibilityInput,
  SchemaDefinitionInput,
  SchemaReferrerInfo,
  SchemaBreakingChange,
  SchemaChangeInfo,
  SchemaCheckReport,
  FunctionInfo,
  FunctionQuarantine,
  UserInfo,
  TenantInfo,
} from "./admin.js";
export type {
  ErrorCode,
  StationConfig,
  StationInfo,
  GroupConfig,
  GroupInfo,
  PartitionStats,
  GroupMember,
  StartPosition,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  Grants,
  Identity,
  QuotaEntry,
  QuotaReport,
  TraceHeaders,
} from "../core/protocol/index.js";
