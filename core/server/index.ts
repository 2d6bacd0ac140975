/** Process wiring: the composed gateway, the embedded nats-server launcher, logging, HTTP. */
import { createFunctionRuntime, type FunctionRuntimeOptions } from "../../functions/index.js";
import {
  AdvisoryListener,
  DLS_RETENTION_BUCKET,
  DeadLetterWriter,
  DlsService,
  RetentionStore,
  ensureDlsStream,
  resolveDlsOptions,
  type DlsOptions,
  type DlsRetention,
} from "../dls/index.js";
import { openJsonStore } from "../nats/index.js";
import { Headers, parseSchemaTag } from "../protocol/index.js";
import { startGateway, type Gateway, type GatewayContext, type GatewayExtension, type GatewayOptions } from "../gateway/index.js";
import { FunctionStage, functionHandlers } from "../gateway/function.js";
import { SchemaStage, resolveAttachment, schemaHandlers } from "../gateway/schema.js";
import { FunctionRegistry, SchemaRegistry } from "../registry/index.js";
import { startHttp } from "./http.js";
import { GatewayMetrics, type GatewayMetricsOptions } from "./metrics.js";

export { startNatsServer, findNatsServer, checkNatsServerVersion, packageRoot, MIN_NATS_SERVER } from "./launcher.js";
export { renderNatsConfig, CLIENT_PERMISSIONS, INTERNAL_STREAMS } from "./nats-config.js";
export { createLogger, silentLogger, LogLevel } from "./logger.js";
export { startHttp } from "./http.js";
export { GatewayMetrics, DEFAULT_GATEWAY_METRICS_OPTIONS, resolveGatewayMetricsOptions } from "./metrics.js";
export type { NatsServerOptions, RunningNatsServer } from "./launcher.js";
export type { NatsConfigOptions, JunctionUsers, NatsUser } from "./nats-config.js";
export type { Logger } from "./logger.js";
export type { HttpSurface, HttpOptions } from "./http.js";
export type { GatewayMetricsOptions } from "./metrics.js";

/** Options of {@link startJunctionGateway}: the gateway's, plus its HTTP port. */
export interface JunctionGatewayOptions extends Omit<GatewayOptions, "extend"> {
  /** Port of /healthz, /readyz and /metrics; 0 = no HTTP, -1 = a free port (see `httpUrl`). @default 0 */
  httpPort?: number;
  /** Interface of the HTTP surface. @default "0.0.0.0" */
  httpHost?: string;
  /** Options of the Prometheus metrics. */
  metrics?: GatewayMetricsOptions;
  /** Options of the function sandbox runtime. */
  functions?: FunctionRuntimeOptions;
  /** Options of the dead-letter station (retention defaults, advisory ack wait). */
  dls?: DlsOptions;
}

/** The parts Junction composes into a gateway (exposed for metrics and tests). */
export interface JunctionParts {
  schemas: SchemaRegistry;
  functions: FunctionRegistry;
  schemaStage: SchemaStage;
  functionStage: FunctionStage;
}

