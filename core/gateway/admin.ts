import {
  deleteGroupConsumer,
  deleteStationStream,
  ensureGroupConsumer,
  ensureStationStream,
  groupConsumerInfo,
  listGroupConsumers,
  readStream,
  stationStreamInfo,
  type ConsumerInfo,
  type JetStreamManager,
  type JsonBucket,
  type StreamInfo,
} from "../nats/index.js";
import { deadLettersByGroup } from "../dls/index.js";
import {
  JunctionError,
  assertName,
  subjects,
  type GroupConfig,
  type GroupInfo,
  type StationConfig,
  type StationInfo,
} from "../protocol/index.js";
import {
  assertUpdatable,
  resolveGroupConfig,
  resolveStationConfig,
  sameStartPosition,
  sameStationConfig,
  type StationRecord,
  type StationRegistry,
} from "../stations/index.js";

/** An admin API handler: JSON body in, JSON data out; throws JunctionError. */
export type ApiHandler = (body: Record<string, unknown>) => Promise<unknown>;

/** A consumer group's record in KV `jn_groups` (key `<station>.<group>`). */
export interface GroupRecord {
  station: string;
  name: string;
  config: GroupConfig;
  createdAt: string;
}

/** What the station and group handlers need. */
export interface AdminDeps {
  jsm: JetStreamManager;
  stations: StationRegistry;
  groups: JsonBucket<unknown>;
  defaultReplicas: number;
  /** Called after a station is deleted (to drop dependent metadata). */
  onStationDeleted?: (name: string) => Promise<void>;
  /** Called after a consumer group is created, updated or deleted (live events). */
  onGroupChanged?: (station: string, group: string, change: "created" | "updated" | "deleted") => void;
}

function str(body: Record<string, unknown>, key: string): unknown {
  return body[key];
}

function obj(body: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = body[key];
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new JunctionError("INVALID_ARGUMENT", `'${key}' must be an object`, { details: { field: key } });
  }
  return v as Record<string, unknown>;
}

/** The station's public view. */
export function stationInfo(rec: StationRecord, si: StreamInfo | undefined): StationInfo {
  const info: StationInfo = {
    name: rec.name,
    config: rec.config,
    createdAt: rec.createdAt,
    schema: rec.schema,
    functions: rec.functions ?? [],
  };
  if (si) {
    info.state = {
      messages: si.state.messages,
      bytes: si.state.bytes,
      firstSeq: si.state.first_seq,
      lastSeq: si.state.last_seq,
      consumers: si.state.consumer_count,
    };
  }
  return info;
}

/** Extra group stats that need more than the consumer info. */
export interface GroupExtraStats {
  deadLettered: number;
  oldestUnackedAgeMs: number;
}

/**
 * Age of the oldest message a group was given and has not acked: the first of the group's
 * messages above its ack floor (JetStream does not report delivery times, so this is the
 * message's store time).
 */
export async function oldestUnackedAgeMs(
  jsm: JetStreamManager,
  station: string,
  group: string,
  ci: ConsumerInfo | undefined,
  now = Date.now(),
): Promise<number> {
  if (!ci || ci.num_ack_pending === 0) return 0;
  const own = new Set([subjects.stationMsg(station), subjects.stationResend(station, group)]);
  const { messages } = await readStream(jsm, subjects.stationStream(station), {
    fromSeq: ci.ack_floor.stream_seq + 1,
    filter: subjects.stationAll(station),
    batch: 32,
  });
  const m = messages.find((x) => own.has(x.subject) && x.seq <= ci.delivered.stream_seq);
  return m ? Math.max(0, now - m.time.getTime()) : 0;
}

/** The group's public view with its live stats. */
export function groupInfo(
  rec: GroupRecord,
  ci: ConsumerInfo | undefined,
  extra: GroupExtraStats = { deadLettered: 0, oldestUnackedAgeMs: 0 },
): GroupInfo {
  return {
    station: rec.station,
    name: rec.name,
    config: rec.config,
    stats: {
      pending: ci?.num_pending ?? 0,
      unacked: ci?.num_ack_pending ?? 0,
      redelivered: ci?.num_redelivered ?? 0,
      membersOnline: ci?.num_waiting ?? 0,
      deliveredSeq: ci?.delivered.stream_seq ?? 0,
      ackFloorSeq: ci?.ack_floor.stream_seq ?? 0,
      deadLettered: extra.deadLettered,
      oldestUnackedAgeMs: extra.oldestUnackedAgeMs,
    },
  };
}

