/**
 * The composition root: connects the backend and wires every part of the gateway by constructor
 * (registries, stages, the DLS, the produce handler, the admin handlers, metrics, HTTP).
 */
import { randomBytes } from "node:crypto";
import { createFunctionRuntime } from "../../functions/index.js";
import {
  AdvisoryListener,
  DLS_RETENTION_BUCKET,
  DeadLetterWriter,
  DlsQuery,
  Resender,
  RetentionStore,
  dlsHandlers,
  ensureDlsStream,
  resolveDlsOptions,
} from "../dls/index.js";
import {
  AuthService,
  OPEN_IDENTITY,
  TENANTS_BUCKET,
  USERS_BUCKET,
  WatchedRecords,
  authorize,
  authorizeProduce,
  hashPassword,
  parseTenantRecord,
  parseUserRecord,
  resolveGrants,
  unidentified,
  type StationGroups,
  type TenantRecord,
  type UserRecord,
} from "../auth/index.js";
import {
  GatewayService,
  MemberBoard,
  membersOnline,
  type MemberSeen,
  ProduceHandler,
  StorageGuard,
  doctorHandlers,
  functionHandlers,
  schemaHandlers,
  stationHandlers,
  userHandlers,
  type Caller,
  type GatewayFront,
  type ProduceStats,
  type ProduceTarget,
  type RefusalStats,
} from "../gateway/index.js";
import { memphisAccount, memphisLoginFront, resolveMemphisOptions, startMemphisFront, type MemphisFront } from "../memphis/index.js";
import { tokenKeyFrom } from "../http/index.js";
import { connectBackend, type Backend, type BusRequest } from "../nats/index.js";
import {
  DEFAULT_TENANT,
  DLS_STREAM,
  EventKind,
  FUNCTION_RELEASE_SUBJECT,
  encodeFunctionRelease,
  parseFunctionRelease,
  Headers,
  JunctionError,
  assertName,
  scopeOf,
  errorFromNats,
  parseDlsSubject,
  parseSchemaTag,
} from "../protocol/index.js";
import { FunctionStage, SchemaStage, functionRuntimeName, resolveAttachment, type TenantRecords } from "../pipeline/index.js";
import { QUOTAS_BUCKET, QuotaService, resolveQuotaLimits } from "../quotas/index.js";
import { createSchemaRuntime } from "../registry/index.js";
import { createEventPublisher, isoNow, type Logger } from "../support/index.js";
import { startHttp, type HttpSurface } from "./http.js";
import { GatewayMetrics, type BrokerState, type GroupLag } from "./metrics.js";
import {
  resolveGatewayAuthOptions,
  resolveGatewayStorageOptions,
  resolveJunctionGatewayOptions,
  type JunctionGatewayOptions,
} from "./options.js";
import { TenantDirectory, type Tenant } from "./tenants.js";

/** A running gateway with everything Junction composes into it. */
export interface JunctionGateway {
  readonly id: string;
  /** Connected, buckets and streams ready, subscriptions live. */
  readonly ready: boolean;
  /** Base URL of the HTTP surface, when enabled. */
  readonly httpUrl: string | undefined;
  /** The gateway's Prometheus metrics (served on /metrics when HTTP is on). */
  readonly metrics: GatewayMetrics;
  produceStats(): ProduceStats;
  /** Requests refused unanswered. */
  refusals(): RefusalStats;
  /** Metadata records that failed validation and were skipped, since start. */
  invalidRecords(): number;
  /** The gateway for in-process fronts (HTTP API, Memphis compatibility). */
  readonly front: GatewayFront;
  /** The Memphis front, when Memphis compatibility is on. */
  readonly memphis: MemphisFront | undefined;
  /** A tenant's registries (tests and tools). */
  records(tenant?: string): Promise<TenantRecords>;
  /** Stops taking requests, finishes those in flight, then closes. Idempotent. */
  close(): Promise<void>;
}

