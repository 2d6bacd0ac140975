import { DEFAULT_TENANT, JunctionError, QuotaSource } from "../protocol/index.js";
import { QUOTAS, type QuotaName } from "./limits.js";

/** What a refusal says: which quota, its limit and where it comes from, and what was counted. */
export interface QuotaRefusal {
  quota: QuotaName;
  limit: number;
  source: QuotaSource;
  tenant: string;
  /** The count that reached the limit (what exists now, or what the request asked for). */
  current: number;
  /** What was counted, as a sentence's start: "tenant 'acme' has 200 stations". */
  what: string;
  /** What the operation needed, when more than one over `current` (the limit suggested covers it). */
  needed?: number | undefined;
  /** What else helps, said before how to raise the quota ("retry once one finishes"). */
  advice?: string | undefined;
  /** Extra facts for `details` (the station, the schema…). */
  details?: Record<string, unknown> | undefined;
  /** A limit on work under way (registrations at once): retrying after a wait can succeed. */
  retriable?: boolean | undefined;
}

/** The `junction quota set` command that raises a quota for a tenant. */
export function raiseCommand(tenant: string, quota: QuotaName, value: number): string {
  return `junction quota set${tenant === DEFAULT_TENANT ? "" : ` --tenant ${tenant}`} ${quota}=${value}`;
}

/** A value worth suggesting: twice the limit (at least what was needed), within the quota's range. */
function suggestion(quota: QuotaName, limit: number, needed: number): number {
  return Math.min(QUOTAS[quota].max, Math.max(limit * 2, needed, 1));
}

/** How the limit's origin reads in a message. */
function scopeText(source: QuotaSource, tenant: string): string {
  switch (source) {
    case QuotaSource.Tenant:
      return `set for tenant '${tenant}'`;
    case QuotaSource.Broker:
      return "set for every tenant by the broker";
    case QuotaSource.Default:
      return "the broker's default";
  }
}

/**
 * QUOTA_EXCEEDED (not retriable) naming the quota, its limit, its scope (broker or tenant) and
 * how to raise it; `details: { quota, limit, scope, current, tenant, … }`.
 */
export function quotaExceeded(r: QuotaRefusal): JunctionError {
  const max = QUOTAS[r.quota].max;
  const raise =
    r.limit >= max
      ? `it cannot be raised above ${max}`
      : `raise it with: ${raiseCommand(r.tenant, r.quota, suggestion(r.quota, r.limit, r.needed ?? r.current + 1))}`;
  return new JunctionError(
    "QUOTA_EXCEEDED",
    `${r.what}: the quota ${r.quota} is ${r.limit} ${QUOTAS[r.quota].per} (${scopeText(r.source, r.tenant)}); ${r.advice ? `${r.advice}, or ${raise}` : raise}`,
    {
      details: {
        quota: r.quota,
        limit: r.limit,
        scope: r.source === QuotaSource.Tenant ? "tenant" : "broker",
        current: r.current,
        tenant: r.tenant,
        ...r.details,
      },
      ...(r.retriable ? { retriable: true } : {}),
    },
  );
}

/**
 * QUOTA_EXCEEDED for a limit of the store itself (nats-server's account limits), which `junction
 * quota set` cannot raise: the error says so and names the server setting.
 */
export function storeLimitReached(o: { limit: string; what: string; setting: string; cause: unknown }): JunctionError {
  return new JunctionError(
    "QUOTA_EXCEEDED",
    `${o.what}: nats-server's ${o.limit} limit is reached; raise ${o.setting} in the nats-server configuration (junction quota set cannot)`,
    { cause: o.cause, details: { quota: o.limit, scope: "store", setting: o.setting } },
  );
}
