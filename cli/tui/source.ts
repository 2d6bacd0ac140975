/**
 * Where the TUI gets its data: an interface the screens' containers call, implemented over the
 * SDK client (nothing else talks to the broker). Tests hand the App a fake.
 */
import { randomBytes } from "node:crypto";
import { Headers, parseSchemaTag } from "../../core/protocol/index.js";
import type { CompiledSchema } from "../../schemas/index.js";
import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  FunctionInfo,
  FunctionQuarantine,
  JunctionClient,
  SchemaInfo,
  StationInfo,
} from "../../sdk/index.js";
import type { GroupInfo } from "../../sdk/index.js";
import { prettyPayload, prettyValue } from "./format.js";
import { BROWSE_GROUP_PREFIX, type StationSnapshot } from "./model.js";
import type { DlsTarget, DropResult, ResendResult } from "./screens/dead-letters.js";
import type { FunctionLog } from "./screens/functions.js";
import type { BrowsedMessage } from "./screens/station.js";

/** A live event from `jn.events.<station>.<kind>`. */
export interface TuiEvent {
  station: string;
  kind: string;
  at: number;
  data?: unknown;
}

/** Connection state as the banner shows it. */
export type LinkState = "up" | "down";

/** Everything the screens read and do. */
export interface TuiSource {
  /** Where it is connected, for the header. */
  readonly target: string;
  stations(): Promise<StationSnapshot[]>;
  station(name: string): Promise<{ station: StationInfo; groups: GroupInfo[]; deadLettersByGroup?: Record<string, number> | undefined }>;
  /** Reads the latest `count` messages of a station without disturbing its groups. */
  browse(station: string, count: number): Promise<BrowsedMessage[]>;
  dlsList(filter: DeadLetterFilter, limit: number): Promise<DeadLetterPage>;
  dlsGet(id: string): Promise<DeadLetter>;
  dlsResend(t: DlsTarget): Promise<ResendResult>;
  dlsDrop(t: DlsTarget): Promise<DropResult>;
  schemas(): Promise<SchemaInfo[]>;
  schemaVersions(name: string): Promise<{ version: number; createdAt: string }[]>;
  schemaDefinition(name: string, version: number): Promise<string>;
  functions(): Promise<FunctionInfo[]>;
  functionVersions(name: string): Promise<{ version: number; createdAt: string; timeoutMs: number; memoryMb: number }[]>;
  functionSource(name: string, version: number): Promise<string>;
  functionLogs(name: string): Promise<{ logs: FunctionLog[]; stats: { calls: number; errors: number; lastError?: string } }>;
  /** Resets a group to re-read from a sequence, or to the latest message; the sequence it now starts at. */
  groupReset(station: string, group: string, to: { seq: number } | { latest: true }): Promise<number>;
  /** Quarantined function versions on the gateway that answers. */
  functionQuarantines(): Promise<FunctionQuarantine[]>;
  /** Lifts a function's quarantine; how many versions were released. */
  functionRelease(name: string): Promise<number>;
  /** Calls `cb` for each live event; returns an unsubscribe function. */
  onEvent(cb: (e: TuiEvent) => void): () => void;
  /** Calls `cb` when the connection drops or comes back; returns an unsubscribe function. */
  onLink(cb: (s: LinkState) => void): () => void;
  close(): Promise<void>;
}

/** Options of {@link sdkSource}. */
export interface SdkSourceOptions {
  /** How long the message browser waits for messages. @default 3000 */
  browseTimeoutMs?: number;
  /** Shown in the header. @default the client name */
  target?: string;
  /** Where time comes from. @default Date.now */
  clock?: { now(): number };
}

/**
 * The TUI's data over an SDK client.
 *
 * The message browser must not consume: the client user may only pull from consumers, so it
 * creates a temporary consumer group (`jn-tui-browse-<random>`) starting at the last N messages,
 * pulls exactly N, acks them (that group's acks touch no other group) and deletes the group at
 * once. Real groups never see it; on an interest-retention station it holds no message back
 * because it is gone as soon as the read ends.
 */
