import { DEFAULT_FUNCTION_LIMITS } from "../../functions/index.js";
import { DEFAULT_SCHEMA_LIMITS } from "../../schemas/index.js";
import type { DoctorCheck } from "../gateway/index.js";
import type { JsonBucket, SystemAdmin } from "../nats/index.js";
import type { ApiContext, ApiHandler, TenantRecords } from "../pipeline/index.js";
import {
  DEFAULT_TENANT,
  DoctorStatus,
  JunctionError,
  QuotaSource,
  isJunctionError,
  nameProblem,
  type QuotaEntry,
  type QuotaReport,
} from "../protocol/index.js";
import type { Clock, Logger } from "../support/index.js";
import { ConnectionCounter } from "./connections.js";
import { quotaExceeded, raiseCommand, storeLimitReached } from "./exceeded.js";
import {
  QUOTAS,
  QUOTA_NAMES,
  isQuotaName,
  knownQuotas,
  quotaValueProblem,
  resolveQuotaLimits,
  type QuotaLimits,
  type QuotaName,
} from "./limits.js";
import { QuotaStore, type EffectiveQuota } from "./store.js";
import { attachments, functionMemoryMb, tenantUsage, type Attachment, type TenantUsage, type UsageBuckets } from "./usage.js";

/** What the quota service needs from the gateway. */
export interface QuotaServiceOptions {
  /** The bucket of tenants' overrides (`jn_quotas`). */
  bucket: JsonBucket<unknown>;
  /** The broker's quotas (the gateway option `quotas`): limits for every tenant without its own. */
  broker?: QuotaLimits | undefined;
  /** A tenant's registries. */
  records: (tenant: string) => Promise<TenantRecords>;
  /** A tenant's raw metadata buckets (usage is counted from their keys). */
  buckets: (tenant: string) => Promise<UsageBuckets>;
  /** Whether a tenant exists (the default one always does). */
  tenantExists: (tenant: string) => Promise<boolean>;
  /** The system account, to count a user's live connections; without it that quota is not enforced. */
  system: Pick<SystemAdmin, "connections"> | undefined;
  /** The account application users are in. */
  clientAccount: string;
  clock: Clock;
  logger: Logger;
  /** Told about a quota record that fails validation. */
  onInvalid?: ((key: string) => void) | undefined;
  /**
   * The schema engine's own size limit: a larger definition is left to the registry, whose
   * SCHEMA_TOO_LARGE no quota can lift. @default the engine's default (256 KiB)
   */
  schemaMaxBytes?: number | undefined;
  /** How long a user's live-connection count is used before it is read again, in ms. @default 2000 */
  connectionCountFreshMs?: number | undefined;
}

/** Counters of refusals by quota (for metrics and tests). */
export type QuotaStats = Record<QuotaName | "store", number>;

/** A share of its quota at which `junction doctor` warns. */
export const NEAR_LIMIT = 0.8;

/** The quotas that count what exists (the doctor and `quota list` show their usage). */
const COUNTED = ["stations", "groupsPerStation", "versionsPerSchema", "functionMemoryMb"] as const satisfies readonly QuotaName[];

/** nats-server's own limits, by JetStream error code (server/errors.json). */
const STORE_LIMITS = { maxStreams: 10027, maxConsumers: 10026 } as const;

/** Whether an error (or its cause) is nats-server's JetStream error `code` (`description` for older clients). */
function isStoreError(err: unknown, code: number, description: RegExp): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (e.code === code || (typeof e.message === "string" && description.test(e.message))) return true;
  }
  return false;
}

/** In-flight names per scope: a check counts what exists and what is being created now, once each. */
class Reservations {
  readonly #by = new Map<string, Map<string, number>>();

