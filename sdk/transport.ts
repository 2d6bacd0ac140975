/**
 * The SDK's only contact with the NATS client library: connect, request, pull consumers, live
 * events and connection status. (In core/, core/nats/ plays this role; the SDK depends on core
 * only for the protocol.) Nothing from nats.js leaves this file except the message type the
 * consumer wraps.
 */
import { connect } from "@nats-io/transport-node";
import { createInbox, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import {
  CLIENT_JS_API_PREFIX,
  JunctionError,
  errorFromNats,
  inboxPrefixOf,
  natsConnectOptions,
  type ConnectSettings,
} from "../core/protocol/index.js";

const RENEWED = Symbol("renewed");

/** Connection settings. */
export type TransportOptions = ConnectSettings;

/** The connection's state. */
export type ConnectionState = "connected" | "reconnecting" | "closed";

/**
 * A message a pull delivered, with JetStream's ack protocol on its reply subject. The first final
 * answer (ack, nak, term) wins; later ones are not sent. `working()` may be sent any number of times.
 */
export interface Delivery {
  /** The subject it was stored on. */
  readonly subject: string;
  readonly data: Uint8Array;
  /** Stream sequence. */
  readonly seq: number;
  /** How many times the consumer delivered it (1 on the first delivery). */
  readonly deliveryCount: number;
  /** When it was stored, in ns since the epoch. */
  readonly timestampNanos: number;
  /** The consumer's pin id (priority group with pinned clients), when the server sent one. */
  readonly pinId: string | undefined;
  /** Whether a final answer (ack, nak, term) was sent. */
  readonly settled: boolean;
  /** Header values as a plain record (atomic-batch bookkeeping headers left out). */
  headers(): Record<string, string>;
  ack(): void;
  /** Acks and waits for the server's confirmation; false when none came within `timeoutMs`. */
  ackAndWait(timeoutMs: number): Promise<boolean>;
  /** Asks for a redelivery, after `delayMs` when given. */
  nak(delayMs?: number): void;
  /** Restarts the server's ack timer (`+WPI`). */
  working(): void;
  /**
   * Gives the message back because its time ran out (a nak that is not final: the application
   * may still ack or term it later, which then still counts).
   */
  timeout(): void;
  /** Gives up on the message; `reason` goes into the server's terminated advisory. */
  term(reason?: string): void;
}

/** One JetStream pull request. */
export interface PullRequest {
  /** Most messages it may deliver. */
  batch: number;
  /** How long the server keeps it waiting, in ms. */
  expiresMs: number;
  /** Idle heartbeat interval asked of the server, in ms (0 = none; at most half of expiresMs). */
  heartbeatMs: number;
  /** Most bytes it may deliver (a message larger than what is left ends the request instead). */
  maxBytes?: number | undefined;
  /** Answer at once when nothing is pending instead of waiting. */
  noWait?: boolean | undefined;
  /** The consumer's priority group (consumers with a priority policy). */
  group?: string | undefined;
  /** The pin id held (consumers that pin one client). */
  pinId?: string | undefined;
}

/** What the server said about pull requests, besides delivering messages. */
export type PullStatus =
  /** A request ended (expired, refused, or its bytes ran out) leaving `unfilled` of its batch undelivered. */
  | { kind: "ended"; unfilled: number; code: number; description: string }
  /** An idle heartbeat: the server still holds a request. */
  | { kind: "heartbeat" }
  /** The consumer pinned another client (or none): this member's pin id is void. */
  | { kind: "unpinned"; unfilled: number }
  /** The consumer was deleted. */
  | { kind: "consumer-deleted" }
  /** The connection came back: requests made before are gone. */
  | { kind: "reconnected" };

/** A subscription for pull requests to one consumer, and the requests made on it. */
export interface PullChannel {
  /** Sends a pull request. */
  request(r: PullRequest): void;
  /**
   * Stops taking messages: unsubscribes, and hands messages that were already on their way to
   * `onLate` (so they can be given back) until the server confirmed the unsubscribe.
   */
  close(onLate: (d: Delivery) => void): Promise<void>;
}

/** What a member needs to know of its consumer from the server. */
export interface ConsumerFacts {
  /** The server's ack wait, in ms. */
  ackWaitMs: number;
  /** Deliveries before the server gives up on a message; -1 = unlimited. */
  maxDeliver: number;
  /** The consumer's priority groups, if it has a priority policy. */
  priorityGroups: string[];
  /** `pinned_client`, `overflow`, `prioritized` or `none`. */
  priorityPolicy: string;
  /** Pull requests waiting on the consumer now. */
  waiting: number;
  /** The pin id of the member holding a pinned-client consumer now, if any. */
  pinnedId?: string | undefined;
}

/** One raw message on a subscribed subject. */
export interface RawMessage {
  subject: string;
  data: Uint8Array;
}

/** What the SDK needs of a NATS connection. */
export interface Transport {
  /**
   * Sends a request with optional headers; NATS errors become JunctionErrors. A request in flight
   * when this client renews its connection (see {@link reconnect}) is sent again once connected
   * when `idempotent` (the default), else fails with TIMEOUT (retriable: it may have been done).
   */
  request(subject: string, data: Uint8Array, timeoutMs: number, hdrs?: Record<string, string>, idempotent?: boolean): Promise<Uint8Array>;
  /** A consumer's settings as the server has them; NATS errors become JunctionErrors. */
  consumerInfo(stream: string, consumer: string): Promise<ConsumerFacts>;
  /**
   * Opens a channel for pull requests to a durable consumer (a consumer group). Messages go to
   * `onMessage`, everything else the server says about the requests to `onStatus`.
   */
  pull(stream: string, consumer: string, onMessage: (d: Delivery) => void, onStatus: (s: PullStatus) => void): PullChannel;
  /**
   * Makes the server look at a consumer's next message without taking it: a pull request for at
   * most 1 byte. The server gives up on (and reports) messages past their last delivery on the
   * way, and hands out nothing. Resolves once the server answered or after `timeoutMs`.
   */
  probe(stream: string, consumer: string, group: string | undefined, timeoutMs: number): Promise<void>;
  /**
   * Frees a pinned consumer's pin (`group` is its priority group): the server gives it to the next
   * member waiting on the consumer. NATS errors become JunctionErrors.
   */
  unpin(stream: string, consumer: string, group: string): Promise<void>;
  /** Subscribes to a subject; returns an unsubscribe function. */
  subscribe(subject: string, onMessage: (m: RawMessage) => void): () => void;
  /** Publishes a message (fire and forget; dropped while disconnected). */
  publish(subject: string, data: Uint8Array): void;
  /** The connection's state now. */
  state(): ConnectionState;
  /** The server it is connected to (host:port), when connected. */
  server(): string | undefined;
  /** Largest message the server accepts, in bytes. */
  maxPayload(): number;
  /** Calls `cb` when the state changes; returns an unsubscribe function. */
  onState(cb: (s: ConnectionState) => void): () => void;
  /**
   * Reconnects now and resolves once connected again: the server authenticates the user anew, so
   * the connection gets the rights the user has now (after a station or group it may use was
   * created).
   */
  reconnect(): Promise<void>;
  /** Flushes and closes (idempotent). */
  close(): Promise<void>;
}

/** Opens a NATS connection; errors become JunctionErrors (AUTH_FAILED, NATS_UNAVAILABLE…). */
export async function openTransport(o: TransportOptions): Promise<Transport> {
  let nc: NatsConnection;
  try {
    // A user's inbox is private (`_INBOX_<user>`): its permissions allow subscribing there only.
    nc = await connect({
      ...natsConnectOptions(o, "junction-client"),
      ...(o.user ? { inboxPrefix: inboxPrefixOf(o.user) } : {}),
      // After a nats-server restart the server asks the gateway (auth callout) who a client is;
      // a client that reconnects before the gateway is back is refused. nats.js gives up for good
      // after two refusals in a row: keep trying instead (a first connect still fails at once).
      ignoreAuthErrorAbort: true,
    });
  } catch (err) {
    throw errorFromNats(err, `cannot connect to NATS at ${String(o.servers)}`);
  }
  return natsTransport(nc, o.user ? inboxPrefixOf(o.user) : "_INBOX");
}

function natsTransport(nc: NatsConnection, inboxPrefix: string): Transport {
  let state: ConnectionState = "connected";
  const listeners = new Set<(s: ConnectionState) => void>();
  const set = (s: ConnectionState) => {
    if (s === state) return;
    state = s;
    for (const l of listeners) l(s);
  };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnecting" || s.type === "staleConnection") set("reconnecting");
      else if (s.type === "reconnect") set("connected");
    }
  })().catch(() => {});
  void nc.closed().then(() => set("closed"));
  let closing: Promise<void> | undefined;
  // Renewing the connection (reconnect()): requests in flight race `renewal`, which fires when a
  // renewal starts; new requests wait for `renewing`.
  let generation = 0;
  let renew: () => void = () => {};
  let renewal = new Promise<void>((r) => (renew = r));
  let renewing: Promise<void> | undefined;
  const pausers = new Set<() => Promise<void>>();
  // Answers to deliveries given while the connection is down (or being renewed) wait here.
  let holding = false;
  let outbox: { subject: string; data: Uint8Array }[] = [];
  const MAX_HELD_ANSWERS = 100_000;
  const sendHeld = (s: ConnectionState) => {
    if (s !== "connected") return;
    holding = false;
    const q = outbox;
    outbox = [];
    for (const m of q) nc.publish(m.subject, m.data);
  };
  // Registered before any pull channel's listener: acks go out before new pull requests.
  listeners.add(sendHeld);
  const whenConnected = (timeoutMs: number): Promise<boolean> =>
    !holding && state === "connected"
      ? Promise.resolve(true)
      : new Promise((resolve) => {
          const t = setTimeout(() => {
            listeners.delete(on);
            resolve(false);
          }, timeoutMs);
          const on = (s: ConnectionState) => {
            if (s === "connected" || s === "closed") {
              clearTimeout(t);
              listeners.delete(on);
              resolve(s === "connected");
            }
          };
          listeners.add(on);
        });
  const answers: Answers = {
    publish(subject, data) {
      // A closed connection cannot answer; the server resends the message after its ack wait.
      if (nc.isClosed()) return;
      if (holding || state !== "connected") {
        if (outbox.length < MAX_HELD_ANSWERS) outbox.push({ subject, data });
        return;
      }
      nc.publish(subject, data);
    },
    async request(subject, data, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      if (!(await whenConnected(timeoutMs))) return false;
      try {
        await nc.request(subject, data, { timeout: Math.max(1, deadline - Date.now()) });
        return true;
      } catch {
        return false;
      }
    },
  };

  return {
    async request(subject, data, timeoutMs, hdrs, idempotent = true) {
      let h;
      if (hdrs) {
        h = natsHeaders();
        for (const k in hdrs) h.set(k, hdrs[k]!);
      }
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (renewing) await renewing;
        const gen = generation;
        const sent = nc.request(subject, data, { timeout: Math.max(1, deadline - Date.now()), ...(h ? { headers: h } : {}) });
        let r;
        try {
          r = await Promise.race([sent, renewal.then((): typeof RENEWED => RENEWED)]);
        } catch (err) {
          throw errorFromNats(err, `request on ${subject}`);
        }
        if (r !== RENEWED) return r.data;
        sent.catch(() => {}); // its reply, if any, is lost with the old connection
        if (!idempotent || gen === generation) {
          throw new JunctionError(
            "TIMEOUT",
            `request on ${subject}: the connection was renewed while it was in flight; it may or may not have been done`,
          );
        }
      }
    },
    async consumerInfo(stream, consumer) {
      let r: Uint8Array;
      try {
        r = (await nc.request(`${CLIENT_JS_API_PREFIX}.CONSUMER.INFO.${stream}.${consumer}`, undefined, { timeout: 10_000 })).data;
      } catch (err) {
        throw errorFromNats(err, `cannot read consumer group '${consumer}' of ${stream}`);
      }
      return consumerFacts(r, stream, consumer);
    },
    pull(stream, consumer, onMessage, onStatus) {
      // The consumer API reaches the broker's JetStream under a prefix the client account imports.
      return pullChannel(nc, inboxPrefix, `${CLIENT_JS_API_PREFIX}.CONSUMER.MSG.NEXT.${stream}.${consumer}`, onMessage, onStatus, {
        answers,
        onReconnect(cb) {
          let was = state;
          const on = (s: ConnectionState) => {
            if (s === "connected" && was !== "connected") cb();
            was = s;
          };
          listeners.add(on);
          return () => listeners.delete(on);
        },
        onRenew(pause) {
          pausers.add(pause);
          return () => pausers.delete(pause);
        },
      });
    },
    async probe(stream, consumer, group, timeoutMs) {
      const body: Record<string, unknown> = { batch: 1, max_bytes: 1, no_wait: true, expires: Math.round(timeoutMs * NS_PER_MS) };
      if (group !== undefined) body["group"] = group;
      // The reply subject must have a subscriber while the request waits: the server drops
      // waiting requests nobody listens to before it looks at any message.
      await nc
        .request(`${CLIENT_JS_API_PREFIX}.CONSUMER.MSG.NEXT.${stream}.${consumer}`, enc.encode(JSON.stringify(body)), {
          timeout: timeoutMs + 1000,
        })
        .catch(() => {});
    },
    async unpin(stream, consumer, group) {
      let r: Uint8Array;
      try {
        r = (
          await nc.request(`${CLIENT_JS_API_PREFIX}.CONSUMER.UNPIN.${stream}.${consumer}`, enc.encode(JSON.stringify({ group })), {
            timeout: 10_000,
          })
        ).data;
      } catch (err) {
        throw errorFromNats(err, `cannot unpin consumer group '${consumer}' of ${stream}`);
      }
      apiError(r, stream, consumer);
    },
    publish(subject, data) {
      if (nc.isClosed()) return;
      try {
        nc.publish(subject, data);
      } catch {
        /* closing or draining: the message is not needed any more */
      }
    },
    subscribe(subject, onMessage) {
      const sub = nc.subscribe(subject, {
        callback: (err, msg) => {
          if (!err) onMessage({ subject: msg.subject, data: msg.data });
        },
      });
      return () => sub.unsubscribe();
    },
    state: () => (nc.isClosed() ? "closed" : state),
    server: () => (nc.isClosed() ? undefined : nc.getServer()),
    maxPayload: () => nc.info?.max_payload ?? 1024 * 1024,
    onState(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    reconnect() {
      renewing ??= (async () => {
        const back = new Promise<void>((resolve) => {
          const off = () => listeners.delete(on);
          const on = (s: ConnectionState) => {
            if (s === "connected" || s === "closed") {
              off();
              resolve();
            }
          };
          listeners.add(on);
        });
        // Pull channels stop taking messages first, so none is sent into the closing connection;
        // answers already written are flushed to the server, later ones wait for the new one.
        await Promise.all([...pausers].map((p) => p()));
        await Promise.race([nc.flush().catch(() => {}), new Promise<void>((r) => setTimeout(r, PAUSE_WAIT_MS).unref())]);
        holding = true;
        // Requests in flight will get no reply on the old connection: tell them now.
        generation++;
        const fire = renew;
        renewal = new Promise<void>((r) => (renew = r));
        fire();
        await nc.reconnect();
        await back;
      })().finally(() => {
        renewing = undefined;
      });
      return renewing;
    },
    close() {
      // Drain when connected (pending replies arrive); a connection that is down (a removed user
      // can never reconnect) is closed at once rather than waiting for a reconnect.
      closing ??= nc.isClosed()
        ? Promise.resolve()
        : state === "connected"
          ? Promise.race([nc.drain(), new Promise<void>((r) => setTimeout(r, 5000).unref())]).then(
              () => nc.close(),
              () => nc.close(),
            )
          : nc.close();
      return closing;
    },
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const ACK = enc.encode("+ACK");
const NAK = enc.encode("-NAK");
const WPI = enc.encode("+WPI");
const TERM = enc.encode("+TERM");
const NS_PER_MS = 1_000_000;

type ApiError = { code?: number; err_code?: number; description?: string };

/** A JetStream API error about a consumer, as a JunctionError. */
function throwApiError(e: ApiError | undefined, stream: string, consumer: string): void {
  if (!e) return;
  // 10014 consumer not found, 10059 stream not found (nats-server errors.json).
  const missing = e.err_code === 10014 || e.err_code === 10059;
  throw new JunctionError(
    missing ? "GROUP_NOT_FOUND" : "INTERNAL",
    `consumer group '${consumer}' of ${stream}: ${e.description ?? "unknown error"}`,
    {
      details: { stream, group: consumer, errCode: e.err_code },
    },
  );
}

/** Reads a JetStream API answer about a consumer that carries nothing but an error, if any. */
function apiError(data: Uint8Array, stream: string, consumer: string): void {
  let r: { error?: ApiError };
  try {
    r = JSON.parse(dec.decode(data)) as typeof r;
  } catch (err) {
    throw new JunctionError("INTERNAL", `the answer about '${consumer}' on ${stream} is not JSON`, { cause: err });
  }
  throwApiError(r.error, stream, consumer);
}

/** Reads the consumer info the server answered; an API error becomes a JunctionError. */
function consumerFacts(data: Uint8Array, stream: string, consumer: string): ConsumerFacts {
  let r: {
    error?: ApiError;
    config?: { ack_wait?: number; max_deliver?: number; priority_groups?: string[]; priority_policy?: string };
    num_waiting?: number;
    priority_groups?: { pinned_client_id?: string }[];
  };
  try {
    r = JSON.parse(dec.decode(data)) as typeof r;
  } catch (err) {
    throw new JunctionError("INTERNAL", `consumer info of '${consumer}' on ${stream} is not JSON`, { cause: err });
  }
  throwApiError(r.error, stream, consumer);
  const c = r.config ?? {};
  return {
    ackWaitMs: Math.round((c.ack_wait ?? 30_000 * NS_PER_MS) / NS_PER_MS),
    maxDeliver: c.max_deliver ?? -1,
    priorityGroups: c.priority_groups ?? [],
    priorityPolicy: c.priority_policy ?? "none",
    waiting: r.num_waiting ?? 0,
    ...(r.priority_groups?.[0]?.pinned_client_id ? { pinnedId: r.priority_groups[0].pinned_client_id } : {}),
  };
}

/**
 * The delivery a JetStream ack subject describes. Two layouts exist:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` and, with a domain and
 * account hash, `$JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>.<token>`.
 */
export function parseAckSubject(reply: string): { deliveryCount: number; seq: number; timestampNanos: number } | undefined {
  const t = reply.split(".");
  if (t[0] !== "$JS" || t[1] !== "ACK") return undefined;
  const at = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1;
  if (at < 0) return undefined;
  const deliveryCount = Number(t[at]);
  const seq = Number(t[at + 1]);
  const timestampNanos = Number(t[at + 3]);
  if (!Number.isSafeInteger(deliveryCount) || !Number.isSafeInteger(seq) || !Number.isFinite(timestampNanos)) return undefined;
  return { deliveryCount, seq, timestampNanos };
}

/**
 * A delivered message. A class with lazy fields (not an object of closures): one is made per
 * message at full consumption speed, and most messages are only acked, so neither the ack
 * subject nor the headers are parsed unless asked for.
 */
class NatsDelivery implements Delivery {
  readonly #out: Answers;
  readonly #m: Msg;
  readonly #reply: string;
  #info: { deliveryCount: number; seq: number; timestampNanos: number } | undefined;
  #headers: Record<string, string> | undefined;
  #settled = false;

  constructor(out: Answers, m: Msg, reply: string) {
    this.#out = out;
    this.#m = m;
    this.#reply = reply;
  }
  get #i() {
    return (this.#info ??= parseAckSubject(this.#reply) ?? { deliveryCount: 1, seq: 0, timestampNanos: 0 });
  }
  get subject(): string {
    return this.#m.subject;
  }
  get data(): Uint8Array {
    return this.#m.data;
  }
  get seq(): number {
    return this.#i.seq;
  }
  get deliveryCount(): number {
    return this.#i.deliveryCount;
  }
  get timestampNanos(): number {
    return this.#i.timestampNanos;
  }
  get pinId(): string | undefined {
    return this.#m.headers?.get("Nats-Pin-Id") || undefined;
  }
  get settled(): boolean {
    return this.#settled;
  }
  headers(): Record<string, string> {
    if (this.#headers) return this.#headers;
    const out: Record<string, string> = {};
    const h = this.#m.headers;
    // Atomic-batch bookkeeping headers are the broker's, not the producer's.
    if (h) for (const k of h.keys()) if (!k.startsWith("Nats-Batch-") && k !== "Nats-Pin-Id") out[k] = h.get(k);
    return (this.#headers = out);
  }
  #send(payload: Uint8Array, final: boolean): void {
    if (this.#settled) return;
    if (final) this.#settled = true;
    this.#out.publish(this.#reply, payload);
  }
  ack(): void {
    this.#send(ACK, true);
  }
  async ackAndWait(timeoutMs: number): Promise<boolean> {
    if (this.#settled) return false;
    this.#settled = true;
    return this.#out.request(this.#reply, ACK, timeoutMs);
  }
  nak(delayMs?: number): void {
    this.#send(delayMs && delayMs > 0 ? enc.encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs * NS_PER_MS) })}`) : NAK, true);
  }
  working(): void {
    this.#send(WPI, false);
  }
  timeout(): void {
    this.#send(NAK, false);
  }
  term(reason?: string): void {
    this.#send(reason ? enc.encode(`+TERM ${reason}`) : TERM, true);
  }
}

/** Requests not answered within this long past their expiry are forgotten. */
const REQUEST_MEMORY_MS = 10_000;

/**
 * Answers to deliveries (ack, nak, +WPI, term). nats.js drops what is published while it is
 * disconnected (its outbound buffer is reset on every dial), so answers given then are held and
 * sent once the connection is back: a lost ack would have the message resent.
 */
interface Answers {
  publish(subject: string, data: Uint8Array): void;
  /** Sends and waits for the server's reply; false when none came within `timeoutMs`. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<boolean>;
}

/** What a pull channel hears of its connection. */
interface ChannelHooks {
  /** Where deliveries are answered. */
  answers: Answers;
  /** Calls `cb` when the connection is back after being down; returns an unsubscribe function. */
  onReconnect(cb: () => void): () => void;
  /**
   * Registers `pause`, called before this client renews its connection (reconnect()); returns an
   * unsubscribe function.
   */
  onRenew(pause: () => Promise<void>): () => void;
}

/** How long a renewal waits for a channel to stop taking messages, in ms. */
const PAUSE_WAIT_MS = 2000;
/** No message for this long: the channel's requests have run dry (or wait on an empty group), in ms. */
const QUIET_MS = 50;

function pullChannel(
  nc: NatsConnection,
  inboxPrefix: string,
  nextSubject: string,
  onMessage: (d: Delivery) => void,
  onStatus: (s: PullStatus) => void,
  hooks: ChannelHooks,
): PullChannel {
  // One subscription; each request gets its own reply subject under it, so a status (which
  // arrives on the request's reply subject) says which request it ends. Messages arrive on
  // their stored subject and are told apart by their ack reply subject.
  const requests = new Map<string, { batch: number; forgetAt: number }>();
  let n = 0;
  let late: ((d: Delivery) => void) | undefined;
  let closed = false;
  let paused = false;
  let lastMessageAt = 0;
  const ended = (reply: string, m: Msg): number => {
    const r = requests.get(reply);
    requests.delete(reply);
    const left = m.headers?.get("Nats-Pending-Messages");
    // A request refused when it arrived carries no counts: none of its batch was delivered.
    return left ? Number(left) : (r?.batch ?? 0);
  };
  const open = (): { base: string; sub: Subscription } => {
    const base = createInbox(inboxPrefix);
    const sub = nc.subscribe(`${base}.*`, {
      callback: (err, m) => {
        if (err) return;
        if (m.subject.startsWith(base)) {
          const code = m.headers?.code ?? 0;
          const description = m.headers?.description ?? "";
          if (code === 100) {
            onStatus({ kind: "heartbeat" });
          } else if (code === 409 && /consumer deleted/i.test(description)) {
            requests.delete(m.subject);
            onStatus({ kind: "consumer-deleted" });
          } else if (code === 423) {
            onStatus({ kind: "unpinned", unfilled: ended(m.subject, m) });
          } else if (code !== 0) {
            onStatus({ kind: "ended", unfilled: ended(m.subject, m), code, description });
          }
          return;
        }
        if (!m.reply?.startsWith("$JS.ACK.")) return;
        const d = new NatsDelivery(hooks.answers, m, m.reply);
        lastMessageAt = Date.now();
        if (late) late(d);
        else onMessage(d);
      },
    });
    return { base, sub };
  };
  let current = open();
  const offReconnect = hooks.onReconnect(() => {
    if (closed) return;
    // A fresh reply subject after every reconnect: requests the server may still hold for the
    // old one (a network blip; a renewal paused before it) can never deliver to this member
    // again, so it never holds more than it asked for.
    current.sub.unsubscribe();
    current = open();
    paused = false;
    requests.clear();
    onStatus({ kind: "reconnected" });
  });
  // Before this client renews its connection (to be granted a new group's rights, say), stop
  // asking and let the requests already made run dry: a message the server sends into the
  // closing connection is lost, and comes back only one lease later. Unsubscribing first is not
  // enough: in tests, requests made through the account's JetStream import were still filled
  // after the unsubscribe. So the member waits until no message has come for a moment (a request
  // with messages behind it is filled within milliseconds), at most PAUSE_WAIT_MS. A request
  // left waiting on an empty group can still take a message published during the renewal.
  const offRenew = hooks.onRenew(async () => {
    if (closed || paused || nc.isClosed()) return;
    paused = true;
    const until = Date.now() + PAUSE_WAIT_MS;
    while (Date.now() < until && Date.now() - lastMessageAt < QUIET_MS) await new Promise((r) => setTimeout(r, QUIET_MS / 2));
  });
  return {
    request(r) {
      // While paused, the request is not sent; the reconnect that follows asks again.
      if (paused || closed || nc.isClosed()) return;
      const now = Date.now();
      if (requests.size > 64) for (const [k, v] of requests) if (v.forgetAt < now) requests.delete(k);
      const reply = `${current.base}.${++n}`;
      requests.set(reply, { batch: r.batch, forgetAt: now + r.expiresMs + REQUEST_MEMORY_MS });
      const body: Record<string, unknown> = { batch: r.batch, expires: Math.round(r.expiresMs * NS_PER_MS) };
      if (r.heartbeatMs > 0) body["idle_heartbeat"] = Math.round(r.heartbeatMs * NS_PER_MS);
      if (r.maxBytes !== undefined) body["max_bytes"] = r.maxBytes;
      if (r.noWait) body["no_wait"] = true;
      if (r.group !== undefined) body["group"] = r.group;
      if (r.pinId) body["id"] = r.pinId;
      nc.publish(nextSubject, enc.encode(JSON.stringify(body)), { reply });
    },
    async close(onLate) {
      closed = true;
      offReconnect();
      offRenew();
      late = onLate;
      const sub = current.sub;
      if (nc.isClosed() || sub.isClosed()) return;
      // Messages already on their way are handed to onLate until the server saw the unsubscribe.
      await sub.drain().catch(() => {});
    },
  };
}
