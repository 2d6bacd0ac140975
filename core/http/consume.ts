import type { Caller, GatewayFront } from "../gateway/index.js";
import { parseAckSubject, type DeliveryAnswer, type GroupPuller, type PulledMessage } from "../nats/index.js";
import { Headers, JunctionError, assertName, scopeOf, type ErrorBody } from "../protocol/index.js";
import type { ResolvedHttpApiOptions } from "./options.js";
import { asJunctionError } from "./status.js";
import { AckTokens } from "./tokens.js";

/** How a fetch returns payloads: `auto` gives JSON payloads as values and the rest as base64; `base64` always base64. */
export const PayloadEncoding = { Auto: "auto", Base64: "base64" } as const;
export type PayloadEncoding = (typeof PayloadEncoding)[keyof typeof PayloadEncoding];

/** A message handed to an HTTP member of a group. */
export interface FetchedMessage {
  /** Answers the message (ack, nak, in-progress, dead-letter); only for this user, station and group. */
  token: string;
  seq: number;
  deliveryCount: number;
  redelivered: boolean;
  /** When the station stored it (ISO 8601). */
  timestamp: string;
  /** The producer's message id. */
  id?: string;
  producer?: string;
  /** `name@version` of the schema it was checked against. */
  schema?: string;
  headers: Record<string, string>;
  /** The payload, when it is JSON (encoding `auto`). */
  payload?: unknown;
  /** The payload bytes, base64, when it is not JSON or encoding is `base64`. */
  payloadBase64?: string;
}

/** One token's outcome. */
export type AnswerResult = { ok: true } | { ok: false; error: ErrorBody };

/** Options of one fetch. */
export interface FetchRequest {
  max: number;
  waitMs: number;
  encoding: PayloadEncoding;
  /** Aborts when the client goes away: the messages are given back at once. */
  signal?: AbortSignal | undefined;
}

interface Access {
  tenant: string;
  stream: string;
  at: number;
}

/** Remembered authorizations (oldest forgotten first). */
const ACCESS_ENTRIES = 10_000;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Consuming over HTTP: a long-poll fetch as a member of a consumer group on the gateway's own
 * connection, and answers by signed token. Waiting fetches are bounded per user and in total.
 */
export class HttpConsumer {
  readonly #front: () => GatewayFront | undefined;
  readonly #puller: () => GroupPuller | undefined;
  readonly #o: ResolvedHttpApiOptions;
  readonly #tokens: AckTokens;
  readonly #perUser = new Map<string, number>();
  #total = 0;
  readonly #access = new Map<string, Access>();
  /** Authorizations being checked now, so a burst of requests makes one check. */
  readonly #checking = new Map<string, Promise<Access>>();
  readonly #live = new Set<AbortController>();

  constructor(o: { front: () => GatewayFront | undefined; puller: () => GroupPuller | undefined; options: ResolvedHttpApiOptions }) {
    this.#front = o.front;
    this.#puller = o.puller;
    this.#o = o.options;
    this.#tokens = new AckTokens({ key: o.options.tokenKey, ttlMs: o.options.tokenTtlMs, clock: o.options.clock });
  }

  /** Fetches waiting now (all users). */
  get waiting(): number {
    return this.#total;
  }

