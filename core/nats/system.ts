import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { errorFromNats, natsConnectOptions, type ConnectSettings } from "../protocol/index.js";

/** One client connection somewhere in the cluster. */
export interface ClientConnection {
  /** The server's id (where to send a kick). */
  serverId: string;
  cid: number;
  /** When the connection was made (ms since epoch). */
  startedAtMs: number;
}

/** One server's JetStream, as its JSZ report says: version, limits and use, sync setting, streams. */
export interface ServerJetStream {
  serverId: string;
  serverName: string;
  version: string;
  /** JetStream is off (for example stopped by the server after running out of disk space). */
  disabled: boolean;
  /** File storage limit (max_file_store), in bytes. */
  maxStorageBytes: number;
  /** File storage in use, in bytes. */
  storageBytes: number;
  /** `sync_interval: always`: every write is fsynced before it is acknowledged. */
  syncAlways: boolean;
  /** The background fsync period otherwise, in ms (nats-server's default is 2 minutes). */
  syncIntervalMs: number;
  /** The streams with a replica on this server, with their account (only when asked for). */
  streams: { account: string; name: string }[];
}

/**
 * What the gateway may ask of the system account: find a user's connections and close them, read
 * every server's JetStream (settings, storage, streams), reload a server's configuration (which
 * restarts a JetStream the server stopped), and hear when a server runs out of storage.
 */
export interface SystemAdmin {
  /**
   * JetStream on every server that answers within the wait: version, limits and use, fsync
   * setting, and (with `streams`, a heavier report) the streams each holds.
   */
  jetstream(o?: { streams?: boolean }): Promise<ServerJetStream[]>;
  /** Reloads a server's configuration (nats-server restarts JetStream if it had stopped it). */
  reload(serverId: string): Promise<void>;
  /** Calls `cb` with the server id whenever a server reports running out of storage. */
  onOutOfStorage(cb: (serverId: string, stream: string | undefined) => void): { stop(): void };
  /** The connections of a user in an account, on every server that answers within the wait. */
  connections(account: string, user: string): Promise<ClientConnection[]>;
  /** Closes one connection (the client reconnects and authenticates again). */
  kick(c: ClientConnection): Promise<void>;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** nats-server's background fsync period when `sync_interval` is not set (server/filestore.go). */
const DEFAULT_SYNC_INTERVAL_MS = 120_000;

/**
 * Connects as a system-account user. nats-server 2.10+: `$SYS.REQ.SERVER.PING.CONNZ` asks every
 * server for its connections; `$SYS.REQ.SERVER.<id>.KICK` closes one by its client id;
 * `$SYS.REQ.SERVER.PING.JSZ` gives each server's JetStream config (`sync_interval` in ns,
 * `sync_always`) and, with `accounts` and `streams`, its streams per account.
 */
export async function connectSystem(o: ConnectSettings, waitMs = 500): Promise<SystemAdmin> {
  let nc: NatsConnection;
  try {
    nc = await connect(natsConnectOptions(o, "junction-gateway-system"));
  } catch (err) {
    throw errorFromNats(err, `cannot connect to NATS at ${String(o.servers)} as the system user`);
  }
  return {
    async connections(account, user) {
      const out: ClientConnection[] = [];
      const it = await nc.requestMany("$SYS.REQ.SERVER.PING.CONNZ", enc.encode(JSON.stringify({ acc: account, user, limit: 1024 })), {
        maxWait: waitMs,
      });
      for await (const m of it) {
        try {
          const r = JSON.parse(dec.decode(m.data)) as {
            server?: { id?: string };
            data?: { connections?: { cid: number; start?: string; account?: string }[] };
          };
          const serverId = r.server?.id;
          if (!serverId) continue;
          for (const c of r.data?.connections ?? []) out.push({ serverId, cid: c.cid, startedAtMs: c.start ? Date.parse(c.start) : 0 });
        } catch {
          /* a reply that is not connz: skip */
        }
      }
      return out;
    },
    async reload(serverId) {
      await nc.request(`$SYS.REQ.SERVER.${serverId}.RELOAD`, enc.encode(""), { timeout: 5000 });
    },
    onOutOfStorage(cb) {
      const sub = nc.subscribe("$JS.EVENT.ADVISORY.SERVER.OUT_OF_STORAGE", {
        callback: (_err, m) => {
          try {
            const a = JSON.parse(dec.decode(m.data)) as { server_id?: string; stream?: string };
            if (a.server_id) cb(a.server_id, a.stream || undefined);
          } catch {
            /* not an advisory: skip */
          }
        },
      });
      return { stop: () => sub.unsubscribe() };
    },
    async kick(c) {
      await nc.request(`$SYS.REQ.SERVER.${c.serverId}.KICK`, enc.encode(JSON.stringify({ cid: c.cid })), { timeout: 2000 });
    },
    async jetstream(o = {}) {
      const out: ServerJetStream[] = [];
      const ask = o.streams ? { accounts: true, streams: true } : {};
      const it = await nc.requestMany("$SYS.REQ.SERVER.PING.JSZ", enc.encode(JSON.stringify(ask)), { maxWait: waitMs });
      for await (const m of it) {
        try {
          const r = JSON.parse(dec.decode(m.data)) as {
            server?: { id?: string; name?: string; ver?: string };
            data?: {
              disabled?: boolean;
              storage?: number;
              config?: { sync_interval?: number; sync_always?: boolean; max_storage?: number };
              account_details?: { name?: string; stream_detail?: { name?: string }[] }[];
            };
          };
          if (!r.server?.id || !r.data) continue;
          const ns = r.data.config?.sync_interval ?? 0;
          out.push({
            serverId: r.server.id,
            serverName: r.server.name ?? r.server.id,
            version: r.server.ver ?? "unknown",
            disabled: r.data.disabled === true,
            maxStorageBytes: r.data.config?.max_storage ?? 0,
            storageBytes: r.data.storage ?? 0,
            syncAlways: r.data.config?.sync_always === true,
            syncIntervalMs: ns > 0 ? Math.round(ns / 1e6) : DEFAULT_SYNC_INTERVAL_MS,
            streams: (r.data.account_details ?? []).flatMap((a) =>
              (a.stream_detail ?? []).flatMap((s) => (s.name ? [{ account: a.name ?? "", name: s.name }] : [])),
            ),
          });
        } catch {
          /* a reply that is not jsz: skip */
        }
      }
      return out;
    },
    async close() {
      if (!nc.isClosed()) await nc.drain().catch(() => {});
    },
  };
}
