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

/** What the gateway may ask of the system account: find a user's connections and close them. */
export interface SystemAdmin {
  /** The connections of a user in an account, on every server that answers within the wait. */
  connections(account: string, user: string): Promise<ClientConnection[]>;
  /** Closes one connection (the client reconnects and authenticates again). */
  kick(c: ClientConnection): Promise<void>;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Connects as a system-account user. nats-server 2.10+: `$SYS.REQ.SERVER.PING.CONNZ` asks every
 * server for its connections; `$SYS.REQ.SERVER.<id>.KICK` closes one by its client id.
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
    async close() {
      if (!nc.isClosed()) await nc.drain().catch(() => {});
    },
  };
}
