/**
 * The store behind the ports: the only module in core that imports `@nats-io/*`. NATS quirks,
 * unit conversions (ms → ns) and version gates live here; everything else in core talks to the
 * interfaces in ports.ts.
 */
export { connectBackend } from "./connection.js";
export { StoreErrorCode } from "./ports.js";
export { SERVER_FEATURES, MIN_SERVER_VERSION, parseVersion, compareVersions, missingFeatures, assertServerVersion } from "./features.js";
export { parseAdvisory, ADVISORY_CONSUMER } from "./advisories.js";
export { parseAckSubject, ackStreamSeq } from "./pull.js";
export { AUTH_CALLOUT_SUBJECT, issuerPublicKey, newIssuerSeed } from "./callout.js";
export type { BackendOptions } from "./connection.js";
export type { Version } from "./features.js";
export type { AckSubject } from "./pull.js";
export type { AuthRequest, AuthDecision, NatsPermissions } from "./callout.js";
export type { SystemAdmin, ClientConnection, ServerJetStream } from "./system.js";
export type {
  Backend,
  Bus,
  BusRequest,
  Requester,
  StoreWriter,
  StoreMessage,
  StoreAck,
  StreamAdmin,
  StreamReader,
  StreamState,
  GroupState,
  PartitionState,
  ResetTarget,
  StreamMessage,
  TtlStreamSettings,
  JsonBucket,
  MetadataBuckets,
  ConsumerAdvisory,
  AdvisoryDelivery,
  AdvisoryFeed,
  JetStreamBridge,
  PulledMessage,
  PullOptions,
  DeliveryAnswer,
  GroupPuller,
  ServerFacts,
  AuthDecider,
} from "./ports.js";
