/**
 * `jn.api.doctor.run`: checks a running broker and says what is wrong and how to fix it. It
 * runs in the gateway, because only the gateway sees the broker's internal account (streams, KV
 * buckets) and, through the system account, every server's settings; applications never do.
 *
 * Each check is a {@link DoctorCheck}: an id, a title and a `run()` that returns a status (ok,
 * warn, fail), a message, a fix and the items concerned. The built-in checks are in
 * {@link BUILTIN_DOCTOR_CHECKS}; other parts of the broker add theirs through
 * `DoctorDeps.checks` (quotas, for example) without touching this file.
 */
import { parseTenantRecord, parseUserRecord, TENANTS_BUCKET, USERS_BUCKET } from "../../auth/index.js";
import {
  MIN_SERVER_VERSION,
  missingFeatures,
  type Backend,
  type GroupState,
  type JsonBucket,
  type MetadataBuckets,
  type ServerJetStream,
} from "../../nats/index.js";
import {
  BucketKind,
  DEFAULT_TENANT,
  DLS_STREAM,
  DoctorStatus,
  JunctionError,
  parseDlsSubject,
  parseStationStream,
  scopeOf,
  type DoctorCheckResult,
  type DoctorReport,
  type Scope,
} from "../../protocol/index.js";
import { parseGroupRecord, parseStationRecord, type StationRecord } from "../../stations/index.js";
import { isoNow, type Clock } from "../../support/index.js";
import type { ApiHandler } from "../../pipeline/index.js";

/** What a check found (the runner adds its id and title). */
export interface DoctorFinding {
  status: DoctorStatus;
  message: string;
  /** How to fix it; expected unless the status is ok. */
  fix?: string | undefined;
  /** The records, streams or groups concerned (the runner keeps the first 50). */
  items?: string[] | undefined;
}

/** A tenant as the doctor sees it: its names and its raw metadata buckets. */
export interface DoctorTenant {
  name: string;
  scope: Scope;
  buckets: MetadataBuckets;
}

/** A station record read back, or why it could not be. */
export type ScannedStation = { ok: true; record: StationRecord } | { ok: false; key: string; reason: string };

/** The broker facts checks share, each read once per run. */
export interface DoctorContext {
  /** The default tenant and every tenant with a record. */
  tenants(): Promise<DoctorTenant[]>;
  /** Every tenant's station records (valid and invalid), read from KV now. */
  stations(): Promise<Map<string, ScannedStation[]>>;
  /** Every server's JetStream, through the system account; undefined when the gateway has none. */
  jetstream(): Promise<ServerJetStream[] | undefined>;
  /** How long checks that compare over time watch, in ms. */
  windowMs: number;
  /** Waits (injected in tests). */
  sleep(ms: number): Promise<void>;
}

/** One check. Register more through `DoctorDeps.checks`. */
export interface DoctorCheck {
  /** Stable, dotted id (`quota.stations`): scripts key on it. */
  readonly id: string;
  /** What it checks, in a few words. */
  readonly title: string;
  /** Runs the check; an error it throws is reported as a warning that the check could not run. */
  run(ctx: DoctorContext): Promise<DoctorFinding>;
}