/**
 * Connects, and while NATS cannot be reached or JetStream is not ready yet (a cluster still
 * starting) tries again with backoff for up to `waitMs` (0 = once). Other errors end it at once.
 */
async function connectWaiting(waitMs: number, logger: Logger, connect: () => Promise<Backend>): Promise<Backend> {
  const until = Date.now() + waitMs;
  let pause = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      const retriable = err instanceof JunctionError && err.retriable;
      if (!retriable || Date.now() + pause > until) throw err;
      logger.warn("NATS is not ready; trying again", { attempt, inMs: pause, error: (err as Error).message });
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 5000);
    }
  }
}

/** At most this many store requests at once while reading broker state. */
const STATE_CONCURRENCY = 8;

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A member unheard this long is gone, for the doctor (heartbeats are at most 1 s apart), in ms. */
const MEMBER_HEARD_MS = 3000;

/** Keys members are retrying, for /metrics. */
function retryingKeys(seen: readonly MemberSeen[]): number {
  return seen.reduce((n, m) => n + m.retrying.length, 0);
}

/** Consumer lag of every station of every open tenant, and dead letters per station and reason. */
async function readBrokerState(backend: Backend, tenants: Tenant[], members: MemberBoard): Promise<BrokerState> {
  const groups: GroupLag[] = [];
  for (const t of tenants) {
    const stations = (await t.records.stations.list()).map((s) => s.name);
    await mapLimit(stations, STATE_CONCURRENCY, async (station) => {
      const states = await backend.admin.listGroups(t.scope, station);
      // Member timeouts (from the records) only where a group is partitioned.
      const records = states.some((g) => g.partitions)
        ? new Map((await t.records.groups.list(station)).map((g) => [g.name, g]))
        : new Map();
      for (const g of states) {
        const parts = g.partitions;
        // A partitioned group's members as group info counts them (by its member timeout); on a
        // one-partition station, those heard lately, or the waiting pulls if more.
        const timeoutMs = parts ? records.get(g.name)?.config.memberTimeoutMs : MEMBER_HEARD_MS;
        const seen = timeoutMs === undefined ? [] : members.members(t.scope.stationStream(station), g.name, timeoutMs);
        groups.push({
          station,
          group: g.name,
          pending: g.pending,
          ackPending: g.ackPending,
          redelivered: g.redelivered,
          members: membersOnline(parts !== undefined, seen.length, g.waiting),
          ...(parts
            ? {
                partitions: {
                  total: parts.length,
                  held: parts.filter((p) => p.pinnedId !== undefined).length,
                  parked: parts.filter((p) => p.redelivered > 0 && p.ackPending > 0).length,
                  retrying: retryingKeys(seen),
                },
              }
            : {}),
        });
      }
    });
  }
  const counts = new Map<string, { station: string; reason: string; count: number }>();
  for (const t of tenants) {
    for (const [subject, n] of Object.entries(await backend.reader.subjectCounts(DLS_STREAM, t.scope.dlsFilter({})!))) {
      // Both forms: `…<station>.<reason>` (schema, function) and `…<station>.<reason>.<group>` (poison, terminated).
      const p = parseDlsSubject(subject);
      if (!p) continue;
      const k = `${p.station}\u0000${p.reason}`;
      const c = counts.get(k) ?? { station: p.station, reason: p.reason, count: 0 };
      c.count += n;
      counts.set(k, c);
    }
  }
  const servers = backend.system
    ? await backend.system
        .jetstream()
        .then((js) => js.map((j) => ({ server: j.serverName, syncAlways: j.syncAlways })))
        .catch(() => undefined)
    : undefined;
  return { groups, deadLetters: [...counts.values()], servers };
}

/**
 * Starts a fully composed gateway: connects to NATS (checking the server's version), creates or
 * upgrades the metadata buckets, every station's stream, the DLS and the advisory feed, then
 * serves produce and the admin API in the `jn-gateway` queue group.
 */
