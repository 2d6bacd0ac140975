/**
 * Process wiring: the composed gateway, its options, HTTP surface and metrics, the embedded
 * nats-server launcher and its configuration. (The composition itself is in compose.ts.)
 */
export { startJunctionGateway, composeGateway } from "./compose.js";
export {
  DEFAULT_JUNCTION_GATEWAY_OPTIONS,
  resolveJunctionGatewayOptions,
  DEFAULT_GATEWAY_AUTH_OPTIONS,
  resolveGatewayAuthOptions,
} from "./options.js";
export { startNatsServer, findNatsServer, checkNatsServerVersion, packageRoot } from "./launcher.js";
export { renderNatsConfig, renderAccounts, CLIENT_IMPORTS } from "./nats-config.js";
export { newDeploymentSecrets, accountsFor, gatewayOptionsFor } from "./deployment.js";
export { ensureLocalTls } from "./tls.js";
export { startHttp } from "./http.js";
export { GatewayMetrics, DEFAULT_GATEWAY_METRICS_OPTIONS, resolveGatewayMetricsOptions } from "./metrics.js";
export { TenantDirectory } from "./tenants.js";
export { GATEWAY_SETTINGS, DEFAULT_GATEWAY_CONFIG, resolveGatewayConfig, gatewayHttpOptions } from "./config.js";
export { createLogger, silentLogger, LogLevel, systemClock } from "../support/index.js";
export type { JunctionGateway } from "./compose.js";
export type { JunctionGatewayOptions, ResolvedJunctionGatewayOptions, GatewayAuthOptions, BootstrapUser } from "./options.js";
export type { NatsServerOptions, RunningNatsServer } from "./launcher.js";
export type { NatsConfigOptions, JunctionAccounts, NatsUser } from "./nats-config.js";
export type { DeploymentSecrets } from "./deployment.js";
export type { LocalTls } from "./tls.js";
export type { HttpSurface, HttpOptions } from "./http.js";
export type { GatewayMetricsOptions, MetricsSource, BrokerState, GroupLag } from "./metrics.js";
export type { Tenant } from "./tenants.js";
export type { GatewayConfig, GatewaySettingName } from "./config.js";
export type { Logger, Clock } from "../support/index.js";
