/** The gateway: the produce path, the admin API and the service that serves both over the bus. */
export { GatewayService, DEFAULT_REPLY_PREFIXES } from "./service.js";
export { ProduceHandler } from "./produce.js";
export { MemberBoard, membersOnline } from "./members.js";
export type { MemberSeen } from "./members.js";
export { StorageGuard, StorageState } from "./storage.js";
export type { StorageView, StorageGuardOptions, StorageGuardStats } from "./storage.js";
export { BodyValidator } from "./api/bodies.js";
export { stationHandlers, stationInfo, groupInfo, deadLettersByGroup, mustGetStation } from "./api/stations.js";
export { schemaHandlers } from "./api/schemas.js";
export { functionHandlers } from "./api/functions.js";
export { userHandlers } from "./api/users.js";
export { doctorHandlers, runDoctor, BUILTIN_DOCTOR_CHECKS, DEFAULT_DOCTOR_WINDOW_MS } from "./api/doctor.js";
export type { GatewayServiceOptions, RefusalStats, Caller } from "./service.js";
export type { FrontProduceOptions, GatewayFront } from "./front.js";
export type { ProduceStats, ProduceHandlerOptions, ProduceEvent, ProduceTarget, ProduceCallOptions } from "./produce.js";
export type { StationHandlerDeps, GroupExtraStats } from "./api/stations.js";
export type { UserHandlerDeps } from "./api/users.js";
export type { DoctorCheck, DoctorContext, DoctorDeps, DoctorFinding, DoctorTenant, ScannedStation } from "./api/doctor.js";