export async function startJunctionGateway(options: JunctionGatewayOptions = {}): Promise<JunctionGateway> {
  const o = resolveJunctionGatewayOptions(options);
  const auth = resolveGatewayAuthOptions(o.auth);
  resolveQuotaLimits(o.quotas); // a bad quota fails before connecting
  const clock = o.clock;
  const id = `gw-${randomBytes(4).toString("hex")}`;
  const httpPort = o.httpPort;
  // Process metrics (GC observers, event-loop monitor) only where something can scrape them.
  const metrics = new GatewayMetrics({ processMetrics: httpPort !== 0, clock, ...o.metrics });
  // HTTP comes up first, so probes see the process alive (/healthz) and not ready (/readyz)
  // while the gateway connects and creates its buckets and streams.
  const http: HttpSurface | undefined =
    httpPort !== 0
      ? await startHttp({
          port: httpPort === -1 ? 0 : httpPort,
          host: o.httpHost,
          metrics,
          metricsToken: o.metricsToken,
          tls: o.httpTls,
          api: {
            logger: o.logger.child("http"),
            clock,
            ...o.http,
            // Every gateway of a deployment shares the issuer seed, so they accept each other's ack tokens.
            tokenKey: o.http?.tokenKey ?? (auth.mode === "callout" && auth.issuerSeed ? tokenKeyFrom(auth.issuerSeed) : undefined),
          },
        })
      : undefined;
  let backend: Backend;
  try {
    backend = await connectWaiting(o.waitForNatsMs, o.logger, () =>
      connectBackend({
        servers: o.servers,
        user: o.user,
        pass: o.pass,
        token: o.token,
        name: o.name,
        tls: o.tls,
        storeTimeoutMs: o.storeTimeoutMs,
        authIssuerSeed: auth.mode === "callout" ? auth.issuerSeed : undefined,
        system:
          auth.systemUser !== undefined
            ? { servers: o.servers, user: auth.systemUser, pass: auth.systemPassword, name: "junction-gateway-system", tls: o.tls }
            : undefined,
      }),
    );
  } catch (err) {
    await http?.close();
    throw err;
  }
  try {
    return await compose(backend, o, id, metrics, http);
  } catch (err) {
    await http?.close();
    await backend.close();
    throw err instanceof JunctionError ? err : errorFromNats(err, "gateway startup");
  }
}

/**
 * Composes a gateway on a backend that is already connected (the fake store of unit tests, or
 * one the caller built). Closing the gateway closes the backend.
 */
export async function composeGateway(backend: Backend, options: JunctionGatewayOptions = {}): Promise<JunctionGateway> {
  const o = resolveJunctionGatewayOptions(options);
  resolveQuotaLimits(o.quotas); // a bad quota fails before anything is opened
  const metrics = new GatewayMetrics({ processMetrics: false, clock: o.clock, ...o.metrics });
  return compose(backend, o, `gw-${randomBytes(4).toString("hex")}`, metrics, undefined);
}