  /** How many distinct names `existing` and those held in `scope` make, `name` itself left out. */
  count(scope: string, existing: readonly string[], name: string): number {
    const all = new Set(existing);
    for (const n of this.#by.get(scope)?.keys() ?? []) all.add(n);
    all.delete(name);
    return all.size;
  }

  async hold<T>(scope: string, name: string, fn: () => Promise<T>): Promise<T> {
    let m = this.#by.get(scope);
    if (!m) this.#by.set(scope, (m = new Map()));
    m.set(name, (m.get(name) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (m.get(name) ?? 1) - 1;
      if (n > 0) m.set(name, n);
      else m.delete(name);
      if (m.size === 0 && this.#by.get(scope) === m) this.#by.delete(scope);
    }
  }
}

/**
 * Quotas: the limits of each tenant (its overrides in KV over the broker's settings over the
 * defaults) and their enforcement — in the admin API (stations, groups, schemas, functions), in
 * produce (request size, fan-out parts) and in the auth callout (connections per user). Every
 * refusal is QUOTA_EXCEEDED naming the quota, its limit, its scope and how to raise it.
 */
export class QuotaService {
  readonly stats: QuotaStats = Object.fromEntries([...QUOTA_NAMES, "store"].map((n) => [n, 0])) as QuotaStats;
  readonly #o: QuotaServiceOptions;
  readonly #store: QuotaStore;
  readonly #connections: ConnectionCounter;
  readonly #reserved = new Reservations();
  readonly #registering = new Map<string, number>();
  readonly #buckets = new Map<string, Promise<UsageBuckets>>();
  readonly #schemaMaxBytes: number;

  constructor(o: QuotaServiceOptions) {
    this.#o = o;
    this.#store = new QuotaStore({ bucket: o.bucket, broker: resolveQuotaLimits(o.broker), clock: o.clock, onInvalid: o.onInvalid });
    this.#connections = new ConnectionCounter({
      system: o.system,
      account: o.clientAccount,
      clock: o.clock,
      logger: o.logger,
      freshMs: o.connectionCountFreshMs,
    });
    this.#schemaMaxBytes = o.schemaMaxBytes ?? DEFAULT_SCHEMA_LIMITS.maxDefinitionBytes;
  }

  /** Loads the tenants' overrides and follows their changes. */
  start(): Promise<void> {
    return this.#store.start();
  }

  close(): void {
    this.#store.close();
  }

  /** A quota's limit for a tenant and where it comes from (no I/O). */
  limit(tenant: string, name: QuotaName): EffectiveQuota {
    return this.#store.limit(tenant, name);
  }

  #refuse(
    quota: QuotaName,
    tenant: string,
    current: number,
    what: string,
    extra: { needed?: number; advice?: string; details?: Record<string, unknown>; retriable?: boolean } = {},
  ): JunctionError {
    this.stats[quota]++;
    return quotaExceeded({ quota, ...this.limit(tenant, quota), tenant, current, what, ...extra });
  }

  // ------------------------------------------------------------------ produce and connections

  /** Throws QUOTA_EXCEEDED when a produce request carries more messages or payload bytes than the tenant may send at once. */
  checkRequest(tenant: string, messages: number, bytes: number): void {
    const m = this.limit(tenant, "messagesPerRequest").limit;
    if (messages > m) throw this.#refuse("messagesPerRequest", tenant, messages, `the request carries ${messages} messages`);
    const b = this.limit(tenant, "bytesPerRequest").limit;
    if (bytes > b) throw this.#refuse("bytesPerRequest", tenant, bytes, `the request carries ${bytes} payload bytes`);
  }

  /** QUOTA_EXCEEDED when one message fanned out into more parts than the tenant allows; else undefined. */
  checkParts(tenant: string, parts: number): JunctionError | undefined {
    const limit = this.limit(tenant, "partsPerMessage").limit;
    return parts > limit ? this.#refuse("partsPerMessage", tenant, parts, `the message fanned out into ${parts} parts`) : undefined;
  }

