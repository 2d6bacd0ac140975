import type { FunctionRuntime, FunctionRuntimeOptions } from "../../functions/index.js";
import type { DlsOptions } from "../dls/index.js";
import type { SchemaRuntimeOptions } from "../registry/index.js";
import type { ProduceEvent } from "../gateway/index.js";
import { JunctionError, check, resolveOptions, type Filled, type Grants } from "../protocol/index.js";
import { createLogger, systemClock, type Clock, type Logger } from "../support/index.js";
import type { GatewayMetricsOptions } from "./metrics.js";

/** A user the gateway creates at startup when it does not exist (dev mode, tests, Helm). */
export interface BootstrapUser {
  name: string;
  password: string;
  /** @default "default" */
  tenant?: string | undefined;
  grants: Grants;
}

/** How the gateway authenticates users and authorizes requests. */
export interface GatewayAuthOptions {
  /**
   * `callout`: users connect through NATS auth callout (the server config names the issuer's
   * public key and the accounts); every request is authorized by its user's grants. `none`: no
   * users — every request may do everything (only for a NATS that nobody else can reach).
   * @default "callout"
   */
  mode?: "callout" | "none" | undefined;
  /** The account seed (nkey `SA…`) that signs auth-callout answers. Required in `callout` mode. */
  issuerSeed?: string | undefined;
  /** The NATS account application users are placed in. @default "CLIENTS" */
  clientAccount?: string | undefined;
  /** How long a connection's rights last before it must authenticate again, in ms. @default 3600000 */
  ttlMs?: number | undefined;
  /** A system-account user, to close the connections of users whose rights change (at once instead of at the next reconnect). */
  systemUser?: string | undefined;
  systemPassword?: string | undefined;
  /** Tenants created at startup when absent. */
  bootstrapTenants?: string[] | undefined;
  /** Users created at startup when absent (their password is set only then). */
  bootstrapUsers?: BootstrapUser[] | undefined;
  /** User names kept for the deployment's own users (they cannot be created as application users). @default ["gateway", "sys"] */
  reservedUsers?: string[] | undefined;
}

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
  /** TLS to NATS: CA file, and client certificate and key files when the server verifies clients. */
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
  /** A bearer token /metrics requires (probes stay open). @default none */
  metricsToken?: string | undefined;
  /** Replicas of new stations and of the metadata buckets. @default 1 */
  defaultReplicas?: number | undefined;
  /**
   * While NATS cannot be reached or JetStream is not ready (a cluster still starting), keep trying
   * for this long at startup, in ms; 0 = fail at once. `junction gateway` waits 10 minutes.
   * @default 0
   */
  waitForNatsMs?: number | undefined;
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
  /** @default a JSON-lines logger at "info" on stderr (component `gateway`) */
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
  /** Schema limits, the schema worker pool, concurrent registrations, the large-payload threshold. */
  schemas?: SchemaRuntimeOptions | undefined;
  /** Authentication and authorization. */
  auth?: GatewayAuthOptions | undefined;
  /** How the gateway watches the store's free space (see docs/operations.md). */
  storage?: GatewayStorageOptions | undefined;
}

/** How the gateway watches the store's free space. */
export interface GatewayStorageOptions {
  /** How often free space is read, in ms. @default 2000 */
  pollMs?: number | undefined;
  /** Below this many free bytes, produce stores message by message (exact outcomes at a limit). @default 67108864 (64 MiB) */
  tightBytes?: number | undefined;
  /** First wait before asking nats-server to restart a JetStream it stopped for lack of space, in ms (doubles up to 30 s). @default 2000 */
  recoveryMs?: number | undefined;
}

/** Resolved gateway options. */
export type ResolvedJunctionGatewayOptions = Filled<Omit<JunctionGatewayOptions, OptionalGatewayOption>> &
  Readonly<Pick<JunctionGatewayOptions, OptionalGatewayOption>>;

