/**
 * The quotas: one table of every quota (its default, the values it may take, what it counts and
 * what it protects), the broker's limits resolved from options, and `name=value` parsing shared by
 * the gateway settings and the CLI.
 */
import { JunctionError, check, resolveOptions } from "../protocol/index.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** One quota's definition. */
export interface QuotaDefinition {
  /** The limit when neither the broker nor the tenant sets one. */
  readonly default: number;
  /** The smallest and largest limits it may be set to. */
  readonly min: number;
  readonly max: number;
  /** What one count is, and per what. */
  readonly per: string;
  /** What it protects (docs, `quota list`). */
  readonly protects: string;
  /** The noun of the count in messages ("stations", "bytes"). */
  readonly unit: string;
}

/**
 * Every quota. Defaults suit a shared broker: they leave room for real workloads and stop one
 * tenant from exhausting what every tenant shares (nats-server's streams and file descriptors,
 * the schema workers, the function sandboxes, the gateway's memory).
 */
export const QUOTAS = Object.freeze({
  stations: {
    default: 1000,
    min: 0,
    max: 1_000_000,
    per: "stations per tenant",
    protects: "nats-server's streams and open files (each station is a stream)",
    unit: "stations",
  },
  groupsPerStation: {
    default: 100,
    min: 0,
    max: 100_000,
    per: "consumer groups per station",
    protects: "nats-server's consumers: memory and ack tracking per group",
    unit: "consumer groups",
  },
  versionsPerSchema: {
    default: 100,
    min: 1,
    max: 100_000,
    per: "versions per schema",
    protects: "metadata storage and the cost of compatibility checks against earlier versions",
    unit: "versions",
  },
  schemaDefinitionBytes: {
    default: 256 * KiB,
    min: 1,
    max: 16 * MiB,
    per: "bytes per schema definition",
    protects: "the schema workers' time and memory per registration, and metadata storage",
    unit: "bytes",
  },
  concurrentSchemaRegistrations: {
    default: 8,
    min: 1,
    max: 1024,
    per: "schema registrations at once per tenant, on each gateway",
    protects: "the schema worker pool and buf processes shared by every tenant",
    unit: "registrations",
  },
  partsPerMessage: {
    default: 1000,
    min: 1,
    max: 1000,
    per: "fan-out parts per produced message",
    protects: "the store: a message's parts are one atomic batch (at most 1,000)",
    unit: "parts",
  },
  messagesPerRequest: {
    // As many as a frame may carry: the gateway serves other stations while it stores a request of
    // 100,000 messages, so the default refuses nothing that worked before; lower it per tenant.
    default: 100_000,
    min: 1,
    // The gateway refuses a frame of more (BATCH_TOO_LARGE) before any quota is looked at.
    max: 100_000,
    per: "messages per produce request",
    protects: "the gateway's memory and event loop per request",
    unit: "messages",
  },
  bytesPerRequest: {
    default: 8 * MiB,
    min: 1,
    max: 1024 * MiB,
    per: "payload bytes per produce request",
    protects: "the gateway's memory per request",
    unit: "bytes",
  },
  functionMemoryMb: {
    default: 512,
    min: 0,
    max: 1024 * 1024,
    per: "MiB of function memory per tenant (memoryMb of every attached function version)",
    protects: "the function sandboxes' memory budget shared by every tenant",
    unit: "MiB",
  },
  connectionsPerUser: {
    default: 100,
    min: 1,
    max: 1_000_000,
    per: "live connections per user",
    protects: "nats-server's connections and the gateway's auth callout",
    unit: "connections",
  },
} as const satisfies Record<string, QuotaDefinition>);

/** A quota's name. */
export type QuotaName = keyof typeof QUOTAS;

/** Every quota name, in table order. */
export const QUOTA_NAMES: readonly QuotaName[] = Object.freeze(Object.keys(QUOTAS) as QuotaName[]);

/** Limits by quota name (any subset). */
export type QuotaLimits = { [K in QuotaName]?: number | undefined };

/** A limit for every quota. */
export type FullQuotaLimits = { readonly [K in QuotaName]: number };

/** Whether `name` is a quota's name. */
export function isQuotaName(name: unknown): name is QuotaName {
  return typeof name === "string" && Object.hasOwn(QUOTAS, name);
}

/** The built-in default of every quota. */
export const DEFAULT_QUOTAS: FullQuotaLimits = Object.freeze(
  Object.fromEntries(QUOTA_NAMES.map((n) => [n, QUOTAS[n].default])) as Record<QuotaName, number>,
);

/** Why a value cannot be a quota's limit, or undefined when it can. */
export function quotaValueProblem(name: QuotaName, value: unknown): string | undefined {
  const q = QUOTAS[name];
  return check.int(q.min, q.max)(value);
}

/** The known names, for messages. */
export const knownQuotas = (): string => QUOTA_NAMES.join(", ");

/** The broker's limits: every quota, and which of them the broker set (the rest are defaults). */
export interface BrokerQuotas {
  readonly limits: FullQuotaLimits;
  readonly set: ReadonlySet<QuotaName>;
}

/**
 * Validates the broker's quotas (the gateway option `quotas`) and fills in the defaults; an
 * unknown name or a bad value fails naming `<component>.<name>`. Frozen.
 */
export function resolveQuotaLimits(given: QuotaLimits | undefined, component = "gateway.quotas"): BrokerQuotas {
  const checks = Object.fromEntries(QUOTA_NAMES.map((n) => [n, check.int(QUOTAS[n].min, QUOTAS[n].max)]));
  const limits = resolveOptions<QuotaLimits>(component, DEFAULT_QUOTAS, given, checks) as FullQuotaLimits;
  const set = new Set(QUOTA_NAMES.filter((n) => given?.[n] !== undefined));
  return Object.freeze({ limits, set });
}

/**
 * Parses `name=value` pairs (the CLI's arguments, or `stations=200,groupsPerStation=50` from
 * the gateway settings). A value of `default` (or `null`) is null: remove the override. Names and
 * values are checked against the table; `where` names the source in errors.
 */
export function parseQuotaPairs(pairs: readonly string[], where: string): Partial<Record<QuotaName, number | null>> {
  const out: Partial<Record<QuotaName, number | null>> = {};
  for (const raw of pairs) {
    const p = raw.trim();
    const i = p.indexOf("=");
    const name = i > 0 ? p.slice(0, i).trim() : "";
    const text = i > 0 ? p.slice(i + 1).trim() : "";
    if (!name || !text) {
      throw new JunctionError("INVALID_ARGUMENT", `${where}: '${raw}' must look like name=value (for example stations=200)`, {
        details: { source: where, pair: raw },
      });
    }
    if (!isQuotaName(name)) {
      throw new JunctionError("INVALID_ARGUMENT", `${where}: unknown quota '${name}' (known: ${knownQuotas()})`, {
        details: { source: where, quota: name },
      });
    }
    if (text === "default" || text === "null") {
      out[name] = null;
      continue;
    }
    const value = /^\d+$/.test(text.replace(/_/g, "")) ? Number(text.replace(/_/g, "")) : Number.NaN;
    const bad = quotaValueProblem(name, value);
    if (bad !== undefined) {
      throw new JunctionError("INVALID_ARGUMENT", `${where}: quota ${name} must be ${bad} (got '${text}')`, {
        details: { source: where, quota: name, expected: bad },
      });
    }
    out[name] = value;
  }
  return out;
}
