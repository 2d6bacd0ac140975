import {
  Headers,
  JunctionError,
  check,
  parseSchemaTag,
  groupConsumers,
  membersSubject,
  partitionConsumer,
  parseGroupConsumer,
  parseStationStream,
  scopeOf,
  EventKind,
  MAX_PARTITIONS,
  PARTITION_WINDOW,
  resolveOptions,
  subjects,
  type GroupConfig,
  type StartPosition,
} from "../core/protocol/index.js";
import type { TracerProvider } from "@opentelemetry/api";
import type { ClientContext } from "./context.js";
import { LeasedPull, type Held } from "./leased-pull.js";
import { Membership } from "./membership.js";
import type { SchemaCache } from "./schema-cache.js";
import { ConsumerTracing } from "./tracing.js";

/** Options of a consumer (a member of a consumer group). */
export interface ConsumerOptions {
  station: string;
  group: string;
  /**
   * The group's time to ack, from when the application is given a message, in ms; then the
   * message is resent. Applied to the group when given (on creation: @default 30000).
   */
  maxAckTimeMs?: number | undefined;
  /** The group's deliveries before a message becomes a dead letter. @default 10 (on group creation) */
  maxMsgDeliveries?: number | undefined;
  /** The group's redelivery delays, in ms. @default [] */
  backoffMs?: number[] | undefined;
  /**
   * The group's member timeout, in ms: a member that stops renewing the messages it holds (it
   * crashed, or its event loop was blocked this long) loses them to the rest of the group after
   * this long. @default 5000 (on group creation)
   */
  memberTimeoutMs?: number | undefined;
  /**
   * On group creation: one member at a time receives every message, in stream order, and
   * another takes over when it stops (see GroupConfig.exclusive). @default false
   */
  exclusive?: boolean | undefined;
  /** Where a new group starts; a different position for an existing group is GROUP_CONFLICT. */
  startPosition?: StartPosition | undefined;
  /**
   * The most messages this member holds at once: prefetched plus handed out and not yet acked
   * (nak'd, terminated). The member asks for more only as messages are settled. @default 100
   */
  batchSize?: number | undefined;
  /**
   * Handles each message as it arrives, instead of the async iterator (like kafkajs's
   * eachMessage): no promise per message, for the highest throughput. It is called synchronously;
   * a handler that throws gets the message nak'd. Use either this or the iterator.
   */
  onMessage?: ((m: Message) => void) | undefined;
  /**
   * Stop after this many messages. Pulls then never ask for more than remain, so nothing is
   * left prefetched when the member stops.
   */
  maxMessages?: number | undefined;
  /** How long the server keeps one pull request waiting, in ms. @default 10000 */
  pullExpiresMs?: number | undefined;
  /**
   * Where `deliver`, `ack`, `nak` and `term` spans go. @default the global OpenTelemetry tracer
   * provider: nothing is traced until the application registers an OpenTelemetry SDK
   */
  tracerProvider?: TracerProvider | undefined;
  /** The clock (ms since the epoch). @default Date.now */
  now?: (() => number) | undefined;
}

/** Defaults of {@link ConsumerOptions} (group settings default on the gateway, at group creation). */
export const DEFAULT_CONSUMER_OPTIONS = Object.freeze({ batchSize: 100, pullExpiresMs: 10_000, now: Date.now });

type ResolvedConsumerOptions = ConsumerOptions & { batchSize: number; pullExpiresMs: number; now: () => number };

/** Validates and freezes consumer options; a bad value fails naming the option. */
export function resolveConsumerOptions(o: ConsumerOptions): Readonly<ResolvedConsumerOptions> {
  const r = resolveOptions<ResolvedConsumerOptions>("consumer", { ...DEFAULT_CONSUMER_OPTIONS, station: "", group: "" }, o, {
    station: check.string,
    group: check.string,
    maxAckTimeMs: check.int(1),
    maxMsgDeliveries: check.int(1),
    backoffMs: check.any,
    memberTimeoutMs: check.int(1),
    exclusive: check.bool,
    startPosition: check.any,
    batchSize: check.int(1, 100_000),
    onMessage: check.fn,
    maxMessages: check.int(1),
    pullExpiresMs: check.int(1000, 3_600_000),
    tracerProvider: check.any,
    now: check.fn,
  });
  for (const k of ["station", "group"] as const) {
    if (!r[k]) throw new JunctionError("INVALID_ARGUMENT", `consumer.${k} is required`, { details: { option: `consumer.${k}` } });
  }
  return r;
}

