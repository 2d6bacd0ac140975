import { randomBytes } from "node:crypto";
import type { BusRequest, StoreMessage, StoreWriter } from "../nats/index.js";
import {
  DEFAULT_TENANT,
  DELIVERY_HEADERS,
  Headers,
  JunctionError,
  MAX_HEADER_BYTES,
  decodeBatch,
  headerBytes,
  headersProblem,
  nameProblem,
  isReservedHeader,
  parseTraceparent,
  traceHeadersOf,
  keyProblem,
  messageSubject,
  takeDelivery,
  type Delivery,
  type ErrorBody,
  type ProduceMessage,
  type ProduceResult,
  type Scope,
  type TraceHeaders,
} from "../protocol/index.js";
import {
  DEFAULT_SMALL_BATCH,
  recordFailures,
  runStages,
  storeMessages,
  type AckResult,
  type DeadLetterSink,
  type IndexedMessage,
  type ProduceStage,
  type StageContext,
  type StageMessage,
} from "../pipeline/index.js";
import type { StationRecord } from "../stations/index.js";
import { StorageState, type StorageView } from "./storage.js";
import {
  MESSAGING_SYSTEM,
  SpanKind,
  TraceAttr,
  activeContext,
  contextOf,
  endSpan,
  gatewayTracing,
  linkMessages,
  messageFailed,
  withSpan,
  type Clock,
  type Logger,
  type Span,
  type TraceContext,
  type TraceScope,
  type Tracer,
  type Tracing,
} from "../support/index.js";

/** Produce counters (for /metrics and tests). */
export interface ProduceStats {
  requests: number;
  messages: number;
  stored: number;
  duplicates: number;
  rejected: number;
  fallbacks: number;
  /** Messages refused for the client's own mistake (bad header, too large, bad name): counted, never logged as errors. */
  badInput: number;
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

/** A station found for a produce request, with the names of its tenant. */
export interface ProduceTarget {
  scope: Scope;
  station: StationRecord;
}

/** What the produce handler needs. */
export interface ProduceHandlerOptions {
  writer: StoreWriter;
  /** Finds the station of a request (the tenant comes from who asks); undefined = not found. */
  lookup: (station: string, req: BusRequest) => ProduceTarget | undefined | Promise<ProduceTarget | undefined>;
  stages: readonly ProduceStage[];
  /** Where refused messages are recorded. */
  deadLetters: DeadLetterSink;
  logger: Logger;
  clock: Clock;
  /** Most messages one request may carry. @default 100000 */
  maxRequestMessages?: number | undefined;
  /**
   * Checks a request's messages and payload bytes against the tenant's quotas once its station is
   * known; throws QUOTA_EXCEEDED to refuse the whole request. @default no check
   */
  checkRequest?: ((target: ProduceTarget, messages: number, payloadBytes: number) => void) | undefined;
  /** Largest NATS message the server takes (headers and payload), in bytes. @default 8 MiB */
  maxPayloadBytes?: number | undefined;
  /** What the store can take now (see StorageGuard). @default always room */
  storage?: StorageView | undefined;
  /** Called after each request is answered (metrics). */
  onRequest?: ((e: ProduceEvent) => void) | undefined;
  /**
   * Requests of at most this many messages are stored message by message (pipelined, each with
   * its id) instead of as one atomic batch. 0 = always atomic. @default 8
   */
  smallBatchMessages?: number | undefined;
  /**
   * Where spans go (`produce`, `validate`, `function`, `store`, `dead-letter`). @default the
   * global OpenTelemetry tracer provider: nothing is traced until the process registers an SDK.
   */
  tracing?: Tracing | undefined;
}

const enc = new TextEncoder();
/** Room kept in a NATS message for the headers Junction adds (producer, schema, batch, de-duplication). */
const OWN_HEADER_ROOM = 1024;
const errBody = (e: JunctionError): ErrorBody => e.toBody();
/** Errors already counted and logged (a request's error passes through two handlers). */
const reported = new WeakSet<JunctionError>();

/** Options of one {@link ProduceHandler.produce} call. */
export interface ProduceCallOptions {
  /** Who produced (stored in the `Jn-Producer` header). */
  producer?: string | undefined;
  /** When the request arrived (performance.now()), for its latency. @default now */
  startedAt?: number | undefined;
  /**
   * The request's own trace context (an HTTP request's `traceparent`), the parent of its
   * `produce` span. @default a one-message request's message context, else the active context
   */
  trace?: TraceHeaders | undefined;
}

/** A request's span and the tracer its children come from (only while tracing is on). */
interface Traced {
  span: Span;
  tracer: Tracer;
  station: string;
}

interface Prepared {
  target: ProduceTarget;
  results: (ProduceResult | undefined)[];
  current: IndexedMessage[];
  /** Where the store is traced. */
  trace: TraceScope | undefined;
  /** Delay and TTL of the input messages that asked for them, by input index. */
  delivery: Map<number, Delivery>;
}

/**
 * The produce path: decode → look up station → stages (validate, transform) → one atomic batch
 * per ≤1,000 messages → one result per message. Refused messages that a stage asks for are
 * recorded in the DLS before the reply goes out.
 *
 * Order: the batches of one station are published in arrival order on one connection, so
 * JetStream stores them in that order; preparation (decode, validation, functions) of a
 * station's requests runs concurrently.
 */
export class ProduceHandler {
  readonly stats: ProduceStats = { requests: 0, messages: 0, stored: 0, duplicates: 0, rejected: 0, fallbacks: 0, badInput: 0 };
  readonly #o: ProduceHandlerOptions & {
    maxRequestMessages: number;
    smallBatchMessages: number;
    maxPayloadBytes: number;
    onRequest: (e: ProduceEvent) => void;
    tracing: Tracing;
  };
  readonly #chains = new Map<string, Promise<void>>();
  #inflight = 0;
  #lastStoreWarn = -Infinity;
  #idleWaiters: (() => void)[] = [];

