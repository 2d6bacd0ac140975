import { JsErrorCode, type Msg, type StoreAck, type StoreMessage, type StoreWriter } from "../nats/index.js";
import {
  Headers,
  JunctionError,
  decodeBatch,
  isReservedHeader,
  subjects,
  type ErrorBody,
  type ProduceMessage,
  type ProduceResult,
} from "../protocol/index.js";
import type { Logger } from "../server/logger.js";
import type { StationRecord } from "../stations/index.js";
import { runStages, type IndexedMessage, type ProduceStage, type StageMessage } from "./stages.js";

/** Default of {@link ProduceHandlerOptions.smallBatchMessages}. */
export const DEFAULT_SMALL_BATCH = 8;

/** Largest atomic batch JetStream accepts (nats-server 2.12: 1,000 messages). */
export const MAX_ATOMIC_BATCH = 1000;

/** Produce counters (for /metrics and tests). */
export interface ProduceStats {
  requests: number;
  messages: number;
  stored: number;
  duplicates: number;
  rejected: number;
  fallbacks: number;
}

/** Options of {@link ProduceHandler}. */
export interface ProduceHandlerOptions {
  writer: StoreWriter;
  lookup: (station: string) => StationRecord | undefined | Promise<StationRecord | undefined>;
  stages: ProduceStage[];
  logger: Logger;
  /** Most messages one request may carry. @default 100000 */
  maxRequestMessages?: number;
  /** Called after each request is answered (metrics). */
  onRequest?: (e: ProduceEvent) => void;
  /**
   * Requests of at most this many messages are stored message by message (pipelined, each with
   * its id) instead of as one atomic batch, whose commit has a fixed cost of about 2.5 ms on
   * nats-server 2.15 (measured): it would dominate latency at low rates, while the group commit
   * only pays off for bigger batches. 0 = always atomic. @default 8
   */
  smallBatchMessages?: number;
}

/** What {@link ProduceHandlerOptions.onRequest} is told about one answered request. */
export interface ProduceEvent {
  station: string;
  messages: number;
  stored: number;
  rejected: number;
  /** Per rejected message, its error code. */
  errorCodes: string[];
  /** Time from receipt to reply. */
  latencyMs: number;
}

const enc = new TextEncoder();
const errBody = (e: JunctionError): ErrorBody => e.toBody();

/**
 * The produce path: decode → look up station → stages (validate, transform) → one atomic batch
 * per ≤1,000 messages → one result per message.
 *
 * Order: the requests of one station are prepared one after another and their batches are
 * published in arrival order on one connection, so JetStream stores them in that order.
 */
export class ProduceHandler {
  readonly stats: ProduceStats = { requests: 0, messages: 0, stored: 0, duplicates: 0, rejected: 0, fallbacks: 0 };
  readonly #o: Required<ProduceHandlerOptions>;
  readonly #chains = new Map<string, Promise<void>>();
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(o: ProduceHandlerOptions) {
    this.#o = { maxRequestMessages: 100_000, onRequest: () => {}, smallBatchMessages: DEFAULT_SMALL_BATCH, ...o };
  }

