import {
  Headers,
  JunctionError,
  check,
  parseEventSubject,
  resolveOptions,
  scopeOf,
  subjects,
  type Filled,
  type Identity,
} from "../core/protocol/index.js";
import {
  adminApis,
  type DlsApi,
  type FunctionsApi,
  type GroupsApi,
  type QuotasApi,
  type SchemasApi,
  type StationsApi,
  type TenantsApi,
  type UsersApi,
} from "./admin.js";
import { Consumer, type ConsumerOptions } from "./consumer.js";
import type { ClientContext } from "./context.js";
import { Producer, type ProducerOptions } from "./producer.js";
import { unwrap } from "./reply.js";
import { SchemaCache } from "./schema-cache.js";
import { openTransport, type ConnectionState, type Transport } from "./transport.js";

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** NATS URL(s). @default "nats://127.0.0.1:4222" */
  servers?: string | string[] | undefined;
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** Client name, also recorded as the producer name. @default "junction-client" */
  name?: string | undefined;
  /** Timeout of admin requests, in ms. @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** Give up the first connect after this long, in ms. @default 5000 */
  connectTimeoutMs?: number | undefined;
  /** An operator acting in another tenant: every admin request and produce carries it. */
  tenant?: string | undefined;
  /** TLS: the CA file that signed the broker's certificate; a client certificate and key when the broker verifies clients. */
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
}

type OptionalConnect = "user" | "pass" | "token" | "tenant" | "tls";

/** Defaults of {@link ConnectOptions}. */
export const DEFAULT_CONNECT_OPTIONS: Filled<Omit<ConnectOptions, OptionalConnect>> = Object.freeze({
  servers: "nats://127.0.0.1:4222",
  name: "junction-client",
  requestTimeoutMs: 10_000,
  connectTimeoutMs: 5000,
});

/** Resolved connect options. */
export type ResolvedConnectOptions = Filled<Omit<ConnectOptions, OptionalConnect>> & Readonly<Pick<ConnectOptions, OptionalConnect>>;

/** Validates and freezes connect options; a bad value fails naming the option. */
export function resolveConnectOptions(o: ConnectOptions = {}): ResolvedConnectOptions {
  return resolveOptions<ResolvedConnectOptions>("connect", DEFAULT_CONNECT_OPTIONS, o, {
    servers: check.strings,
    user: check.string,
    pass: check.string,
    token: check.string,
    name: check.string,
    requestTimeoutMs: check.int(1, 3_600_000),
    connectTimeoutMs: check.int(1, 600_000),
    tenant: check.string,
    tls: check.any,
  });
}

/** A live event from the broker (`jn.events.<station>.<kind>`): dead letters, resends, drops, group changes. */
export interface ClientEvent {
  station: string;
  kind: string;
  /** The event body (JSON), undefined when it was not JSON. */
  data: unknown;
}

/** A stream of live events; end it with `close()` or by leaving the loop. */
export interface EventStream extends AsyncIterable<ClientEvent> {
  close(): void;
}

/** The connection as a client sees it. */
export interface ClientStatus {
  state: ConnectionState;
  /** The server it is connected to, when connected. */
  server: string | undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Operations that must not be sent twice (their second run does something else). */
const NOT_IDEMPOTENT = new Set(["dls.resend", "user.create", "user.rotate-password"]);

/** A connection to a Junction broker. */
export class JunctionClient implements ClientContext {
  readonly name: string;
  readonly transport: Transport;
  readonly stations: StationsApi;
  readonly groups: GroupsApi;
  readonly schemas: SchemasApi;
  readonly functions: FunctionsApi;
  readonly dls: DlsApi;
  readonly users: UsersApi;
  readonly tenants: TenantsApi;
  readonly quotas: QuotasApi;
  /** Compiled schemas, fetched once per version (Protobuf encode/decode). */
  readonly schemaCache: SchemaCache;
  readonly #o: ResolvedConnectOptions;
  readonly #closeables = new Set<{ close(): Promise<void> }>();
  #closed: Promise<void> | undefined;

  constructor(transport: Transport, o: ResolvedConnectOptions) {
    this.transport = transport;
    this.#o = o;
    this.name = o.name;
    const admin = adminApis((op, body, timeoutMs) => this.request(op, body, timeoutMs));
    this.stations = admin.stations;
    this.groups = admin.groups;
    this.schemas = admin.schemas;
    this.functions = admin.functions;
    this.dls = admin.dls;
    this.users = admin.users;
    this.tenants = admin.tenants;
    this.quotas = admin.quotas;
    this.schemaCache = new SchemaCache(this.schemas);
  }

