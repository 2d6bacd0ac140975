/** The gateway: produce pipeline and admin API over NATS. */
export { startGateway } from "./gateway.js";
export { ProduceHandler, MAX_ATOMIC_BATCH, DEFAULT_SMALL_BATCH, storeMessages } from "./produce.js";
export { runStages } from "./stages.js";
export { stationHandlers, stationInfo, groupInfo } from "./admin.js";
export type { Gateway, GatewayOptions, GatewayContext, GatewayExtension } from "./gateway.js";
export type { ProduceStats, ProduceHandlerOptions, ProduceEvent, AckResult } from "./produce.js";
export type { ApiHandler, AdminDeps, GroupRecord } from "./admin.js";
export type { ProduceStage, StageMessage, StageOutcome, StageContext, IndexedMessage, StagesResult } from "./stages.js";
