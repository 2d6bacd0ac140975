/**
 * What the screens show, computed from SDK data: station and group rows, their health, the
 * worst-first order, rates, and the dead-letter filter language. Pure functions only.
 */
import {
  DeadLetterReason,
  type DeadLetterFilter,
  type GroupInfo,
  type GroupMember,
  type PartitionStats,
  type StationInfo,
} from "../../sdk/index.js";

/** Groups the TUI creates for its message browser; hidden from the lists. */
export const BROWSE_GROUP_PREFIX = "jn-tui-browse-";

/** How bad a row is. */
export const Health = { Ok: 0, Warn: 1, Bad: 2 } as const;
export type Health = (typeof Health)[keyof typeof Health];

/**
 * Group statistics with the fields newer gateways add (dead letters, oldest unacked age);
 * they are optional so older gateways still render.
 */
export type GroupStats = GroupInfo["stats"] & { deadLettered?: number; oldestUnackedAgeMs?: number };

/** One consumer group, as the station screen lists it. */
export interface GroupRow {
  name: string;
  pending: number;
  unacked: number;
  redelivered: number;
  deadLettered: number | undefined;
  oldestUnackedAgeMs: number | undefined;
  membersOnline: number;
  maxAckTimeMs: number;
  maxMsgDeliveries: number;
  health: Health;
  problems: string[];
  /**
   * Partitioned stations: the partitions, which member reads which (ids shortened), the keys being
   * retried, partitions with redelivered messages out, and those with no member.
   */
  partitions?: string | undefined;
}

/** One station, as the overview lists it. */
export interface StationRow {
  name: string;
  messages: number;
  bytes: number;
  inRate: number | undefined;
  outRate: number | undefined;
  /** Recent inbound rates, oldest first (for the sparkline). */
  inHistory: number[];
  groups: number;
  pending: number;
  unacked: number;
  redelivered: number;
  membersOnline: number;
  deadLetters: number | undefined;
  schema: string | undefined;
  functions: string[];
  health: Health;
  problems: string[];
}

/** Whether a group is one of the TUI's own browse groups. */
export function isBrowseGroup(name: string): boolean {
  return name.startsWith(BROWSE_GROUP_PREFIX);
}

/** One line on a partitioned group: who reads which partition, the keys being retried, what was redelivered, what has no member. */
export function partitionSummary(parts: readonly PartitionStats[], members: readonly GroupMember[]): string {
  const short = (id: string) => id.slice(0, 8);
  const who = members.map((m) => `${short(m.id)}: ${m.partitions.join(",") || "-"}`).join(" · ");
  const parked = parts.filter((p) => p.redelivered > 0 && p.unacked > 0).map((p) => p.partition);
  const retrying = members.flatMap((m) => m.retrying ?? []);
  const assigned = new Set(members.flatMap((m) => m.partitions));
  const none = parts.filter((p) => !assigned.has(p.partition)).map((p) => p.partition);
  return [
    `${parts.length} partitions over ${members.length} member${members.length === 1 ? "" : "s"}${who ? ` — ${who}` : ""}`,
    ...(retrying.length ? [`keys retrying: ${retrying.join(",")}`] : []),
    ...(parked.length ? [`redelivered: ${parked.join(",")}`] : []),
    ...(none.length && members.length ? [`no member: ${none.join(",")}`] : []),
  ].join("; ");
}