  /**
   * Decides on a connecting user's connections quota (called last in the auth callout, so an
   * admission is a connection): undefined to admit, else why not (for the log).
   */
  async admitConnection(user: { name: string; tenant: string }): Promise<string | undefined> {
    const { limit } = this.limit(user.tenant, "connectionsPerUser");
    const r = await this.#connections.admit(user.name, limit);
    if (r.admitted) return undefined;
    return this.#refuse("connectionsPerUser", user.tenant, r.current, `user '${user.name}' has ${r.current} live connections`).message;
  }

  // ------------------------------------------------------------------ admin API

  /**
   * Wraps the admin handlers whose operations a quota limits (station and group creation,
   * schema registration and its dry run, function creation and attachment); the rest pass through unchanged.
   */
  guard(handlers: Readonly<Record<string, ApiHandler>>): Record<string, ApiHandler> {
    const out: Record<string, ApiHandler> = { ...handlers };
    const wrap = (op: string, around: (next: ApiHandler, b: Record<string, unknown>, ctx: ApiContext) => Promise<unknown>) => {
      const next = handlers[op];
      if (next) out[op] = (b, ctx) => around(next, b, ctx);
    };
    wrap("station.create", (next, b, ctx) => this.#stationCreate(next, b, ctx));
    wrap("group.create", (next, b, ctx) => this.#groupCreate(next, b, ctx));
    wrap("schema.create", (next, b, ctx) => this.#schemaCreate(next, b, ctx, true));
    // A dry run compiles and checks like a registration: same size and concurrency quotas, no new version.
    wrap("schema.check", (next, b, ctx) => this.#schemaCreate(next, b, ctx, false));
    wrap("function.create", (next, b, ctx) => this.#functionCreate(next, b, ctx));
    wrap("function.attach", (next, b, ctx) => this.#functionAttach(next, b, ctx));
    wrap("tenant.delete", async (next, b, ctx) => {
      const r = await next(b, ctx);
      // A tenant created again later under the same name starts with the broker's quotas.
      await this.#store.forget(b["name"] as string).catch((err: unknown) => {
        this.#o.logger.warn("could not remove a deleted tenant's quotas", { tenant: b["name"], error: String(err) });
      });
      this.#buckets.delete(b["name"] as string);
      return r;
    });
    return out;
  }

  async #stationCreate(next: ApiHandler, b: Record<string, unknown>, ctx: ApiContext): Promise<unknown> {
    const name = b["name"];
    if (typeof name !== "string" || nameProblem(name) !== undefined) return next(b, ctx);
    const tenant = ctx.scope.tenant;
    const create = async () => {
      try {
        return await next(b, ctx);
      } catch (err) {
        if (!isStoreError(err, STORE_LIMITS.maxStreams, /maximum number of streams reached/i)) throw err;
        this.stats.store++;
        throw storeLimitReached({
          limit: "max_streams",
          what: `station '${name}' cannot be created`,
          setting: "the JetStream max_streams of the broker's account",
          cause: err,
        });
      }
    };
    if (await ctx.records.stations.fresh(name)) return create(); // creating again: nothing new
    const scope = `stations:${tenant}`;
    const n = this.#reserved.count(scope, await ctx.records.stations.names(), name);
    if (n >= this.limit(tenant, "stations").limit) throw this.#refuse("stations", tenant, n, `tenant '${tenant}' has ${n} stations`);
    return this.#reserved.hold(scope, name, create);
  }

  async #groupCreate(next: ApiHandler, b: Record<string, unknown>, ctx: ApiContext): Promise<unknown> {
    const station = b["station"];
    const group = b["group"];
    if (
      typeof station !== "string" ||
      typeof group !== "string" ||
      nameProblem(station) !== undefined ||
      nameProblem(group) !== undefined
    ) {
      return next(b, ctx);
    }
    const tenant = ctx.scope.tenant;
    const create = async () => {
      try {
        return await next(b, ctx);
      } catch (err) {
        if (!isStoreError(err, STORE_LIMITS.maxConsumers, /maximum consumers limit reached/i)) throw err;
        this.stats.store++;
        throw storeLimitReached({
          limit: "max_consumers",
          what: `consumer group '${group}' cannot be created on station '${station}'`,
          setting: "the JetStream max_consumers of the broker's account",
          cause: err,
        });
      }
    };
    if (await ctx.records.groups.get(station, group)) return create(); // joining: nothing new
    const scope = `groups:${tenant}/${station}`;
    const n = this.#reserved.count(scope, await ctx.records.groups.names(station), group);
    if (n >= this.limit(tenant, "groupsPerStation").limit) {
      throw this.#refuse("groupsPerStation", tenant, n, `station '${station}' has ${n} consumer groups`, { details: { station } });
    }
    return this.#reserved.hold(scope, group, create);
  }

  async #schemaCreate(next: ApiHandler, b: Record<string, unknown>, ctx: ApiContext, versions: boolean): Promise<unknown> {
    const name = b["name"];
    const definition = b["definition"];
    if (typeof name !== "string" || nameProblem(name) !== undefined || typeof definition !== "string") return next(b, ctx);
    const tenant = ctx.scope.tenant;
    const bytes = Buffer.byteLength(definition);
    // Over the engine's own limit the registry answers SCHEMA_TOO_LARGE, which no quota lifts.
    if (bytes > this.limit(tenant, "schemaDefinitionBytes").limit && bytes <= this.#schemaMaxBytes) {
      throw this.#refuse("schemaDefinitionBytes", tenant, bytes, `the definition of schema '${name}' is ${bytes} bytes`, {
        details: { schema: name },
      });
    }
    const running = this.#registering.get(tenant) ?? 0;
    if (running >= this.limit(tenant, "concurrentSchemaRegistrations").limit) {
      throw this.#refuse(
        "concurrentSchemaRegistrations",
        tenant,
        running,
        `tenant '${tenant}' has ${running} schema registrations under way on this gateway`,
        { advice: "retry once one finishes", retriable: true },
      );
    }
    this.#registering.set(tenant, running + 1);
    try {
      if (versions) await this.#checkVersions(tenant, name, definition, b["messageType"], ctx);
      return await next(b, ctx);
    } finally {
      const n = (this.#registering.get(tenant) ?? 1) - 1;
      if (n > 0) this.#registering.set(tenant, n);
      else this.#registering.delete(tenant);
    }
  }

  /** Refuses a new version of a schema at its versions quota; the same definition again (no new version) passes. */
  async #checkVersions(tenant: string, name: string, definition: string, messageType: unknown, ctx: ApiContext): Promise<void> {
    let latest: number;
    try {
      latest = (await ctx.records.schemas.meta(name, true)).latest;
    } catch (err) {
      if (isJunctionError(err, "SCHEMA_NOT_FOUND")) return;
      throw err;
    }
    if (latest < this.limit(tenant, "versionsPerSchema").limit) return;
    const v = await ctx.records.schemas.version(name, latest).catch(() => undefined);
    const p = v?.prepared;
    const same =
      p !== undefined &&
      p.definition === definition &&
      (typeof messageType !== "string" || p.messageType === messageType || p.messageType?.endsWith(`.${messageType}`) === true);
    if (!same)
      throw this.#refuse("versionsPerSchema", tenant, latest, `schema '${name}' has ${latest} versions`, { details: { schema: name } });
  }

  /** Refuses a change of the attached functions that takes their memory over the quota (a change that lowers it always passes). */
  async #checkFunctionMemory(
    tenant: string,
    records: TenantRecords,
    before: readonly Attachment[],
    after: readonly Attachment[],
    what: (mb: number) => string,
    newLatest?: { name: string; memoryMb: number },
  ): Promise<void> {
    const { limit } = this.limit(tenant, "functionMemoryMb");
    const next = await functionMemoryMb(records, after, newLatest);
    if (next <= limit) return;
    const now = await functionMemoryMb(records, before);
    if (next <= now) return;
    throw this.#refuse("functionMemoryMb", tenant, now, `${what(next)} (${now} MiB now)`, { needed: next, details: { requested: next } });
  }

  async #functionCreate(next: ApiHandler, b: Record<string, unknown>, ctx: ApiContext): Promise<unknown> {
    const name = b["name"];
    const memoryMb = b["memoryMb"] ?? DEFAULT_FUNCTION_LIMITS.memoryMb;
    // Bad values are the registry's to refuse (FUNCTION_INVALID).
    if (typeof name !== "string" || nameProblem(name) !== undefined || typeof memoryMb !== "number" || !Number.isFinite(memoryMb)) {
      return next(b, ctx);
    }
    const list = await attachments(ctx.records);
    // Only where it is attached at `latest` does a new version change what runs.
    if (list.some((a) => a.name === name && a.version === "latest")) {
      await this.#checkFunctionMemory(
        ctx.scope.tenant,
        ctx.records,
        list,
        list,
        (mb) => `a new version of function '${name}' with ${memoryMb} MiB would bring the tenant's attached functions to ${mb} MiB`,
        { name, memoryMb },
      );
    }
    return next(b, ctx);
  }

  async #functionAttach(next: ApiHandler, b: Record<string, unknown>, ctx: ApiContext): Promise<unknown> {
    const name = b["name"];
    const station = b["station"];
    if (typeof name !== "string" || typeof station !== "string" || nameProblem(name) !== undefined || nameProblem(station) !== undefined) {
      return next(b, ctx);
    }
    if (!(await ctx.records.stations.get(station))) return next(b, ctx); // STATION_NOT_FOUND is the handler's
    const version = (b["version"] as number | "latest" | undefined) ?? "latest";
    const before = await attachments(ctx.records);
    const after = [...before.filter((a) => !(a.station === station && a.name === name)), { station, name, version }];
    await this.#checkFunctionMemory(
      ctx.scope.tenant,
      ctx.records,
      before,
      after,
      (mb) => `attaching function '${name}' to station '${station}' would bring the tenant's attached functions to ${mb} MiB`,
    );
    return next(b, ctx);
  }

  // ------------------------------------------------------------------ quota.list, quota.set

  #tenantBuckets(tenant: string): Promise<UsageBuckets> {
    let p = this.#buckets.get(tenant);
    if (!p) {
      p = this.#o.buckets(tenant);
      this.#buckets.set(tenant, p);
      p.catch(() => this.#buckets.delete(tenant));
    }
    return p;
  }

  async #usage(tenant: string): Promise<TenantUsage> {
    return tenantUsage(await this.#tenantBuckets(tenant), await this.#o.records(tenant));
  }

  /** A tenant's effective quotas, with their usage when asked (what exists now; registrations under way on this gateway). */
  async report(tenant: string, withUsage: boolean): Promise<QuotaReport> {
    const usage = withUsage ? await this.#usage(tenant) : undefined;
    const rec = this.#store.record(tenant);
    const quotas = this.#store.effective(tenant).map((e): QuotaEntry => {
      const q = QUOTAS[e.name];
      const entry: QuotaEntry = { name: e.name, limit: e.limit, source: e.source, per: q.per, protects: q.protects };
      if (!usage) return entry;
      switch (e.name) {
        case "stations":
        case "functionMemoryMb":
          return { ...entry, current: usage[e.name] };
        case "groupsPerStation":
        case "versionsPerSchema":
          return { ...entry, current: usage[e.name].max, ...(usage[e.name].at !== undefined ? { at: usage[e.name].at } : {}) };
        case "concurrentSchemaRegistrations":
          return { ...entry, current: this.#registering.get(tenant) ?? 0 };
        default:
          return entry;
      }
    });
    return { tenant, quotas, ...(rec ? { updatedAt: rec.updatedAt, updatedBy: rec.updatedBy } : {}) };
  }

  async #tenantOf(b: Record<string, unknown>, ctx: ApiContext): Promise<string> {
    const asked = b["tenant"];
    if (typeof asked !== "string" || asked === ctx.scope.tenant) return ctx.scope.tenant;
    if (asked !== DEFAULT_TENANT && !(await this.#o.tenantExists(asked))) {
      throw new JunctionError("TENANT_NOT_FOUND", `tenant '${asked}' not found`, { details: { tenant: asked } });
    }
    return asked;
  }

  /** The `quota.list` and `quota.set` handlers. */
  handlers(): Record<string, ApiHandler> {
    return {
      "quota.list": async (b, ctx) => this.report(await this.#tenantOf(b, ctx), ctx.identity.grants.admin),
      "quota.set": async (b, ctx) => {
        const tenant = await this.#tenantOf(b, ctx);
        const changes: Partial<Record<QuotaName, number | null>> = {};
        for (const [name, value] of Object.entries(b["limits"] as Record<string, unknown>)) {
          if (!isQuotaName(name)) {
            throw new JunctionError("INVALID_ARGUMENT", `unknown quota '${name}' (known: ${knownQuotas()})`, {
              details: { field: `limits.${name}`, quota: name },
            });
          }
          const bad = value === null ? undefined : quotaValueProblem(name, value);
          if (bad !== undefined) {
            throw new JunctionError(
              "INVALID_ARGUMENT",
              `quota ${name} must be ${bad}, or null to use the broker's (got ${JSON.stringify(value)})`,
              {
                details: { field: `limits.${name}`, quota: name, expected: bad },
              },
            );
          }
          changes[name] = value as number | null;
        }
        await this.#store.set(tenant, changes, ctx.identity.user);
        this.#o.logger.info("quotas changed", { tenant, changes, by: ctx.identity.user });
        return { ...(await this.report(tenant, true)), changed: Object.keys(changes) };
      },
    };
  }

  // ------------------------------------------------------------------ doctor

  /** The `quotas.near-limit` doctor check: every tenant's counted quotas at 80% or more of their limit. */
  doctorCheck(): DoctorCheck {
    return {
      id: "quotas.near-limit",
      title: "quotas near their limit",
      run: async (ctx) => {
        const near: string[] = [];
        const first: { tenant: string; quota: QuotaName; value: number }[] = [];
        const tenants = await ctx.tenants();
        for (const t of tenants) {
          const usage = await tenantUsage(t.buckets, await this.#o.records(t.name));
          for (const quota of COUNTED) {
            const u = usage[quota];
            const current = typeof u === "number" ? u : u.max;
            const at = typeof u === "number" ? undefined : u.at;
            const { limit, source } = this.limit(t.name, quota);
            if (current === 0 || current < limit * NEAR_LIMIT) continue;
            const pct = limit > 0 ? Math.round((current / limit) * 100) : Infinity;
            near.push(
              `${t.name}: ${quota} ${current} of ${limit}${limit > 0 ? ` (${pct}%)` : ""}${at !== undefined ? ` on ${at}` : ""}, ${source === QuotaSource.Tenant ? "tenant" : "broker"} quota`,
            );
            first.push({ tenant: t.name, quota, value: Math.min(QUOTAS[quota].max, Math.max(limit * 2, current + 1)) });
          }
        }
        if (near.length === 0) {
          return {
            status: DoctorStatus.Ok,
            message: `every tenant is below ${NEAR_LIMIT * 100}% of its quotas (${tenants.length} ${tenants.length === 1 ? "tenant" : "tenants"})`,
          };
        }
        const example = first[0]!;
        return {
          status: DoctorStatus.Warn,
          message: `${near.length} ${near.length === 1 ? "quota is" : "quotas are"} at ${NEAR_LIMIT * 100}% or more of the limit: creating more will be refused with QUOTA_EXCEEDED`,
          fix: `raise a quota (for example: ${raiseCommand(example.tenant, example.quota, example.value)}; junction quota list --tenant <tenant> shows them all), or remove what is no longer used`,
          items: near,
        };
      },
    };
  }
}