  constructor(o: ProduceHandlerOptions) {
    this.#o = {
      ...o,
      maxRequestMessages: o.maxRequestMessages ?? 100_000,
      maxPayloadBytes: o.maxPayloadBytes ?? 8 * 1024 * 1024,
      smallBatchMessages: o.smallBatchMessages ?? DEFAULT_SMALL_BATCH,
      onRequest: o.onRequest ?? (() => {}),
      tracing: o.tracing ?? gatewayTracing,
    };
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
  handle(station: string, req: BusRequest): void {
    const t0 = performance.now();
    // The lookup runs inside the request's place in the station's chain, so requests are stored
    // in the order they arrived even when one lookup takes longer.
    let input: ProduceMessage[];
    try {
      const bad = nameProblem(station);
      if (bad !== undefined) {
        this.stats.badInput++;
        throw new JunctionError("INVALID_NAME", `station name '${station}' on the produce subject ${bad}`, {
          details: { kind: "station", name: station },
        });
      }
      input = this.#decode(req);
    } catch (err) {
      respond(req, { ok: false, error: errBody(this.#asError(station, err, t0)) });
      return;
    }
    const tracer = this.#o.tracing.tracer();
    const traced = tracer ? this.#startSpan(tracer, station, input, requestTrace(req), undefined) : undefined;
    const preparing = (async () => {
      const found = this.#o.lookup(station, req);
      const target = found instanceof Promise ? await found : found;
      if (!target) throw new JunctionError("STATION_NOT_FOUND", `station '${station}' not found`, { details: { station } });
      return this.#prepareInput(target, input, req.header(Headers.Producer) || undefined, traced);
    })();
    this.#submit(station, preparing, t0, traced).then(
      (results) => respond(req, { ok: true, data: { results } }),
      (err: unknown) => respond(req, { ok: false, error: errBody(this.#asError(station, err, t0)) }),
    );
  }

  /**
   * Produces messages to a station for an in-process front: `target` is the station the caller
   * may produce to (or a promise of it; undefined = not found), found by the caller. Stages, then
   * storing, one result per message. Requests to one station are stored in the order they were
   * submitted, even while their targets are still being looked up. Rejects only for a problem of
   * the whole request.
   */
  produce(
    station: string,
    target: ProduceTarget | Promise<ProduceTarget | undefined>,
    input: ProduceMessage[],
    o: ProduceCallOptions = {},
  ): Promise<ProduceResult[]> {
    const tracer = this.#o.tracing.tracer();
    const traced = tracer ? this.#startSpan(tracer, station, input, o.trace, activeContext()) : undefined;
    const preparing = (async () => {
      const t = await target;
      if (!t) throw new JunctionError("STATION_NOT_FOUND", `station '${station}' not found`, { details: { station } });
      return this.#prepareInput(t, input, o.producer, traced);
    })();
    return this.#submit(station, preparing, o.startedAt ?? performance.now(), traced);
  }

  /**
   * Starts a request's `produce` span. Its parent is the request's own trace context, else the
   * message's when the request carries one message (a single send reads as one trace), else
   * `base`; it links to every message's context (a batch mixes traces, so links, not parents, as
   * OpenTelemetry's messaging conventions say). Per-message work only while the span records.
   */
  #startSpan(
    tracer: Tracer,
    station: string,
    input: readonly ProduceMessage[],
    request: TraceHeaders | undefined,
    base: TraceContext | undefined,
  ): Traced {
    const own = request && parseTraceparent(request.traceparent) ? request : undefined;
    const parentHeaders = own ?? (input.length === 1 ? traceHeadersOf(input[0]!.headers) : undefined);
    const attributes: Record<string, string | number> = {
      [TraceAttr.System]: MESSAGING_SYSTEM,
      [TraceAttr.OperationName]: "produce",
      [TraceAttr.Destination]: station,
    };
    if (input.length === 1) {
      if (input[0]!.id) attributes[TraceAttr.MessageId] = input[0]!.id;
      attributes[TraceAttr.BodySize] = input[0]!.payload.length;
    } else attributes[TraceAttr.BatchCount] = input.length;
    const span = tracer.startSpan(`produce ${station}`, { kind: SpanKind.SERVER, attributes }, contextOf(parentHeaders) ?? base);
    if (span.isRecording()) linkMessages(span, input, parentHeaders?.traceparent);
    return { span, tracer, station };
  }

  /** Ends a request's span: counts, an event per refused message, failed when no message was stored. */
  #endSpan(span: Span, results: readonly ProduceResult[]): void {
    let stored = 0;
    let dropped = 0;
    let refused: ErrorBody | undefined;
    let rejected = 0;
    results.forEach((r, i) => {
      if ("error" in r) {
        rejected++;
        refused ??= r.error;
        messageFailed(span, "message refused", i, r.error.code);
      } else if (r.dropped) dropped++;
      else stored++;
    });
    span.setAttributes({ [TraceAttr.Stored]: stored, [TraceAttr.Rejected]: rejected, [TraceAttr.Dropped]: dropped });
    endSpan(span, refused && rejected === results.length ? refused : undefined);
  }

  async #prepareInput(
    target: ProduceTarget,
    input: ProduceMessage[],
    producer: string | undefined,
    traced: Traced | undefined,
  ): Promise<Prepared> {
    if (input.length > this.#o.maxRequestMessages) {
      throw new JunctionError(
        "BATCH_TOO_LARGE",
        `a request may carry at most ${this.#o.maxRequestMessages} messages; got ${input.length}`,
        {
          details: { messages: input.length, max: this.#o.maxRequestMessages },
        },
      );
    }
    if (this.#o.checkRequest) {
      let bytes = 0;
      for (const m of input) bytes += m.payload.length;
      this.#o.checkRequest(target, input.length, bytes);
    }
    this.stats.messages += input.length;
    return this.#prepare(target, input, producer, traced);
  }

  #submit(station: string, preparing: Promise<Prepared>, t0: number, traced: Traced | undefined): Promise<ProduceResult[]> {
    this.stats.requests++;
    this.#inflight++;
    // Preparation of a station's requests runs concurrently; publishing follows submission order.
    // The chain resolves once this request's messages are published, not once they are
    // acknowledged: `finished` is wrapped so the chain does not wait for it.
    const prev = this.#chains.get(station) ?? Promise.resolve();
    const step = prev.then(async () => {
      const p = await preparing;
      return { finished: this.#publish(p) };
    });
    const gate = step.then(
      () => {},
      () => {},
    );
    this.#chains.set(station, gate);
    const done = step.then((s) => s.finished);
    void done
      .then(
        (results) => {
          this.#report(station, results, t0);
          if (traced) this.#endSpan(traced.span, results);
        },
        (err: unknown) => {
          const e = this.#asError(station, err, t0);
          if (traced) endSpan(traced.span, e);
        },
      )
      .finally(() => {
        if (this.#chains.get(station) === gate) this.#chains.delete(station);
        this.#inflight--;
        if (this.#inflight === 0) {
          for (const w of this.#idleWaiters.splice(0)) w();
        }
      });
    return done;
  }

  /** The error a whole request is answered with; reported once per request. */
  #asError(station: string, err: unknown, t0: number): JunctionError {
    if (err instanceof JunctionError && reported.has(err)) return err;
    const e = err instanceof JunctionError ? err : new JunctionError("INTERNAL", (err as Error).message, { cause: err });
    reported.add(e);
    if (e.code === "INTERNAL") this.#o.logger.error("produce failed", { station, error: e.message });
    this.#o.onRequest({ station, messages: 0, stored: 0, rejected: 0, errorCodes: [e.code], latencyMs: performance.now() - t0 });
    return e;
  }

  #report(station: string, results: ProduceResult[], t0: number): void {
    const errorCodes: string[] = [];
    for (const r of results) if ("error" in r) errorCodes.push(r.error.code);
    const timeouts = errorCodes.filter((c) => c === "STORE_TIMEOUT").length;
    const full = errorCodes.filter((c) => c === "STORE_FULL").length;
    if ((timeouts > 0 || full > 0) && this.#o.clock.now() - this.#lastStoreWarn > 10_000) {
      // One line every 10 s at most: the metric counts each message.
      this.#lastStoreWarn = this.#o.clock.now();
      this.#o.logger.error(
        timeouts > 0
          ? "the store did not answer writes in time; if nats-server logs 'no space left on device', free space and restart it (nats-server keeps a stream's write error until it restarts); retries with the same ids are de-duplicated"
          : "the store is full: writes are refused with STORE_FULL until space is freed (raise JetStream's max_file_store or free space)",
        { station, timeouts, full },
      );
    }
    this.#o.onRequest({
      station,
      messages: results.length,
      stored: results.length - errorCodes.length,
      rejected: errorCodes.length,
      errorCodes,
      latencyMs: performance.now() - t0,
    });
  }

