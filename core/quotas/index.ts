/**
 * Quotas: per-tenant limits (stations, groups per station, schema versions and sizes, concurrent
 * registrations, fan-out parts, produce request size, function memory, connections per user)
 * with defaults, the broker's settings and tenants' overrides in KV, their enforcement, the
 * `quota.*` admin handlers and the `quotas.near-limit` doctor check.
 */
export {
  QUOTAS,
  QUOTA_NAMES,
  DEFAULT_QUOTAS,
  isQuotaName,
  quotaValueProblem,
  resolveQuotaLimits,
  parseQuotaPairs,
  knownQuotas,
} from "./limits.js";
export { quotaExceeded, raiseCommand, storeLimitReached } from "./exceeded.js";
export { QUOTAS_BUCKET, QuotaStore, parseQuotaRecord } from "./store.js";
export { ConnectionCounter } from "./connections.js";
export { tenantUsage, functionMemoryMb, attachments } from "./usage.js";
export { QuotaService, NEAR_LIMIT } from "./service.js";
export type { QuotaDefinition, QuotaName, QuotaLimits, FullQuotaLimits, BrokerQuotas } from "./limits.js";
export type { QuotaRefusal } from "./exceeded.js";
export type { TenantQuotaRecord, EffectiveQuota, QuotaStoreOptions } from "./store.js";
export type { ConnectionCounterOptions } from "./connections.js";
export type { TenantUsage, UsageBuckets, Attachment, LargestCount } from "./usage.js";
export type { QuotaServiceOptions, QuotaStats } from "./service.js";
