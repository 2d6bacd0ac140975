import type { JsonBucket } from "../nats/index.js";
import { DEFAULT_TENANT, QuotaSource, tenantNameProblem } from "../protocol/index.js";
import { isoNow, type Clock } from "../support/index.js";
import { QUOTA_NAMES, isQuotaName, quotaValueProblem, type BrokerQuotas, type QuotaLimits, type QuotaName } from "./limits.js";

/** The bucket of tenants' quota overrides (key = tenant name, `default` included). */
export const QUOTAS_BUCKET = "jn_quotas";

/** A tenant's overrides, as stored. */
export interface TenantQuotaRecord {
  tenant: string;
  limits: QuotaLimits;
  updatedAt: string;
  /** The user who set them. */
  updatedBy: string;
}

/** A quota's limit for a tenant and where it comes from. */
export interface EffectiveQuota {
  limit: number;
  source: QuotaSource;
}

/**
 * Checks a record read from the store; undefined when invalid. Names this gateway does not know
 * (written by a newer one) are ignored; a known name with a bad value makes the record invalid.
 */
export function parseQuotaRecord(key: string, v: unknown): TenantQuotaRecord | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  if (r["tenant"] !== key || (key !== DEFAULT_TENANT && tenantNameProblem(key) !== undefined)) return undefined;
  if (typeof r["updatedAt"] !== "string" || typeof r["updatedBy"] !== "string") return undefined;
  const raw = r["limits"];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
  const limits: QuotaLimits = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!isQuotaName(name)) continue;
    if (quotaValueProblem(name, value) !== undefined) return undefined;
    limits[name] = value as number;
  }
  return { tenant: key, limits, updatedAt: r["updatedAt"], updatedBy: r["updatedBy"] };
}

/** What the store needs. */
export interface QuotaStoreOptions {
  bucket: JsonBucket<unknown>;
  /** The broker's limits (defaults and the gateway's settings). */
  broker: BrokerQuotas;
  clock: Clock;
  /** Told about a record that fails validation (it is then treated as absent). */
  onInvalid?: ((key: string) => void) | undefined;
}

/**
 * Tenants' quota overrides in KV `jn_quotas`, over the broker's limits. Read once at start and
 * kept fresh by a watch, so every gateway applies a change at once and a check costs no I/O.
 */
export class QuotaStore {
  readonly #o: QuotaStoreOptions;
  readonly #records = new Map<string, TenantQuotaRecord>();
  #watch: { stop(): void } | undefined;

  constructor(o: QuotaStoreOptions) {
    this.#o = o;
  }

  /** Loads every record, then follows changes. */
  async start(): Promise<void> {
    for (const key of await this.#o.bucket.keys()) {
      const e = await this.#o.bucket.get(key).catch(() => undefined);
      if (e) this.#apply(key, e.value);
    }
    this.#watch = await this.#o.bucket.watch(
      (key, value) => this.#apply(key, value),
      undefined,
      (key) => {
        this.#records.delete(key);
        this.#o.onInvalid?.(key);
      },
    );
  }

  #apply(key: string, value: unknown): void {
    if (value === undefined) {
      this.#records.delete(key);
      return;
    }
    const rec = parseQuotaRecord(key, value);
    if (rec) this.#records.set(key, rec);
    else {
      this.#records.delete(key);
      this.#o.onInvalid?.(key);
    }
  }

  /** The broker's limits. */
  get broker(): BrokerQuotas {
    return this.#o.broker;
  }

  /** A quota's limit for a tenant (no I/O). */
  limit(tenant: string, name: QuotaName): EffectiveQuota {
    const own = this.#records.get(tenant)?.limits[name];
    if (own !== undefined) return { limit: own, source: QuotaSource.Tenant };
    const b = this.#o.broker;
    return { limit: b.limits[name], source: b.set.has(name) ? QuotaSource.Broker : QuotaSource.Default };
  }

  /** Every quota's limit for a tenant, in table order. */
  effective(tenant: string): { name: QuotaName; limit: number; source: QuotaSource }[] {
    return QUOTA_NAMES.map((name) => ({ name, ...this.limit(tenant, name) }));
  }

  /** The tenant's overrides, when it has any. */
  record(tenant: string): TenantQuotaRecord | undefined {
    return this.#records.get(tenant);
  }

  /**
   * Changes a tenant's overrides (`null` removes one) and returns the record (undefined when no
   * override is left). Values are checked by the caller.
   */
  async set(tenant: string, changes: Partial<Record<QuotaName, number | null>>, by: string): Promise<TenantQuotaRecord | undefined> {
    // A record that is not JSON (or fails validation) is replaced.
    const stored = await this.#o.bucket.get(tenant).catch(() => undefined);
    const current = parseQuotaRecord(tenant, stored?.value) ?? this.#records.get(tenant);
    const limits: QuotaLimits = { ...current?.limits };
    for (const [name, value] of Object.entries(changes) as [QuotaName, number | null][]) {
      if (value === null) delete limits[name];
      else limits[name] = value;
    }
    if (Object.keys(limits).length === 0) {
      await this.forget(tenant);
      return undefined;
    }
    const rec: TenantQuotaRecord = { tenant, limits, updatedAt: isoNow(this.#o.clock), updatedBy: by };
    await this.#o.bucket.put(tenant, rec);
    this.#records.set(tenant, rec);
    return rec;
  }

  /** Removes a tenant's overrides (a deleted tenant's, so a new tenant of that name starts afresh). */
  async forget(tenant: string): Promise<void> {
    await this.#o.bucket.delete(tenant);
    this.#records.delete(tenant);
  }

  close(): void {
    this.#watch?.stop();
    this.#watch = undefined;
  }
}
