/**
 * The SDK's only contact with the NATS client library: connect, request, and pull consumers.
 * (In core/, core/nats/ plays this role; the SDK does not depend on core beyond the protocol.)
 */
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import { errorFromNats, natsConnectOptions, type ConnectSettings } from "../core/protocol/index.js";

export type { NatsConnection, JsMsg, ConsumerMessages };

/** Connection settings. */
export type TransportOptions = ConnectSettings;

/** Opens a NATS connection; errors become JunctionErrors (AUTH_FAILED, NATS_UNAVAILABLE…). */
export async function openConnection(o: TransportOptions): Promise<NatsConnection> {
  try {
    return await connect(natsConnectOptions(o, "junction-client"));
  } catch (err) {
    throw errorFromNats(err, `cannot connect to NATS at ${String(o.servers)}`);
  }
}

/** Sends a request with optional headers; NATS errors become JunctionErrors. */
export async function request(
  nc: NatsConnection,
  subject: string,
  data: Uint8Array,
  timeoutMs: number,
  hdrs?: Record<string, string>,
): Promise<Uint8Array> {
  try {
    let h;
    if (hdrs) {
      h = natsHeaders();
      for (const k in hdrs) h.set(k, hdrs[k]!);
    }
    const m = await nc.request(subject, data, { timeout: timeoutMs, ...(h ? { headers: h } : {}) });
    return m.data;
  } catch (err) {
    throw errorFromNats(err, `request on ${subject}`);
  }
}

/** Starts pulling from a durable consumer (a consumer group); each message goes to `onMessage`. */
export async function pull(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  maxMessages: number,
  onMessage: (m: JsMsg) => void,
): Promise<ConsumerMessages> {
  try {
    const js = jetstream(nc);
    const c = await js.consumers.get(stream, consumer);
    // Short pull expiry: if the server holding a pull request dies, the member pulls again
    // within seconds instead of waiting out nats.js's default 30 s expiry.
    return await c.consume({ max_messages: maxMessages, expires: 5000, callback: onMessage });
  } catch (err) {
    throw errorFromNats(err, `cannot consume from ${stream}/${consumer}`);
  }
}

/** A running pull loop. */
export interface PullHandle {
  close(): Promise<void>;
  closed(): Promise<void>;
}

/**
 * Pulls exactly `limit` messages (or until closed) with bounded fetches that never ask for more
 * than remain, so a member that stops after N messages leaves nothing prefetched behind.
 */
export async function pullLimited(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  batch: number,
  limit: number,
  onMessage: (m: JsMsg) => void,
): Promise<PullHandle> {
  let c;
  try {
    c = await jetstream(nc).consumers.get(stream, consumer);
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
