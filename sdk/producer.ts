import {
  Headers,
  JunctionError,
  check,
  deliveryHeaders,
  assertKey,
  encodeBatch,
  parseTraceparent,
  resolveOptions,
  subjects,
  type DeliveryOptions,
  type ProduceReply,
  type ProduceResult,
  type TraceHeaders,
} from "../core/protocol/index.js";
import type { Span, TracerProvider } from "@opentelemetry/api";
import type { ClientContext } from "./context.js";
import { unwrap } from "./reply.js";
import { SdkTracing, endSend, retrySend, startSend } from "./tracing.js";

/** A message payload: bytes as they are, a string as UTF-8, anything else as JSON. */
export type Payload = Uint8Array | string | object;

/** Options of a {@link Producer}. */
export interface ProducerOptions {
  station: string;
  /** Recorded with each message (header Jn-Producer). @default the client's name */
  name?: string | undefined;
  /**
   * How long a message may wait for companions before its batch leaves, in ms. With 0, a message
   * leaves at once when no batch is in flight; messages that arrive meanwhile form the next batch.
   * @default 0
   */
  lingerMs?: number | undefined;
  /** @default 1000 */
  maxBatchMessages?: number | undefined;
  /** Bytes of one batch request (bounded by the server's max_payload). @default 1048576 */
  maxBatchBytes?: number | undefined;
  /**
   * Batches awaiting their reply at once. 1 keeps the store order equal to the send order in
   * every case, retries included; more trades that guarantee for speed. @default 1
   */
  maxInFlight?: number | undefined;
  /**
   * Longest wait for one request's reply, in ms. The wait actually used adapts to the replies seen
   * (like TCP's retransmission timeout: smoothed latency plus four times its variation; twice the
   * shortest wait before the first reply; doubled after a timeout), between `minRequestTimeoutMs`
   * and this, so a gateway that dies with a request in flight costs about a
   * second, not this whole timeout. @default 10000
   */
  requestTimeoutMs?: number | undefined;
  /** Shortest wait for one request's reply, in ms (see requestTimeoutMs). @default 1000 */
  minRequestTimeoutMs?: number | undefined;
  /** Total time a message may take, retries included, before it fails, in ms. @default 60000 */
  sendTimeoutMs?: number | undefined;
  /** First delay between retries, in ms; doubles up to 2 s. @default 100 */
  retryBackoffMs?: number | undefined;
  /**
   * Turns a payload into bytes. @default bytes as they are, strings as UTF-8, objects as JSON —
   * or, on a station with a Protobuf schema, objects encoded with the registered schema
   * (looked up once, on the first object sent).
   */
  encode?: ((payload: Payload) => Uint8Array) | undefined;
  /** Where time comes from (deadlines). @default Date.now */
  clock?: { now(): number } | undefined;
  /**
   * Where `send` spans go. @default the global OpenTelemetry tracer provider: nothing is traced
   * until the application registers an OpenTelemetry SDK
   */
  tracerProvider?: TracerProvider | undefined;
}

/** Defaults of {@link ProducerOptions} (the name defaults to the client's). */
export const DEFAULT_PRODUCER_OPTIONS: Readonly<{
  lingerMs: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  minRequestTimeoutMs: number;
  sendTimeoutMs: number;
  retryBackoffMs: number;
  clock: { now(): number };
}> = Object.freeze({
  lingerMs: 0,
  maxBatchMessages: 1000,
  maxBatchBytes: 1024 * 1024,
  maxInFlight: 1,
  requestTimeoutMs: 10_000,
  minRequestTimeoutMs: 1000,
  sendTimeoutMs: 60_000,
  retryBackoffMs: 100,
  clock: Object.freeze({ now: () => Date.now() }),
});

/** Resolved producer options. */
export type ResolvedProducerOptions = typeof DEFAULT_PRODUCER_OPTIONS & {
  readonly station: string;
  readonly name: string;
  readonly encode: ((p: Payload) => Uint8Array) | undefined;
  readonly tracerProvider: TracerProvider | undefined;
};

