/**
 * The SDK's only contact with the NATS client library: connect, request, pull consumers, live
 * events and connection status. (In core/, core/nats/ plays this role; the SDK depends on core
 * only for the protocol.) Nothing from nats.js leaves this file except the message type the
 * consumer wraps.
 */
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import {
  CLIENT_JS_API_PREFIX,
  JunctionError,
  errorFromNats,
  inboxPrefixOf,
  natsConnectOptions,
  type ConnectSettings,
} from "../core/protocol/index.js";

const RENEWED = Symbol("renewed");

export type { JsMsg };

/** Connection settings. */
export type TransportOptions = ConnectSettings;

/** The connection's state. */
export type ConnectionState = "connected" | "reconnecting" | "closed";

/** A running pull loop. */
export interface PullHandle {
  /** Stops pulling (messages in flight may still arrive until it resolves). */
  close(): Promise<void>;
  /** Resolves when the loop has ended. */
  closed(): Promise<void>;
}

/** One raw message on a subscribed subject. */
export interface RawMessage {
  subject: string;
  data: Uint8Array;
}

/** What the SDK needs of a NATS connection. */
export interface Transport {
  /**
   * Sends a request with optional headers; NATS errors become JunctionErrors. A request in flight
   * when this client renews its connection (see {@link reconnect}) is sent again once connected
   * when `idempotent` (the default), else fails with TIMEOUT (retriable: it may have been done).
   */
  request(subject: string, data: Uint8Array, timeoutMs: number, hdrs?: Record<string, string>, idempotent?: boolean): Promise<Uint8Array>;
  /** Pulls from a durable consumer (a consumer group); each message goes to `onMessage`. */
  pull(stream: string, consumer: string, maxMessages: number, onMessage: (m: JsMsg) => void): Promise<PullHandle>;
  /**
   * Pulls exactly `limit` messages (or until closed) with bounded fetches that never ask for more
   * than remain, so a member that stops after N messages leaves nothing prefetched behind.
   */
  pullLimited(stream: string, consumer: string, batch: number, limit: number, onMessage: (m: JsMsg) => void): Promise<PullHandle>;
  /** Subscribes to a subject; returns an unsubscribe function. */
  subscribe(subject: string, onMessage: (m: RawMessage) => void): () => void;
  /** The connection's state now. */
  state(): ConnectionState;
  /** The server it is connected to (host:port), when connected. */
  server(): string | undefined;
  /** Largest message the server accepts, in bytes. */
  maxPayload(): number;
  /** Calls `cb` when the state changes; returns an unsubscribe function. */
  onState(cb: (s: ConnectionState) => void): () => void;
  /**
   * Reconnects now and resolves once connected again: the server authenticates the user anew, so
   * the connection gets the rights the user has now (after a station or group it may use was
   * created).
   */
  reconnect(): Promise<void>;
  /** Flushes and closes (idempotent). */
  close(): Promise<void>;
}

/** Opens a NATS connection; errors become JunctionErrors (AUTH_FAILED, NATS_UNAVAILABLE…). */
export async function openTransport(o: TransportOptions): Promise<Transport> {
  let nc: NatsConnection;
  try {
    // A user's inbox is private (`_INBOX_<user>`): its permissions allow subscribing there only.
    nc = await connect({ ...natsConnectOptions(o, "junction-client"), ...(o.user ? { inboxPrefix: inboxPrefixOf(o.user) } : {}) });
  } catch (err) {
    throw errorFromNats(err, `cannot connect to NATS at ${String(o.servers)}`);
  }
  return natsTransport(nc);
}

