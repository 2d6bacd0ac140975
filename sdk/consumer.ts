import {
  Headers,
  JunctionError,
  check,
  parseSchemaTag,
  resolveOptions,
  subjects,
  type GroupConfig,
  type StartPosition,
} from "../core/protocol/index.js";
import type { TracerProvider } from "@opentelemetry/api";
import type { ClientContext } from "./context.js";
import { headersOf, type JsMsg, type PullHandle } from "./transport.js";
import type { SchemaCache } from "./schema-cache.js";
import { ConsumerTracing } from "./tracing.js";

/** Options of a consumer (a member of a consumer group). */
export interface ConsumerOptions {
  station: string;
  group: string;
  /** Time to ack before the message is resent, in ms. @default 30000 (on group creation) */
  maxAckTimeMs?: number | undefined;
  /** Deliveries before the message becomes a dead letter. @default 10 (on group creation) */
  maxMsgDeliveries?: number | undefined;
  /** Redelivery delays, in ms. @default [] */
  backoffMs?: number[] | undefined;
  /** Where a new group starts; a different position for an existing group is GROUP_CONFLICT. */
  startPosition?: StartPosition | undefined;
  /** Messages pulled per request (prefetch). @default 100 */
  batchSize?: number | undefined;
  /**
   * Handles each message as it arrives, instead of the async iterator (like kafkajs's
   * eachMessage): no promise per message, for the highest throughput. It is called synchronously;
   * a handler that throws gets the message nak'd. Use either this or the iterator.
   */
  onMessage?: ((m: Message) => void) | undefined;
  /**
   * Stop after this many messages. Pulls then never ask for more than remain, so nothing is
   * left prefetched (and waiting out the ack time) when the member stops.
   */
  maxMessages?: number | undefined;
  /**
   * Where `deliver`, `ack`, `nak` and `term` spans go. @default the global OpenTelemetry tracer
   * provider: nothing is traced until the application registers an OpenTelemetry SDK
   */
  tracerProvider?: TracerProvider | undefined;
}

/** Defaults of {@link ConsumerOptions} (group settings default on the gateway, at group creation). */
export const DEFAULT_CONSUMER_OPTIONS = Object.freeze({ batchSize: 100 });

type ResolvedConsumerOptions = ConsumerOptions & { batchSize: number };

/** Validates and freezes consumer options; a bad value fails naming the option. */
export function resolveConsumerOptions(o: ConsumerOptions): Readonly<ResolvedConsumerOptions> {
  const r = resolveOptions<ResolvedConsumerOptions>("consumer", { ...DEFAULT_CONSUMER_OPTIONS, station: "", group: "" }, o, {
    station: check.string,
    group: check.string,
    maxAckTimeMs: check.int(1),
    maxMsgDeliveries: check.int(1),
    backoffMs: check.any,
    startPosition: check.any,
    batchSize: check.int(1, 100_000),
    onMessage: check.fn,
    maxMessages: check.int(1),
    tracerProvider: check.any,
  });
  for (const k of ["station", "group"] as const) {
    if (!r[k]) throw new JunctionError("INVALID_ARGUMENT", `consumer.${k} is required`, { details: { option: `consumer.${k}` } });
  }
  return r;
}

const dec = new TextDecoder();