export function sdkSource(client: JunctionClient, o: SdkSourceOptions = {}): TuiSource {
  const clock = o.clock ?? { now: () => Date.now() };
  // The SDK's schema cache: each version is fetched and compiled once.
  const compiled = async (name: string, version: number | undefined): Promise<CompiledSchema> =>
    client.schemaCache.get(name, version ?? (await client.schemas.get(name)).version.version);
  const decode = async (
    data: Uint8Array,
    headers: Record<string, string>,
    fallback: StationInfo["schema"],
  ): Promise<{ payload: string; decodedAs: string }> => {
    // The header names the exact version the message was checked against.
    const tag = parseSchemaTag(headers[Headers.Schema]);
    const name = tag ? tag.name : fallback?.name;
    const version = tag ? tag.version : fallback?.version === "latest" ? undefined : fallback?.version;
    if (name) {
      try {
        const c = await compiled(name, version);
        if (c.type !== "json") return { payload: prettyValue(c.decode(data)), decodedAs: `${name}@${version ?? "latest"}` };
        const p = prettyPayload(data);
        return { payload: p.text, decodedAs: `${name}@${version ?? "latest"}` };
      } catch {
        // Fall through: show it raw rather than nothing.
      }
    }
    const p = prettyPayload(data);
    return { payload: p.text, decodedAs: p.kind };
  };
  return {
    target: o.target ?? client.name,
    async stations() {
      const list = await client.stations.list();
      const byStation = await client.dls
        .stats()
        .then((s) => s.byStation)
        .catch(() => undefined);
      return await Promise.all(
        list.map(async (station) => ({
          station,
          groups: await client.groups.list(station.name).catch(() => []),
          deadLetters: byStation ? (byStation[station.name] ?? 0) : undefined,
        })),
      );
    },
    async station(name) {
      const [station, groups, stats] = await Promise.all([
        client.stations.get(name),
        client.groups.list(name),
        client.dls.stats(name).catch(() => undefined),
      ]);
      return { station, groups, deadLettersByGroup: stats?.byGroup };
    },
    async browse(station, count) {
      const info = await client.stations.get(station);
      const n = Math.min(count, info.state?.messages ?? 0);
      if (n <= 0) return [];
      const group = BROWSE_GROUP_PREFIX + randomBytes(4).toString("hex");
      const out: BrowsedMessage[] = [];
      try {
        const consumer = await client.consumer({
          station,
          group,
          startPosition: { kind: "last", count: n },
          maxMessages: n,
          batchSize: n,
          maxAckTimeMs: 60_000,
        });
        const timer = setTimeout(() => void consumer.close(), o.browseTimeoutMs ?? 3000);
        try {
          for await (const m of consumer) {
            const d = await decode(m.data, m.headers, info.schema);
            out.push({ seq: m.seq, time: m.timestamp.toISOString(), subject: m.subject, headers: m.headers, size: m.data.length, ...d });
            m.ack();
            if (out.length >= n) break;
          }
        } finally {
          clearTimeout(timer);
          await consumer.close();
        }
      } finally {
        await client.groups.delete(station, group).catch(() => {});
      }
      return out.sort((a, b) => b.seq - a.seq);
    },
    dlsList: (filter, limit) => client.dls.list({ ...filter, limit }),
    dlsGet: (id) => client.dls.get(id),
    dlsResend: (t) => client.dls.resend(t),
    dlsDrop: (t) => client.dls.drop(t),
    schemas: () => client.schemas.list(),
    schemaVersions: (name) => client.schemas.versions(name),
    async schemaDefinition(name, version) {
      return (await client.schemas.get(name, version)).version.prepared.definition;
    },
    functions: () => client.functions.list(),
    functionVersions: (name) => client.functions.versions(name),
    async functionSource(name, version) {
      return (await client.functions.get(name, version)).version.source;
    },
    functionLogs: (name) => client.functions.logs(name),
    groupReset: async (station, group, to) => (await client.groups.reset(station, group, to)).resetSeq,
    functionQuarantines: () => client.functions.quarantined(),
    functionRelease: async (name) => (await client.functions.release(name)).released.length,
    onEvent(cb) {
      const stream = client.events();
      void (async () => {
        for await (const e of stream) cb({ station: e.station, kind: e.kind, at: clock.now(), data: e.data });
      })();
      return () => stream.close();
    },
    onLink(cb) {
      return client.onStatus((s) => cb(s.state === "connected" ? "up" : "down"));
    },
    close: () => client.close(),
  };
}