type OptionalGatewayOption =
  | "user"
  | "pass"
  | "token"
  | "tls"
  | "metricsToken"
  | "onProduce"
  | "metrics"
  | "functions"
  | "functionRuntime"
  | "dls"
  | "schemas"
  | "auth"
  | "storage";

/** Defaults of {@link JunctionGatewayOptions}. */
export const DEFAULT_JUNCTION_GATEWAY_OPTIONS: ResolvedJunctionGatewayOptions = Object.freeze({
  servers: "nats://127.0.0.1:4222",
  name: "junction-gateway",
  defaultReplicas: 1,
  storeTimeoutMs: 10_000,
  waitForNatsMs: 0,
  smallBatchMessages: 8,
  maxRequestMessages: 100_000,
  httpPort: 0,
  httpHost: "127.0.0.1",
  logger: createLogger({ level: "info", namespace: "gateway" }),
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
    tls: check.any,
    metricsToken: check.string,
    defaultReplicas: check.int(1, 5),
    storeTimeoutMs: check.int(100, 600_000),
    waitForNatsMs: check.int(0, 24 * 3600 * 1000),
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
    schemas: check.any,
    auth: check.any,
    storage: check.any,
  }) as ResolvedJunctionGatewayOptions;
}

/** Defaults of {@link GatewayStorageOptions}. */
export const DEFAULT_GATEWAY_STORAGE_OPTIONS: Filled<GatewayStorageOptions> = Object.freeze({
  pollMs: 2000,
  tightBytes: 64 * 1024 * 1024,
  recoveryMs: 2000,
});

/** Validates and freezes the storage options. */
export function resolveGatewayStorageOptions(o: GatewayStorageOptions = {}): Filled<GatewayStorageOptions> {
  return resolveOptions<GatewayStorageOptions>("gateway.storage", DEFAULT_GATEWAY_STORAGE_OPTIONS, o, {
    pollMs: check.int(10, 600_000),
    tightBytes: check.int(0, Number.MAX_SAFE_INTEGER),
    recoveryMs: check.int(10, 600_000),
  }) as Filled<GatewayStorageOptions>;
}

/** Resolved auth options. */
export type ResolvedGatewayAuthOptions = Filled<Omit<GatewayAuthOptions, "issuerSeed" | "systemUser" | "systemPassword">> &
  Readonly<Pick<GatewayAuthOptions, "issuerSeed" | "systemUser" | "systemPassword">>;

/** Defaults of {@link GatewayAuthOptions}. */
export const DEFAULT_GATEWAY_AUTH_OPTIONS: ResolvedGatewayAuthOptions = Object.freeze({
  mode: "callout",
  clientAccount: "CLIENTS",
  ttlMs: 3_600_000,
  bootstrapTenants: [],
  bootstrapUsers: [],
  reservedUsers: ["gateway", "sys"],
});

/** Validates and freezes the auth options; `callout` mode without an issuer seed fails naming it. */
export function resolveGatewayAuthOptions(o: GatewayAuthOptions = {}): ResolvedGatewayAuthOptions {
  const r = resolveOptions<GatewayAuthOptions>("gateway.auth", DEFAULT_GATEWAY_AUTH_OPTIONS, o, {
    mode: check.oneOf("callout", "none"),
    issuerSeed: check.string,
    clientAccount: check.string,
    ttlMs: check.int(10_000, 30 * 24 * 3600 * 1000),
    systemUser: check.string,
    systemPassword: check.string,
    bootstrapTenants: check.any,
    bootstrapUsers: check.any,
    reservedUsers: check.any,
  }) as ResolvedGatewayAuthOptions;
  if (r.mode === "callout" && r.issuerSeed === undefined) {
    throw new JunctionError(
      "INVALID_ARGUMENT",
      'gateway.auth.issuerSeed is required in callout mode (or set gateway.auth.mode to "none")',
      {
        details: { option: "gateway.auth.issuerSeed" },
      },
    );
  }
  return r;
}