  /**
   * Calls an admin operation (`jn.api.<op>`). Throws the gateway's JunctionError, or
   * GATEWAY_UNAVAILABLE / TIMEOUT (retriable).
   */
  async request<T>(op: string, body: unknown, timeoutMs = this.#o.requestTimeoutMs): Promise<T> {
    const data = await this.transport.request(
      subjects.apiOp(op),
      enc.encode(JSON.stringify(body)),
      timeoutMs,
      this.headers,
      !NOT_IDEMPOTENT.has(op),
    );
    const out = unwrap<T>(data);
    // The gateway says when this connection's rights predate what was just created (a station
    // or group the user's patterns match): reconnecting makes the server grant them.
    if (typeof out === "object" && out !== null && (out as { reconnect?: unknown }).reconnect === true) await this.transport.reconnect();
    return out;
  }

  /** Headers every request carries (an operator's tenant). */
  get headers(): Record<string, string> | undefined {
    return this.#o.tenant !== undefined ? { [Headers.Tenant]: this.#o.tenant } : undefined;
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

  /** Who this client is: its user, tenant and grants, as the gateway sees them. */
  whoami(): Promise<Identity> {
    this.#whoami ??= this.request<Identity>("auth.whoami", {});
    this.#whoami.catch(() => (this.#whoami = undefined));
    return this.#whoami;
  }
  #whoami: Promise<Identity> | undefined;

  /**
   * Live events of the broker, as they happen (best effort: events are not stored, so a client
   * sees those published while it listens). `station` narrows them to one station. The client
   * sees the events of the stations its grants name.
   */
  events(o: { station?: string } = {}): EventStream {
    const queue: ClientEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let unsubscribe = () => {};
    const onEvent = (m: { subject: string; data: Uint8Array }) => {
      const p = parseEventSubject(m.subject);
      if (!p) return;
      let data: unknown;
      try {
        data = JSON.parse(dec.decode(m.data));
      } catch {
        data = undefined;
      }
      // A slow reader must not make the client hold events without bound.
      if (queue.length >= 10_000) queue.shift();
      queue.push({ station: p.station, kind: p.kind, data });
      wake?.();
    };
    // The subjects are the tenant's (a tenant's events live under its own prefix).
    void this.whoami().then(
      (id) => {
        if (!done) unsubscribe = this.transport.subscribe(scopeOf(id.tenant).eventsAll(o.station), onEvent);
      },
      () => {
        if (!done) unsubscribe = this.transport.subscribe(scopeOf().eventsAll(o.station), onEvent);
      },
    );
    const close = () => {
      if (done) return;
      done = true;
      unsubscribe();
      wake?.();
    };
    const offState = this.transport.onState((s) => {
      if (s === "closed") close();
    });
    return {
      close: () => {
        offState();
        close();
      },
      [Symbol.asyncIterator]: (): AsyncIterator<ClientEvent> => ({
        next: async () => {
          for (;;) {
            const e = queue.shift();
            if (e) return { done: false, value: e };
            if (done) return { done: true, value: undefined };
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
        },
        return: async () => {
          offState();
          close();
          return { done: true, value: undefined };
        },
      }),
    };
  }

  /** The connection's state now. */
  status(): ClientStatus {
    return { state: this.transport.state(), server: this.transport.server() };
  }

  /** Calls `cb` whenever the connection's state changes; returns an unsubscribe function. */
  onStatus(cb: (s: ClientStatus) => void): () => void {
    return this.transport.onState(() => cb(this.status()));
  }

  /** Flushes producers, stops consumers and closes the connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const c of this.#closeables) await c.close().catch(() => {});
      await this.transport.close();
    })();
    return this.#closed;
  }
}

/**
 * Connects to a Junction broker (as an application user).
 * Throws AUTH_FAILED for refused credentials, NATS_UNAVAILABLE when nothing answers.
 */
export async function connect(options: ConnectOptions = {}): Promise<JunctionClient> {
  const o = resolveConnectOptions(options);
  if (o.pass !== undefined && o.user === undefined) {
    throw new JunctionError("INVALID_ARGUMENT", "connect.pass needs connect.user", { details: { option: "connect.user" } });
  }
  const transport = await openTransport({
    servers: o.servers,
    user: o.user,
    pass: o.pass,
    token: o.token,
    name: o.name,
    timeoutMs: o.connectTimeoutMs,
    tls: o.tls,
  });
  return new JunctionClient(transport, o);
}