/** What the doctor needs from the gateway. */
export interface DoctorDeps {
  backend: Backend;
  /** Replicas of buckets the doctor opens (they exist already on a running broker). */
  replicas: number;
  /** The gateway's id (named in the report). */
  gatewayId: string;
  /** The names of every tenant besides the default one. */
  tenantNames(): Promise<string[]>;
  /** Metadata records this gateway skipped as invalid since it started. */
  invalidRecords(): number;
  /** A station's dead-letter retention cap. */
  dlsMaxEntries(station: string, tenant: string): Promise<number>;
  /** Checks run after the built-in ones. */
  checks?: readonly DoctorCheck[] | undefined;
  /**
   * Members of a group that announced themselves lately (a busy member has no pull request
   * waiting, yet it is there); none known without it.
   */
  membersHeard?: ((stream: string, group: string) => number) | undefined;
  clock: Clock;
  /** @default a timer */
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** How long `dls.growth` watches when the request does not say, in ms. */
export const DEFAULT_DOCTOR_WINDOW_MS = 2000;
/** Items kept per check. */
const MAX_ITEMS = 50;
/** Store requests at once while scanning. */
const CONCURRENCY = 8;
/** A station whose dead letters reach this share of its retention cap is reported. */
const NEAR_CAP = 0.9;

async function mapLimit<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** The verb agreeing with `n`: `agree(1, "has", "have")`. */
const agree = (n: number, one: string, many: string) => (n === 1 ? one : many);
/** A station as the report names it: plain in the default tenant, `<tenant>/<station>` elsewhere. */
const where = (tenant: string, name: string) => (tenant === DEFAULT_TENANT ? name : `${tenant}/${name}`);

/** Reads every key of a bucket; `check` says why a value is invalid (undefined = fine). */
async function scanBucket(
  bucket: JsonBucket<unknown>,
  check: (key: string, value: unknown) => string | undefined,
): Promise<{ key: string; value?: unknown; reason?: string }[]> {
  const keys = await bucket.keys();
  return mapLimit(keys, async (key) => {
    let value: unknown;
    try {
      const e = await bucket.get(key);
      if (e === undefined) return { key }; // deleted since listed
      value = e.value;
    } catch (err) {
      return { key, reason: `not JSON (${(err as Error).message})` };
    }
    const reason = check(key, value);
    return reason === undefined ? { key, value } : { key, reason };
  });
}

/** Why a record parser refuses a value (its message without the record's name), or undefined. */
const reasonOf = (parse: () => unknown): string | undefined => {
  try {
    return parse() === undefined ? "fails validation" : undefined;
  } catch (err) {
    return (err as Error).message.replace(/^metadata record '.*?' is invalid: /, "");
  }
};

/** Versioned records (schemas, functions): `<name>.meta` and `<name>.v<N>` objects naming themselves. */
function versionedProblem(key: string, v: unknown): string | undefined {
  const m = /^(.+)\.(meta|v(\d+))$/.exec(key);
  if (!m) return "unexpected key";
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not an object";
  const o = v as Record<string, unknown>;
  if (o["name"] !== m[1]) return "its name does not match its key";
  if (m[2] === "meta") return Number.isInteger(o["latest"]) && (o["latest"] as number) >= 1 ? undefined : "latest is not a version number";
  return o["version"] === Number(m[3]) ? undefined : "its version does not match its key";
}

const serverVersion = (deps: DoctorDeps): DoctorCheck => ({
  id: "server.version",
  title: "nats-server version and features",
  async run(ctx) {
    // Without the system account only the gateway's own server can be asked.
    const all = await ctx.jetstream();
    const servers = all ?? [{ serverName: "the gateway's server", version: deps.backend.server.version }];
    const old = servers.filter((s) => missingFeatures(s.version).length > 0);
    if (old.length > 0) {
      return {
        status: DoctorStatus.Fail,
        message: `${plural(old.length, "server")} of ${servers.length} ${agree(old.length, "runs", "run")} a nats-server older than ${MIN_SERVER_VERSION}`,
        fix: `upgrade nats-server to ${MIN_SERVER_VERSION} or later on every server (scripts/install-nats-server; the Helm chart's image tag)`,
        items: old.map((s) => `${s.serverName}: ${s.version} lacks ${missingFeatures(s.version).join("; ")}`),
      };
    }
    const versions = [...new Set(servers.map((s) => s.version))].join(", ");
    return {
      status: DoctorStatus.Ok,
      message: all
        ? `${plural(servers.length, "server")}, nats-server ${versions}: every feature Junction uses`
        : `the gateway's server runs nats-server ${versions}: every feature Junction uses (no system account to ask the others)`,
    };
  },
});

const NO_SYSTEM = {
  status: DoctorStatus.Warn,
  fix: "give the gateway the system account's user (--system-user and --system-password-file, or JUNCTION_SYSTEM_*)",
} as const;

const syncSetting: DoctorCheck = {
  id: "jetstream.sync",
  title: "fsync before ack",
  async run(ctx) {
    const servers = await ctx.jetstream();
    if (servers === undefined) return { ...NO_SYSTEM, message: "cannot see the servers' JetStream settings without the system account" };
    const lazy = servers.filter((s) => !s.syncAlways);
    if (lazy.length === 0)
      return { status: DoctorStatus.Ok, message: `every server fsyncs before it acknowledges (sync_interval: always)` };
    return {
      status: DoctorStatus.Warn,
      message: `${plural(lazy.length, "server")} of ${servers.length} ${agree(lazy.length, "acknowledges", "acknowledge")} writes before they reach the disk: a power failure can lose acknowledged messages`,
      fix: "set `jetstream { sync_interval: always }` in the nats-server config (junction dev: leave out --no-sync; Helm: nats.jetstream.syncInterval=always)",
      items: lazy.map((s) => `${s.serverName}: fsync every ${s.syncIntervalMs / 1000} s`),
    };
  },
};

const metadataRecords = (deps: DoctorDeps): DoctorCheck => ({
  id: "metadata.records",
  title: "metadata records valid",
  async run(ctx) {
    const bad: string[] = [];
    const stations = await ctx.stations();
    for (const t of await ctx.tenants()) {
      for (const s of stations.get(t.name) ?? []) if (!s.ok) bad.push(`${t.scope.bucket(BucketKind.Stations)}/${s.key}: ${s.reason}`);
      const scans: [BucketKind, JsonBucket<unknown>, (k: string, v: unknown) => string | undefined][] = [
        [BucketKind.Groups, t.buckets.groups, (k, v) => reasonOf(() => parseGroupRecord(k, v))],
        [BucketKind.Schemas, t.buckets.schemas, versionedProblem],
        [BucketKind.Functions, t.buckets.functions, versionedProblem],
      ];
      for (const [kind, bucket, check] of scans) {
        for (const r of await scanBucket(bucket, check)) if (r.reason) bad.push(`${t.scope.bucket(kind)}/${r.key}: ${r.reason}`);
      }
    }
    const auth: [string, (k: string, v: unknown) => string | undefined][] = [
      [USERS_BUCKET, (k, v) => reasonOf(() => parseUserRecord(k, v))],
      [TENANTS_BUCKET, (k, v) => reasonOf(() => parseTenantRecord(k, v))],
    ];
    for (const [name, check] of auth) {
      for (const r of await scanBucket(await deps.backend.bucket(name, deps.replicas), check))
        if (r.reason) bad.push(`${name}/${r.key}: ${r.reason}`);
    }
    const skipped = deps.invalidRecords();
    // The gateway counts skips (each read of a bad record), not distinct records.
    const since = skipped > 0 ? ` (this gateway has skipped an invalid record ${plural(skipped, "time")} since it started)` : "";
    if (bad.length === 0) return { status: DoctorStatus.Ok, message: `every metadata record is valid${since}` };
    return {
      status: DoctorStatus.Fail,
      message: `${plural(bad.length, "metadata record")} ${agree(bad.length, "fails", "fail")} validation: gateways ignore ${agree(bad.length, "it", "them")}, so what ${agree(bad.length, "it describes", "they describe")} is missing${since}`,
      fix: "rewrite each through Junction (delete and create the station, group, schema or function again), or remove the key as the broker's account: nats kv del <bucket> <key>",
      items: bad,
    };
  },
});

const orphanStreams: DoctorCheck = {
  id: "streams.orphans",
  title: "streams without a station",
  async run(ctx) {
    const servers = await ctx.jetstream();
    if (servers === undefined) return { ...NO_SYSTEM, message: "cannot list the broker's streams without the system account" };
    const stations = await ctx.stations();
    const tenants = new Set((await ctx.tenants()).map((t) => t.name));
    // Junction's account is the one holding the dead-letter stream.
    const accounts = new Set(servers.flatMap((s) => s.streams.filter((x) => x.name === DLS_STREAM).map((x) => x.account)));
    const names = new Set(servers.flatMap((s) => s.streams.filter((x) => accounts.has(x.account)).map((x) => x.name)));
    const orphans: string[] = [];
    let stationStreams = 0;
    for (const stream of [...names].sort()) {
      const p = parseStationStream(stream);
      if (!p) continue;
      stationStreams++;
      const scanned = stations.get(p.tenant)?.find((s) => (s.ok ? s.record.name : s.key) === p.station);
      if (scanned?.ok) continue;
      const why = !tenants.has(p.tenant)
        ? `tenant '${p.tenant}' does not exist`
        : scanned
          ? "its station record is invalid"
          : "no station record";
      orphans.push(`${stream}: ${why}`);
    }
    if (orphans.length === 0)
      return {
        status: DoctorStatus.Ok,
        message: `every station stream belongs to a station (${plural(stationStreams, "station stream")})`,
      };
    return {
      status: DoctorStatus.Warn,
      message: `${plural(orphans.length, "stream")} named like a station's but owned by no station: ${agree(orphans.length, "it holds", "they hold")} storage and nobody can produce to ${agree(orphans.length, "it", "them")}`,
      fix: "create the station again with its settings (junction station create <name>) to take the stream back, or delete it as the broker's account: nats stream rm <stream>",
      items: orphans,
    };
  },
};

const missingStreams = (deps: DoctorDeps): DoctorCheck => ({
  id: "stations.streams",
  title: "stations without a stream",
  async run(ctx) {
    const stations = await ctx.stations();
    const missing: string[] = [];
    let total = 0;
    for (const t of await ctx.tenants()) {
      const valid = (stations.get(t.name) ?? []).flatMap((s) => (s.ok ? [s.record] : []));
      total += valid.length;
      const states = await mapLimit(valid, (r) => deps.backend.admin.stationState(t.scope, r.name));
      valid.forEach((r, i) => {
        if (states[i] === undefined) missing.push(`${where(t.name, r.name)} (stream ${t.scope.stationStream(r.name)})`);
      });
    }
    if (missing.length === 0) return { status: DoctorStatus.Ok, message: `every station has its stream (${plural(total, "station")})` };
    return {
      status: DoctorStatus.Fail,
      message: `${plural(missing.length, "station")} ${agree(missing.length, "has", "have")} no stream: producing to ${agree(missing.length, "it", "them")} fails`,
      fix: "restart one gateway (at startup it creates the stream of every station), or delete the station: junction station delete <name>",
      items: missing,
    };
  },
});

const idleBacklog = (deps: DoctorDeps): DoctorCheck => ({
  id: "groups.backlog",
  title: "consumer groups with a backlog and no members",
  async run(ctx) {
    const stations = await ctx.stations();
    const idle: string[] = [];
    let groups = 0;
    for (const t of await ctx.tenants()) {
      const valid = (stations.get(t.name) ?? []).flatMap((s) => (s.ok ? [s.record] : []));
      const lists = await mapLimit(valid, (r) => deps.backend.admin.listGroups(t.scope, r.name).catch((): GroupState[] => []));
      valid.forEach((r, i) => {
        for (const g of lists[i]!) {
          groups++;
          const heard = deps.membersHeard?.(t.scope.stationStream(r.name), g.name) ?? 0;
          if (g.pending + g.ackPending > 0 && g.waiting === 0 && heard === 0) {
            idle.push(`${where(t.name, r.name)}:${g.name}: ${g.pending} pending, ${g.ackPending} unacked, no member pulling`);
          }
        }
      });
    }
    if (idle.length === 0) return { status: DoctorStatus.Ok, message: `no group waits without members (${plural(groups, "group")})` };
    return {
      status: DoctorStatus.Warn,
      message: `${plural(idle.length, "consumer group")} ${agree(idle.length, "has", "have")} messages waiting and no member reading them`,
      fix: "start the group's consumers (junction consume <station> --group <group> to try), or delete a group nobody will read again (it keeps messages of interest-retention stations)",
      items: idle,
    };
  },
});

const deadLetterGrowth = (deps: DoctorDeps): DoctorCheck => ({
  id: "dls.growth",
  title: "dead letters growing",
  async run(ctx) {
    const tenants = await ctx.tenants();
    const count = async () => {
      const out = new Map<string, { tenant: string; station: string; n: number }>();
      for (const t of tenants) {
        for (const [subject, n] of Object.entries(await deps.backend.reader.subjectCounts(DLS_STREAM, t.scope.dlsFilter({})!))) {
          const p = parseDlsSubject(subject);
          if (!p) continue;
          const k = where(p.tenant, p.station);
          const c = out.get(k) ?? { tenant: p.tenant, station: p.station, n: 0 };
          c.n += n;
          out.set(k, c);
        }
      }
      return out;
    };
    // Dead letters arriving during the window: counts per station before and after (a station
    // at its retention cap drops one for each new one, so it is reported on its own below).
    const before = await count();
    await ctx.sleep(ctx.windowMs);
    const after = await count();
    const growing: string[] = [];
    const nearCap: string[] = [];
    for (const [k, c] of after) {
      const grew = c.n - (before.get(k)?.n ?? 0);
      if (grew > 0) growing.push(`${k}: +${grew} in ${ctx.windowMs / 1000} s (${c.n} held)`);
      const cap = await deps.dlsMaxEntries(c.station, c.tenant);
      if (cap > 0 && c.n >= cap * NEAR_CAP) nearCap.push(`${k}: ${c.n} of ${cap} kept; the oldest are being dropped`);
    }
    const total = [...after.values()].reduce((n, c) => n + c.n, 0);
    if (growing.length === 0 && nearCap.length === 0) {
      return { status: DoctorStatus.Ok, message: `no new dead letter in ${ctx.windowMs / 1000} s (${plural(total, "dead letter")} held)` };
    }
    return {
      status: DoctorStatus.Warn,
      message: [
        growing.length > 0 ? `dead letters arrived on ${plural(growing.length, "station")} in ${ctx.windowMs / 1000} s` : "",
        nearCap.length > 0
          ? `${plural(nearCap.length, "station")} near ${agree(nearCap.length, "its", "their")} dead-letter retention cap`
          : "",
      ]
        .filter(Boolean)
        .join("; "),
      fix: "see why (junction dls list --station <station>), fix the consumer, schema or function, then resend (junction dls resend --all --station <station>); raise the cap with junction dls retention <station> --max-entries N",
      items: [...growing, ...nearCap],
    };
  },
});

/** The checks every doctor run makes, in order. */
export const BUILTIN_DOCTOR_CHECKS: readonly ((deps: DoctorDeps) => DoctorCheck)[] = Object.freeze([
  serverVersion,
  () => syncSetting,
  metadataRecords,
  () => orphanStreams,
  missingStreams,
  idleBacklog,
  deadLetterGrowth,
]);

const once = <T>(fn: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
};

/** Runs every check (concurrently; a check that throws is reported, never fatal) and builds the report. */
export async function runDoctor(deps: DoctorDeps, windowMs = DEFAULT_DOCTOR_WINDOW_MS): Promise<DoctorReport> {
  const { backend } = deps;
  const tenants = once(async () =>
    mapLimit([DEFAULT_TENANT, ...(await deps.tenantNames())], async (name): Promise<DoctorTenant> => {
      const scope = scopeOf(name);
      return { name, scope, buckets: await backend.metadata(scope, deps.replicas) };
    }),
  );
  const ctx: DoctorContext = {
    tenants,
    stations: once(async () => {
      const out = new Map<string, ScannedStation[]>();
      for (const t of await tenants()) {
        const scanned = await scanBucket(t.buckets.stations, (k, v) => reasonOf(() => parseStationRecord(k, v)));
        out.set(
          t.name,
          scanned.flatMap((r): ScannedStation[] =>
            r.reason !== undefined
              ? [{ ok: false, key: r.key, reason: r.reason }]
              : "value" in r
                ? [{ ok: true, record: parseStationRecord(r.key, r.value) }]
                : [],
          ),
        );
      }
      return out;
    }),
    jetstream: once(async () => (backend.system ? await backend.system.jetstream({ streams: true }) : undefined)),
    windowMs,
    sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  };
  const checks = [...BUILTIN_DOCTOR_CHECKS.map((make) => make(deps)), ...(deps.checks ?? [])];
  const results = await Promise.all(
    checks.map(async (c): Promise<DoctorCheckResult> => {
      let f: DoctorFinding;
      try {
        f = await c.run(ctx);
      } catch (err) {
        f = {
          status: DoctorStatus.Warn,
          message: `the check could not run: ${err instanceof JunctionError ? `${err.code}: ` : ""}${(err as Error).message}`,
          fix: "run junction doctor again; if it persists, see the gateway's log",
        };
      }
      const items = f.items ?? [];
      return {
        id: c.id,
        title: c.title,
        status: f.status,
        message: f.message,
        ...(f.fix !== undefined && f.status !== DoctorStatus.Ok ? { fix: f.fix } : {}),
        ...(items.length > 0
          ? { items: items.length > MAX_ITEMS ? [...items.slice(0, MAX_ITEMS), `… and ${items.length - MAX_ITEMS} more`] : items }
          : {}),
      };
    }),
  );
  const counts = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) counts[r.status]++;
  return { ok: counts.fail === 0, checkedAt: isoNow(deps.clock), gateway: deps.gatewayId, counts, checks: results };
}

/** The `doctor.run` handler (an operator's request: see core/auth). */
export function doctorHandlers(deps: DoctorDeps): Record<string, ApiHandler> {
  return {
    "doctor.run": async (body) => runDoctor(deps, typeof body["windowMs"] === "number" ? body["windowMs"] : DEFAULT_DOCTOR_WINDOW_MS),
  };
}
