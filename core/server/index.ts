/** Process wiring: the composed gateway, the embedded nats-server launcher, logging, HTTP. */
import { startGateway, type Gateway, type GatewayOptions } from "../gateway/index.js";
import { startHttp, type HttpSurface } from "./http.js";

export { startNatsServer, findNatsServer, checkNatsServerVersion, packageRoot, MIN_NATS_SERVER } from "./launcher.js";
export { renderNatsConfig, CLIENT_PERMISSIONS, INTERNAL_STREAMS } from "./nats-config.js";
export { createLogger, silentLogger, LogLevel } from "./logger.js";
export { startHttp } from "./http.js";
export type { NatsServerOptions, RunningNatsServer } from "./launcher.js";
export type { NatsConfigOptions, JunctionUsers, NatsUser } from "./nats-config.js";
export type { Logger } from "./logger.js";
export type { HttpSurface } from "./http.js";

/** Options of {@link startJunctionGateway}: the gateway's, plus its HTTP port. */
export interface JunctionGatewayOptions extends GatewayOptions {
  /** Port of /healthz, /readyz and /metrics; 0 = no HTTP. @default 0 */
  httpPort?: number;
}

/** A gateway with everything Junction composes into it. */
export interface JunctionGateway extends Gateway {
  /** Base URL of the HTTP surface, when enabled. */
  readonly httpUrl: string | undefined;
}

/**
 * Starts a fully composed gateway: the produce pipeline and admin API, plus the HTTP surface.
 */
export async function startJunctionGateway(o: JunctionGatewayOptions): Promise<JunctionGateway> {
  const gw = await startGateway(o);
  let http: HttpSurface | undefined;
  try {
    if (o.httpPort !== undefined && o.httpPort > 0) http = await startHttp(gw, o.httpPort);
  } catch (err) {
    await gw.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    get id() {
      return gw.id;
    },
    get ready() {
      return gw.ready;
    },
    get context() {
      return gw.context;
    },
    httpUrl: http?.url,
    produceStats: () => gw.produceStats(),
    close() {
      closing ??= (async () => {
        await http?.close();
        await gw.close();
      })();
      return closing;
    },
  };
}
