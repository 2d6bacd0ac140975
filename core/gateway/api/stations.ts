import { canConsume, canSee } from "../../auth/index.js";
import type { GroupState, ResetTarget, StreamAdmin, StreamReader, StreamState } from "../../nats/index.js";
import { membersOnline, type MemberBoard, type MemberSeen } from "../members.js";
import {
  DLS_STREAM,
  EventKind,
  JunctionError,
  assertName,
  parseDlsSubject,
  partitionConsumer,
  type GroupConfig,
  type GroupInfo,
  type Scope,
  type StationConfig,
  type StationInfo,
} from "../../protocol/index.js";
import {
  assertUpdatable,
  resolveGroupConfig,
  resolveStationConfig,
  sameStartPosition,
  sameStationConfig,
  type GroupRecord,
  type StationRecord,
  type StationRegistry,
} from "../../stations/index.js";
import { isoNow, type Clock, type EventPublisher } from "../../support/index.js";
import type { ApiContext, ApiHandler } from "../../pipeline/index.js";

/** What the station and group handlers need. */
export interface StationHandlerDeps {
  admin: StreamAdmin;
  reader: StreamReader;
  defaultReplicas: number;
  events: EventPublisher;
  clock: Clock;
  /** The members of partitioned groups as they announce themselves. */
  members?: MemberBoard | undefined;
  /** Called after a station is deleted (to drop dependent metadata). */
  onStationDeleted?: ((scope: Scope, name: string) => Promise<void>) | undefined;
  /**
   * Says whether the asker's connection must reconnect to consume as the group (its rights
   * predate the station or the group and reach them only through an expanded pattern).
   */
  needsReconnect?: ((ctx: ApiContext, station: StationRecord, group: string, groupIsNew: boolean) => boolean) | undefined;
}

/** The station's public view. */
export function stationInfo(rec: StationRecord, state: StreamState | undefined): StationInfo {
  const info: StationInfo = {
    name: rec.name,
    config: rec.config,
    createdAt: rec.createdAt,
    schema: rec.schema,
    functions: rec.functions ?? [],
  };
  if (state) info.state = { ...state };
  return info;
}

/** Extra group stats that need more than the consumer state. */
export interface GroupExtraStats {
  deadLettered: number;
  oldestUnackedAgeMs: number;
  /** Partitioned stations: the members as they announce themselves (see MemberBoard). */
  members?: readonly MemberSeen[] | undefined;
}

/** The group's public view with its live stats. */
export function groupInfo(
  rec: GroupRecord,
  s: GroupState | undefined,
  extra: GroupExtraStats = { deadLettered: 0, oldestUnackedAgeMs: 0 },
  stream?: string,
): GroupInfo {
  const members = (extra.members ?? []).map((m) => ({
    id: m.id,
    partitions: m.partitions,
    lastSeen: new Date(m.at).toISOString(),
    ...(m.retrying.length > 0 ? { retrying: m.retrying } : {}),
  }));
  const owners = new Map<number, string>();
  for (const m of extra.members ?? []) for (const p of m.partitions) if (!owners.has(p)) owners.set(p, m.id);
  return {
    station: rec.station,
    name: rec.name,
    ...(stream !== undefined ? { stream } : {}),
    config: rec.config,
    stats: {
      pending: s?.pending ?? 0,
      unacked: s?.ackPending ?? 0,
      redelivered: s?.redelivered ?? 0,
      // Members announce themselves (a busy member has no request waiting).
      membersOnline: membersOnline(s?.partitions !== undefined, extra.members?.length ?? 0, s?.waiting ?? 0),
      deliveredSeq: s?.deliveredSeq ?? 0,
      ackFloorSeq: s?.ackFloorSeq ?? 0,
      deadLettered: extra.deadLettered,
      oldestUnackedAgeMs: extra.oldestUnackedAgeMs,
      ...(s?.activeSince !== undefined ? { activeMemberSince: s.activeSince } : {}),
      ...(s?.partitions
        ? {
            partitions: s.partitions.map((p) => ({
              partition: p.partition,
              pending: p.pending,
              unacked: p.ackPending,
              waiting: p.waiting,
              redelivered: p.redelivered,
              ...(p.pinnedId !== undefined ? { member: p.pinnedId, memberSince: p.pinnedSince } : {}),
              ...(owners.has(p.partition) ? { assignedTo: owners.get(p.partition) } : {}),
            })),
            members,
          }
        : members.length > 0
          ? { members }
          : {}),
    },
  };
}

/** The partitions of a station (1 for stations made before partitions existed). */
export function partitionsOf(rec: StationRecord): number {
  return rec.config.partitions ?? 1;
}

