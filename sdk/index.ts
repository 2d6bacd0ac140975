/**
 * Junction's client SDK: connect, administer stations and consumer groups, produce and consume.
 */
export { connect, JunctionClient } from "./client.js";
export { Producer } from "./producer.js";
export { Consumer, Message } from "./consumer.js";
export { JunctionError, ERROR_CODES, isJunctionError, StorageType, RetentionPolicy, DeadLetterReason } from "../core/protocol/index.js";
export type { ConnectOptions, StationsApi, GroupsApi } from "./client.js";
export type { ProducerOptions, SendOptions, SendResult, SendOutcome, Payload } from "./producer.js";
export type { ConsumerOptions } from "./consumer.js";
export type { SchemasApi, FunctionsApi, DlsApi, SchemaInfo, SchemaVersionInfo, FunctionInfo } from "./admin.js";
export type {
  ErrorCode,
  StationConfig,
  StationInfo,
  GroupConfig,
  GroupInfo,
  StartPosition,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
} from "../core/protocol/index.js";