/** Validates and freezes producer options; a bad value fails naming the option. */
export function resolveProducerOptions(o: ProducerOptions, clientName: string): ResolvedProducerOptions {
  const r = resolveOptions<ResolvedProducerOptions>(
    "producer",
    { ...DEFAULT_PRODUCER_OPTIONS, station: "", name: clientName, encode: undefined, tracerProvider: undefined },
    o as Partial<ResolvedProducerOptions>,
    {
      station: check.string,
      name: check.string,
      lingerMs: check.int(0, 60_000),
      maxBatchMessages: check.int(1, 100_000),
      maxBatchBytes: check.int(1024),
      maxInFlight: check.int(1, 1024),
      requestTimeoutMs: check.int(1),
      minRequestTimeoutMs: check.int(1),
      sendTimeoutMs: check.int(1),
      retryBackoffMs: check.int(1),
      encode: check.fn,
      clock: check.any,
      tracerProvider: check.any,
    },
  );
  if (r.minRequestTimeoutMs > r.requestTimeoutMs) {
    // A maximum below the default minimum lowers the minimum with it; only two explicit, inconsistent values are refused.
    if (o.minRequestTimeoutMs === undefined) return finishProducerOptions(Object.freeze({ ...r, minRequestTimeoutMs: r.requestTimeoutMs }));
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `producer.minRequestTimeoutMs (${r.minRequestTimeoutMs}) must not be more than producer.requestTimeoutMs (${r.requestTimeoutMs})`,
      { details: { option: "producer.minRequestTimeoutMs" } },
    );
  }
  return finishProducerOptions(r);
}

function finishProducerOptions(r: ResolvedProducerOptions): ResolvedProducerOptions {
  if (!r.station) throw new JunctionError("INVALID_ARGUMENT", "producer.station is required", { details: { option: "producer.station" } });
  return r;
}

/**
 * Per-message options. `delayMs` / `deliverAt` store the message at once (the result means it is
 * durable) and let consumer groups see it from that time on; `ttlMs` removes it, delivered or
 * not, that long after it became visible (see {@link DeliveryOptions}).
 */
export interface SendOptions extends DeliveryOptions {
  headers?: Record<string, string>;
  /**
   * The ordering key (1–256 UTF-8 bytes, no control characters). On a station with more than one
   * partition, every consumer group gets the messages of one key in the order they were stored,
   * one at a time; different keys go to members in parallel. Stored with the message (header
   * `Jn-Key`, `message.key`). See docs/streaming.md.
   */
  key?: string;
  /** The message id for de-duplication. @default a unique id */
  id?: string;
  /**
   * The message's trace context (W3C), sent as it is (like a `traceparent` header). @default the
   * context of the message's `send` span (a child of the active context) while tracing is on
   */
  trace?: TraceHeaders;
}

/** A stored message. */
export interface SendResult {
  id: string;
  /** Stream sequence (of the first message on fan-out; 0 when a function dropped it). */
  seq: number;
  /** The id was already stored: this send wrote nothing new. */
  duplicate: boolean;
  seqs?: number[];
  dropped?: boolean;
}

/** The outcome of one message of {@link Producer.sendBatch}. */
export type SendOutcome = ({ ok: true } & SendResult) | { ok: false; id: string; error: JunctionError };

interface Entry {
  id: string;
  headers: Record<string, string> | undefined;
  payload: Uint8Array;
  size: number;
  deadline: number;
  resolve: (r: SendResult) => void;
  reject: (e: JunctionError) => void;
  /** The message's `send` span, while tracing is on. */
  span?: Span | undefined;
}

const enc = new TextEncoder();
let producerCounter = 0;

function defaultEncode(p: Payload): Uint8Array {
  if (p instanceof Uint8Array) return p;
  if (typeof p === "string") return enc.encode(p);
  return enc.encode(JSON.stringify(p));
}