/** Dead letters per consumer group of a station (poison + terminated), from the DLS subject counts. */
export async function deadLettersByGroup(reader: StreamReader, scope: Scope, station: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const filter = scope.dlsFilter({ station, group: "*" });
  if (filter === undefined) return out;
  for (const [subject, n] of Object.entries(await reader.subjectCounts(DLS_STREAM, filter))) {
    const g = parseDlsSubject(subject)?.group;
    if (g !== undefined) out[g] = (out[g] ?? 0) + n;
  }
  return out;
}

/**
 * Age of the oldest message a group was given and has not acked: the first of the group's
 * messages above its ack floor (JetStream does not report delivery times, so this is the
 * message's store time).
 */
export async function oldestUnackedAgeMs(
  reader: StreamReader,
  scope: Scope,
  station: string,
  group: string,
  s: GroupState | undefined,
  now: number,
): Promise<number> {
  if (!s || s.ackPending === 0) return 0;
  const own = new Set([scope.stationMsg(station), scope.stationResend(station, group)]);
  s.partitions?.forEach((p) => {
    own.add(scope.stationPartition(station, p.partition));
    own.add(scope.stationResend(station, partitionConsumer(group, p.partition)));
  });
  const { messages } = await reader.read(scope.stationStream(station), {
    fromSeq: s.ackFloorSeq + 1,
    filter: scope.stationAll(station),
    batch: 32,
  });
  const m = messages.find((x) => own.has(x.subject) && x.seq <= s.deliveredSeq);
  return m ? Math.max(0, now - m.time.getTime()) : 0;
}

/** Throws STATION_NOT_FOUND unless the station exists (read fresh from KV). */
export async function mustGetStation(stations: StationRegistry, name: unknown): Promise<StationRecord> {
  assertName("station", name);
  const rec = await stations.fresh(name);
  if (!rec) throw new JunctionError("STATION_NOT_FOUND", `station '${name}' not found`, { details: { station: name } });
  return rec;
}

function groupNotFound(station: string, group: string): JunctionError {
  return new JunctionError("GROUP_NOT_FOUND", `consumer group '${group}' not found on '${station}'`, { details: { station, group } });
}

/**
 * Growing a station's partitions moves most keys to another partition: a key's new messages
 * could then overtake its messages still unread in the old one. Refused (STATION_UPDATE_REFUSED,
 * naming the groups) while any group has unread or unacked messages or a delayed message waits;
 * `force` grows anyway.
 */
async function assertDrained(
  d: StationHandlerDeps,
  ctx: ApiContext,
  rec: StationRecord,
  groups: GroupRecord[],
  from: number,
  to: number,
): Promise<void> {
  const unread: { group: string; pending: number; unacked: number }[] = [];
  for (const g of groups) {
    const s = await d.admin.groupState(ctx.scope, rec.name, g.name, from);
    if (s && s.pending + s.ackPending > 0) unread.push({ group: g.name, pending: s.pending, unacked: s.ackPending });
  }
  const waiting = await d.reader.subjectCounts(ctx.scope.stationStream(rec.name), ctx.scope.stationDelayedAll(rec.name));
  const delayed = Object.values(waiting).reduce((a, b) => a + b, 0);
  if (unread.length === 0 && delayed === 0) return;
  const what = [
    ...unread.map((u) => `group '${u.group}' has ${u.pending} unread and ${u.unacked} unacked`),
    ...(delayed > 0 ? [`${delayed} delayed message(s) wait`] : []),
  ].join("; ");
  throw new JunctionError(
    "STATION_UPDATE_REFUSED",
    `station '${rec.name}': growing partitions ${from} -> ${to} now would let a key's new messages overtake its unread ones (${what}); let the groups drain (and delayed messages land) first, or grow with force and accept that`,
    { details: { field: "partitions", from, to, unread, delayed } },
  );
}