  /** Requests being processed now. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Resolves when no request is in flight. */
  async idle(): Promise<void> {
    if (this.#inflight === 0) return;
    await new Promise<void>((r) => this.#idleWaiters.push(r));
  }

  /** Handles one `jn.produce.<station>` request. Never throws: errors become replies. */
  handle(station: string, msg: Msg): void {
    this.stats.requests++;
    this.#inflight++;
    // Preparation (lookup, decode, schema, functions) starts at once, so the requests of a
    // station are prepared concurrently (function sandboxes run on their own threads); the
    // publishes are chained per station, so batches still leave in arrival order. Waiting for
    // the store acks is not serialized.
    const t0 = performance.now();
    const preparing = this.#prepareRequest(station, msg, t0);
    const prev = this.#chains.get(station) ?? Promise.resolve();
    // The chain resolves once this request's messages are published, not once they are
    // acknowledged: `finished` is wrapped so the chain does not wait for it.
    const step = prev.then(async () => {
      const p = await preparing;
      return { finished: p ? this.#publish(station, msg, p, t0) : Promise.resolve() };
    });
    const gate = step.then(
      () => {},
      () => {},
    );
    this.#chains.set(station, gate);
    void step
      .then((s) => s.finished)
      .catch((err: unknown) => this.#o.logger.error("produce failed", { station, error: String(err) }))
      .finally(() => {
        if (this.#chains.get(station) === gate) this.#chains.delete(station);
        this.#inflight--;
        if (this.#inflight === 0) {
          for (const w of this.#idleWaiters.splice(0)) w();
        }
      });
  }

  #fail(station: string, msg: Msg, err: unknown, t0: number): void {
    const e = err instanceof JunctionError ? err : new JunctionError("INTERNAL", (err as Error).message, { cause: err });
    if (e.code === "INTERNAL") this.#o.logger.error("produce failed", { station, error: e.message });
    respond(msg, { ok: false, error: errBody(e) });
    this.#o.onRequest({ station, messages: 0, stored: 0, rejected: 0, errorCodes: [e.code], latencyMs: performance.now() - t0 });
  }

  /** Looks up, decodes and runs the stages; undefined when the request was answered with an error. */
  async #prepareRequest(station: string, msg: Msg, t0: number): Promise<(Prepared & { rec: StationRecord }) | undefined> {
    try {
      const found = this.#o.lookup(station);
      const rec = found instanceof Promise ? await found : found;
      if (!rec) throw new JunctionError("STATION_NOT_FOUND", `station '${station}' not found`, { details: { station } });
      const input = this.#decode(msg);
      this.stats.messages += input.length;
      const producer = msg.headers?.get(Headers.Producer) || undefined;
      return { ...(await this.#prepare(rec, input, producer)), rec };
    } catch (err) {
      this.#fail(station, msg, err, t0);
      return undefined;
    }
  }

  /**
   * Publishes the prepared messages (synchronously, before it returns) and resolves once the
   * reply went out.
   */
  #publish(station: string, msg: Msg, prepared: Prepared & { rec: StationRecord }, t0: number): Promise<void> {
    const acks = storeMessages(
      this.#o.writer,
      subjects.stationMsg(prepared.rec.name),
      prepared.current.map((c) => toStore(c.msg)),
      this.#o.smallBatchMessages,
      () => this.stats.fallbacks++,
    );
    return acks.then(
      (a) => {
        const results = this.#results(prepared, a);
        respond(msg, { ok: true, data: { results } });
        const errorCodes: string[] = [];
        for (const r of results) if ("error" in r) errorCodes.push(r.error.code);
        this.#o.onRequest({
          station,
          messages: results.length,
          stored: results.length - errorCodes.length,
          rejected: errorCodes.length,
          errorCodes,
          latencyMs: performance.now() - t0,
        });
      },
      (err: unknown) => this.#fail(station, msg, err, t0),
    );
  }

  #decode(msg: Msg): ProduceMessage[] {
    const h = msg.headers;
    if (h?.get(Headers.Batch) === "1") return decodeBatch(msg.data, this.#o.maxRequestMessages);
    let headers: Record<string, string> | undefined;
    if (h) {
      for (const k of h.keys()) {
        if (isReservedHeader(k)) continue;
        (headers ??= {})[k] = h.get(k);
      }
    }
    return [{ id: h?.get(Headers.MsgId) ?? "", headers, payload: msg.data }];
  }

  async #prepare(rec: StationRecord, input: ProduceMessage[], producer: string | undefined): Promise<Prepared> {
    const results: (ProduceResult | undefined)[] = new Array(input.length);
    const current: IndexedMessage[] = [];
    const max = rec.config.maxMessageSize;
    for (let i = 0; i < input.length; i++) {
      const m = input[i]!;
      if (m.payload.length > max) {
        results[i] = {
          error: errBody(
            new JunctionError(
              "PAYLOAD_TOO_LARGE",
              `message ${i} is ${m.payload.length} bytes; station '${rec.name}' allows at most ${max}`,
              {
                details: { index: i, size: m.payload.length, max },
              },
            ),
          ),
        };
        continue;
      }
      let reserved: string | undefined;
      if (m.headers) for (const k in m.headers) if (isReservedHeader(k)) reserved = k;
      if (reserved !== undefined) {
        results[i] = {
          error: errBody(
            new JunctionError("INVALID_ARGUMENT", `message ${i}: header '${reserved}' is reserved (Jn-* and Nats-* are Junction's)`, {
              details: { index: i, header: reserved },
            }),
          ),
        };
        continue;
      }
      const headers: Record<string, string> = m.headers ? { ...m.headers } : {};
      if (producer) headers[Headers.Producer] = producer;
      current.push({ index: i, msg: { id: m.id, headers, payload: m.payload } });
    }
    const { survivors, failed } = await runStages(this.#o.stages, { station: rec, producer }, current);
    for (const [index, error] of failed) results[index] = { error };
    // What went in, passed every stage and left nothing to store was dropped by a function.
    const kept = new Set(survivors.map((c) => c.index));
    for (const c of current) if (!kept.has(c.index) && !failed.has(c.index)) results[c.index] = { seq: 0, duplicate: false, dropped: true };
    return { results, current: survivors };
  }

  #results(prepared: Prepared, acks: AckResult[]): ProduceResult[] {
    const { results, current } = prepared;
    const perIndex = new Map<number, number[]>();
    acks.forEach((a, k) => {
      const idx = current[k]!.index;
      // A message fanned out into parts reports the first failure of any part.
      if (results[idx] && "error" in results[idx]!) return;
      if (!a.ok) {
        results[idx] = {
          error: errBody(
            new JunctionError("STORE_FAILED", `message ${idx} not stored: ${a.description}`, {
              details: { index: idx, jsErrCode: a.errCode, timeout: a.timeout === true },
            }),
          ),
        };
        return;
      }
      if (a.duplicate) this.stats.duplicates++;
      else this.stats.stored++;
      const seqs = perIndex.get(idx);
      if (seqs) {
        seqs.push(a.seq);
        (results[idx] as { seqs?: number[] }).seqs = seqs;
      } else {
        perIndex.set(idx, [a.seq]);
        results[idx] = { seq: a.seq, duplicate: a.duplicate };
      }
    });
    let rejected = 0;
    const out = results.map((r) => {
      if (!r) throw new JunctionError("INTERNAL", "a message got no result");
      if ("error" in r) rejected++;
      return r;
    });
    this.stats.rejected += rejected;
    return out;
  }
}

/** One message's store result. */
export type AckResult = { ok: boolean; seq: number; duplicate: boolean; description: string; errCode: number; timeout?: boolean };

function toAckResult(a: StoreAck): AckResult {
  return a.ok ? { ok: true, seq: a.seq, duplicate: a.duplicate, description: "", errCode: 0 } : { ...a, seq: 0, duplicate: false };
}

/**
 * Stores messages on a station subject; one result per message, in order. More than
 * `smallBatchMessages` go as atomic batches of at most 1,000, published at once in order (one
 * fsync each); fewer go message by message (see {@link ProduceHandlerOptions.smallBatchMessages}).
 * A batch refused for an already-stored id (JetStream 10201) is published again message by
 * message, so duplicates are reported and the rest stored; `onFallback` counts those.
 */
export async function storeMessages(
  w: StoreWriter,
  subject: string,
  msgs: StoreMessage[],
  smallBatchMessages = DEFAULT_SMALL_BATCH,
  onFallback: () => void = () => {},
): Promise<AckResult[]> {
  if (msgs.length <= smallBatchMessages) return (await Promise.all(msgs.map((m) => w.publish(subject, m)))).map(toAckResult);
  const chunks: StoreMessage[][] = [];
  for (let i = 0; i < msgs.length; i += MAX_ATOMIC_BATCH) chunks.push(msgs.slice(i, i + MAX_ATOMIC_BATCH));
  // Every chunk is published now, in order (synchronously); the acks are awaited after.
  const pending = chunks.map((c) => w.publishAtomic(subject, c));
  const out: AckResult[] = [];
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]!;
    let ack = await pending[c]!;
    if (!ack.ok && ack.errCode === JsErrorCode.BatchDuplicateMsgId) {
      onFallback();
      for (const m of chunk) out.push(toAckResult(await w.publish(subject, m)));
      continue;
    }
    if (ack.ok && chunk.length > 1 && ack.count !== chunk.length) {
      ack = { ok: false, errCode: 0, description: `batch count mismatch: sent ${chunk.length}, stored ${ack.count}` };
    }
    if (!ack.ok || chunk.length === 1) {
      for (let i = 0; i < chunk.length; i++) out.push(toAckResult(ack));
      continue;
    }
    // An atomic batch is stored contiguously: message i has seq - count + 1 + i.
    const first = ack.seq - chunk.length + 1;
    for (let i = 0; i < chunk.length; i++) out.push({ ok: true, seq: first + i, duplicate: false, description: "", errCode: 0 });
  }
  return out;
}

interface Prepared {
  results: (ProduceResult | undefined)[];
  current: IndexedMessage[];
}

function toStore(m: StageMessage): StoreMessage {
  return { id: m.id, headers: m.headers, payload: m.payload };
}

function respond(msg: Msg, body: unknown): void {
  if (!msg.reply) return;
  msg.respond(enc.encode(JSON.stringify(body)));
}