async function compose(
  backend: Backend,
  o: ReturnType<typeof resolveJunctionGatewayOptions>,
  id: string,
  metrics: GatewayMetrics,
  http: HttpSurface | undefined,
): Promise<JunctionGateway> {
  const { logger, clock, defaultReplicas } = o;
  const dlsOptions = resolveDlsOptions(o.dls);
  const events = createEventPublisher((subject, data) => backend.bus.publish(subject, data), clock);
  let invalid = 0;
  const metaLog = logger.child("metadata");
  const runtime =
    o.functionRuntime ??
    createFunctionRuntime({
      ...o.functions,
      onIsolateAbandoned: (e) => logger.child("functions").error("a function exhausted V8's heap; its isolate was abandoned", { ...e }),
      onQuarantine: (q) => {
        logger.child("functions").warn("function quarantined: its messages go to the DLS until it is released or replaced", { ...q });
        void functionEvent(q.function, [q.version], EventKind.FunctionQuarantined, {
          reason: q.reason,
          message: q.message,
          failures: q.failures,
        });
      },
      onRelease: (q) => {
        logger.child("functions").info("function released from quarantine", { function: q.function, version: q.version });
      },
      onWorkerExit: (e) => {
        metrics.onWorkerExit(e.reason);
        if (e.reason !== "closed" && e.reason !== "recycled") {
          logger.child("functions").warn("a function worker process ended", {
            pid: e.pid,
            reason: e.reason,
            inFlight: e.inFlight,
            code: e.code,
            signal: e.signal,
          });
        }
      },
    });
  /** Tells the stations using a function (of the tenant its runtime name belongs to) what happened to it. */
  const functionEvent = async (runtimeName: string, versions: number[], kind: EventKind, body: Record<string, unknown> = {}) => {
    const slash = runtimeName.indexOf("/");
    const tenant = slash < 0 ? DEFAULT_TENANT : runtimeName.slice(0, slash);
    const name = runtimeName.slice(slash + 1);
    try {
      const { records } = await tenants.get(tenant);
      for (const s of await records.stations.list()) {
        const f = s.functions?.find((x) => x.name === name);
        if (f) events.publish(s.name, kind, { function: name, versions, ...body }, tenant);
      }
    } catch (err) {
      logger.child("functions").warn("could not publish a function event", { function: runtimeName, error: String(err) });
    }
  };
  // An injected runtime belongs to whoever injected it.
  const closeRuntime = o.functionRuntime === undefined;
  // One schema worker pool per gateway (every tenant's registry shares it), closed with it.
  const schemaRuntime = createSchemaRuntime(o.schemas);
  const tenants = new TenantDirectory(
    backend,
    defaultReplicas,
    clock,
    schemaRuntime,
    (key, err) => {
      invalid++;
      metaLog.warn("skipped a metadata record that fails validation", { key, error: (err as Error).message });
    },
    // A new function version: drop isolates of the old ones (pinned versions are rebuilt on demand).
    (t) => t.records.functions.onChange((name, meta) => runtime.evict(name, meta?.latest)),
  );
  const authOptions = resolveGatewayAuthOptions(o.auth);
  const memphisOptions = o.memphis ? resolveMemphisOptions(o.memphis) : undefined;
  const onInvalidRecord = (key: string) => {
    invalid++;
    metaLog.warn("skipped a metadata record that fails validation", { key });
  };
  const users = new WatchedRecords<UserRecord>(await backend.bucket(USERS_BUCKET, defaultReplicas), parseUserRecord, onInvalidRecord);
  const tenantRecords = new WatchedRecords<TenantRecord>(
    await backend.bucket(TENANTS_BUCKET, defaultReplicas),
    parseTenantRecord,
    onInvalidRecord,
  );
  await users.start();
  await tenantRecords.start();
  const quotas = new QuotaService({
    bucket: await backend.bucket(QUOTAS_BUCKET, defaultReplicas),
    broker: o.quotas,
    records: async (tenant) => (await tenants.get(tenant)).records,
    buckets: (tenant) => backend.metadata(scopeOf(tenant), defaultReplicas),
    tenantExists: async (tenant) => (await tenantRecords.get(tenant)) !== undefined,
    system: backend.system,
    clientAccount: authOptions.clientAccount,
    // Over the registry's own limit the answer is SCHEMA_TOO_LARGE, which no quota lifts.
    schemaMaxBytes: schemaRuntime.limits.maxDefinitionBytes,
    clock,
    logger: logger.child("quotas"),
    onInvalid: onInvalidRecord,
  });
  await quotas.start();
  const home = await tenants.get(DEFAULT_TENANT);
  // Upgrade: every known station's stream (of every tenant) exists with the settings Junction needs now.
  for (const t of [home, ...(await Promise.all((await tenantRecords.list()).map((r) => tenants.get(r.name))))]) {
    for (const rec of await t.records.stations.list()) await backend.admin.ensureStation(t.scope, rec.name, rec.config);
  }
  const auth = new AuthService({
    users,
    tenants: tenantRecords,
    clientAccount: authOptions.clientAccount,
    resources: async (tenant) => {
      const t = await tenants.get(tenant);
      const out: StationGroups[] = [];
      for (const st of await t.records.stations.names()) {
        const partitions = (await t.records.stations.get(st))?.config.partitions ?? 1;
        out.push({ station: st, groups: await t.records.groups.names(st), ...(partitions > 1 ? { partitions } : {}) });
      }
      return out;
    },
    system: backend.system,
    ttlMs: authOptions.ttlMs,
    clock,
    logger: logger.child("auth"),
    fronts: memphisOptions ? [memphisLoginFront(memphisOptions.users)] : undefined,
    admit: (u) => quotas.admitConnection(u),
  });
  for (const name of authOptions.bootstrapTenants) {
    assertName("tenant", name);
    if (await tenantRecords.create(name, { name, createdAt: isoNow(clock) })) await tenants.get(name);
  }
  for (const b of authOptions.bootstrapUsers) {
    const now = isoNow(clock);
    const tenant = b.tenant ?? DEFAULT_TENANT;
    await users.create(b.name, {
      name: b.name,
      tenant,
      password: await hashPassword(b.password),
      grants: resolveGrants(b.grants),
      createdAt: now,
      updatedAt: now,
    });
  }
  const callout =
    authOptions.mode === "callout"
      ? backend.serveAuth(
          (r) => auth.decide(r),
          (err) => logger.warn("auth callout failed", { error: String(err) }),
        )
      : undefined;
  /** Who sent a bus request, and the tenant it asks for (operators may act in another through the Jn-Tenant header). */
  const callerOf = async (req: BusRequest): Promise<Caller> => {
    const requester = req.requester();
    const identity = authOptions.mode === "none" ? OPEN_IDENTITY : await auth.identify(requester);
    if (!identity) throw unidentified(requester);
    return { identity, tenant: req.header(Headers.Tenant) || undefined, requester };
  };
  /** The tenant a caller acts in. */
  const enter = async (caller: Caller): Promise<Tenant> => {
    const { identity, tenant: asked } = caller;
    const name = asked && identity.operator ? asked : identity.tenant;
    if (asked && asked !== identity.tenant && !identity.operator) {
      throw new JunctionError("PERMISSION_DENIED", `user '${identity.user}' may not act in tenant '${asked}'`, {
        details: { tenant: asked },
      });
    }
    if (name !== DEFAULT_TENANT && !(await tenantRecords.get(name))) {
      throw new JunctionError("TENANT_NOT_FOUND", `tenant '${name}' not found`, { details: { tenant: name } });
    }
    return tenants.get(name);
  };
  /** The station a caller may produce to, or undefined when there is none. */
  const produceTarget = async (caller: Caller, station: string): Promise<ProduceTarget | undefined> => {
    const t = await enter(caller);
    authorizeProduce(station, caller.identity);
    const rec = t.records.stations.cached(station) ?? (await t.records.stations.get(station));
    return rec ? { scope: t.scope, station: rec } : undefined;
  };

  await ensureDlsStream(backend.admin, defaultReplicas, dlsOptions.maxEntries);
  const retention = new RetentionStore(
    await backend.bucket<unknown>(DLS_RETENTION_BUCKET, defaultReplicas),
    { maxAgeSeconds: dlsOptions.maxAgeSeconds, maxEntries: dlsOptions.maxEntriesPerStation },
    dlsOptions.retentionCacheMs,
    clock,
  );
  const dls = new DeadLetterWriter({ writer: backend.writer, reader: backend.reader, retention: (s, t) => retention.get(s, t), events });

  // Stages read the registries of the tenant of the message's station.
  const registries = (tenant: string) => tenants.get(tenant).then((t) => t.records);
  const schemaStage = new SchemaStage({ registries });
  const functionStage = new FunctionStage({
    registries,
    runtime,
    onRun: metrics.onFunctionRun,
    checkParts: (scope, parts) => quotas.checkParts(scope.tenant, parts),
  });
  const stages = [schemaStage, functionStage];

  const storage = new StorageGuard({
    ...resolveGatewayStorageOptions(o.storage),
    admin: backend.admin,
    system: backend.system,
    logger: logger.child("storage"),
    clock,
  });
  await storage.start();
  const produce = new ProduceHandler({
    storage,
    writer: backend.writer,
    lookup: async (station, req) => produceTarget(await callerOf(req), station),
    stages,
    deadLetters: dls,
    logger: logger.child("produce"),
    clock,
    smallBatchMessages: o.smallBatchMessages,
    maxRequestMessages: o.maxRequestMessages,
    checkRequest: (target, messages, bytes) => quotas.checkRequest(target.scope.tenant, messages, bytes),
    maxPayloadBytes: backend.server.maxPayload,
    onRequest: (e) => {
      metrics.onProduce(e);
      o.onProduce?.(e);
    },
  });
  const resender = new Resender({
    admin: backend.admin,
    reader: backend.reader,
    writer: backend.writer,
    dls,
    events,
    stages,
    clock,
    smallBatchMessages: o.smallBatchMessages,
  });
  // Consumer groups' members announce themselves; group info and the doctor count them, and show who reads what.
  const members = new MemberBoard(clock);
  // Quotas wrap the handlers of the operations they limit, and add quota.list and quota.set.
  const handlers = quotas.guard({
    ...stationHandlers({
      admin: backend.admin,
      reader: backend.reader,
      defaultReplicas,
      events,
      members,
      clock,
      onStationDeleted: async (scope, name) => retention.forget(name, scope.tenant).catch(() => {}),
      needsReconnect: (ctx, station, group, groupIsNew) =>
        authOptions.mode === "callout" &&
        auth.needsRefresh(ctx.identity, station.name, group, {
          stationCreatedAtMs: Date.parse(station.createdAt),
          groupIsNew,
          partitioned: (station.config.partitions ?? 1) > 1,
        }),
    }),
    ...userHandlers({
      users,
      tenants: tenantRecords,
      auth,
      clock,
      reserved: authOptions.reservedUsers,
      openTenant: async (name) => {
        await tenants.get(name);
      },
      tenantHasStations: async (name) => (await (await tenants.get(name)).records.stations.names()).length > 0,
    }),
    ...schemaHandlers({ admin: backend.admin, reader: backend.reader }),
    ...functionHandlers(
      runtime,
      async (scope, name, versions) => functionEvent(functionRuntimeName(scope, name), versions, EventKind.FunctionReleased),
      (fn, version) => backend.bus.publish(FUNCTION_RELEASE_SUBJECT, encodeFunctionRelease({ fn, version })),
    ),
    ...dlsHandlers({
      query: new DlsQuery(backend.reader),
      resender,
      reader: backend.reader,
      retention,
      events,
      // Decoded by the version it was checked against, else by the station's current one.
      decode: async (ctx, station, headers, payload) => {
        const schemas = ctx.records.schemas;
        const at = parseSchemaTag(headers[Headers.Schema]) ?? (await resolveAttachment(schemas, station));
        if (!at) return undefined;
        const r = await (await schemas.compiled(at.name, at.version, station.schema?.allowUnknownFields === true)).validateAsync(payload);
        return r.ok ? r.value : undefined;
      },
    }),
    ...doctorHandlers({
      backend,
      replicas: defaultReplicas,
      gatewayId: id,
      tenantNames: async () => (await tenantRecords.list()).map((r) => r.name),
      invalidRecords: () => invalid,
      dlsMaxEntries: async (station, tenant) => (await retention.get(station, tenant)).maxEntries,
      checks: [quotas.doctorCheck()],
      // Heartbeats are at most 1 s apart whatever the group's member timeout: 3 s unheard is gone.
      membersHeard: (stream, group) => members.members(stream, group, MEMBER_HEARD_MS).length,
      clock,
    }),
    ...quotas.handlers(),
    ping: async () => ({ pong: true }),
  });
  const service = new GatewayService({
    bus: backend.bus,
    members,
    produce,
    handlers,
    identify: callerOf,
    access: async (caller, op, body) => {
      const tenant = await enter(caller);
      authorize(op, body, caller.identity);
      return { identity: caller.identity, scope: tenant.scope, records: tenant.records };
    },
    logger,
    clock,
  });
  const advisories = new AdvisoryListener({
    advisories: backend.advisories,
    reader: backend.reader,
    writer: dls,
    logger: logger.child("dls"),
    options: dlsOptions,
    replicas: defaultReplicas,
    clock,
  });
  const front: GatewayFront = {
    authenticate: (user, password, from) =>
      authOptions.mode === "none" ? Promise.resolve(OPEN_IDENTITY) : auth.authenticate(user, password, from),
    call: (caller, op, body) => service.call(caller, op, body),
    produce: (caller, station, messages, po) =>
      produce.produce(station, produceTarget(caller, station), messages, { producer: po?.producer, trace: po?.trace }),
  };
  http?.bind({ front, puller: backend.puller });
  await advisories.start();
  await service.start();
  // An operator's release reaches one gateway; it tells every gateway (itself too: a no-op).
  const releases = backend.bus.serve(FUNCTION_RELEASE_SUBJECT, (req) => {
    const n = parseFunctionRelease(req.data);
    if (n) runtime.release(n.fn, n.version);
  });
  const memphis = memphisOptions
    ? await startMemphisFront({
        bus: backend.bus,
        jetstream: backend.jetstream,
        gateway: front,
        // A Memphis user is known only in its own account.
        identify: async (r) => (authOptions.mode === "none" ? OPEN_IDENTITY : auth.identify(r, memphisAccount(r?.user ?? ""))),
        records: async (t) => (await tenants.get(t)).records,
        schemaStage,
        deadLetters: dls,
        logger,
        clock,
        memphis: memphisOptions,
      })
    : undefined;
  logger.info("gateway ready", { id, server: backend.server.version });

  let closing: Promise<void> | undefined;
  const gw: JunctionGateway = {
    id,
    get ready() {
      return service.ready && !backend.closed();
    },
    httpUrl: http?.url,
    metrics,
    produceStats: () => ({ ...produce.stats }),
    refusals: () => ({ ...service.refusals }),
    invalidRecords: () => invalid,
    records: async (tenant = DEFAULT_TENANT) => (await tenants.get(tenant)).records,
    front,
    memphis,
    close() {
      closing ??= (async () => {
        await http?.close();
        callout?.stop();
        await memphis?.stop();
        storage.stop();
        releases.stop();
        await service.stop();
        await advisories.stop();
        await tenants.close();
        users.close();
        tenantRecords.close();
        quotas.close();
        if (closeRuntime) await runtime.close();
        await schemaRuntime.close();
        await backend.close();
        logger.info("gateway stopped", { id });
      })();
      return closing;
    },
  };
  metrics.bind({
    ready: () => gw.ready && backend.bus.connected(),
    produceStats: () => produce.stats,
    badReplySubjects: () => service.refusals.badReplySubjects,
    quarantinedFunctions: () => runtime.quarantined().length,
    quotaRefusals: () => quotas.stats,
    storage: () => ({ state: storage.state(), ...storage.stats }),
    brokerState: async () => readBrokerState(backend, await tenants.opened(), members),
  });
  return gw;
}