/** A group's row with its problems, most serious first. */
export function groupRow(g: GroupInfo, deadLetteredFromStats?: number): GroupRow {
  const s = g.stats as GroupStats;
  const deadLettered = s.deadLettered ?? deadLetteredFromStats;
  const problems: string[] = [];
  let health: Health = Health.Ok;
  if ((deadLettered ?? 0) > 0) {
    problems.push(`${deadLettered} dead-lettered`);
    health = Health.Bad;
  }
  if (s.oldestUnackedAgeMs !== undefined && s.unacked > 0 && s.oldestUnackedAgeMs > g.config.maxAckTimeMs) {
    problems.push("unacked past ack time");
    health = Math.max(health, Health.Warn) as Health;
  }
  if (s.redelivered > 0) {
    problems.push(`${s.redelivered} redelivered`);
    health = Math.max(health, Health.Warn) as Health;
  }
  if (s.pending + s.unacked > 0 && s.membersOnline === 0) {
    problems.push("backlog, no members online");
    health = Math.max(health, Health.Warn) as Health;
  }
  // Partitioned stations: a key being retried holds back its later messages; a partition with
  // work and no member waits for one.
  const parts = s.partitions ?? [];
  const retrying = (s.members ?? []).reduce((n, m) => n + (m.retrying?.length ?? 0), 0);
  if (retrying > 0) {
    problems.push(`${retrying} key${retrying === 1 ? "" : "s"} being retried (their later messages wait)`);
    health = Math.max(health, Health.Warn) as Health;
  }
  const orphaned = parts.filter((p) => p.member === undefined && p.pending + p.unacked > 0).length;
  if (orphaned > 0 && s.membersOnline > 0) {
    problems.push(`${orphaned} of ${parts.length} partitions with work and no member`);
    health = Math.max(health, Health.Warn) as Health;
  }
  return {
    name: g.name,
    ...(parts.length > 0 ? { partitions: partitionSummary(parts, s.members ?? []) } : {}),
    pending: s.pending,
    unacked: s.unacked,
    redelivered: s.redelivered,
    deadLettered,
    oldestUnackedAgeMs: s.oldestUnackedAgeMs,
    membersOnline: s.membersOnline,
    maxAckTimeMs: g.config.maxAckTimeMs,
    maxMsgDeliveries: g.config.maxMsgDeliveries,
    health,
    problems,
  };
}

/** Rates of one station between two samples. */
export interface RateSample {
  at: number;
  /** The station's last sequence (messages in). */
  lastSeq: number;
  /** Sum of the groups' ack floors (messages out). */
  acked: number;
}

/** Rates and a bounded history, kept between polls. */
export interface RateState {
  last: RateSample;
  inRate: number | undefined;
  outRate: number | undefined;
  inHistory: number[];
}

/** The number of samples kept for a sparkline. */
export const RATE_HISTORY = 30;

/** Folds a new sample into a station's rate state. */
export function nextRates(prev: RateState | undefined, sample: RateSample): RateState {
  if (!prev || sample.at <= prev.last.at)
    return { last: sample, inRate: prev?.inRate, outRate: prev?.outRate, inHistory: prev?.inHistory ?? [] };
  const dt = (sample.at - prev.last.at) / 1000;
  const inRate = Math.max(0, sample.lastSeq - prev.last.lastSeq) / dt;
  const outRate = Math.max(0, sample.acked - prev.last.acked) / dt;
  return { last: sample, inRate, outRate, inHistory: [...prev.inHistory, inRate].slice(-RATE_HISTORY) };
}

/** One station's data as polled. */
export interface StationSnapshot {
  station: StationInfo;
  groups: GroupInfo[];
  /** Dead letters of the station, when the gateway reports them. */
  deadLetters?: number | undefined;
}

/** The sample a station snapshot contributes to its rates. */
export function rateSample(s: StationSnapshot, at: number): RateSample {
  return {
    at,
    lastSeq: s.station.state?.lastSeq ?? 0,
    acked: s.groups.filter((g) => !isBrowseGroup(g.name)).reduce((n, g) => n + g.stats.ackFloorSeq, 0),
  };
}

