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

/** One server's JetStream: its version, how it syncs to disk, and the streams it holds. */
export interface ServerJetStream {
  serverId: string;
  serverName: string;
  version: string;
  /** `sync_interval: always`: every write is fsynced before it is acknowledged. */
  syncAlways: boolean;
  /** The background fsync period otherwise, in ms (nats-server's default is 2 minutes). */
  syncIntervalMs: number;
  /** The streams with a replica on this server, with their account. */
  streams: { account: string; name: string }[];
}

/**
 * What the gateway may ask of the system account: find a user's connections and close them,
 * and read every server's JetStream settings and streams (for `junction doctor`).
 */
export interface SystemAdmin {
  /** The connections of a user in an account, on every server that answers within the wait. */
  connections(account: string, user: string): Promise<ClientConnection[]>;
  /** Closes one connection (the client reconnects and authenticates again). */
  kick(c: ClientConnection): Promise<void>;
  /** Every server that answers within the wait: version, fsync setting, streams. */
  jetstream(): Promise<ServerJetStream[]>;
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
    async kick(c) {
      await nc.request(`$SYS.REQ.SERVER.${c.serverId}.KICK`, enc.encode(JSON.stringify({ cid: c.cid })), { timeout: 2000 });
    },
    async jetstream() {
      const out: ServerJetStream[] = [];
      const it = await nc.requestMany("$SYS.REQ.SERVER.PING.JSZ", enc.encode(JSON.stringify({ accounts: true, streams: true })), {
        maxWait: waitMs,
      });
      for await (const m of it) {
        try {
          const r = JSON.parse(dec.decode(m.data)) as {
            server?: { id?: string; name?: string; ver?: string };
            data?: {
              config?: { sync_interval?: number; sync_always?: boolean };
              account_details?: { name?: string; stream_detail?: { name?: string }[] }[];
            };
          };
          if (!r.server?.id || !r.data) continue;
          const ns = r.data.config?.sync_interval ?? 0;
          out.push({
            serverId: r.server.id,
            serverName: r.server.name ?? r.server.id,
            version: r.server.ver ?? "unknown",
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