/** Builds the `station.*` and `group.*` handlers. */
export function stationHandlers(d: AdminDeps): Record<string, ApiHandler> {
  const mustGet = async (name: unknown): Promise<StationRecord> => {
    assertName("station", name);
    const rec = await d.stations.fresh(name);
    if (!rec) throw new JunctionError("STATION_NOT_FOUND", `station '${name}' not found`, { details: { station: name } });
    return rec;
  };
  const groupKey = (s: string, g: string) => `${s}.${g}`;
  const extra = async (
    station: string,
    group: string,
    ci: ConsumerInfo | undefined,
    dead?: Record<string, number>,
  ): Promise<GroupExtraStats> => ({
    deadLettered: (dead ?? (await deadLettersByGroup(d.jsm, station)))[group] ?? 0,
    oldestUnackedAgeMs: await oldestUnackedAgeMs(d.jsm, station, group, ci),
  });

  return {
    "station.create": async (body) => {
      const name = str(body, "name");
      assertName("station", name);
      const config = resolveStationConfig(obj(body, "config") as Partial<StationConfig>, {
        ...resolveStationConfig({}),
        replicas: d.defaultReplicas,
      });
      const existing = await d.stations.fresh(name);
      if (existing) {
        // Creating again with the same settings is a no-op; other settings are an error.
        if (sameStationConfig(existing.config, config))
          return { ...stationInfo(existing, await stationStreamInfo(d.jsm, name)), created: false };
        throw new JunctionError("STATION_EXISTS", `station '${name}' exists with other settings; use update to change them`, {
          details: { station: name, existing: existing.config, requested: config },
        });
      }
      const si = await ensureStationStream(d.jsm, name, config);
      const rec: StationRecord = { name, config, createdAt: new Date().toISOString() };
      await d.stations.put(rec);
      return { ...stationInfo(rec, si), created: true };
    },
    "station.get": async (body) => {
      const rec = await mustGet(str(body, "name"));
      return stationInfo(rec, await stationStreamInfo(d.jsm, rec.name));
    },
    "station.list": async () => {
      const out: StationInfo[] = [];
      for (const n of await d.stations.names()) {
        const rec = await d.stations.fresh(n);
        if (rec) out.push(stationInfo(rec, await stationStreamInfo(d.jsm, n)));
      }
      return out;
    },
    "station.update": async (body) => {
      const rec = await mustGet(str(body, "name"));
      const next = resolveStationConfig(obj(body, "config") as Partial<StationConfig>, rec.config);
      assertUpdatable(rec.name, rec.config, next);
      let si: StreamInfo;
      try {
        si = await ensureStationStream(d.jsm, rec.name, next);
      } catch (err) {
        throw new JunctionError("STATION_UPDATE_REFUSED", `JetStream refused the update of '${rec.name}': ${(err as Error).message}`, {
          cause: err,
        });
      }
      const updated: StationRecord = { ...rec, config: next };
      await d.stations.put(updated);
      return stationInfo(updated, si);
    },
    "station.delete": async (body) => {
      const rec = await mustGet(str(body, "name"));
      await deleteStationStream(d.jsm, rec.name);
      for (const k of await d.groups.keys(`${rec.name}.*`)) await d.groups.delete(k);
      await d.stations.delete(rec.name);
      await d.onStationDeleted?.(rec.name);
      return { deleted: true };
    },
    "group.create": async (body) => {
      const rec = await mustGet(str(body, "station"));
      const name = str(body, "group");
      assertName("group", name);
      const requested = obj(body, "config") as Partial<GroupConfig>;
      const key = groupKey(rec.name, name);
      const existing = (await d.groups.get(key))?.value as GroupRecord | undefined;
      // Joining an existing group changes only the settings given; the rest stay as they are.
      const config = resolveGroupConfig(requested, existing?.config);
      if (existing && !sameStartPosition(existing.config.startPosition, config.startPosition) && requested.startPosition !== undefined) {
        throw new JunctionError(
          "GROUP_CONFLICT",
          `consumer group '${name}' on '${rec.name}' exists with start position ${JSON.stringify(existing.config.startPosition)}; ` +
            `it cannot change to ${JSON.stringify(config.startPosition)}`,
          { details: { station: rec.name, group: name, existing: existing.config.startPosition, requested: config.startPosition } },
        );
      }
      const effective: GroupConfig = existing ? { ...config, startPosition: existing.config.startPosition } : config;
      const ci = await ensureGroupConsumer(d.jsm, rec.name, name, effective);
      const grec: GroupRecord = { station: rec.name, name, config: effective, createdAt: existing?.createdAt ?? new Date().toISOString() };
      await d.groups.put(key, grec);
      d.onGroupChanged?.(rec.name, name, existing ? "updated" : "created");
      return { ...groupInfo(grec, ci, await extra(rec.name, name, ci)), created: !existing };
    },
    "group.get": async (body) => {
      const rec = await mustGet(str(body, "station"));
      const name = str(body, "group");
      assertName("group", name);
      const g = (await d.groups.get(groupKey(rec.name, name)))?.value as GroupRecord | undefined;
      if (!g)
        throw new JunctionError("GROUP_NOT_FOUND", `consumer group '${name}' not found on '${rec.name}'`, {
          details: { station: rec.name, group: name },
        });
      const ci = await groupConsumerInfo(d.jsm, rec.name, name);
      return groupInfo(g, ci, await extra(rec.name, name, ci));
    },
    "group.list": async (body) => {
      const rec = await mustGet(str(body, "station"));
      const infos = new Map((await listGroupConsumers(d.jsm, rec.name)).map((c) => [c.name, c]));
      const dead = await deadLettersByGroup(d.jsm, rec.name);
      const out: GroupInfo[] = [];
      for (const k of (await d.groups.keys(`${rec.name}.*`)).sort()) {
        const g = (await d.groups.get(k))?.value as GroupRecord | undefined;
        const ci = g ? infos.get(g.name) : undefined;
        if (g) out.push(groupInfo(g, ci, await extra(rec.name, g.name, ci, dead)));
      }
      return out;
    },
    "group.delete": async (body) => {
      const rec = await mustGet(str(body, "station"));
      const name = str(body, "group");
      assertName("group", name);
      const key = groupKey(rec.name, name);
      const g = await d.groups.get(key);
      if (!g)
        throw new JunctionError("GROUP_NOT_FOUND", `consumer group '${name}' not found on '${rec.name}'`, {
          details: { station: rec.name, group: name },
        });
      await deleteGroupConsumer(d.jsm, rec.name, name);
      await d.groups.delete(key);
      d.onGroupChanged?.(rec.name, name, "deleted");
      return { deleted: true };
    },
  };
}
