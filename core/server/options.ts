import type { FunctionRuntime, FunctionRuntimeOptions } from "../../functions/index.js";
import type { DlsOptions } from "../dls/index.js";
import type { ProduceEvent } from "../gateway/index.js";
import { check, resolveOptions, type Filled } from "../protocol/index.js";
import { createLogger, systemClock, type Clock, type Logger } from "../support/index.js";
import type { GatewayMetricsOptions } from "./metrics.js";

/** Options of {@link startJunctionGateway}. */
export interface JunctionGatewayOptions {
  /** NATS URL(s). @default "nats://127.0.0.1:4222" */
  servers?: string | string[] | undefined;
  /** The gateway's NATS user (full rights in the internal account). */
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** Connection name shown by the server. @default "junction-gateway" */
  name?: string | undefined;
  /** Replicas of new stations and of the metadata buckets. @default 1 */
  defaultReplicas?: number | undefined;
  /** How long to wait for a JetStream store ack, in ms. @default 10000 */
  storeTimeoutMs?: number | undefined;
  /** Requests of at most this many messages are stored message by message instead of one atomic batch (latency). @default 8 */
  smallBatchMessages?: number | undefined;
  /** Most messages one produce request may carry. @default 100000 */
  maxRequestMessages?: number | undefined;
  /** Port of /healthz, /readyz and /metrics; 0 = no HTTP, -1 = a free port (see `httpUrl`). @default 0 */
  httpPort?: number | undefined;
  /** Interface of the HTTP surface. @default "127.0.0.1" */
  httpHost?: string | undefined;
  /** @default a logger at "info" on stderr */
  logger?: Logger | undefined;
  /** @default the system clock */
  clock?: Clock | undefined;
  /** Called after each produce request is answered (metrics, tests). */
  onProduce?: ((e: ProduceEvent) => void) | undefined;
  /** Options of the Prometheus metrics. */
  metrics?: GatewayMetricsOptions | undefined;
  /** Options of the function sandbox runtime. */
  functions?: FunctionRuntimeOptions | undefined;
  /** The function runtime itself (tests inject one). @default one built from `functions` */
  functionRuntime?: FunctionRuntime | undefined;
  /** Options of the dead-letter station (retention defaults, advisory ack wait). */
  dls?: DlsOptions | undefined;
}

/** Resolved gateway options. */
export type ResolvedJunctionGatewayOptions = Filled<Omit<JunctionGatewayOptions, OptionalGatewayOption>> &
  Readonly<Pick<JunctionGatewayOptions, OptionalGatewayOption>>;

type OptionalGatewayOption = "user" | "pass" | "token" | "onProduce" | "metrics" | "functions" | "functionRuntime" | "dls";

/** Defaults of {@link JunctionGatewayOptions}. */
export const DEFAULT_JUNCTION_GATEWAY_OPTIONS: ResolvedJunctionGatewayOptions = Object.freeze({
  servers: "nats://127.0.0.1:4222",
  name: "junction-gateway",
  defaultReplicas: 1,
  storeTimeoutMs: 10_000,
  smallBatchMessages: 8,
  maxRequestMessages: 100_000,
  httpPort: 0,
  httpHost: "127.0.0.1",
  logger: createLogger("info", "gateway"),
  clock: systemClock,
});

/** Validates and freezes gateway options; a bad value fails at startup naming the option. */
export function resolveJunctionGatewayOptions(o: JunctionGatewayOptions = {}): ResolvedJunctionGatewayOptions {
  return resolveOptions<JunctionGatewayOptions>("gateway", DEFAULT_JUNCTION_GATEWAY_OPTIONS, o, {
    servers: check.strings,
    user: check.string,
    pass: check.string,
    token: check.string,
    name: check.string,
    defaultReplicas: check.int(1, 5),
    storeTimeoutMs: check.int(100, 600_000),
    smallBatchMessages: check.int(0, 1000),
    maxRequestMessages: check.int(1, 1_000_000),
    httpPort: check.int(-1, 65535),
    httpHost: check.string,
    logger: check.any,
    clock: check.any,
    onProduce: check.fn,
    metrics: check.any,
    functions: check.any,
    functionRuntime: check.any,
    dls: check.any,
  }) as ResolvedJunctionGatewayOptions;
}
