/**
 * The raw baselines: plain nats.js against the same nats-server, no gateway. Streams use the
 * station stream settings (file storage, de-duplication window, atomic batches allowed), and every
 * message carries a unique Nats-Msg-Id, as the gateway's do, so the server does the same work.
 */
import { createInbox, headers as natsHeaders, nuid, type Msg, type NatsConnection } from "@nats-io/nats-core";
import { AckPolicy, jetstream, jetstreamManager, type JsMsg, type StreamConfig } from "@nats-io/jetstream";
import { startFastIngest } from "@nats-io/jetstream/internal";
import { stationStreamConfig } from "../../core/nats/streams.js";
import { defaultScope } from "../../core/protocol/index.js";
import { DEFAULT_STATION_CONFIG } from "../../core/stations/config.js";
import { subjects } from "../../core/protocol/index.js";
import { runWindow, type Throughput } from "./load.js";

/**
 * Creates a stream with a station's settings; returns its publish subject. `fastBatches` also
 * allows nats-server 2.14's fast ingest batches (`allow_batched`), which stations do not use.
 */
export async function createRawStream(nc: NatsConnection, station: string, o: { fastBatches?: boolean } = {}): Promise<string> {
  const jsm = await jetstreamManager(nc);
  const cfg = stationStreamConfig(defaultScope, station, { ...DEFAULT_STATION_CONFIG });
  await jsm.streams.add(o.fastBatches ? ({ ...cfg, allow_batched: true } as Partial<StreamConfig> & { name: string }) : cfg);
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
export class ReplyInbox {
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

/**
 * Publishes one fast ingest batch (nats-server >= 2.14, ADR-50 "fast" batches) with nats.js's
 * implementation and its flow control; resolves with the count the final ack reports.
 * `ackInterval` asks the server to acknowledge every N messages (it caps it, and lowers it
 * while several fast batches are open on the stream).
 */
export async function publishFastBatch(
  nc: NatsConnection,
  subject: string,
  payloads: readonly Uint8Array[],
  ids: () => string,
  ackInterval = 500,
): Promise<number> {
  const last = payloads.length - 1;
  const fi = await startFastIngest(nc, subject, payloads[0], { ackInterval, allowGaps: false, msgID: ids() });
  for (let i = 1; i < last; i++) await fi.add(subject, payloads[i], { msgID: ids() });
  const ack = await fi.last(subject, payloads[last], { msgID: ids() });
  return ack.count;
}

/**
 * Scenario 2d/2e: fast ingest batches of `batch` messages, `inflight` batches open at once
 * (the same sizes and depth as the atomic rows, so the server's store path is what differs).
 */
export async function fastBatches(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  batch: number,
  inflight: number,
  durationMs: number,
): Promise<Throughput> {
  const prefix = nuid.next();
  let n = 0;
  const ids = () => `${prefix}-${(n++).toString(36)}`;
  const payloads = new Array<Uint8Array>(batch).fill(payload);
  return runWindow({
    window: batch * inflight,
    durationMs,
    unit: batch,
    issue: async () => {
      const count = await publishFastBatch(nc, subject, payloads, ids);
      if (count !== batch) throw new Error(`fast batch acknowledged ${count} of ${batch}`);
    },
  });
}

/** What the fast batch probe saw (see {@link probeFastBatch}). */
export interface FastBatchProbe {
  /** Messages sent in the probe batch; one of them repeats an id stored before. */
  sent: number;
  /** What the final ack said. */
  ackCount: number;
  ackSeq: number;
  ackDuplicateFlag: boolean;
  /** Messages the stream gained. */
  stored: number;
  /** Whether the stored messages of the batch are contiguous in the stream (no other writer between them). */
  contiguous: boolean;
  /** Same probe with an atomic batch: the error code of the refusal (10201 expected) and messages stored. */
  atomic: { errCode: number | undefined; stored: number };
}

/**
 * Probes fast batch semantics on a live server: a batch of 5 whose third message repeats an
 * already stored Nats-Msg-Id, while a second publisher writes to the same stream between the
 * batch's messages. Shows what the gateway would have to work with: does the ack report the
 * duplicate, and can per-message sequences be derived from it? The same done as an atomic batch.
 */
export async function probeFastBatch(nc: NatsConnection, station: string): Promise<FastBatchProbe> {
  const subject = await createRawStream(nc, station, { fastBatches: true });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = subjects.stationStream(station);
  const prefix = nuid.next();
  const dupId = `${prefix}-stored-before`;
  await js.publish(subject, new TextEncoder().encode("before"), { msgID: dupId });
  const before = (await jsm.streams.info(stream)).state.last_seq;
  const ids = [`${prefix}-1`, `${prefix}-2`, dupId, `${prefix}-4`, `${prefix}-5`];
  const body = new TextEncoder().encode("probe");
  const fi = await startFastIngest(nc, subject, body, { ackInterval: 1, allowGaps: false, msgID: ids[0]! });
  let other = 0;
  for (let i = 1; i < ids.length - 1; i++) {
    // Another writer (another gateway replica) storing between the batch's messages.
    await js.publish(subject, new TextEncoder().encode("other"), { msgID: `${prefix}-other-${other++}` });
    await fi.add(subject, body, { msgID: ids[i]! });
  }
  const ack = await fi.last(subject, body, { msgID: ids[ids.length - 1]! });
  const after = (await jsm.streams.info(stream)).state.last_seq;
  const stored = after - before - other;
  const raw = ack as unknown as { duplicate?: boolean };
  // Contiguous would mean the batch's stored messages are the last `stored` sequences up to the ack.
  let contiguous = true;
  for (let seq = ack.seq - stored + 1; seq <= ack.seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m && new TextDecoder().decode(m.data) !== "probe") contiguous = false;
  }
  // The atomic batch: the same five ids (the new ones are new again under another prefix).
  const inbox = new ReplyInbox(nc);
  const atomicIds = [`${prefix}-a1`, `${prefix}-a2`, dupId, `${prefix}-a4`, `${prefix}-a5`];
  let k = 0;
  const atomicBefore = (await jsm.streams.info(stream)).state.last_seq;
  let errCode: number | undefined;
  try {
    await publishAtomicBatch(nc, inbox, subject, new Array<Uint8Array>(5).fill(body), () => atomicIds[k++]!);
  } catch (e) {
    errCode = Number(/\((\d+)\)$/.exec((e as Error).message)?.[1]);
  }
  const atomicStored = (await jsm.streams.info(stream)).state.last_seq - atomicBefore;
  await deleteRawStream(nc, station);
  return {
    sent: ids.length,
    ackCount: ack.count,
    ackSeq: ack.seq,
    ackDuplicateFlag: raw.duplicate === true,
    stored,
    contiguous,
    atomic: { errCode, stored: atomicStored },
  };
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
  return consumeExisting(nc, stream, durable, count, batch);
}

/**
 * Reads `count` messages from an existing durable consumer with plain nats.js (`consume()`,
 * `batch` per pull, ack on arrival). With `apiPrefix`, through a JetStream API imported under
 * that prefix (how a client account reaches the broker's streams).
 */
export async function consumeExisting(
  nc: NatsConnection,
  stream: string,
  durable: string,
  count: number,
  batch: number,
  apiPrefix?: string,
): Promise<Throughput> {
  const c = await jetstream(nc, apiPrefix ? { apiPrefix } : {}).consumers.get(stream, durable);
  let got = 0;
  let resolveDone!: () => void;
  const doneP = new Promise<void>((r) => (resolveDone = r));
  const t0 = performance.now();
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
