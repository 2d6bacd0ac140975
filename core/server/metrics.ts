/**
 * The gateway's Prometheus metrics. Two kinds:
 *
 * - what this gateway did, counted as it happens: produce requests, messages, latency, rejections
 *   by code, validation failures, function errors and latency, dead letters it wrote;
 * - the state of the broker, read from JetStream when scraped and cached for `stateCacheMs`:
 *   consumer lag per group, dead letters held in the DLS, and whether each nats-server fsyncs
 *   before it acknowledges. Every gateway reports the same state series, so dashboards take
 *   `max by (station, group)` of them, not the sum.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { check, resolveOptions, type Filled } from "../protocol/index.js";
import type { ProduceEvent, ProduceStats } from "../gateway/index.js";
import type { FunctionRunEvent } from "../pipeline/index.js";
import { systemClock, type Clock } from "../support/index.js";

/** Options of {@link GatewayMetrics}. */
export interface GatewayMetricsOptions {
  /** How long broker state read from JetStream (lag, DLS) is reused between scrapes, in ms. @default 5000 */
  stateCacheMs?: number | undefined;
  /** How long a scrape waits for fresh broker state before it answers with the last known, in ms. @default 2000 */
  stateTimeoutMs?: number | undefined;
  /** Also export Node's process metrics (heap, event loop lag, GC) as `junction_process_*` / `junction_nodejs_*`. @default true */
  processMetrics?: boolean | undefined;
  /** @default the system clock */
  clock?: Clock | undefined;
}

/** Defaults of {@link GatewayMetricsOptions}. */
export const DEFAULT_GATEWAY_METRICS_OPTIONS: Filled<GatewayMetricsOptions> = Object.freeze({
  stateCacheMs: 5000,
  stateTimeoutMs: 2000,
  processMetrics: true,
  clock: systemClock,
});

/** Validates and freezes {@link GatewayMetricsOptions}; a bad value fails naming the option. */
export function resolveGatewayMetricsOptions(o: GatewayMetricsOptions = {}): Filled<GatewayMetricsOptions> {
  return resolveOptions("metrics", DEFAULT_GATEWAY_METRICS_OPTIONS, o, {
    stateCacheMs: check.int(0),
    stateTimeoutMs: check.int(0),
    processMetrics: check.bool,
    clock: check.any,
  });
}

/** One consumer group's lag. */
export interface GroupLag {
  station: string;
  group: string;
  pending: number;
  ackPending: number;
  redelivered: number;
  /**
   * Members online, as they announce themselves (on a one-partition station the pull requests
   * waiting, if more: clients that do not announce themselves).
   */
  members?: number | undefined;
  /**
   * Groups on a partitioned station: partitions, those a member holds, those whose message out was
   * redelivered (a parked key), and the keys members are retrying.
   */
  partitions?: { total: number; held: number; parked: number; retrying: number } | undefined;
}

/** One nats-server's JetStream durability setting. */
export interface ServerSync {
  /** The server's name (`server_name`). */
  server: string;
  /** `sync_interval: always`: the server fsyncs every write before acknowledging it. */
  syncAlways: boolean;
}

/** The state of the broker, as a scrape reports it. */
export interface BrokerState {
  groups: GroupLag[];
  /** `station`, `reason` and how many dead letters the DLS holds for them (every reason). */
  deadLetters: { station: string; reason: string; count: number }[];
  /**
   * Each nats-server's sync setting, when the gateway can read it (the servers' JetStream
   * configuration needs the system account); absent: unknown, and no series is exported.
   */
  servers?: ServerSync[] | undefined;
}

/** What the metrics read from the running gateway. */
export interface MetricsSource {
  /** Serving requests and connected to NATS. */
  ready(): boolean;
  produceStats(): ProduceStats;
  /** Requests dropped because their reply subject was not an inbox. */
  badReplySubjects(): number;
  /** Function versions quarantined now. */
  quarantinedFunctions(): number;
  /** Requests refused by each quota since start (`store`: refusals by the store's own limits). */
  quotaRefusals(): Readonly<Record<string, number>>;
  /** The store's free space as the storage guard last read it. */
  storage(): { state: string; headroomBytes: number | undefined; outOfSpace: number };
  /** Reads the broker's state (consumer lag, dead letters). */
  brokerState(): Promise<BrokerState>;
}