/** A station's overview row. */
export function stationRow(s: StationSnapshot, rates?: RateState): StationRow {
  const groups = s.groups.filter((g) => !isBrowseGroup(g.name)).map((g) => groupRow(g));
  const sum = (f: (g: GroupRow) => number) => groups.reduce((n, g) => n + f(g), 0);
  const problems: string[] = [];
  let health: Health = Health.Ok;
  const dl = s.deadLetters ?? (groups.some((g) => g.deadLettered !== undefined) ? sum((g) => g.deadLettered ?? 0) : undefined);
  if ((dl ?? 0) > 0) {
    problems.push(`${dl} dead letters`);
    health = Health.Bad;
  }
  for (const g of groups) {
    for (const p of g.problems) if (!p.endsWith("dead-lettered")) problems.push(`${g.name}: ${p}`);
    if (g.health === Health.Warn) health = Math.max(health, Health.Warn) as Health;
  }
  const sc = s.station.schema;
  return {
    name: s.station.name,
    messages: s.station.state?.messages ?? 0,
    bytes: s.station.state?.bytes ?? 0,
    inRate: rates?.inRate,
    outRate: rates?.outRate,
    inHistory: rates?.inHistory ?? [],
    groups: groups.length,
    pending: sum((g) => g.pending),
    unacked: sum((g) => g.unacked),
    redelivered: sum((g) => g.redelivered),
    membersOnline: sum((g) => g.membersOnline),
    deadLetters: dl,
    schema: sc ? `${sc.name}@${sc.version}` : undefined,
    functions: (s.station.functions ?? []).map((f) => `${f.name}@${f.version}`),
    health,
    problems,
  };
}

/** Worst problems first: health, then dead letters, then backlog, then name. */
export function worstFirst<T extends { name: string; health: Health; pending: number; unacked: number; redelivered: number }>(
  rows: readonly T[],
  deadLetters: (r: T) => number | undefined,
): T[] {
  return [...rows].sort(
    (a, b) =>
      b.health - a.health ||
      (deadLetters(b) ?? 0) - (deadLetters(a) ?? 0) ||
      b.redelivered - a.redelivered ||
      b.pending + b.unacked - (a.pending + a.unacked) ||
      a.name.localeCompare(b.name),
  );
}

/** Stations, worst first. */
export function sortStations(rows: readonly StationRow[]): StationRow[] {
  return worstFirst(rows, (r) => r.deadLetters);
}

/** Groups, worst first. */
export function sortGroups(rows: readonly GroupRow[]): GroupRow[] {
  return worstFirst(rows, (r) => r.deadLettered);
}

const REASONS = Object.values(DeadLetterReason) as string[];

/**
 * Parses the dead-letter filter line: `reason:poison group:billing station:orders` and any other
 * words as text (`"quoted text"` keeps spaces). Returns the filter or a problem.
 */
export function parseDlsFilter(line: string): { filter: DeadLetterFilter } | { error: string } {
  const filter: DeadLetterFilter = {};
  const text: string[] = [];
  for (const m of line.matchAll(/(\w+):("[^"]*"|\S+)|"([^"]*)"|(\S+)/g)) {
    if (m[1] !== undefined) {
      const key = m[1];
      const value = m[2]!.replace(/^"|"$/g, "");
      if (key === "reason") {
        if (!REASONS.includes(value)) return { error: `reason must be one of ${REASONS.join(", ")} (got '${value}')` };
        filter.reason = value as DeadLetterReason;
      } else if (key === "group") filter.group = value;
      else if (key === "station") filter.station = value;
      else text.push(m[0]);
    } else text.push(m[3] ?? m[4]!);
  }
  if (text.length > 0) filter.text = text.join(" ");
  return { filter };
}

/** The filter written back as a line (the inverse of {@link parseDlsFilter}). */
export function formatDlsFilter(f: DeadLetterFilter): string {
  const parts: string[] = [];
  if (f.station) parts.push(`station:${f.station}`);
  if (f.reason) parts.push(`reason:${f.reason}`);
  if (f.group) parts.push(`group:${f.group}`);
  if (f.text) parts.push(/\s/.test(f.text) ? `"${f.text}"` : f.text);
  return parts.join(" ");
}
