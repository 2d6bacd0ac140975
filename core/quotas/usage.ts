import type { JsonBucket } from "../nats/index.js";
import type { TenantRecords } from "../pipeline/index.js";

/** The raw buckets usage is counted from (one key listing each). */
export interface UsageBuckets {
  stations: JsonBucket<unknown>;
  groups: JsonBucket<unknown>;
  schemas: JsonBucket<unknown>;
}

/** The largest count of something per station or per schema, and where it is. */
export interface LargestCount {
  max: number;
  /** The station or schema with that count (undefined when there is none). */
  at?: string | undefined;
}

/** What a tenant uses of the quotas that count what exists. */
export interface TenantUsage {
  stations: number;
  groupsPerStation: LargestCount;
  versionsPerSchema: LargestCount;
  functionMemoryMb: number;
}

/** One function attached to a station. */
export interface Attachment {
  station: string;
  name: string;
  version: number | "latest";
}

/** The largest count per key prefix; `part` splits a key into its owner (or undefined to skip it). */
function largest(keys: string[], part: (key: string) => string | undefined): LargestCount {
  const counts = new Map<string, number>();
  for (const k of keys) {
    const owner = part(k);
    if (owner !== undefined) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  let out: LargestCount = { max: 0 };
  for (const [at, n] of [...counts].sort(([a], [b]) => a.localeCompare(b))) if (n > out.max) out = { max: n, at };
  return out;
}

/** Groups are keyed `<station>.<group>`. */
const stationOfGroupKey = (k: string): string | undefined => {
  const i = k.indexOf(".");
  return i > 0 ? k.slice(0, i) : undefined;
};
/** Schema versions are keyed `<schema>.v<N>` (beside `<schema>.meta`). */
const schemaOfVersionKey = (k: string): string | undefined => /^(.+)\.v\d+$/.exec(k)?.[1];

/** Every function attached to a tenant's stations (station records from the watched cache where possible). */
export async function attachments(records: Pick<TenantRecords, "stations">): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const name of await records.stations.names()) {
    const s = await records.stations.get(name);
    for (const f of s?.functions ?? []) out.push({ station: s!.name, name: f.name, version: f.version });
  }
  return out;
}

/**
 * The memory of the function versions a set of attachments runs, in MiB: each distinct version
 * once (stations sharing a version share its isolates). `newLatest` stands for a version about
 * to be registered, taking the place of the current latest wherever a function is attached at
 * `latest`. A version that no longer exists counts nothing.
 */
export async function functionMemoryMb(
  records: Pick<TenantRecords, "functions">,
  list: readonly Attachment[],
  newLatest?: { name: string; memoryMb: number },
): Promise<number> {
  const versions = new Map<string, number>();
  for (const a of list) {
    if (newLatest && a.name === newLatest.name && a.version === "latest") {
      versions.set(`${a.name}@next`, newLatest.memoryMb);
      continue;
    }
    const v = await records.functions.version(a.name, a.version).catch(() => undefined);
    if (v) versions.set(`${a.name}@${v.version}`, v.memoryMb);
  }
  let total = 0;
  for (const mb of versions.values()) total += mb;
  return total;
}

/** Counts what a tenant uses: one key listing per bucket, and the function versions its stations run. */
export async function tenantUsage(buckets: UsageBuckets, records: Pick<TenantRecords, "stations" | "functions">): Promise<TenantUsage> {
  const [stations, groups, schemas] = await Promise.all([buckets.stations.keys(), buckets.groups.keys(), buckets.schemas.keys()]);
  return {
    stations: stations.length,
    groupsPerStation: largest(groups, stationOfGroupKey),
    versionsPerSchema: largest(schemas, schemaOfVersionKey),
    functionMemoryMb: await functionMemoryMb(records, await attachments(records)),
  };
}
