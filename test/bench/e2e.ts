/**
 * End-to-end latency at a fixed rate, two paths measured the same way: Junction (SDK producer →
 * gateway → store → SDK consumer group) and raw JetStream (a pipelined publish with a
 * Nats-Msg-Id → store → a durable pull consumer). The sender, its pacing and the clock are
 * shared, so the difference between the two is what Junction adds.
 */
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { subjects } from "../../core/protocol/index.js";
import type { JunctionClient, ProducerOptions } from "../../sdk/index.js";
import { ReplyInbox } from "./raw.js";
import { sleep } from "./stats.js";

/** Wall-clock time in ms with sub-millisecond precision, comparable across processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Per-message timestamps of one end-to-end run (wall-clock ms; NaN = not seen). */
export interface E2eSamples {
  count: number;
  /** The first `warmup` messages warm the path up and are left out of every statistic. */
  warmup: number;
  /** When the message was due (rate × index from the start). */
  sched: Float64Array;
  /** When the sender handed it to the producer / publisher. */
  send: Float64Array;
  /** When the sender learned it was stored (the send resolved, or the raw ack arrived). */
  reply: Float64Array;
  /** When the consumer received it (first delivery). */
  recv: Float64Array;
  /** Its stream sequence, as the consumer saw it. */
  seq: Float64Array;
}

/** The id the message with index `i` carries (Nats-Msg-Id on both paths). */
export const e2eId = (i: number): string => `e2e-${i}`;

function parseIndex(id: string | undefined, count: number): number {
  if (!id?.startsWith("e2e-")) return -1;
  const i = Number(id.slice(4));
  return Number.isInteger(i) && i >= 0 && i < count ? i : -1;
}

function newSamples(o: EndToEndOptions): E2eSamples {
  const warmup = Math.round((o.rate * (o.warmupMs ?? 0)) / 1000);
  const count = warmup + Math.round((o.rate * o.durationMs) / 1000);
  const f = () => new Float64Array(count).fill(Number.NaN);
  return { count, warmup, sched: f(), send: f(), reply: f(), recv: f(), seq: f() };
}

/** Pause between starting the consumer and the first send. */
const SETTLE_MS = 200;

/** Latency of each received message from its scheduled send time to its receipt, ms. */
export function endToEndLatencies(s: E2eSamples): number[] {
  const out: number[] = [];
  for (let i = s.warmup; i < s.count; i++) if (!Number.isNaN(s.recv[i]!)) out.push(s.recv[i]! - s.sched[i]!);
  return out;
}

/**
 * Sends `s.count` messages at `rate`: every millisecond tick sends the messages that are due.
 * Latency counts from the due time, so a sender that falls behind is counted (no coordinated
 * omission).
 */
async function pace(s: E2eSamples, rate: number, send: (i: number) => Promise<unknown>): Promise<void> {
  const sends: Promise<unknown>[] = [];
  const t0 = wallNow();
  let next = 0;
  while (next < s.count) {
    const due = Math.min(s.count, Math.floor(((wallNow() - t0) * rate) / 1000) + 1);
    for (; next < due; next++) {
      const i = next;
      s.sched[i] = t0 + (i * 1000) / rate;
      s.send[i] = wallNow();
      sends.push(send(i).then(() => void (s.reply[i] = wallNow())));
    }
    await sleep(1);
  }
  await Promise.all(sends);
}

/** Resolves when every message arrived, or rejects after `timeoutMs`. */
async function allReceived(done: Promise<void>, s: E2eSamples, got: () => number, timeoutMs = 30_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
  const outcome = await Promise.race([done, timeout]);
  clearTimeout(timer);
  if (outcome === "timeout") throw new Error(`end-to-end: received ${got()} of ${s.count} messages`);
}

/** Options of an end-to-end run. */
export interface EndToEndOptions {
  rate: number;
  /** Measured time, ms. */
  durationMs: number;
  /** Sent before, at the same rate, and not counted, ms. @default 0 */
  warmupMs?: number;
  /** Messages per pull (SDK batchSize / raw max_messages). @default 100 */
  pullBatch?: number;
}

/** Junction's path: SDK producer (its defaults unless given) → gateway → SDK consumer group member. */
export async function junctionEndToEnd(
  producerClient: JunctionClient,
  consumerClient: JunctionClient,
  station: string,
  payload: Uint8Array,
  o: EndToEndOptions & { producer?: Partial<ProducerOptions> },
): Promise<E2eSamples> {
  const s = newSamples(o);
  const consumer = await consumerClient.consumer({ station, group: `e2e-${o.rate}`, batchSize: o.pullBatch ?? 100 });
  let got = 0;
  const received = (async () => {
    for await (const m of consumer) {
      const t = wallNow();
      m.ack();
      const i = parseIndex(m.id, s.count);
      // First deliveries only: a redelivery is not a new sample.
      if (i >= 0 && Number.isNaN(s.recv[i]!)) {
        s.recv[i] = t;
        s.seq[i] = m.seq;
        if (++got === s.count) break;
      }
    }
  })();
  const producer = producerClient.producer({ station, ...o.producer });
  // Let the first pull reach the server, so message 0 does not measure the consumer's startup.
  await sleep(SETTLE_MS);
  try {
    await pace(s, o.rate, (i) => producer.send(payload, { id: e2eId(i) }));
    await allReceived(received, s, () => got);
  } finally {
    await producer.close();
    await consumer.close();
  }
  return s;
}

/**
 * The raw baseline: each message published as it is due (core publish with a reply subject on
 * one shared inbox, with its Nats-Msg-Id, not waiting for earlier acks), received by a durable
 * pull consumer with explicit acks (`consume()`, `pullBatch` per pull), acked on arrival.
 */
export async function rawEndToEnd(nc: NatsConnection, station: string, payload: Uint8Array, o: EndToEndOptions): Promise<E2eSamples> {
  const s = newSamples(o);
  const stream = subjects.stationStream(station);
  const subject = subjects.stationMsg(station);
  const jsm = await jetstreamManager(nc);
  const durable = `e2e-${o.rate}`;
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
    filter_subjects: [subject],
  });
  const c = await jetstream(nc).consumers.get(stream, durable);
  let got = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const iter = await c.consume({
    max_messages: o.pullBatch ?? 100,
    callback: (m: JsMsg) => {
      const t = wallNow();
      m.ack();
      const i = parseIndex(m.headers?.get("Nats-Msg-Id"), s.count);
      if (i >= 0 && Number.isNaN(s.recv[i]!)) {
        s.recv[i] = t;
        s.seq[i] = m.seq;
        if (++got === s.count) finish();
      }
    },
  });
  const inbox = new ReplyInbox(nc);
  await sleep(SETTLE_MS);
  try {
    await pace(s, o.rate, (i) => {
      const { reply, done: acked } = inbox.expect();
      const h = natsHeaders();
      h.set("Nats-Msg-Id", e2eId(i));
      nc.publish(subject, payload, { reply, headers: h });
      return acked;
    });
    await allReceived(done, s, () => got);
  } finally {
    await iter.close();
  }
  return s;
}