/** A message delivered to a consumer group member. */
export class Message {
  readonly #m: JsMsg;
  readonly #schemas: SchemaCache | undefined;
  #headers: Record<string, string> | undefined;
  readonly #acker: ((m: JsMsg) => void) | undefined;
  constructor(m: JsMsg, schemas?: SchemaCache, acker?: (m: JsMsg) => void) {
    this.#m = m;
    this.#schemas = schemas;
    this.#acker = acker;
  }
  /** `name@version` of the schema the message was checked against, if any. */
  get schema(): string | undefined {
    return this.headers[Headers.Schema];
  }
  /** Stream sequence. */
  get seq(): number {
    return this.#m.seq;
  }
  /** How many times this message was delivered to the group (1 on first delivery). */
  get deliveryCount(): number {
    return this.#m.info.deliveryCount;
  }
  get redelivered(): boolean {
    return this.#m.redelivered;
  }
  /** When the message was stored. */
  get timestamp(): Date {
    return new Date(Math.floor(this.#m.info.timestampNanos / 1_000_000));
  }
  get headers(): Record<string, string> {
    return (this.#headers ??= headersOf(this.#m));
  }
  /** The message id given by the producer. */
  get id(): string | undefined {
    return this.headers["Nats-Msg-Id"];
  }
  get producer(): string | undefined {
    return this.headers[Headers.Producer];
  }
  /** The subject it was stored on (`…msg`, or `…resend.<group>` for a resend). */
  get subject(): string {
    return this.#m.subject;
  }
  get data(): Uint8Array {
    return this.#m.data;
  }
  text(): string {
    return dec.decode(this.#m.data);
  }
  /**
   * The payload as an object: JSON parsed, or a Protobuf or Avro message decoded with its schema
   * when that schema is already cached (a consumer pre-loads its station's schema; else use decode()).
   */
  json<T = unknown>(): T {
    const tag = parseSchemaTag(this.schema);
    const compiled = tag ? this.#schemas?.peek(tag.name, tag.version) : undefined;
    if (compiled !== undefined && compiled.type !== "json") return compiled.decode(this.#m.data) as T;
    const type = tag && !compiled ? this.#schemas?.typeOf(tag.name) : undefined;
    if (tag && type !== undefined && type !== "json") {
      // A binary payload of a version not loaded yet (the station moved on): never parse it as JSON.
      void this.#schemas?.get(tag.name, tag.version).catch(() => {});
      throw new JunctionError("SCHEMA_UNAVAILABLE", `schema ${this.schema} is not loaded yet: use await message.decode()`, {
        details: { schema: tag.name, version: tag.version },
      });
    }
    return JSON.parse(this.text()) as T;
  }
  /** The payload decoded by the schema it was checked against (fetched once and cached), or JSON. */
  async decode<T = unknown>(): Promise<T> {
    const tag = parseSchemaTag(this.schema);
    if (tag && this.#schemas) return (await this.#schemas.get(tag.name, tag.version)).decode(this.#m.data) as T;
    return JSON.parse(this.text()) as T;
  }
  /** Acknowledges: the group is done with the message. */
  ack(): void {
    if (this.#acker) this.#acker(this.#m);
    else this.#m.ack();
  }
  /** Acknowledges and waits until the server confirmed the ack. */
  async ackAndWait(): Promise<void> {
    const ok = await this.#m.ackAck();
    if (!ok) throw new JunctionError("TIMEOUT", `ack of message ${this.seq} was not confirmed`);
  }
  /** Asks for a resend, after `delayMs` if given. */
  nak(delayMs?: number): void {
    this.#m.nak(delayMs);
  }
  /** Gives up on the message now; it will not be delivered to this group again. */
  term(reason?: string): void {
    this.#m.term(reason);
  }
  /**
   * Gives up on the message now and records why: it goes to the dead-letter station at once
   * (reason `terminated`, with `reason` as the error message) and is not delivered to this
   * group again.
   */
  deadLetter(reason: string): void {
    this.#m.term(reason);
  }
  /** Extends the ack deadline by another maxAckTimeMs. */
  inProgress(): void {
    this.#m.working();
  }
}

/** A member of a consumer group: an async iterator of messages, pulled straight from JetStream. */
export class Consumer implements AsyncIterable<Message> {
  readonly station: string;
  readonly group: string;
  #messages: PullHandle | undefined;
  // Messages received and not yet handed out: an array with a moving head (shift() would copy
  // the array on every message once thousands are prefetched).
  #queue: JsMsg[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #closing = false;
  #ended = false;
  #closed: Promise<void> | undefined;
  #schemas: SchemaCache | undefined;

  private constructor(station: string, group: string) {
    this.station = station;
    this.group = group;
  }

  /** Ensures the group exists (via the gateway) and starts pulling. */
  static async start(client: ClientContext, options: ConsumerOptions): Promise<Consumer> {
    const o = resolveConsumerOptions(options);
    const config: Partial<GroupConfig> = {};
    if (o.maxAckTimeMs !== undefined) config.maxAckTimeMs = o.maxAckTimeMs;
    if (o.maxMsgDeliveries !== undefined) config.maxMsgDeliveries = o.maxMsgDeliveries;
    if (o.backoffMs !== undefined) config.backoffMs = o.backoffMs;
    if (o.startPosition !== undefined) config.startPosition = o.startPosition;
    const info = await client.groups.create(o.station, o.group, config);
    const c = new Consumer(o.station, o.group);
    c.#tracing = new ConsumerTracing(o.station, o.group, o.tracerProvider);
    c.#schemas = client.schemaCache;
    c.#onMessage = o.onMessage;
    // Pre-load the station's schema so message.json() can decode Protobuf and Avro synchronously.
    try {
      const s = (await client.stations.get(o.station)).schema;
      if (s) {
        const v = s.version === "latest" ? (await client.schemas.get(s.name)).version.version : s.version;
        await client.schemaCache.get(s.name, v);
      }
    } catch {
      /* decoding falls back to decode() */
    }
    const stream = info.stream ?? subjects.stationStream(o.station);
    const push = (m: JsMsg) => c.#push(m);
    c.#messages =
      o.maxMessages !== undefined
        ? await client.transport.pullLimited(stream, o.group, o.batchSize, o.maxMessages, push)
        : await client.transport.pull(stream, o.group, o.batchSize, push);
    void c.#messages.closed().then(() => {
      c.#ended = true;
      c.#notify();
    });
    return c;
  }

  #onMessage: ((m: Message) => void) | undefined;

  #tracing: ConsumerTracing | undefined;

  /** A message handed out by the iterator (traced while tracing is on). */
  #message(m: JsMsg): Message {
    const msg = new Message(m, this.#schemas, this.#deferAck);
    return this.#tracing ? this.#tracing.deliver(msg) : msg;
  }

  #push(m: JsMsg): void {
    if (this.#closing) {
      m.nak();
      return;
    }
    if (this.#onMessage) {
      try {
        const msg = new Message(m, this.#schemas);
        if (this.#tracing) this.#tracing.run(this.#tracing.deliver(msg), () => this.#onMessage!(msg));
        else this.#onMessage(msg);
      } catch {
        m.nak();
      }
      return;
    }
    this.#queue.push(m);
    this.#notify();
  }

  // Acks of iterated messages are sent together once the current burst of messages has been
  // handled: nats.js flushes its socket in a microtask, and an async iterator runs each message
  // in its own microtasks, so acking one by one would write one packet per ack.
  #acks: JsMsg[] = [];
  #ackFlush: NodeJS.Immediate | undefined;
  readonly #deferAck = (m: JsMsg): void => {
    this.#acks.push(m);
    this.#ackFlush ??= setImmediate(this.#flushAcks);
  };
  readonly #flushAcks = (): void => {
    this.#ackFlush = undefined;
    const acks = this.#acks;
    this.#acks = [];
    for (const m of acks) m.ack();
  };

  #take(): JsMsg | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const m = this.#queue[this.#head++];
    if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return m;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /**
   * The messages, as they arrive. Written by hand rather than as an async generator: a generator
   * costs several promise hops per message, this costs one. Leaving the loop (break, return,
   * throw) ends this member.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    if (this.#onMessage)
      throw new JunctionError("INVALID_ARGUMENT", "this consumer hands messages to onMessage; it cannot also be iterated");
    const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
    const next = async (): Promise<IteratorResult<Message>> => {
      for (;;) {
        const m = this.#take();
        if (m) return { done: false, value: this.#message(m) };
        if (this.#closing || this.#ended) {
          await this.close();
          return done;
        }
        await new Promise<void>((r) => (this.#wake = r));
      }
    };
    return {
      next: () => {
        // Fast path: a message is waiting, so no await at all.
        const m = this.#take();
        return m ? Promise.resolve({ done: false, value: this.#message(m) }) : next();
      },
      return: async () => {
        await this.close();
        return done;
      },
      throw: async (err?: unknown) => {
        await this.close();
        throw err;
      },
    };
  }

  /**
   * Stops pulling. Messages prefetched but not yet handed out are given back at once (nak), so
   * other members get them without waiting; messages handed out and not acked are resent after
   * maxAckTimeMs. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing = true;
      this.#tracing?.close();
      if (this.#ackFlush) clearImmediate(this.#ackFlush);
      this.#flushAcks();
      this.#notify();
      await this.#messages?.close();
      for (let m = this.#take(); m; m = this.#take()) m.nak();
    })();
    return this.#closed;
  }
}
