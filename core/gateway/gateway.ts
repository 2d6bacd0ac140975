import {
  connectNats,
  ensureStationStream,
  jetstreamManager,
  openMetadataBuckets,
  StoreWriter,
  type JetStreamManager,
  type MetadataBuckets,
  type Msg,
  type NatsConnection,
  type Subscription,
} from "../nats/index.js";
import { API_PREFIX, GATEWAY_QUEUE, JunctionError, PRODUCE_PREFIX, EventKind, errorFromNats, type ErrorBody } from "../protocol/index.js";
import { createLogger, type Logger } from "../server/logger.js";
import { natsEventPublisher, type EventPublisher } from "../dls/events.js";
import { StationRegistry } from "../stations/index.js";
import { stationHandlers, type ApiHandler } from "./admin.js";
import { ProduceHandler, type ProduceEvent, type ProduceStats } from "./produce.js";
import type { ProduceStage } from "./stages.js";

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** NATS URL(s). */
  servers: string | string[];
  /** The gateway user (full rights). */
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** Replicas of new stations and of the metadata buckets. @default 1 */
  defaultReplicas?: number;
  /** How long to wait for a JetStream store ack. @default 10000 */
  storeTimeoutMs?: number;
  /** @default a logger at "info" on stderr */
  logger?: Logger;
  /** Called after each produce request is answered (metrics). */
  onProduce?: (e: ProduceEvent) => void;
  /** Requests of at most this many messages skip the atomic batch (latency). @default 8 */
  smallBatchMessages?: number;
  /**
   * Adds to the gateway once it is connected: produce stages (schema validation, functions, in
   * order), admin handlers (`resource.verb`), and a stop function for services that share the
   * connection (DLS listener, watches).
   */
  extend?: (ctx: GatewayContext) => Promise<GatewayExtension>;
}

/** What an extension adds. */
export interface GatewayExtension {
  stages?: ProduceStage[];
  handlers?: Record<string, ApiHandler>;
  stop?: () => Promise<void>;
}

/** What extensions of the gateway get: its connection, JetStream manager and metadata. */
export interface GatewayContext {
  nc: NatsConnection;
  jsm: JetStreamManager;
  buckets: MetadataBuckets;
  stations: StationRegistry;
  logger: Logger;
  defaultReplicas: number;
  /** The shared store writer (core publishes with one reply subscription). */
  writer: StoreWriter;
  /** Live events on `jn.events.<station>.<kind>`. */
  events: EventPublisher;
}

/** A running gateway. */
export interface Gateway {
  readonly id: string;
  /** Connected, buckets and streams ready, subscriptions live. */
  readonly ready: boolean;
  readonly context: GatewayContext;
  produceStats(): ProduceStats;
  /** Stops taking requests, finishes those in flight, then closes. Idempotent. */
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

class GatewayImpl implements Gateway {
  readonly id = `gw-${Math.random().toString(36).slice(2, 10)}`;
  ready = false;
  readonly context: GatewayContext;
  readonly #produce: ProduceHandler;
  readonly #writer: StoreWriter;
  readonly #handlers: Map<string, ApiHandler>;
  #subs: Subscription[] = [];
  #closing: Promise<void> | undefined;
  #stopExtras: (() => Promise<void>) | undefined;

  constructor(ctx: GatewayContext, writer: StoreWriter, produce: ProduceHandler, handlers: Map<string, ApiHandler>) {
    this.context = ctx;
    this.#writer = writer;
    this.#produce = produce;
    this.#handlers = handlers;
  }

  async start(stop: (() => Promise<void>) | undefined): Promise<void> {
    const { nc } = this.context;
    this.#subs.push(
      nc.subscribe(`${PRODUCE_PREFIX}.*`, {
        queue: GATEWAY_QUEUE,
        callback: (_err, msg) => this.#produce.handle(msg.subject.slice(PRODUCE_PREFIX.length + 1), msg),
      }),
      nc.subscribe(`${API_PREFIX}.>`, {
        queue: GATEWAY_QUEUE,
        callback: (_err, msg) => void this.#api(msg),
      }),
    );
    this.#stopExtras = stop;
    await nc.flush();
    this.ready = true;
    this.context.logger.info("gateway ready", { id: this.id });
  }

