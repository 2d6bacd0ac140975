import { createInbox, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { JunctionError, errorFromNats } from "../protocol/index.js";
import type { DeliveryAnswer, GroupPuller, PullOptions, PulledMessage } from "./ports.js";
import { msToNs } from "./streams.js";

const enc = new TextEncoder();

/** JetStream's ack subjects: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (v1) or with domain and account hash before the stream (v2, 11+ tokens). */
const ACK_PREFIX = "$JS.ACK.";

/** What a delivery's reply subject says about it. */
export interface AckSubject {
  stream: string;
  consumer: string;
  deliveryCount: number;
  streamSeq: number;
  /** When the stream stored the message (ms since epoch). */
  timeMs: number;
  /** Messages left for the consumer after this one. */
  pending: number;
}

/** Parses a JetStream delivery reply subject (both forms); undefined for anything else. */
export function parseAckSubject(reply: string): AckSubject | undefined {
  if (!reply.startsWith(ACK_PREFIX)) return undefined;
  const t = reply.slice(ACK_PREFIX.length).split(".");
  // v1: 7 tokens after the prefix; v2: domain and account hash first, a random token last (nats-server 2.9+ may send it).
  const at = t.length === 7 ? 0 : t.length >= 9 ? 2 : -1;
  if (at < 0) return undefined;
  const num = (i: number) => (/^\d+$/.test(t[at + i] ?? "") ? Number(t[at + i]) : NaN);
  const ts = t[at + 5] ?? "";
  if (!/^\d+$/.test(ts)) return undefined;
  const parsed: AckSubject = {
    stream: t[at] ?? "",
    consumer: t[at + 1] ?? "",
    deliveryCount: num(2),
    streamSeq: num(3),
    // The timestamp is in ns and past 2^53: ms precision is what we keep.
    timeMs: Number(BigInt(ts) / 1_000_000n),
    pending: num(6),
  };
  if (!parsed.stream || !parsed.consumer || ![parsed.deliveryCount, parsed.streamSeq, parsed.pending].every(Number.isSafeInteger)) {
    return undefined;
  }
  return parsed;
}

/** The stream sequence an acknowledgement subject names (0 when it is not one). */
export function ackStreamSeq(subject: string): number {
  return parseAckSubject(subject)?.streamSeq ?? 0;
}

function headersOf(m: Msg): Record<string, string> {
  const out: Record<string, string> = {};
  const h = m.headers;
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

/**
 * Pulls from consumer groups with raw JetStream pull requests on the gateway's connection, and
 * answers deliveries on their reply subjects (each answer confirmed by the server).
 *
 * A fetch is one pull request with `no_wait` and `expires` (nats-server 2.10+): the server holds
 * it until the first messages are there, then sends what it has (up to the batch) and ends it —
 * a long poll that returns as soon as there is something, measured against nats-server 2.15.
 */
export class NatsGroupPuller implements GroupPuller {
  readonly #nc: NatsConnection;
  readonly #answerTimeoutMs: number;

  constructor(nc: NatsConnection, answerTimeoutMs = 5000) {
    this.#nc = nc;
    this.#answerTimeoutMs = answerTimeoutMs;
  }

  fetch(stream: string, group: string, o: PullOptions): Promise<PulledMessage[]> {
    const nc = this.#nc;
    if (nc.isClosed()) return Promise.reject(new JunctionError("NATS_UNAVAILABLE", "the gateway's NATS connection is closed"));
    const inbox = createInbox();
    const got: PulledMessage[] = [];
    return new Promise<PulledMessage[]>((resolve, reject) => {
      let finished = false;
      let aborted = o.signal?.aborted === true;
      const giveBack = (ms: readonly PulledMessage[]) => {
        // The member is gone: the messages go back at once instead of waiting for the ack time.
        for (const m of ms) void this.answer(m.reply, { kind: "nak" }).catch(() => {});
      };
      const finish = (err?: JunctionError) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        o.signal?.removeEventListener("abort", onAbort);
        sub.unsubscribe();
        if (err && got.length === 0) return reject(err);
        if (aborted) {
          giveBack(got);
          return resolve([]);
        }
        resolve(got);
      };
      const onAbort = () => {
        aborted = true;
      };
      const sub = nc.subscribe(inbox, {
        callback: (_err, m) => {
          if (finished) return;
          const code = m.headers?.code ?? 0;
          if (code === 100) return; // idle heartbeat
          if (code !== 0 || !m.reply) {
            const description = m.headers?.description ?? "";
            // 404 no (more) messages, 408 expired: the pull is over. 409: consumer deleted, or too many waiting pulls.
            if (code === 503 || /consumer (is )?deleted/i.test(description)) {
              return finish(
                new JunctionError("GROUP_NOT_FOUND", `consumer group '${group}' of stream '${stream}' is gone`, {
                  details: { stream, group },
                }),
              );
            }
            if (code === 409 && /max ?waiting/i.test(description)) {
              return finish(
                new JunctionError("GATEWAY_UNAVAILABLE", `too many pulls are waiting on group '${group}'; try again`, {
                  details: { stream, group, status: code, description },
                }),
              );
            }
            return finish();
          }
          const a = parseAckSubject(m.reply);
          got.push({
            subject: m.subject,
            seq: a?.streamSeq ?? 0,
            deliveryCount: a?.deliveryCount ?? 1,
            timeMs: a?.timeMs ?? 0,
            pending: a?.pending ?? 0,
            headers: headersOf(m),
            data: m.data,
            reply: m.reply,
          });
          if (got.length >= o.max) finish();
        },
      });
      o.signal?.addEventListener("abort", onAbort, { once: true });
      // The server ends the pull at `expires`; this only guards against a server that went away meanwhile.
      const timer = setTimeout(() => finish(), o.expiresMs + 2000);
      const req: Record<string, unknown> = { batch: o.max, no_wait: true };
      if (o.expiresMs > 0) req["expires"] = msToNs(o.expiresMs);
      if (o.maxBytes !== undefined) req["max_bytes"] = o.maxBytes;
      try {
        nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${group}`, enc.encode(JSON.stringify(req)), { reply: inbox });
      } catch (err) {
        finish(errorFromNats(err, `pulling from group '${group}'`));
      }
    });
  }

  async answer(reply: string, a: DeliveryAnswer): Promise<void> {
    if (!reply.startsWith(ACK_PREFIX)) {
      throw new JunctionError("INVALID_ARGUMENT", "not a JetStream delivery reply subject", { details: { reply } });
    }
    let body: string;
    switch (a.kind) {
      case "ack":
        body = "+ACK";
        break;
      case "nak":
        body = a.delayMs !== undefined && a.delayMs > 0 ? `-NAK ${JSON.stringify({ delay: msToNs(a.delayMs) })}` : "-NAK";
        break;
      case "term":
        body = a.reason ? `+TERM ${a.reason}` : "+TERM";
        break;
      case "working":
        body = "+WPI";
        break;
    }
    try {
      // The server confirms every answer to a pending delivery (an empty reply), even a repeated one.
      await this.#nc.request(reply, enc.encode(body), { timeout: this.#answerTimeoutMs });
    } catch (err) {
      // A timeout: the server did not know the delivery (or is away); the answer may be lost.
      throw errorFromNats(err, `the store did not confirm the ${a.kind} (the delivery may be gone)`);
    }
  }
}