function natsTransport(nc: NatsConnection): Transport {
  let state: ConnectionState = "connected";
  const listeners = new Set<(s: ConnectionState) => void>();
  const set = (s: ConnectionState) => {
    if (s === state) return;
    state = s;
    for (const l of listeners) l(s);
  };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnecting" || s.type === "staleConnection") set("reconnecting");
      else if (s.type === "reconnect") set("connected");
    }
  })().catch(() => {});
  void nc.closed().then(() => set("closed"));
  let closing: Promise<void> | undefined;
  // Renewing the connection (reconnect()): requests in flight race `renewal`, which fires when a
  // renewal starts; new requests wait for `renewing`.
  let generation = 0;
  let renew: () => void = () => {};
  let renewal = new Promise<void>((r) => (renew = r));
  let renewing: Promise<void> | undefined;
  // The consumer API reaches the broker's JetStream under a prefix the client account imports.
  const js = () => jetstream(nc, { apiPrefix: CLIENT_JS_API_PREFIX });

  return {
    async request(subject, data, timeoutMs, hdrs, idempotent = true) {
      let h;
      if (hdrs) {
        h = natsHeaders();
        for (const k in hdrs) h.set(k, hdrs[k]!);
      }
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (renewing) await renewing;
        const gen = generation;
        const sent = nc.request(subject, data, { timeout: Math.max(1, deadline - Date.now()), ...(h ? { headers: h } : {}) });
        let r;
        try {
          r = await Promise.race([sent, renewal.then((): typeof RENEWED => RENEWED)]);
        } catch (err) {
          throw errorFromNats(err, `request on ${subject}`);
        }
        if (r !== RENEWED) return r.data;
        sent.catch(() => {}); // its reply, if any, is lost with the old connection
        if (!idempotent || gen === generation) {
          throw new JunctionError(
            "TIMEOUT",
            `request on ${subject}: the connection was renewed while it was in flight; it may or may not have been done`,
          );
        }
      }
    },
    async pull(stream, consumer, maxMessages, onMessage) {
      let messages: ConsumerMessages;
      try {
        const c = await js().consumers.get(stream, consumer);
        // Short pull expiry: if the server holding a pull request dies, the member pulls again
        // within seconds instead of waiting out nats.js's default 30 s expiry.
        messages = await c.consume({ max_messages: maxMessages, expires: 5000, callback: onMessage });
      } catch (err) {
        throw errorFromNats(err, `cannot consume from ${stream}/${consumer}`);
      }
      return {
        close: async () => {
          await messages.close();
        },
        closed: async () => {
          await messages.closed();
        },
      };
    },
    async pullLimited(stream, consumer, batch, limit, onMessage) {
      let c;
      try {
        c = await js().consumers.get(stream, consumer);
      } catch (err) {
        throw errorFromNats(err, `cannot consume from ${stream}/${consumer}`);
      }
      let stopping = false;
      let got = 0;
      let current: { close(): Promise<void | Error> } | undefined;
      const loop = (async () => {
        while (!stopping && got < limit && !nc.isClosed()) {
          const it = await c.fetch({ max_messages: Math.min(batch, limit - got), expires: 2000 });
          current = it;
          for await (const m of it) {
            got++;
            onMessage(m);
          }
          current = undefined;
        }
      })().catch(() => {});
      return {
        async close() {
          stopping = true;
          await current?.close();
          await loop;
        },
        closed: () => loop,
      };
    },
    subscribe(subject, onMessage) {
      const sub = nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err) onMessage({ subject: msg.subject, data: msg.data });
        },
      });
      return () => sub.unsubscribe();
    },
    state: () => (nc.isClosed() ? "closed" : state),
    server: () => (nc.isClosed() ? undefined : nc.getServer()),
    maxPayload: () => nc.info?.max_payload ?? 1024 * 1024,
    onState(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    reconnect() {
      renewing ??= (async () => {
        const back = new Promise<void>((resolve) => {
          const off = () => listeners.delete(on);
          const on = (s: ConnectionState) => {
            if (s === "connected" || s === "closed") {
              off();
              resolve();
            }
          };
          listeners.add(on);
        });
        // Requests in flight will get no reply on the old connection: tell them now.
        generation++;
        const fire = renew;
        renewal = new Promise<void>((r) => (renew = r));
        fire();
        await nc.reconnect();
        await back;
      })().finally(() => {
        renewing = undefined;
      });
      return renewing;
    },
    close() {
      // Drain when connected (pending replies arrive); a connection that is down (a removed user
      // can never reconnect) is closed at once rather than waiting for a reconnect.
      closing ??= nc.isClosed()
        ? Promise.resolve()
        : state === "connected"
          ? Promise.race([nc.drain(), new Promise<void>((r) => setTimeout(r, 5000).unref())]).then(
              () => nc.close(),
              () => nc.close(),
            )
          : nc.close();
      return closing;
    },
  };
}

/** Header values of a JetStream message as a plain record. */
export function headersOf(m: JsMsg): Record<string, string> {
  const out: Record<string, string> = {};
  const h = m.headers;
  if (!h) return out;
  // Atomic-batch bookkeeping headers are the broker's, not the producer's.
  for (const k of h.keys()) if (!k.startsWith("Nats-Batch-")) out[k] = h.get(k);
  return out;
}