  async #api(msg: Msg): Promise<void> {
    const op = msg.subject.slice(API_PREFIX.length + 1);
    let reply: { ok: true; data: unknown } | { ok: false; error: ErrorBody };
    try {
      const handler = this.#handlers.get(op);
      if (!handler) throw new JunctionError("INVALID_ARGUMENT", `unknown API operation '${op}'`, { details: { operation: op } });
      let body: unknown = {};
      if (msg.data.length > 0) {
        try {
          body = JSON.parse(dec.decode(msg.data));
        } catch (err) {
          throw new JunctionError("INVALID_FRAME", `the request body of '${op}' is not JSON`, { cause: err });
        }
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new JunctionError("INVALID_FRAME", `the request body of '${op}' must be a JSON object`);
      }
      reply = { ok: true, data: await handler(body as Record<string, unknown>) };
    } catch (err) {
      const e = err instanceof JunctionError ? err : errorFromNats(err, op);
      if (!(err instanceof JunctionError)) this.context.logger.error("admin operation failed", { op, error: (err as Error).message });
      reply = { ok: false, error: e.toBody() };
    }
    if (msg.reply) msg.respond(enc.encode(JSON.stringify(reply)));
  }

  produceStats(): ProduceStats {
    return { ...this.#produce.stats };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.ready = false;
      for (const s of this.#subs) s.unsubscribe();
      await this.#produce.idle();
      await this.#stopExtras?.();
      this.context.stations.close();
      this.#writer.close();
      if (!this.context.nc.isClosed()) await this.context.nc.drain();
      this.context.logger.info("gateway stopped", { id: this.id });
    })();
    return this.#closing;
  }
}

/**
 * Starts a gateway: connects as the gateway user, creates or upgrades the metadata buckets and
 * every station's stream, then serves `jn.produce.*` and `jn.api.>` in the `jn-gateway` queue
 * group, so any number of gateways share the load.
 */
export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const logger = o.logger ?? createLogger("info", "gateway");
  const defaultReplicas = o.defaultReplicas ?? 1;
  const nc = await connectNats({ servers: o.servers, user: o.user, pass: o.pass, token: o.token, name: "junction-gateway" });
  try {
    const jsm = await jetstreamManager(nc);
    const buckets = await openMetadataBuckets(nc, defaultReplicas);
    const stations = new StationRegistry(buckets.stations);
    await stations.start();
    // Upgrade: every known station's stream exists with the settings Junction needs now.
    for (const name of await stations.names()) {
      const rec = await stations.fresh(name);
      if (rec) await ensureStationStream(jsm, name, rec.config);
    }
    const writer = new StoreWriter(nc, o.storeTimeoutMs ?? 10_000);
    const events = natsEventPublisher(nc);
    const ctx: GatewayContext = { nc, jsm, buckets, stations, logger, defaultReplicas, writer, events };
    const ext: GatewayExtension = o.extend ? await o.extend(ctx) : {};
    const produce = new ProduceHandler({
      writer,
      lookup: (s) => stations.cached(s) ?? stations.get(s),
      stages: ext.stages ?? [],
      logger: logger.child("produce"),
      ...(o.onProduce ? { onRequest: o.onProduce } : {}),
      ...(o.smallBatchMessages !== undefined ? { smallBatchMessages: o.smallBatchMessages } : {}),
    });
    const handlers = new Map<string, ApiHandler>(
      Object.entries({
        ...stationHandlers({
          jsm,
          stations,
          groups: buckets.groups,
          defaultReplicas,
          onGroupChanged: (station, group, change) => events.publish(station, EventKind.GroupChanged, { group, change }),
        }),
        ...ext.handlers,
        ping: async () => ({ pong: true }),
      }),
    );
    const gw = new GatewayImpl(ctx, writer, produce, handlers);
    await gw.start(ext.stop);
    return gw;
  } catch (err) {
    await nc.close().catch(() => {});
    throw err instanceof JunctionError ? err : errorFromNats(err, "gateway startup");
  }
}
