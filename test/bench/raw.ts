/**
 * The raw baselines: plain nats.js against the same nats-server, no gateway. Streams use the
 * station stream settings (file storage, de-duplication window, atomic batches allowed), and every
 * message carries a unique Nats-Msg-Id, as the gateway's do, so the server does the same work.
 */
import { createInbox, headers as natsHeaders, nuid, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { stationStreamConfig } from "../../core/nats/streams.js";
import { defaultScope } from "../../core/protocol/index.js";
import { DEFAULT_STATION_CONFIG } from "../../core/stations/config.js";
import { subjects } from "../../core/protocol/index.js";
import { runWindow, type Throughput } from "./load.js";

/** Creates a stream with a station's settings; returns its publish subject. */
export async function createRawStream(nc: NatsConnection, station: string): Promise<string> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add(stationStreamConfig(defaultScope, station, { ...DEFAULT_STATION_CONFIG }));
  return subjects.stationMsg(station);
}

/** Deletes a stream made by {@link createRawStream} (keeps the disk small between scenarios). */
export async function deleteRawStream(nc: NatsConnection, station: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(subjects.stationStream(station)).catch(() => false);
}

const dec = new TextDecoder();

/** Parses a JetStream publish ack; throws on an error ack. Returns the stored count (batches). */
function checkAck(data: Uint8Array): number {
  const a = JSON.parse(dec.decode(data)) as { error?: { description?: string; err_code?: number }; count?: number };
  if (a.error) throw new Error(`store refused: ${a.error.description} (${a.error.err_code})`);
  return a.count ?? 1;
}

/**
 * Replies on one shared inbox subscription, matched by a token in the reply subject: how a
 * pipelined publisher avoids nats.js's per-request cost.
 */