/**
 * Sends messages to one station through the gateway, batching automatically.
 *
 * Every message keeps its id across retries (timeouts, reconnects, a gateway that died), so
 * JetStream's de-duplication stores it once. A message is reported stored only when the store
 * acknowledged it; otherwise its promise rejects with the error.
 */
export class Producer {
  readonly station: string;
  readonly #client: ClientContext;
  readonly #o: ResolvedProducerOptions & { encode: (p: Payload) => Uint8Array };
  readonly #prefix: string;
  #seq = 0;
  #queue: Entry[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #drainWaiters: (() => void)[] = [];
  readonly #customEncode: boolean;
  /** undefined = not looked up yet; null = no Protobuf or Avro schema on the station. */
  #schemaEncode: ((p: Payload) => Uint8Array) | null | undefined;
  /** The version objects are encoded with (Avro binary does not carry it). */
  #encodedWith: number | undefined;
  #resolving: Promise<void> | undefined;
  readonly #tracing: SdkTracing;

  constructor(client: ClientContext, options: ProducerOptions) {
    this.#client = client;
    const o = resolveProducerOptions(options, client.name);
    this.station = o.station;
    this.#o = {
      ...o,
      maxBatchBytes: Math.min(o.maxBatchBytes, client.transport.maxPayload() - 4096),
      encode: o.encode ?? defaultEncode,
    };
    this.#customEncode = o.encode !== undefined;
    this.#tracing = new SdkTracing(o.tracerProvider);
    this.#prefix = `${this.#o.name}-${process.pid.toString(36)}-${this.#o.clock.now().toString(36)}-${(producerCounter++).toString(36)}`;
  }

  /** Times a request was sent again (timeout, no gateway, a retriable error), since the start. */
  get retries(): number {
    return this.#retries;
  }
  #retries = 0;
  /** Smoothed reply latency and its variation, in ms (RFC 6298's estimator); undefined until a reply. */
  #srtt: number | undefined;
  #rttvar = 0;
  /** After a timeout the next wait is twice as long (until a reply comes): a slow gateway is not flooded with retries. */
  #timedOutFloor = 0;

  /** The wait for the next request's reply: srtt + 4·rttvar, within [min, max] request timeout. */
  #requestTimeout(): number {
    const { minRequestTimeoutMs: min, requestTimeoutMs: max } = this.#o;
    // Before any reply: twice the shortest wait (a first request may compile a schema or warm a function).
    if (this.#srtt === undefined) return Math.min(max, Math.max(2 * min, this.#timedOutFloor));
    return Math.min(max, Math.max(min, this.#timedOutFloor, Math.ceil(this.#srtt + 4 * this.#rttvar)));
  }

  #sample(ms: number): void {
    this.#timedOutFloor = 0;
    if (this.#srtt === undefined) {
      this.#srtt = ms;
      this.#rttvar = ms / 2;
      return;
    }
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - ms);
    this.#srtt = 0.875 * this.#srtt + 0.125 * ms;
  }

  /** Messages handed to the producer and not yet acknowledged or failed. */
  get pending(): number {
    return this.#queue.length + this.#inFlightCount;
  }
  #inFlightCount = 0;

  /** Looks up the station's schema once: Protobuf and Avro stations encode objects with it. */
  async #resolveSchema(): Promise<void> {
    try {
      const info = await this.#client.stations.get(this.station);
      const s = info.schema;
      if (!s) {
        this.#schemaEncode = null;
        return;
      }
      const version = s.version === "latest" ? (await this.#client.schemas.get(s.name)).version.version : s.version;
      const compiled = await this.#client.schemaCache.get(s.name, version);
      this.#encodedWith = version;
      this.#schemaEncode =
        compiled.type !== "json"
          ? (p) => (p instanceof Uint8Array ? p : typeof p === "string" ? defaultEncode(p) : compiled.encode(p))
          : null;
    } catch {
      // Unknown station or schema: send JSON and let the gateway answer with the real error.
      this.#schemaEncode = null;
    }
  }

  /** Sends one message; resolves once it is stored. */
  send(payload: Payload, opts: SendOptions = {}): Promise<SendResult> {
    if (this.#closed) return Promise.reject(new JunctionError("CONNECTION_CLOSED", "the producer is closed"));
    const needsSchema =
      !this.#customEncode && this.#schemaEncode === undefined && typeof payload === "object" && !(payload instanceof Uint8Array);
    if (this.#resolving || needsSchema) {
      // Keep the send order while the schema is looked up.
      this.#resolving ??= this.#resolveSchema().finally(() => {
        this.#resolving = undefined;
      });
      return this.#resolving.then(() => this.send(payload, opts));
    }
    let bytes: Uint8Array;
    try {
      bytes = this.#schemaEncode ? this.#schemaEncode(payload) : this.#o.encode(payload);
    } catch (err) {
      return Promise.reject(
        err instanceof JunctionError
          ? err
          : new JunctionError("INVALID_ARGUMENT", `cannot encode the payload: ${(err as Error).message}`, { cause: err }),
      );
    }
    let userHeaders = opts.headers;
    try {
      const timing = deliveryHeaders(opts);
      if (timing) userHeaders = { ...userHeaders, ...timing };
      if (opts.key !== undefined) {
        assertKey(opts.key);
        userHeaders = { ...userHeaders, [Headers.Key]: opts.key };
      }
    } catch (err) {
      return Promise.reject(err as JunctionError);
    }
    const id = opts.id ?? `${this.#prefix}-${(this.#seq++).toString(36)}`;
    if (opts.trace !== undefined && parseTraceparent(opts.trace.traceparent) === undefined) {
      return Promise.reject(
        new JunctionError("INVALID_ARGUMENT", `send option trace.traceparent is not a W3C traceparent: '${opts.trace.traceparent}'`, {
          details: { option: "trace.traceparent" },
        }),
      );
    }
    const tracer = this.#tracing.tracer();
    const traced = tracer || opts.trace ? startSend(tracer, this.station, id, bytes.length, userHeaders, opts.trace) : undefined;
    const headers = traced ? traced.headers : userHeaders;
    const span = traced?.span;
    return new Promise<SendResult>((resolve, reject) => {
      const size = bytes.length + id.length + 16 + (headers ? JSON.stringify(headers).length : 0);
      this.#queue.push({
        id,
        headers,
        payload: bytes,
        size,
        deadline: this.#o.clock.now() + this.#o.sendTimeoutMs,
        resolve: span
          ? (r) => {
              endSend(span, r);
              resolve(r);
            }
          : resolve,
        reject: span
          ? (e) => {
              endSend(span, e);
              reject(e);
            }
          : reject,
        span,
      });
      this.#schedule();
    });
  }

  /** Sends many messages; resolves with one outcome per message, in order (never rejects). */
  async sendBatch(items: readonly ({ payload: Payload } & SendOptions)[]): Promise<SendOutcome[]> {
    const ps = items.map((it) => this.send(it.payload, it));
    const settled = await Promise.allSettled(ps);
    return settled.map((s, i): SendOutcome => {
      if (s.status === "fulfilled") return { ok: true, ...s.value };
      const error = s.reason instanceof JunctionError ? s.reason : new JunctionError("INTERNAL", String(s.reason));
      return { ok: false, id: items[i]!.id ?? "", error };
    });
  }

  /** Sends what is queued now and waits until every message is acknowledged or failed. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pump(true);
    if (this.pending === 0) return;
    await new Promise<void>((r) => this.#drainWaiters.push(r));
  }

  /** Flushes, then refuses further sends. Idempotent. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  #schedule(): void {
    const full = this.#queue.length >= this.#o.maxBatchMessages;
    if (full || this.#o.lingerMs === 0) {
      this.#pump(true);
      return;
    }
    if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#pump(true);
      }, this.#o.lingerMs);
    }
  }

  #pump(force: boolean): void {
    while (this.#inFlight < this.#o.maxInFlight && this.#queue.length > 0) {
      if (!force && this.#queue.length < this.#o.maxBatchMessages) break;
      const batch: Entry[] = [];
      let bytes = 8;
      while (batch.length < this.#o.maxBatchMessages && this.#queue.length > 0) {
        const next = this.#queue[0]!;
        if (batch.length > 0 && bytes + next.size > this.#o.maxBatchBytes) break;
        batch.push(this.#queue.shift()!);
        bytes += next.size;
      }
      this.#inFlight++;
      this.#inFlightCount += batch.length;
      void this.#deliver(batch).finally(() => {
        this.#inFlight--;
        this.#inFlightCount -= batch.length;
        // While a batch was out, new messages gathered: send them now (natural batching).
        this.#pump(true);
        if (this.pending === 0) {
          const ws = this.#drainWaiters;
          this.#drainWaiters = [];
          for (const w of ws) w();
        }
      });
    }
  }

  async #deliver(initial: Entry[]): Promise<void> {
    let batch = initial;
    let backoff = this.#o.retryBackoffMs;
    let lastError: JunctionError | undefined;
    const subject = subjects.produce(this.station);
    for (;;) {
      const deadline = Math.min(...batch.map((e) => e.deadline));
      if (this.#o.clock.now() >= deadline && lastError) {
        for (const e of batch) e.reject(lastError);
        return;
      }
      try {
        const frame = encodeBatch(batch.map((e) => ({ id: e.id, headers: e.headers, payload: e.payload })));
        const timeout = Math.max(100, Math.min(this.#requestTimeout(), deadline - this.#o.clock.now()));
        const sentAt = performance.now();
        const data = await this.#client.transport.request(subject, frame, timeout, {
          ...this.#client.headers, // an operator acting in a tenant produces there
          [Headers.Batch]: "1",
          [Headers.Producer]: this.#o.name,
        });
        this.#sample(performance.now() - sentAt);
        const reply = unwrap<ProduceReply>(data);
        if (reply.results.length !== batch.length) {
          throw new JunctionError("INTERNAL", `gateway returned ${reply.results.length} results for ${batch.length} messages`);
        }
        const retry: Entry[] = [];
        reply.results.forEach((r: ProduceResult, i) => {
          const e = batch[i]!;
          if ("error" in r) {
            const err = JunctionError.fromBody(r.error);
            if (err.retriable) {
              lastError = err;
              retry.push(e);
            } else {
              // The station moved to another schema version: encode later messages with it.
              if (
                err.code === "SCHEMA_VALIDATION_FAILED" &&
                this.#encodedWith !== undefined &&
                err.details?.["version"] !== this.#encodedWith
              ) {
                this.#schemaEncode = undefined;
                this.#encodedWith = undefined;
              }
              e.reject(err);
            }
          } else {
            const res: SendResult = { id: e.id, seq: r.seq, duplicate: r.duplicate };
            if (r.seqs) res.seqs = r.seqs;
            if (r.dropped) res.dropped = true;
            e.resolve(res);
          }
        });
        if (retry.length === 0) return;
        batch = retry;
      } catch (err) {
        const e = err instanceof JunctionError ? err : new JunctionError("INTERNAL", String(err), { cause: err });
        if (!e.retriable || this.#client.transport.state() === "closed") {
          for (const x of batch) x.reject(e);
          return;
        }
        lastError = e;
        if (e.code === "TIMEOUT") this.#timedOutFloor = Math.min(this.#o.requestTimeoutMs, 2 * this.#requestTimeout());
      }
      // Retry the same messages with the same ids after a pause.
      this.#retries++;
      for (const e of batch) if (e.span) retrySend(e.span, lastError?.code);
      const wait = Math.min(backoff, Math.max(0, Math.min(...batch.map((x) => x.deadline)) - this.#o.clock.now()));
      await new Promise((r) => setTimeout(r, wait));
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}
