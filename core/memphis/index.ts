/**
 * Memphis compatibility: the unmodified memphis.js SDK (and the Go and Python SDKs, which speak
 * the same protocol) runs against Junction, with schemas enforced by the gateway. A front in the
 * gateway answers the SDK's control plane and produce requests in Memphis's shapes, maps Memphis
 * concepts onto Junction's, and places Memphis SDK connections in a NATS account of their own.
 * See docs/memphis.md.
 */
export { startMemphisFront } from "./front.js";
export { memphisLoginFront, memphisLogin, memphisPermissions } from "./login.js";
export { renderMemphisAccounts } from "./accounts.js";
export { DEFAULT_MEMPHIS_OPTIONS, resolveMemphisOptions } from "./options.js";
export {
  memphisAccount,
  MEMPHIS_IMPORTS,
  ControlSubjects,
  IngestSubjects,
  PushSubjects,
  GatewaySubjects,
  junctionName,
  stationOfMemphisStream,
} from "./names.js";
export { stationRequest, consumerRequest, publishAnswer, describeRefusal, jsStatus } from "./mapping.js";
export { schemaInit, schemaUpdate, sdkCanCompile, noSchema } from "./schema-push.js";
export type { MemphisFront, MemphisFrontOptions } from "./front.js";
export type { MemphisFrontDeps, MemphisStats } from "./context.js";
export type { MemphisOptions, ResolvedMemphisOptions } from "./options.js";
export type { MemphisImport } from "./names.js";
export type { StationRequest, ConsumerRequest, PubAck, JsApiError } from "./mapping.js";
export type { SchemaUpdate, SchemaUpdateInit, PushableSchema } from "./schema-push.js";