class ReplyInbox {
  readonly #prefix = createInbox();
  readonly #pending = new Map<string, { resolve: (m: Msg) => void; reject: (e: Error) => void }>();
  #next = 0;
  constructor(nc: NatsConnection) {
    nc.subscribe(`${this.#prefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const token = msg.subject.slice(this.#prefix.length + 1);
        const p = this.#pending.get(token);
        if (!p) return;
        this.#pending.delete(token);
        p.resolve(msg);
      },
    });
  }
  expect(): { reply: string; done: Promise<Msg> } {
    const token = (this.#next++).toString(36);
    const done = new Promise<Msg>((resolve, reject) => this.#pending.set(token, { resolve, reject }));
    return { reply: `${this.#prefix}.${token}`, done };
  }
}

/** Scenario 1: `js.publish`, `window` requests in flight. */
export async function jsPublish(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  window: number,
  durationMs: number,
): Promise<Throughput> {
  const js = jetstream(nc);
  const prefix = nuid.next();
  let n = 0;
  return runWindow({
    window,
    durationMs,
    unit: 1,
    issue: () => js.publish(subject, payload, { msgID: `${prefix}-${(n++).toString(36)}` }),
  });
}

/** Scenario 2a: core publishes with reply subjects on one inbox subscription, `window` in flight. */
export async function pipelinedPublish(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  window: number,
  durationMs: number,
): Promise<Throughput> {
  const inbox = new ReplyInbox(nc);
  const prefix = nuid.next();
  let n = 0;
  return runWindow({
    window,
    durationMs,
    unit: 1,
    issue: () => {
      const { reply, done } = inbox.expect();
      const h = natsHeaders();
      h.set("Nats-Msg-Id", `${prefix}-${(n++).toString(36)}`);
      nc.publish(subject, payload, { reply, headers: h });
      return done.then((m) => checkAck(m.data));
    },
  });
}

/** Publishes one atomic batch (nats-server >= 2.12 headers); resolves with the commit ack. */
export function publishAtomicBatch(
  nc: NatsConnection,
  inbox: { expect(): { reply: string; done: Promise<Msg> } },
  subject: string,
  payloads: readonly Uint8Array[],
  ids: () => string,
): Promise<number> {
  const { reply, done } = inbox.expect();
  const batchId = nuid.next();
  const last = payloads.length - 1;
  for (let i = 0; i <= last; i++) {
    const h = natsHeaders();
    h.set("Nats-Msg-Id", ids());
    h.set("Nats-Batch-Id", batchId);
    h.set("Nats-Batch-Sequence", String(i + 1));
    if (i === last) {
      h.set("Nats-Batch-Commit", "1");
      nc.publish(subject, payloads[i], { reply, headers: h });
    } else nc.publish(subject, payloads[i], { headers: h });
  }
  return done.then((m) => {
    const count = checkAck(m.data);
    if (count !== payloads.length) throw new Error(`batch stored ${count} of ${payloads.length}`);
    return count;
  });
}

/** Scenario 2b: atomic batches of `batch` messages, `window` messages in flight. */
export async function atomicBatches(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  batch: number,
  window: number,
  durationMs: number,
): Promise<Throughput> {
  const inbox = new ReplyInbox(nc);
  const prefix = nuid.next();
  let n = 0;
  const ids = () => `${prefix}-${(n++).toString(36)}`;
  const payloads = new Array<Uint8Array>(batch).fill(payload);
  return runWindow({ window, durationMs, unit: batch, issue: () => publishAtomicBatch(nc, inbox, subject, payloads, ids) });
}

/** Fills a stream with `count` messages quickly (atomic batches), for the consume scenarios. */
export async function fill(nc: NatsConnection, subject: string, payload: Uint8Array, count: number): Promise<void> {
  const inbox = new ReplyInbox(nc);
  const prefix = nuid.next();
  let n = 0;
  const ids = () => `${prefix}-${(n++).toString(36)}`;
  const batch = 500;
  const payloads = new Array<Uint8Array>(batch).fill(payload);
  let sent = 0;
  const inflight: Promise<number>[] = [];
  while (sent < count) {
    const size = Math.min(batch, count - sent);
    inflight.push(publishAtomicBatch(nc, inbox, subject, size === batch ? payloads : payloads.slice(0, size), ids));
    sent += size;
    if (inflight.length >= 4) await inflight.shift();
  }
  await Promise.all(inflight);
}

/**
 * Scenario 7 (raw): a durable pull consumer with explicit acks (as a consumer group is), reading
 * `count` messages with `batch` per pull; each message is acked as it arrives.
 */
export async function rawConsume(nc: NatsConnection, station: string, durable: string, count: number, batch: number): Promise<Throughput> {
  const jsm = await jetstreamManager(nc);
  const stream = subjects.stationStream(station);
  await jsm.consumers.add(stream, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 10_000,
    filter_subjects: [subjects.stationMsg(station)],
  });
  const c = await jetstream(nc).consumers.get(stream, durable);
  let got = 0;
  let t0 = 0;
  let resolveDone!: () => void;
  const doneP = new Promise<void>((r) => (resolveDone = r));
  t0 = performance.now();
  const iter = await c.consume({
    max_messages: batch,
    callback: (m: JsMsg) => {
      m.ack();
      if (++got === count) resolveDone();
    },
  });
  await doneP;
  const seconds = (performance.now() - t0) / 1000;
  await iter.close();
  return { messages: got, seconds, rate: got / seconds };
}

/** Scenario 9 reference: `js.publish` one at a time, awaiting each ack; per-message latency, ms. */
export async function jsPublishSerial(nc: NatsConnection, subject: string, payload: Uint8Array, count: number): Promise<number[]> {
  const js = jetstream(nc);
  const prefix = nuid.next();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await js.publish(subject, payload, { msgID: `${prefix}-${i.toString(36)}` });
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * Scenario 9 reference: atomic batches of `size` published one at a time, awaiting each commit
 * ack; latencies, ms. Shows the server's fixed cost of an atomic batch commit.
 */
export async function atomicSerial(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  size: number,
  count: number,
): Promise<number[]> {
  const inbox = new ReplyInbox(nc);
  const prefix = nuid.next();
  let n = 0;
  const ids = () => `${prefix}-${(n++).toString(36)}`;
  const payloads = new Array<Uint8Array>(size).fill(payload);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await publishAtomicBatch(nc, inbox, subject, payloads, ids);
    out.push(performance.now() - t);
  }
  return out;
}