  #ports(): { front: GatewayFront; puller: GroupPuller } {
    const front = this.#front();
    const puller = this.#puller();
    if (!front) throw new JunctionError("GATEWAY_UNAVAILABLE", "the gateway is starting", { details: { reason: "starting" } });
    if (!puller) throw new JunctionError("INTERNAL", "this gateway's store cannot deliver messages");
    return { front, puller };
  }

  /**
   * Whether the caller may consume as the group, through the gateway's own `group.get` (same
   * authorization and checks as every admin call), remembered briefly per user, grants, tenant,
   * station and group: a change of grants is a new key, so it applies at once.
   */
  async #authorize(front: GatewayFront, caller: Caller, station: string, group: string): Promise<Access> {
    assertName("station", station);
    assertName("group", group);
    const id = caller.identity;
    const tenant = caller.tenant !== undefined && id.operator ? caller.tenant : id.tenant;
    const key = JSON.stringify([id.user, id.tenant, caller.tenant ?? "", id.grants, station, group]);
    const now = this.#o.clock.now();
    const hit = this.#access.get(key);
    if (hit && now - hit.at < this.#o.accessCacheMs) return hit;
    const running = this.#checking.get(key);
    if (running) return running;
    const check = (async () => {
      await front.call(caller, "group.get", { station, group });
      const a: Access = { tenant, stream: scopeOf(tenant).stationStream(station), at: this.#o.clock.now() };
      this.#access.delete(key);
      this.#access.set(key, a);
      if (this.#access.size > ACCESS_ENTRIES) this.#access.delete(this.#access.keys().next().value!);
      return a;
    })();
    this.#checking.set(key, check);
    try {
      return await check;
    } finally {
      this.#checking.delete(key);
    }
  }

  #forget(caller: Caller, station: string, group: string): void {
    const id = caller.identity;
    this.#access.delete(JSON.stringify([id.user, id.tenant, caller.tenant ?? "", id.grants, station, group]));
  }

  /** Up to `max` messages of the group, waiting at most `waitMs` for the first. */
  async fetch(caller: Caller, station: string, group: string, r: FetchRequest): Promise<{ messages: FetchedMessage[] }> {
    const { front, puller } = this.#ports();
    const user = caller.identity.user;
    const release = this.#reserve(user);
    let access: Access;
    try {
      access = await this.#authorize(front, caller, station, group);
    } catch (err) {
      release();
      throw err;
    }
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    r.signal?.addEventListener("abort", onAbort, { once: true });
    if (r.signal?.aborted) ctl.abort();
    this.#live.add(ctl);
    // The slot is held until the store has ended the pull, even when the client left earlier:
    // a client cannot pile up pulls by hanging up. Its messages then go back to the group.
    const pulling = puller.fetch(access.stream, group, {
      max: r.max,
      expiresMs: r.waitMs,
      maxBytes: this.#o.fetchMaxBytes,
      signal: ctl.signal,
    });
    void pulling
      .catch(() => {})
      .finally(() => {
        r.signal?.removeEventListener("abort", onAbort);
        this.#live.delete(ctl);
        release();
      });
    const aborted = new Promise<PulledMessage[]>((resolve) => {
      if (ctl.signal.aborted) resolve([]);
      ctl.signal.addEventListener("abort", () => resolve([]), { once: true });
    });
    let pulled: PulledMessage[];
    try {
      pulled = await Promise.race([pulling, aborted]);
    } catch (err) {
      if (err instanceof JunctionError && err.code === "GROUP_NOT_FOUND") this.#forget(caller, station, group);
      throw err;
    }
    const claims = { user, tenant: access.tenant, station, group };
    return { messages: pulled.map((m) => this.#view(m, this.#tokens.sign({ ...claims, reply: m.reply }), r.encoding)) };
  }

  /** Takes a fetch slot of the user (GATEWAY_UNAVAILABLE when it has none left); returns its release. */
  #reserve(user: string): () => void {
    const mine = this.#perUser.get(user) ?? 0;
    if (mine >= this.#o.maxFetchesPerUser || this.#total >= this.#o.maxFetches) {
      const perUser = mine >= this.#o.maxFetchesPerUser;
      throw new JunctionError(
        "GATEWAY_UNAVAILABLE",
        perUser
          ? `user '${user}' already has ${mine} fetches waiting (at most ${this.#o.maxFetchesPerUser}); try again when one returns`
          : `the gateway has ${this.#total} fetches waiting (at most ${this.#o.maxFetches}); try again`,
        {
          details: { reason: perUser ? "fetches-per-user" : "fetches", limit: perUser ? this.#o.maxFetchesPerUser : this.#o.maxFetches },
        },
      );
    }
    this.#perUser.set(user, mine + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perUser.get(user) ?? 1) - 1;
      if (left === 0) this.#perUser.delete(user);
      else this.#perUser.set(user, left);
    };
  }

  #view(m: PulledMessage, token: string, encoding: PayloadEncoding): FetchedMessage {
    const out: FetchedMessage = {
      token,
      seq: m.seq,
      deliveryCount: m.deliveryCount,
      redelivered: m.deliveryCount > 1,
      timestamp: new Date(m.timeMs).toISOString(),
      headers: m.headers,
    };
    const id = m.headers[Headers.NatsMsgId];
    if (id) out.id = id;
    const producer = m.headers[Headers.Producer];
    if (producer) out.producer = producer;
    const schema = m.headers[Headers.Schema];
    if (schema) out.schema = schema;
    if (encoding === PayloadEncoding.Auto && m.data.length > 0) {
      try {
        out.payload = JSON.parse(utf8.decode(m.data)) as unknown;
        return out;
      } catch {
        /* not JSON: bytes */
      }
    }
    out.payloadBase64 = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString("base64");
    return out;
  }

  /**
   * Answers deliveries by token. Every token is checked first (signature, user, station, group,
   * expiry): one bad token fails the whole request and nothing is answered. Then one result per
   * token, in order.
   */
  async answer(
    caller: Caller,
    station: string,
    group: string,
    tokens: readonly unknown[],
    a: DeliveryAnswer,
  ): Promise<{ results: AnswerResult[] }> {
    const { front, puller } = this.#ports();
    if (tokens.length > this.#o.maxTokens) {
      throw new JunctionError("BATCH_TOO_LARGE", `at most ${this.#o.maxTokens} tokens a request; got ${tokens.length}`, {
        details: { tokens: tokens.length, max: this.#o.maxTokens },
      });
    }
    const access = await this.#authorize(front, caller, station, group);
    const expect = { user: caller.identity.user, tenant: access.tenant, station, group };
    const replies = tokens.map((t, i) => {
      const reply = this.#tokens.verify(t, expect, i);
      const at = parseAckSubject(reply);
      // Signed by this key for this group, so this holds unless the key leaked; checked anyway.
      if (!at || at.stream !== access.stream || at.consumer !== group) {
        throw new JunctionError("PERMISSION_DENIED", `token ${i} is not valid here: it names another group`, { details: { index: i } });
      }
      return reply;
    });
    const results = await Promise.all(
      replies.map((reply) =>
        puller.answer(reply, a).then(
          (): AnswerResult => ({ ok: true }),
          (err: unknown): AnswerResult => ({ ok: false, error: asJunctionError(err).toBody() }),
        ),
      ),
    );
    return { results };
  }

  /** Ends every waiting fetch now (their messages go back to the group). */
  abortAll(): void {
    for (const c of this.#live) c.abort();
  }
}