  /** Publishes the prepared messages (synchronously, before it returns); resolves with the results. */
  async #publish(prepared: Prepared): Promise<ProduceResult[]> {
    const { scope, station: rec } = prepared.target;
    const storage = this.#o.storage?.state() ?? StorageState.Ok;
    if (storage === StorageState.OutOfSpace) {
      const full: AckResult = {
        ok: false,
        code: "STORE_FULL",
        errCode: 0,
        description: "JetStream stopped for lack of disk space (it restarts once space is freed)",
      };
      return this.#results(
        prepared,
        prepared.current.map(() => full),
      );
    }
    const acks = await storeMessages(
      this.#o.writer,
      scope.stationMsg(rec.name),
      prepared.current.map((c) => toStore(c.msg, prepared.delivery.get(c.index), scope, rec.name, rec.config.partitions ?? 1)),
      {
        // Near a storage limit, message by message: each gets its exact outcome at once.
        smallBatchMessages: storage === StorageState.Tight ? Infinity : this.#o.smallBatchMessages,
        onFallback: () => this.stats.fallbacks++,
        groups: prepared.current.map((c) => c.index),
        trace: prepared.trace,
      },
    );
    if (acks.some((a) => !a.ok && a.code === "STORE_FULL")) this.#o.storage?.noteFull();
    return this.#results(prepared, acks);
  }

  #decode(req: BusRequest): ProduceMessage[] {
    if (req.header(Headers.Batch) === "1") return decodeBatch(req.data, this.#o.maxRequestMessages);
    let headers: Record<string, string> | undefined;
    for (const k of req.headerNames()) {
      if (isReservedHeader(k) && !DELIVERY_HEADERS.has(k) && k !== Headers.Key) continue;
      (headers ??= {})[k] = req.header(k) ?? "";
    }
    return [{ id: req.header(Headers.MsgId) ?? "", headers, payload: req.data }];
  }

  async #prepare(
    target: ProduceTarget,
    input: ProduceMessage[],
    producer: string | undefined,
    traced: Traced | undefined,
  ): Promise<Prepared> {
    const rec = target.station;
    const results: (ProduceResult | undefined)[] = new Array(input.length);
    const current: IndexedMessage[] = [];
    const max = rec.config.maxMessageSize;
    const delivery = new Map<number, Delivery>();
    for (let i = 0; i < input.length; i++) {
      let m = input[i]!;
      if (m.payload.length > max) {
        this.stats.badInput++;
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
      if (m.headers && hasDeliveryHeader(m.headers)) {
        const own = { ...m.headers };
        try {
          const d = takeDelivery(own, this.#o.clock.now());
          deliveryProblem(d, rec, this.#o.clock.now(), i);
          if (d.visibleAtMs !== undefined || d.ttlSeconds !== undefined) delivery.set(i, d);
        } catch (err) {
          this.stats.badInput++;
          const e = err as JunctionError;
          results[i] = { error: errBody(new JunctionError(e.code, `message ${i}: ${e.message}`, { details: { ...e.details, index: i } })) };
          continue;
        }
        m = { ...m, headers: own };
      }
      // The ordering key: checked, then stored with the message (the stages see it too).
      let key: string | undefined;
      if (m.headers?.[Headers.Key] !== undefined) {
        key = m.headers[Headers.Key];
        const kp = keyProblem(key);
        if (kp) {
          this.stats.badInput++;
          results[i] = {
            error: errBody(new JunctionError("INVALID_ARGUMENT", `message ${i}: ${kp}`, { details: { option: "key", index: i } })),
          };
          continue;
        }
        const own = { ...m.headers };
        delete own[Headers.Key];
        m = { ...m, headers: own };
      }
      const hp = headersProblem(m.headers, m.id);
      if (hp) {
        this.stats.badInput++;
        results[i] = {
          error: errBody(
            new JunctionError(hp.tooLarge ? "MESSAGE_TOO_LARGE" : "INVALID_HEADER", `message ${i}: ${hp.problem}`, {
              details: hp.tooLarge ? { index: i, size: hp.bytes, max: MAX_HEADER_BYTES } : { index: i, header: hp.header },
            }),
          ),
        };
        continue;
      }
      // The store takes headers and payload as one NATS message.
      if (
        m.payload.length + OWN_HEADER_ROOM + MAX_HEADER_BYTES > this.#o.maxPayloadBytes &&
        m.payload.length + OWN_HEADER_ROOM + headerBytes(m.headers, m.id) > this.#o.maxPayloadBytes
      ) {
        this.stats.badInput++;
        results[i] = {
          error: errBody(
            new JunctionError(
              "MESSAGE_TOO_LARGE",
              `message ${i} is ${m.payload.length} bytes; with its headers it is over the NATS server's max_payload of ${this.#o.maxPayloadBytes}`,
              { details: { index: i, size: m.payload.length, maxPayload: this.#o.maxPayloadBytes } },
            ),
          ),
        };
        continue;
      }
      const headers: Record<string, string> = m.headers ? { ...m.headers } : {};
      if (producer) headers[Headers.Producer] = producer;
      if (key !== undefined) headers[Headers.Key] = key;
      current.push({ index: i, msg: { id: m.id, headers, payload: m.payload } });
    }
    let trace: TraceScope | undefined;
    if (traced) {
      const tenant = target.scope.tenant;
      if (tenant !== DEFAULT_TENANT) traced.span.setAttribute(TraceAttr.Tenant, tenant);
      trace = { tracer: traced.tracer, parent: withSpan(traced.span), station: rec.name, tenant };
    }
    const ctx: StageContext = { scope: target.scope, station: rec, producer, trace };
    const { survivors, failed } = await runStages(this.#o.stages, ctx, current);
    if (failed.size > 0) await recordFailures(this.#o.deadLetters, ctx, failed, this.#o.clock);
    for (const [index, f] of failed) results[index] = { error: { ...f.error, details: { ...f.error.details, index } } };
    // What went in, passed every stage and left nothing to store was dropped by a function.
    const kept = new Set(survivors.map((c) => c.index));
    for (const c of current) if (!kept.has(c.index) && !failed.has(c.index)) results[c.index] = { seq: 0, duplicate: false, dropped: true };
    return { target, results, current: survivors, trace, delivery };
  }

  #results(prepared: Prepared, acks: AckResult[]): ProduceResult[] {
    const { results, current } = prepared;
    const perIndex = new Map<number, number[]>();
    acks.forEach((a, k) => {
      const idx = current[k]!.index;
      // A message fanned out into parts reports the first failure of any part.
      if (results[idx] && "error" in results[idx]!) return;
      if (!a.ok) {
        const text =
          a.code === "STORE_TIMEOUT"
            ? `message ${idx}: the store did not answer, even when asked again (${a.description}); it may or may not be stored — retry with the same id`
            : `message ${idx} not stored: ${a.description}`;
        results[idx] = { error: errBody(new JunctionError(a.code, text, { details: { index: idx, jsErrCode: a.errCode } })) };
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

/** Unique per gateway process: the subject token of each delayed message. */
const delayPrefix = randomBytes(6).toString("hex");
let delayCounter = 0;

function toStore(m: StageMessage, d: Delivery | undefined, scope: Scope, station: string, partitions: number): StoreMessage {
  const s: StoreMessage = { id: m.id, headers: m.headers, payload: m.payload };
  // A partitioned station: the message's partition subject (from its key as the stages left it).
  const target = partitions > 1 ? messageSubject(scope, station, partitions, m.headers?.[Headers.Key], m.id) : undefined;
  if (target !== undefined) s.subject = target;
  if (!d) return s;
  if (d.visibleAtMs !== undefined) {
    // A JetStream message schedule on a subject of its own (a schedule rolls up its subject),
    // which no consumer group reads; at its time the server stores a copy on the station's
    // message subject (without Nats-Msg-Id and Nats-Schedule-*) and removes the schedule.
    s.subject = scope.stationDelayed(station, `${delayPrefix}${(delayCounter++).toString(36)}`);
    s.control = {
      "Nats-Schedule": `@at ${new Date(d.visibleAtMs).toISOString()}`,
      "Nats-Schedule-Target": target ?? scope.stationMsg(station),
      ...(d.ttlSeconds !== undefined ? { "Nats-Schedule-TTL": `${d.ttlSeconds}s` } : {}),
    };
  } else if (d.ttlSeconds !== undefined) {
    s.control = { "Nats-TTL": `${d.ttlSeconds}s` };
  }
  return s;
}

function hasDeliveryHeader(h: Readonly<Record<string, string>>): boolean {
  return h[Headers.DelayMs] !== undefined || h[Headers.DeliverAt] !== undefined || h[Headers.TtlMs] !== undefined;
}

/** Refuses a delay the station cannot keep (INVALID_ARGUMENT, saying the limit). */
function deliveryProblem(d: Delivery, rec: StationRecord, nowMs: number, index: number): void {
  if (d.visibleAtMs === undefined) return;
  const station = rec.name;
  if (rec.config.retention === "interest") {
    // nats-server does not store a message no consumer is interested in on an interest stream,
    // and no group reads a schedule's subject.
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `station '${station}' has interest retention; delayed delivery needs a station with limits retention`,
      { details: { option: "delayMs", station, retention: rec.config.retention, index } },
    );
  }
  const maxAgeMs = rec.config.maxAgeSeconds * 1000;
  if (maxAgeMs > 0 && d.visibleAtMs - nowMs >= maxAgeMs) {
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `a delay of ${d.visibleAtMs - nowMs} ms reaches past station '${station}''s maxAgeSeconds (${rec.config.maxAgeSeconds} s): it would be removed before its time`,
      { details: { option: "delayMs", station, delayMs: d.visibleAtMs - nowMs, maxMs: maxAgeMs - 1, index } },
    );
  }
}

/** A bus request's own trace context (on a one-message request, also its message's). */
function requestTrace(req: BusRequest): TraceHeaders | undefined {
  const traceparent = req.header(Headers.Traceparent);
  if (!traceparent) return undefined;
  const tracestate = req.header(Headers.Tracestate);
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

function respond(req: BusRequest, body: unknown): void {
  req.respond(enc.encode(JSON.stringify(body)));
}
