/**
 * The only module that imports `@nats-io/*` in core: connections, streams, consumers, KV and the
 * store writer. NATS quirks and version gates live here.
 */
export { connectNats } from "./connection.js";
export {
  msToNs,
  JsErrorCode,
  stationStreamConfig,
  ensureStationStream,
  stationStreamInfo,
  deleteStationStream,
  groupConsumerConfig,
  groupConsumerInfo,
  ensureGroupConsumer,
  deleteGroupConsumer,
  listGroupConsumers,
} from "./streams.js";
export { StoreWriter } from "./batch.js";
export { openMetadataBuckets } from "./kv.js";
export {
  ADVISORY_SUBJECTS,
  ADVISORY_CONSUMER,
  AdvisoryKind,
  ensureAdvisoryStream,
  ensureAdvisoryConsumer,
  parseAdvisory,
  consumeAdvisories,
} from "./advisories.js";
export { ensureTtlStream, getStreamMessage, readStream, deleteStreamMessage, subjectCounts, purgeKeep, openJsonStore } from "./stored.js";
export { jetstreamManager } from "@nats-io/jetstream";
export type { NatsConnectOptions } from "./connection.js";
export type { StoreMessage, StoreAck } from "./batch.js";
export type { JsonBucket, MetadataBuckets } from "./kv.js";
export type { ConsumerAdvisory, AdvisoryDelivery, AdvisorySubscription } from "./advisories.js";
export type { StreamMessage, JsonStore } from "./stored.js";
export type { NatsConnection, Msg, Subscription } from "@nats-io/nats-core";
export type { JetStreamManager, StreamInfo, ConsumerInfo } from "@nats-io/jetstream";