/** Schemas, functions and the DLS on top of the core gateway. */
async function composeParts(ctx: GatewayContext, o: JunctionGatewayOptions, out: { parts?: JunctionParts }): Promise<GatewayExtension> {
  const dlsOptions = resolveDlsOptions(o.dls);
  await ensureDlsStream(ctx.jsm, ctx.defaultReplicas, dlsOptions.maxEntries);
  const { events } = ctx;
  const retention = new RetentionStore(
    await openJsonStore<Partial<DlsRetention>>(ctx.nc, DLS_RETENTION_BUCKET, ctx.defaultReplicas),
    { maxAgeSeconds: dlsOptions.maxAgeSeconds, maxEntries: dlsOptions.maxEntriesPerStation },
    dlsOptions.retentionCacheMs,
  );
  const dls = new DeadLetterWriter(ctx.writer, { retention: (s) => retention.get(s), jsm: ctx.jsm, events });
  const schemas = new SchemaRegistry(ctx.buckets.schemas);
  await schemas.start();
  const functions = new FunctionRegistry(ctx.buckets.functions);
  await functions.start();
  const log = ctx.logger.child("functions");
  const runtime = createFunctionRuntime({
    ...o.functions,
    onIsolateAbandoned: (e) => log.error("a function exhausted V8's heap; its isolate was abandoned", { ...e }),
  });
  // A new version: drop isolates of the old ones (pinned versions are rebuilt on demand).
  functions.onChange((name, meta) => runtime.evict(name, meta?.latest));
  const schemaStage = new SchemaStage(schemas, dls);
  const functionStage = new FunctionStage(functions, schemas, runtime, dls);
  out.parts = { schemas, functions, schemaStage, functionStage };
  const dlsService = new DlsService({
    jsm: ctx.jsm,
    stations: ctx.stations,
    writer: ctx.writer,
    dls,
    retention,
    events,
    // A resend of a schema/function dead letter is checked again by the same stages as produce.
    stages: [schemaStage, functionStage],
    ...(o.smallBatchMessages !== undefined ? { smallBatchMessages: o.smallBatchMessages } : {}),
    // Decoded by the version it was checked against, else by the station's current one.
    decode: async (station, headers, payload) => {
      const at = parseSchemaTag(headers[Headers.Schema]) ?? (await resolveAttachment(schemas, station));
      if (!at) return undefined;
      const r = (await schemas.compiled(at.name, at.version, station.schema?.allowUnknownFields === true)).validate(payload);
      return r.ok ? r.value : undefined;
    },
  });
  const advisories = new AdvisoryListener({
    nc: ctx.nc,
    jsm: ctx.jsm,
    writer: dls,
    logger: ctx.logger.child("dls"),
    options: dlsOptions,
    replicas: ctx.defaultReplicas,
  });
  await advisories.start();
  return {
    stages: [schemaStage, functionStage],
    handlers: {
      ...schemaHandlers(schemas, ctx.stations),
      ...functionHandlers(functions, runtime, ctx.stations),
      ...dlsService.handlers(),
    },
    stop: async () => {
      await advisories.stop();
      schemas.close();
      functions.close();
      await runtime.close();
    },
  };
}

/** A gateway with everything Junction composes into it. */
export interface JunctionGateway extends Gateway {
  /** Base URL of the HTTP surface, when enabled. */
  readonly httpUrl: string | undefined;
  readonly parts: JunctionParts;
  /** The gateway's Prometheus metrics (served on /metrics when HTTP is on). */
  readonly metrics: GatewayMetrics;
}

/**
 * Starts a fully composed gateway: the produce pipeline with schema validation and functions,
 * the admin API (stations, groups, schemas, functions), the DLS, and the HTTP surface.
 */
export async function startJunctionGateway(o: JunctionGatewayOptions): Promise<JunctionGateway> {
  const holder: { parts?: JunctionParts } = {};
  const httpPort = o.httpPort ?? 0;
  const httpOn = httpPort !== 0;
  // Process metrics (GC observers, event-loop monitor) only where something can scrape them.
  const metrics = new GatewayMetrics({ processMetrics: httpOn, ...o.metrics });
  // HTTP comes up first, so probes see the process alive (/healthz) and not ready (/readyz)
  // while the gateway connects and creates its buckets and streams.
  const live: { gw?: Gateway } = {};
  const http = httpOn
    ? await startHttp(() => live.gw, httpPort === -1 ? 0 : httpPort, { metrics, ...(o.httpHost ? { host: o.httpHost } : {}) })
    : undefined;
  let gw: Gateway;
  try {
    gw = await startGateway({
      ...o,
      onProduce: (e) => {
        metrics.onProduce(e);
        o.onProduce?.(e);
      },
      extend: async (ctx) => {
        const ext = await composeParts(ctx, o, holder);
        holder.parts!.functionStage.onRun = metrics.onFunctionRun;
        return ext;
      },
    });
  } catch (err) {
    await http?.close();
    throw err;
  }
  metrics.bind(gw);
  live.gw = gw;
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
    parts: holder.parts!,
    metrics,
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