const dec = new TextDecoder();

/** How long a member joining a partitioned group listens for the others before taking partitions, in ms. */
const SETTLE_MS = 100;
/** How often a member of a partitioned group looks whether the station grew (besides the event), in ms. */
const WATCH_MS = 30_000;
/** How long a partition's pull requests wait on the server, in ms. */
const PARTITION_PULL_EXPIRES_MS = 1000;

/** The partition of a partition's consumer name (`<group>-P<i>`). */
function partitionIndex(consumer: string): number {
  return parseGroupConsumer(consumer)?.partition ?? 0;
}

/** A message delivered to a consumer group member. */
export class Message {
  readonly #h: Held;
  readonly #pull: LeasedPull;
  readonly #schemas: SchemaCache | undefined;
  constructor(h: Held, pull: LeasedPull, schemas: SchemaCache | undefined) {
    this.#h = h;
    this.#pull = pull;
    this.#schemas = schemas;
  }
  /** `name@version` of the schema the message was checked against, if any. */
  get schema(): string | undefined {
    return this.headers[Headers.Schema];
  }
  /** Stream sequence. */
  get seq(): number {
    return this.#h.delivery.seq;
  }
  /**
   * How many times the group delivered this message to a member (1 on first delivery). It counts
   * deliveries, not attempts by the application: a message a member had prefetched when it
   * stopped or crashed counts too. See docs/consumers.md for what it means after a crash.
   */
  get deliveryCount(): number {
    return this.#h.attempts;
  }
  /** Delivered before (deliveryCount > 1). */
  get redelivered(): boolean {
    return this.#h.attempts > 1;
  }
  /** When the message was stored. */
  get timestamp(): Date {
    return new Date(Math.floor(this.#h.delivery.timestampNanos / 1_000_000));
  }
  get headers(): Record<string, string> {
    return this.#h.delivery.headers();
  }
  /** The ordering key given by the producer, if any. */
  get key(): string | undefined {
    return this.headers[Headers.Key];
  }
  /** The message id given by the producer. */
  get id(): string | undefined {
    return this.headers["Nats-Msg-Id"];
  }
  get producer(): string | undefined {
    return this.headers[Headers.Producer];
  }
  /** The subject it was stored on (`…msg`; `…part.<i>` on a partitioned station; `…resend.<consumer>` for a resend). */
  get subject(): string {
    return this.#h.delivery.subject;
  }
  get data(): Uint8Array {
    return this.#h.delivery.data;
  }
  text(): string {
    return dec.decode(this.#h.delivery.data);
  }
  /**
   * The payload as an object: JSON parsed, or a Protobuf or Avro message decoded with its schema
   * when that schema is already cached (a consumer pre-loads its station's schema; else use decode()).
   */
  json<T = unknown>(): T {
    const tag = parseSchemaTag(this.schema);
    const compiled = tag ? this.#schemas?.peek(tag.name, tag.version) : undefined;
    if (compiled !== undefined && compiled.type !== "json") return compiled.decode(this.#h.delivery.data) as T;
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
    if (tag && this.#schemas) return (await this.#schemas.get(tag.name, tag.version)).decode(this.#h.delivery.data) as T;
    return JSON.parse(this.text()) as T;
  }
  /** Acknowledges: the group is done with the message. */
  ack(): void {
    this.#pull.ack(this.#h);
  }
  /** Acknowledges and waits until the server confirmed the ack. */
  async ackAndWait(timeoutMs = 5000): Promise<void> {
    const ok = await this.#pull.ackAndWait(this.#h, timeoutMs);
    if (!ok) throw new JunctionError("TIMEOUT", `ack of message ${this.seq} was not confirmed`, { details: { seq: this.seq } });
  }
  /** Asks for a resend, after `delayMs` if given. */
  nak(delayMs?: number): void {
    this.#pull.nak(this.#h, delayMs);
  }
  /** Gives up on the message now; it will not be delivered to this group again. */
  term(reason?: string): void {
    this.#pull.term(this.#h, reason);
  }
  /**
   * Gives up on the message now and records why: it goes to the dead-letter station at once
   * (reason `terminated`, with `reason` as the error message) and is not delivered to this
   * group again.
   */
  deadLetter(reason: string): void {
    this.#pull.term(this.#h, reason);
  }
  /** The application needs more time: the ack deadline (maxAckTimeMs) starts again now. */
  inProgress(): void {
    this.#pull.inProgress(this.#h);
  }
}

/** A member of a consumer group: an async iterator of messages, pulled straight from JetStream. */
export class Consumer implements AsyncIterable<Message> {
  readonly station: string;
  readonly group: string;
  /** One pull per partition (one in all on a station with one partition); grows with the station. */
  readonly #pulls: LeasedPull[];
  /** Makes the pull of one of the group's consumers. */
  readonly #makePull: (consumer: string) => LeasedPull;
  readonly #schemas: SchemaCache | undefined;
  readonly #onMessage: ((m: Message) => void) | undefined;
  readonly #tracing: ConsumerTracing;
  /** Messages still to hand out on a partitioned station with maxMessages (pulls there have no limit of their own). */
  #remaining: number;
  /** Where the next take() starts looking, so no partition starves the others. */
  #rr = 0;
  /** Partitioned stations: the group's members and which partitions are this one's. */
  #membership: Membership | undefined;
  /** Partitioned stations: frees partition i's pin on the server. */
  #unpin: (i: number) => Promise<void> = async () => {};
  /** Whether the members share partitions out (a partitioned station): closing hands them over. */
  #sharesPartitions = false;
  /** Partitioned stations: stops listening for the station's growth. */
  #unwatch: () => void = () => {};
  #growing: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #ended = false;
  #closed: Promise<void> | undefined;

  private constructor(
    station: string,
    group: string,
    schemas: SchemaCache | undefined,
    onMessage: ((m: Message) => void) | undefined,
    tracing: ConsumerTracing,
    remaining: number,
    consumers: readonly string[],
    makePull: (c: Consumer, consumer: string) => LeasedPull,
  ) {
    this.station = station;
    this.group = group;
    this.#tracing = tracing;
    this.#schemas = schemas;
    this.#onMessage = onMessage;
    this.#remaining = remaining;
    this.#makePull = (consumer) => makePull(this, consumer);
    this.#pulls = consumers.map(this.#makePull);
  }

  /** Ensures the group exists (via the gateway) and starts pulling. */
  static async start(client: ClientContext, options: ConsumerOptions): Promise<Consumer> {
    const o = resolveConsumerOptions(options);
    const config: Partial<GroupConfig> = {};
    if (o.maxAckTimeMs !== undefined) config.maxAckTimeMs = o.maxAckTimeMs;
    if (o.maxMsgDeliveries !== undefined) config.maxMsgDeliveries = o.maxMsgDeliveries;
    if (o.backoffMs !== undefined) config.backoffMs = o.backoffMs;
    if (o.memberTimeoutMs !== undefined) config.memberTimeoutMs = o.memberTimeoutMs;
    if (o.startPosition !== undefined) config.startPosition = o.startPosition;
    if (o.exclusive !== undefined) config.exclusive = o.exclusive;
    const info = await client.groups.create(o.station, o.group, config);
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
    // A partitioned station: one consumer per partition, each pinned to one member at a time.
    const consumers = groupConsumers(o.group, info.stats.partitions?.length ?? 1);
    const partitioned = consumers.length > 1;
    // The lease is the consumer's ack wait as the server has it; the application's deadlines are
    // the group's settings, applied here from hand-out.
    const facts = await client.transport.consumerInfo(stream, consumers[0]!);
    const g = info.config;
    const backoff = g.backoffMs;
    const deadlineMs = backoff.length > 0 ? (dc: number): number => backoff[Math.min(dc, backoff.length) - 1]! : g.maxAckTimeMs;
    // An exclusive group or a partition (pinned client): pull in its priority group, keep the pin
    // by pulling well within the server's pin timeout (memberTimeoutMs, at least the lease), and
    // renew leases in stream order so what a crashed member held returns in order.
    const pinned = facts.priorityPolicy === "pinned_client" ? facts.priorityGroups[0] : undefined;
    // A partition's requests live a second: a member letting a partition go waits until its own
    // requests are gone before it hands the partition over.
    const expiresMs = partitioned
      ? PARTITION_PULL_EXPIRES_MS
      : pinned !== undefined
        ? Math.min(o.pullExpiresMs, Math.max(500, Math.floor(facts.ackWaitMs / 2)))
        : o.pullExpiresMs;
    const c = new Consumer(
      o.station,
      o.group,
      client.schemaCache,
      o.onMessage,
      new ConsumerTracing(o.station, o.group, o.tracerProvider),
      partitioned ? (o.maxMessages ?? Infinity) : Infinity,
      consumers,
      (self, name) =>
        new LeasedPull(
          (onMessage, onStatus) => client.transport.pull(stream, name, onMessage, onStatus),
          () => client.transport.probe(stream, name, pinned, 1000),
          {
            // A partition has a window out (its consumer's max_ack_pending), handed out by key.
            window: partitioned ? PARTITION_WINDOW : o.batchSize,
            leaseMs: facts.ackWaitMs,
            deadlineMs,
            maxDeliveries: facts.maxDeliver,
            limit: partitioned ? undefined : o.maxMessages,
            expiresMs,
            heartbeatMs: Math.min(2000, Math.floor(expiresMs / 4)),
            ordered: pinned !== undefined,
            group: pinned,
            keyed: partitioned,
            now: o.now,
          },
          {
            available: () => self.#available(),
            ended: () => self.#end(),
            handedOver: (pin) => {
              if (pin !== undefined) void self.#unpin(partitionIndex(name));
            },
          },
        ),
    );
    // Every member announces itself on the group's presence subject (the gateway counts and shows
    // the members: a busy member has no pull request waiting, so those do not count it).
    const memberTimeoutMs = g.memberTimeoutMs;
    const presence = {
      subject: membersSubject(stream, o.group),
      id: crypto.randomUUID(),
      // At least four heartbeats per member timeout (25 ms to 1 s apart).
      heartbeatMs: Math.max(25, Math.min(1000, Math.floor(memberTimeoutMs / 4))),
      expiryMs: memberTimeoutMs,
      settleMs: SETTLE_MS,
      now: o.now,
    };
    if (partitioned && pinned !== undefined) {
      // The members share the partitions out by the list of members they hear on the group's
      // presence subject; a partition changing hands is unpinned at once by the member letting
      // it go, so the next owner (waiting on it) gets it without waiting for the pin timeout.
      c.#unpin = (i) => client.transport.unpin(stream, partitionConsumer(o.group, i), pinned).catch(() => {});
      for (const p of c.#pulls) p.own(false);
      c.#sharesPartitions = true;
      c.#membership = new Membership(
        client.transport,
        {
          ...presence,
          partitions: consumers.length,
          retrying: () => [...new Set(c.#pulls.flatMap((p) => p.retryingKeys()))],
        },
        (owned) => c.#assign(owned),
      );
    } else {
      // One partition: nothing to share out, so the member only speaks (it needs nobody's heartbeats).
      c.#membership = new Membership(client.transport, { ...presence, partitions: 0, listen: false }, () => {});
    }
    for (const p of c.#pulls) p.start();
    c.#membership?.start();
    if (partitioned) c.#watchGrowth(client, stream);
    return c;
  }

  /**
   * A partitioned station can grow: the gateway announces it (a `station-changed` event) and,
   * in case that was missed, the member looks at the station's partitions every WATCH_MS.
   */
  #watchGrowth(client: ClientContext, stream: string): void {
    const tenant = parseStationStream(stream)?.tenant;
    const off = client.transport.subscribe(scopeOf(tenant).events(this.station, EventKind.StationChanged), (m) => {
      let n: unknown;
      try {
        n = (JSON.parse(dec.decode(m.data)) as { partitions?: unknown }).partitions;
      } catch {
        return;
      }
      if (typeof n === "number" && Number.isInteger(n)) void this.#grow(client, n);
    });
    const timer = setInterval(() => {
      client.stations.get(this.station).then(
        (s) => void this.#grow(client, s.config.partitions ?? 1),
        () => {},
      );
    }, WATCH_MS);
    timer.unref();
    this.#unwatch = () => {
      off();
      clearInterval(timer);
    };
  }

  /**
   * Starts reading the partitions a station grew by: the connection is renewed first (the server
   * grants a user each partition's consumer at connect), then one pull per new partition, and the
   * members share the partitions out again.
   */
  #grow(client: ClientContext, n: number): Promise<void> {
    if (this.#ended || n <= this.#pulls.length || n > MAX_PARTITIONS) return Promise.resolve();
    this.#growing ??= (async () => {
      try {
        await client.transport.reconnect();
        if (this.#ended) return;
        for (let i = this.#pulls.length; i < n; i++) {
          const p = this.#makePull(partitionConsumer(this.group, i));
          p.own(false);
          this.#pulls.push(p);
          p.start();
        }
        this.#membership?.resize(n);
      } finally {
        this.#growing = undefined;
      }
    })();
    return this.#growing;
  }

  /** Partitioned stations: reads the partitions in `owned`, lets the others go (freeing their pins). */
  #assign(owned: ReadonlySet<number>): void {
    if (this.#ended) return;
    this.#pulls.forEach((p, i) => {
      p.own(owned.has(i));
    });
  }

  #available(): void {
    const on = this.#onMessage;
    if (!on) {
      this.#notify();
      return;
    }
    for (let m = this.#next(); m; m = this.#next()) {
      try {
        this.#tracing.run(m, () => on(m));
      } catch {
        m.nak();
      }
    }
  }

  #end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  #next(): Message | undefined {
    const pulls = this.#pulls;
    if (pulls.length === 1) {
      const h = pulls[0]!.take();
      // Traced while tracing is on (the previous delivery's span ends: the application came back).
      return h ? this.#tracing.deliver(new Message(h, pulls[0]!, this.#schemas)) : undefined;
    }
    if (this.#remaining <= 0) {
      // maxMessages handed out: stop (what is still prefetched goes back on close).
      if (!this.#ended) void this.close();
      return undefined;
    }
    // A partition's pull hands out by key (a key lives on one partition).
    for (let k = 0; k < pulls.length; k++) {
      const p = pulls[(this.#rr + k) % pulls.length]!;
      const h = p.take();
      if (h) {
        this.#rr = (this.#rr + k + 1) % pulls.length;
        this.#remaining--;
        return this.#tracing.deliver(new Message(h, p, this.#schemas));
      }
    }
    return undefined;
  }

  /** Messages held now: prefetched plus handed out and not yet settled (at most batchSize; one per partition held on a partitioned station). */
  get held(): number {
    let n = 0;
    for (const p of this.#pulls) n += p.held;
    return n;
  }

  /** Partitioned stations: the partitions whose pin this member holds now. */
  get partitions(): number[] {
    const out: number[] = [];
    this.#pulls.forEach((p, i) => {
      if (this.#pulls.length > 1 && p.pinId !== undefined) out.push(i);
    });
    return out;
  }

  #drained(): boolean {
    return this.#pulls.every((p) => p.exhausted && p.buffered === 0 && p.outstanding === 0);
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
        const m = this.#next();
        if (m) return { done: false, value: m };
        if (this.#ended || this.#drained()) {
          await this.close();
          return done;
        }
        await new Promise<void>((r) => (this.#wake = r));
      }
    };
    return {
      next: () => {
        // Fast path: a message is waiting, so no await at all.
        const m = this.#next();
        return m ? Promise.resolve({ done: false, value: m }) : next();
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
   * other members get them without waiting. Messages handed out and not yet acked stay this
   * member's until they are settled or their ack time runs out (then they are resent); if the
   * process ends first, they are resent one member timeout later. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#tracing.close();
      this.#unwatch();
      this.#membership?.stop();
      if (this.#sharesPartitions) {
        // Bye was said first (the others take this member's partitions and wait on them); each
        // partition is handed over (what is out with the application finishes first, the rest
        // goes back in stream order) and its pin freed: it goes to its next owner at once.
        await Promise.all(this.#pulls.map((p) => p.handOver()));
      }
      await Promise.all(this.#pulls.map((p) => p.close()));
      this.#end();
    })();
    return this.#closed;
  }
}
