import { subjects, type GroupConfig, type GroupInfo, type StationConfig, type StationInfo } from "../core/protocol/index.js";
import { openConnection, request, type NatsConnection } from "./transport.js";
import { unwrap } from "./reply.js";
import { SchemaCache } from "./schema-cache.js";
import { adminApis, type DlsApi, type FunctionsApi, type SchemasApi } from "./admin.js";
import { Producer, type ProducerOptions } from "./producer.js";
import { Consumer, type ConsumerOptions } from "./consumer.js";

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** NATS URL(s). @default "nats://127.0.0.1:4222" */
  servers?: string | string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Client name, also recorded as the producer name. */
  name?: string;
  /** Timeout of admin requests. @default 10000 */
  requestTimeoutMs?: number;
}

/** Station administration. */
export interface StationsApi {
  /** Creates a station. Creating it again with the same settings returns it unchanged; other settings fail with STATION_EXISTS. */
  create(name: string, config?: Partial<StationConfig>): Promise<StationInfo & { created: boolean }>;
  get(name: string): Promise<StationInfo>;
  list(): Promise<StationInfo[]>;
  /** Changes retention, limits, replicas, de-duplication window or max message size. */
  update(name: string, config: Partial<StationConfig>): Promise<StationInfo>;
  delete(name: string): Promise<void>;
}

/** Consumer group administration. */
export interface GroupsApi {
  create(station: string, group: string, config?: Partial<GroupConfig>): Promise<GroupInfo & { created: boolean }>;
  get(station: string, group: string): Promise<GroupInfo>;
  list(station: string): Promise<GroupInfo[]>;
  delete(station: string, group: string): Promise<void>;
}

const enc = new TextEncoder();

/** A connection to a Junction broker. */
export class JunctionClient {
  readonly nc: NatsConnection;
  readonly name: string;
  readonly stations: StationsApi;
  readonly groups: GroupsApi;
  readonly schemas: SchemasApi;
  readonly functions: FunctionsApi;
  readonly dls: DlsApi;
  /** Compiled schemas, fetched once per version (Protobuf encode/decode). */
  readonly schemaCache: SchemaCache;
  readonly #timeoutMs: number;
  readonly #closeables = new Set<{ close(): Promise<void> }>();
  #closed: Promise<void> | undefined;

  constructor(nc: NatsConnection, o: ConnectOptions) {
    this.nc = nc;
    this.name = o.name ?? "junction-client";
    this.#timeoutMs = o.requestTimeoutMs ?? 10_000;
    this.stations = {
      create: (name, config) => this.request("station.create", { name, config: config ?? {} }),
      get: (name) => this.request("station.get", { name }),
      list: () => this.request("station.list", {}),
      update: (name, config) => this.request("station.update", { name, config }),
      delete: async (name) => {
        await this.request("station.delete", { name });
      },
    };
    this.groups = {
      create: (station, group, config) => this.request("group.create", { station, group, config: config ?? {} }),
      get: (station, group) => this.request("group.get", { station, group }),
      list: (station) => this.request("group.list", { station }),
      delete: async (station, group) => {
        await this.request("group.delete", { station, group });
      },
    };
    const admin = adminApis((op, body, timeoutMs) => this.request(op, body, timeoutMs));
    this.schemas = admin.schemas;
    this.functions = admin.functions;
    this.dls = admin.dls;
    this.schemaCache = new SchemaCache(this.schemas);
  }

  /**
   * Calls an admin operation (`jn.api.<op>`). Throws the gateway's JunctionError, or
   * GATEWAY_UNAVAILABLE / TIMEOUT (retriable).
   */
  async request<T>(op: string, body: unknown, timeoutMs = this.#timeoutMs): Promise<T> {
    const [resource, verb] = op.split(".");
    const subject = verb === undefined ? `jn.api.${op}` : subjects.api(resource!, verb);
    const data = await request(this.nc, subject, enc.encode(JSON.stringify(body)), timeoutMs);
    return unwrap<T>(data);
  }

  /** A producer for one station. */
  producer(o: ProducerOptions): Producer {
    const p = new Producer(this, o);
    this.#closeables.add(p);
    return p;
  }

  /** Joins a consumer group (creating it when needed) and starts pulling. */
  async consumer(o: ConsumerOptions): Promise<Consumer> {
    const c = await Consumer.start(this, o);
    this.#closeables.add(c);
    return c;
  }

  /** Flushes producers, stops consumers and closes the connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const c of this.#closeables) await c.close().catch(() => {});
      if (!this.nc.isClosed()) await this.nc.drain().catch(() => {});
    })();
    return this.#closed;
  }
}

/**
 * Connects to a Junction broker (as the client user).
 * Throws AUTH_FAILED for refused credentials, NATS_UNAVAILABLE when nothing answers.
 */
export async function connect(o: ConnectOptions = {}): Promise<JunctionClient> {
  const nc = await openConnection({
    servers: o.servers ?? "nats://127.0.0.1:4222",
    user: o.user,
    pass: o.pass,
    token: o.token,
    name: o.name,
  });
  return new JunctionClient(nc, o);
}