/** Error codes with a series of their own (the "validation failures" and "function errors"). */
const VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED";
const FUNCTION_FAILED = "FUNCTION_FAILED";
/** Produce-path rejections that the gateway also copies to the DLS, and the DLS reason they get. */
const DEAD_LETTER_REASON: Record<string, string> = {
  [VALIDATION_FAILED]: "schema",
  [FUNCTION_FAILED]: "function",
  FUNCTION_QUARANTINED: "function",
};

/** Latency buckets in seconds: 0.5 ms … 10 s (fsync before ack puts most produce requests in 1–50 ms). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics of one gateway. Feed it with {@link onProduce} (the gateway's `onProduce` option)
 * and {@link onFunctionRun} (the function stage's `onRun`); {@link bind} it to the running
 * gateway for readiness and broker state.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #o: Filled<GatewayMetricsOptions>;
  #src: MetricsSource | undefined;
  #state: BrokerState | undefined;
  #stateAt = 0;
  #refreshing: Promise<void> | undefined;

  readonly #requests: Counter<"station">;
  readonly #messages: Counter<"station" | "result">;
  readonly #latency: Histogram<"station">;
  readonly #rejected: Counter<"station" | "code">;
  readonly #requestErrors: Counter<"code">;
  readonly #validation: Counter<"station">;
  readonly #fnErrors: Counter<"station">;
  readonly #fnLatency: Histogram<"station">;
  readonly #workerExits: Counter<"reason">;
  readonly #storeErrors: Counter<"code">;
  readonly #dlsWritten: Counter<"station" | "reason">;
  readonly #stateErrors: Counter;

  constructor(o: GatewayMetricsOptions = {}) {
    this.#o = resolveGatewayMetricsOptions(o);
    const registers = [this.registry];
    if (this.#o.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: "junction_" });
    this.#requests = new Counter({
      name: "junction_produce_requests_total",
      help: "Produce requests answered, per station",
      labelNames: ["station"],
      registers,
    });
    this.#messages = new Counter({
      name: "junction_produce_messages_total",
      help: "Produced messages per station and result: accepted (stored, a duplicate, or dropped by a function) or rejected",
      labelNames: ["station", "result"],
      registers,
    });
    this.#latency = new Histogram({
      name: "junction_produce_latency_seconds",
      help: "Produce request latency, from receipt by the gateway to its reply (store ack included), per station",
      labelNames: ["station"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#rejected = new Counter({
      name: "junction_produce_rejected_total",
      help: "Messages refused, per station and error code",
      labelNames: ["station", "code"],
      registers,
    });
    this.#requestErrors = new Counter({
      name: "junction_produce_request_errors_total",
      help: "Whole produce requests refused before any message was read (unknown station, bad frame), per error code",
      labelNames: ["code"],
      registers,
    });
    this.#validation = new Counter({
      name: "junction_validation_failures_total",
      help: "Messages that failed schema validation, per station",
      labelNames: ["station"],
      registers,
    });
    this.#fnErrors = new Counter({
      name: "junction_function_errors_total",
      help: "Messages a station function failed on (threw, timed out, ran out of memory, bad output), per station",
      labelNames: ["station"],
      registers,
    });
    this.#fnLatency = new Histogram({
      name: "junction_function_latency_seconds",
      help: "Time to run a station's function pipeline over one produce batch, per station",
      labelNames: ["station"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#dlsWritten = new Counter({
      name: "junction_dead_letters_written_total",
      help: "Dead letters this gateway wrote on the produce path, per station and reason (schema, function)",
      labelNames: ["station", "reason"],
      registers,
    });
    this.#stateErrors = new Counter({
      name: "junction_state_collect_errors_total",
      help: "Failed reads of broker state (consumer lag, DLS) during scrapes",
      registers,
    });
    const stats = (name: string, help: string, pick: (s: ProduceStats) => number) => {
      const gw = () => this.#src;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const g = gw();
          if (!g) return;
          this.reset();
          this.inc(pick(g.produceStats()));
        },
      });
    };
    stats(
      "junction_produce_duplicates_total",
      "Messages reported as duplicates (their id was already stored), all stations",
      (s) => s.duplicates,
    );
    stats(
      "junction_produce_bad_input_total",
      "Messages refused for the client's own mistake (bad header, name, size): counted here, never logged as errors",
      (s) => s.badInput,
    );
    stats(
      "junction_produce_fallbacks_total",
      "Atomic batches refused for a duplicate id and published one by one, all stations",
      (s) => s.fallbacks,
    );

    const src = () => this.#src;
    new Counter({
      name: "junction_requests_refused_total",
      help: "Requests the gateway dropped unanswered, per reason (reply-subject: the reply subject was not an inbox)",
      labelNames: ["reason"],
      registers,
      collect() {
        const g = src();
        if (!g) return;
        this.reset();
        this.inc({ reason: "reply-subject" }, g.badReplySubjects());
      },
    });

    this.#workerExits = new Counter({
      name: "junction_function_worker_exits_total",
      help: "Function worker processes that ended, per reason (crashed, memory, hung, recycled, closed)",
      labelNames: ["reason"],
      registers,
    });
    new Counter({
      name: "junction_quota_refusals_total",
      help: "Requests refused with QUOTA_EXCEEDED, per quota (administration, produce, connections; store: the store's own limits)",
      labelNames: ["quota"],
      registers,
      collect() {
        const g = src();
        if (!g) return;
        this.reset();
        for (const [quota, n] of Object.entries(g.quotaRefusals())) if (n > 0) this.inc({ quota }, n);
      },
    });
    new Gauge({
      name: "junction_functions_quarantined",
      help: "Function versions quarantined now (their messages go straight to the DLS)",
      registers,
      collect() {
        const g = src();
        if (g) this.set(g.quarantinedFunctions());
      },
    });
    new Gauge({
      name: "junction_store_free_bytes",
      help: "Bytes the store can still take before a storage limit (the smallest over the account and the servers); absent when no limit is known",
      registers,
      collect() {
        const g = src();
        const free = g?.storage().headroomBytes;
        this.reset();
        if (free !== undefined) this.set(free);
      },
    });
    new Gauge({
      name: "junction_store_out_of_space",
      help: "1 while nats-server has stopped JetStream for lack of disk space (produce answers STORE_FULL)",
      registers,
      collect() {
        const g = src();
        if (g) this.set(g.storage().state === "out-of-space" ? 1 : 0);
      },
    });
    this.#storeErrors = new Counter({
      name: "junction_store_errors_total",
      help: "Store writes that failed, per error code (STORE_FULL, STORE_FAILED, STORE_TIMEOUT)",
      labelNames: ["code"],
      registers,
    });

    const isReady = () => this.ready;
    const state = () => this.#freshState();
    new Gauge({
      name: "junction_gateway_ready",
      help: "1 when the gateway serves requests and is connected to NATS",
      registers,
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    });
    /** A gauge per consumer group; groups `pick` has no value for are left out. */
    const lagGauge = (name: string, help: string, pick: (g: GroupLag) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["station", "group"],
        registers,
        async collect() {
          const s = await state();
          this.reset();
          for (const g of s?.groups ?? []) {
            const v = pick(g);
            if (v !== undefined) this.set({ station: g.station, group: g.group }, v);
          }
        },
      });
    lagGauge(
      "junction_consumer_lag",
      "Messages a consumer group has not acknowledged yet: pending + ack pending (broker-wide)",
      (g) => g.pending + g.ackPending,
    );
    lagGauge("junction_consumer_pending", "Messages not yet delivered to a consumer group (broker-wide)", (g) => g.pending);
    lagGauge(
      "junction_consumer_ack_pending",
      "Messages delivered to a consumer group and not acknowledged yet (broker-wide)",
      (g) => g.ackPending,
    );
    lagGauge(
      "junction_consumer_redelivered",
      "Messages redelivered to a consumer group at least once and not acknowledged yet (broker-wide)",
      (g) => g.redelivered,
    );
    const partitionGauge = (name: string, help: string, pick: (p: NonNullable<GroupLag["partitions"]>) => number) =>
      lagGauge(name, help, (g) => (g.partitions ? pick(g.partitions) : undefined));
    partitionGauge("junction_consumer_partitions", "Partitions of a consumer group on a partitioned station", (p) => p.total);
    partitionGauge(
      "junction_consumer_partitions_held",
      "Partitions of a consumer group that a member holds now (the rest wait for a member)",
      (p) => p.held,
    );
    partitionGauge(
      "junction_consumer_partitions_parked",
      "Partitions of a consumer group with a message out that the server delivered more than once (after a member crash or a hand-over)",
      (p) => p.parked,
    );
    partitionGauge(
      "junction_consumer_keys_retrying",
      "Keys of a consumer group on a partitioned station whose message a member is retrying now (their later messages wait; at most 20 per member are reported)",
      (p) => p.retrying,
    );
    lagGauge(
      "junction_consumer_members",
      "Members online in a consumer group, as they announce themselves (on a one-partition station the pull requests waiting, if more)",
      (g) => g.members,
    );
    new Gauge({
      name: "junction_dead_letters",
      help: "Dead letters held in the DLS, per station and reason (poison, terminated, schema, function; broker-wide)",
      labelNames: ["station", "reason"],
      registers,
      async collect() {
        const s = await state();
        this.reset();
        for (const d of s?.deadLetters ?? []) this.set({ station: d.station, reason: d.reason }, d.count);
      },
    });
    new Gauge({
      name: "junction_jetstream_sync_always",
      help: "1 when the nats-server fsyncs every write before acknowledging it (sync_interval: always), 0 when it syncs on a timer and can lose acknowledged writes on power failure; per server (broker-wide)",
      labelNames: ["server"],
      registers,
      async collect() {
        const s = await state();
        this.reset();
        for (const v of s?.servers ?? []) this.set({ server: v.server }, v.syncAlways ? 1 : 0);
      },
    });
  }

  /** Ready: the gateway serves requests and its NATS connection is up. */
  get ready(): boolean {
    return this.#src?.ready() === true;
  }

  /**
   * Attaches the running gateway: readiness, its produce counters, and the source of broker
   * state. Binding the same source again does nothing.
   */
  bind(src: MetricsSource): void {
    if (this.#src === src) return;
    this.#src = src;
    this.#state = undefined;
    this.#stateAt = 0;
  }

  /** Records one answered produce request (pass as the gateway's `onProduce`). */
  readonly onProduce = (e: ProduceEvent): void => {
    if (e.messages === 0) {
      // Refused as a whole: the station label would be whatever the client put in the subject.
      for (const code of e.errorCodes) {
        this.#requestErrors.inc({ code });
        if (code.startsWith("STORE_")) this.#storeErrors.inc({ code });
      }
      return;
    }
    const station = e.station;
    this.#requests.inc({ station });
    this.#latency.observe({ station }, e.latencyMs / 1000);
    if (e.stored > 0) this.#messages.inc({ station, result: "accepted" }, e.stored);
    if (e.rejected > 0) this.#messages.inc({ station, result: "rejected" }, e.rejected);
    for (const code of e.errorCodes) {
      this.#rejected.inc({ station, code });
      if (code === VALIDATION_FAILED) this.#validation.inc({ station });
      else if (code === FUNCTION_FAILED || code === "FUNCTION_QUARANTINED") this.#fnErrors.inc({ station });
      const reason = DEAD_LETTER_REASON[code];
      if (reason) this.#dlsWritten.inc({ station, reason });
      if (code.startsWith("STORE_")) this.#storeErrors.inc({ code });
    }
  };

  /** Records a function worker process that ended. */
  readonly onWorkerExit = (reason: string): void => {
    this.#workerExits.inc({ reason });
  };

  /** Records one run of a function pipeline (pass as the function stage's `onRun`). */
  readonly onFunctionRun = (e: FunctionRunEvent): void => {
    this.#fnLatency.observe({ station: e.station }, e.durationMs / 1000);
  };

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** Broker state no older than stateCacheMs, or the last known if reading it takes too long. */
  async #freshState(): Promise<BrokerState | undefined> {
    const src = this.#src;
    if (!src || !src.ready()) return this.#state;
    const now = this.#o.clock.now();
    if (now - this.#stateAt < this.#o.stateCacheMs) return this.#state;
    // One read at a time, shared by all series of a scrape (and by concurrent scrapes).
    this.#refreshing ??= src
      .brokerState()
      .then(
        (s) => {
          this.#state = s;
          this.#stateAt = this.#o.clock.now();
        },
        () => {
          this.#stateErrors.inc();
        },
      )
      .finally(() => {
        this.#refreshing = undefined;
      });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#refreshing, new Promise<void>((r) => (timer = setTimeout(r, this.#o.stateTimeoutMs)))]);
    clearTimeout(timer);
    return this.#state;
  }
}