/** Builds the `station.*` and `group.*` handlers. */
export function stationHandlers(d: StationHandlerDeps): Record<string, ApiHandler> {
  const extra = async (
    ctx: ApiContext,
    g: GroupRecord,
    s: GroupState | undefined,
    dead?: Record<string, number>,
  ): Promise<GroupExtraStats> => ({
    deadLettered: (dead ?? (await deadLettersByGroup(d.reader, ctx.scope, g.station)))[g.name] ?? 0,
    oldestUnackedAgeMs: await oldestUnackedAgeMs(d.reader, ctx.scope, g.station, g.name, s, d.clock.now()),
    ...(d.members ? { members: d.members.members(ctx.scope.stationStream(g.station), g.name, g.config.memberTimeoutMs) } : {}),
  });
  const groupChanged = (ctx: ApiContext, station: string, group: string, change: "created" | "updated" | "deleted" | "reset") =>
    d.events.publish(station, EventKind.GroupChanged, { group, change }, ctx.scope.tenant);

  return {
    "station.create": async (body, ctx) => {
      const { stations } = ctx.records;
      const name = body["name"];
      assertName("station", name);
      const config = resolveStationConfig(body["config"] as Partial<StationConfig> | undefined, {
        ...resolveStationConfig({}),
        replicas: d.defaultReplicas,
      });
      const existing = await stations.fresh(name);
      if (existing) {
        // Creating again with the same settings is a no-op; other settings are an error.
        if (sameStationConfig(existing.config, config))
          return { ...stationInfo(existing, await d.admin.stationState(ctx.scope, name)), created: false };
        throw new JunctionError("STATION_EXISTS", `station '${name}' exists with other settings; use update to change them`, {
          details: { station: name, existing: existing.config, requested: config },
        });
      }
      const state = await d.admin.ensureStation(ctx.scope, name, config);
      const rec: StationRecord = { name, config, createdAt: isoNow(d.clock) };
      await stations.put(rec);
      return { ...stationInfo(rec, state), created: true };
    },
    "station.get": async (body, ctx) => {
      const rec = await mustGetStation(ctx.records.stations, body["name"]);
      const info = stationInfo(rec, await d.admin.stationState(ctx.scope, rec.name));
      if (info.state) {
        const waiting = await d.reader.subjectCounts(ctx.scope.stationStream(rec.name), ctx.scope.stationDelayedAll(rec.name));
        info.state.delayed = Object.values(waiting).reduce((a, b) => a + b, 0);
      }
      return info;
    },
    "station.list": async (_body, ctx) => {
      const out: StationInfo[] = [];
      for (const rec of await ctx.records.stations.list()) {
        if (canSee(ctx.identity.grants, rec.name)) out.push(stationInfo(rec, await d.admin.stationState(ctx.scope, rec.name)));
      }
      return out;
    },
    "station.update": async (body, ctx) => {
      const { stations } = ctx.records;
      const rec = await mustGetStation(stations, body["name"]);
      const next = resolveStationConfig(body["config"] as Partial<StationConfig>, rec.config);
      assertUpdatable(rec.name, rec.config, next);
      const from = partitionsOf(rec);
      const to = next.partitions ?? 1;
      const grown = to > from ? await ctx.records.groups.list(rec.name) : undefined;
      if (grown && body["force"] !== true) await assertDrained(d, ctx, rec, grown, from, to);
      let state: StreamState;
      try {
        state = await d.admin.ensureStation(ctx.scope, rec.name, next);
      } catch (err) {
        throw new JunctionError("STATION_UPDATE_REFUSED", `JetStream refused the update of '${rec.name}': ${(err as Error).message}`, {
          cause: err,
        });
      }
      // Growth: every group gets its new partitions' consumers before the record says so, so the
      // first message stored on a new partition already has them (a group starting at `latest`
      // would skip what came before its consumer).
      for (const g of grown ?? []) await d.admin.ensureGroup(ctx.scope, rec.name, g.name, g.config, to);
      const updated: StationRecord = { ...rec, config: next };
      await stations.put(updated);
      if (grown) d.events.publish(rec.name, EventKind.StationChanged, { partitions: to, from }, ctx.scope.tenant);
      return stationInfo(updated, state);
    },
    "station.delete": async (body, ctx) => {
      const { stations, groups } = ctx.records;
      const name = body["name"];
      assertName("station", name);
      // A record that fails validation can still be deleted (that is how an operator clears it).
      if (!(await stations.fresh(name)) && !(await stations.names()).includes(name)) {
        throw new JunctionError("STATION_NOT_FOUND", `station '${name}' not found`, { details: { station: name } });
      }
      await d.admin.deleteStation(ctx.scope, name);
      await groups.deleteAll(name);
      await stations.delete(name);
      await d.onStationDeleted?.(ctx.scope, name);
      return { deleted: true };
    },
    "group.create": async (body, ctx) => {
      const { stations, groups } = ctx.records;
      const rec = await mustGetStation(stations, body["station"]);
      const name = body["group"];
      assertName("group", name);
      const requested = (body["config"] ?? {}) as Partial<GroupConfig>;
      const existing = await groups.get(rec.name, name);
      // Joining an existing group changes only the settings given; the rest stay as they are.
      const config = resolveGroupConfig(requested, existing?.config);
      if (existing && requested.startPosition !== undefined && !sameStartPosition(existing.config.startPosition, config.startPosition)) {
        throw new JunctionError(
          "GROUP_CONFLICT",
          `consumer group '${name}' on '${rec.name}' exists with start position ${JSON.stringify(existing.config.startPosition)}; ` +
            `it cannot change to ${JSON.stringify(config.startPosition)}`,
          { details: { station: rec.name, group: name, existing: existing.config.startPosition, requested: config.startPosition } },
        );
      }
      if (existing && requested.exclusive !== undefined && requested.exclusive !== existing.config.exclusive) {
        throw new JunctionError(
          "GROUP_CONFLICT",
          `consumer group '${name}' on '${rec.name}' exists with exclusive: ${existing.config.exclusive}; it cannot change (delete and create the group again)`,
          {
            details: {
              station: rec.name,
              group: name,
              existing: { exclusive: existing.config.exclusive },
              requested: { exclusive: requested.exclusive },
            },
          },
        );
      }
      const effective: GroupConfig = existing
        ? { ...config, startPosition: existing.config.startPosition, exclusive: existing.config.exclusive }
        : config;
      if (effective.exclusive && partitionsOf(rec) > 1) {
        throw new JunctionError(
          "INVALID_ARGUMENT",
          `station '${rec.name}' has ${partitionsOf(rec)} partitions: its groups already read each partition in order with one member at a time; exclusive groups need a station with one partition`,
          { details: { option: "exclusive", station: rec.name, partitions: partitionsOf(rec) } },
        );
      }
      const state = await d.admin.ensureGroup(ctx.scope, rec.name, name, effective, partitionsOf(rec));
      const grec: GroupRecord = { station: rec.name, name, config: effective, createdAt: existing?.createdAt ?? isoNow(d.clock) };
      await groups.put(grec);
      groupChanged(ctx, rec.name, name, existing ? "updated" : "created");
      const refresh = d.needsReconnect?.(ctx, rec, name, !existing) === true;
      return {
        ...groupInfo(grec, state, await extra(ctx, grec, state), ctx.scope.stationStream(rec.name)),
        created: !existing,
        ...(refresh ? { reconnect: true } : {}),
      };
    },
    "group.get": async (body, ctx) => {
      const { stations, groups } = ctx.records;
      const rec = await mustGetStation(stations, body["station"]);
      const name = body["group"];
      assertName("group", name);
      const g = await groups.get(rec.name, name);
      if (!g) throw groupNotFound(rec.name, name);
      const state = await d.admin.groupState(ctx.scope, rec.name, name, partitionsOf(rec));
      return groupInfo(g, state, await extra(ctx, g, state));
    },
    "group.list": async (body, ctx) => {
      const { stations, groups } = ctx.records;
      const rec = await mustGetStation(stations, body["station"]);
      const states = new Map((await d.admin.listGroups(ctx.scope, rec.name)).map((c) => [c.name, c]));
      const dead = await deadLettersByGroup(d.reader, ctx.scope, rec.name);
      const out: GroupInfo[] = [];
      for (const g of await groups.list(rec.name)) {
        if (!canConsume(ctx.identity.grants, rec.name, g.name)) continue;
        const s = states.get(g.name);
        out.push(groupInfo(g, s, await extra(ctx, g, s, dead)));
      }
      return out;
    },
    "group.reset": async (body, ctx) => {
      const { stations, groups } = ctx.records;
      const rec = await mustGetStation(stations, body["station"]);
      const name = body["group"];
      assertName("group", name);
      const g = await groups.get(rec.name, name);
      if (!g) throw groupNotFound(rec.name, name);
      const to = body["to"] as { seq?: number; time?: string; latest?: true };
      let target: ResetTarget;
      if (to.seq !== undefined) target = { seq: to.seq };
      else if (to.time !== undefined) {
        const timeMs = Date.parse(to.time);
        if (!Number.isFinite(timeMs)) {
          throw new JunctionError("INVALID_ARGUMENT", `to.time '${to.time}' is not an ISO 8601 time`, { details: { option: "to.time" } });
        }
        target = { timeMs };
      } else target = { latest: true };
      const r = await d.admin.resetGroup(ctx.scope, rec.name, name, target, partitionsOf(rec));
      if (!r) throw groupNotFound(rec.name, name);
      groupChanged(ctx, rec.name, name, "reset");
      return { ...groupInfo(g, r.state, await extra(ctx, g, r.state)), resetSeq: r.seq };
    },
    "group.delete": async (body, ctx) => {
      const { stations, groups } = ctx.records;
      const rec = await mustGetStation(stations, body["station"]);
      const name = body["group"];
      assertName("group", name);
      if (!(await groups.names(rec.name)).includes(name)) throw groupNotFound(rec.name, name);
      await d.admin.deleteGroup(ctx.scope, rec.name, name, partitionsOf(rec));
      await groups.delete(rec.name, name);
      groupChanged(ctx, rec.name, name, "deleted");
      return { deleted: true };
    },
  };
}
