/**
 * Produce: the SDK's `js.publish("<station>$<partition>.final")` (or `"<station>.final"`) is a
 * request no stream captures; the gateway answers it. The `msg-id` header becomes the message id
 * (JetStream de-duplication), the station's schema and functions run, the message is stored, and
 * the answer is a JetStream publish acknowledgement `{stream, seq, duplicate}` — or a
 * JetStream-shaped error (`{error: {code, description}}`), which the SDK throws. Requests of one
 * producer to one station that arrive in the same event-loop turn (async produce) go to the
 * produce path together, in order, so they are stored as one batch.
 */
import type { Caller } from "../gateway/index.js";
import type { BusRequest } from "../nats/index.js";
import { DEFAULT_TENANT, type ProduceMessage } from "../protocol/index.js";
import { callerOf, codeOf, errorText, replyJson, replyOk, type MemphisContext } from "./context.js";
import { jsError, jsStatus, publishAnswer } from "./mapping.js";
import { junctionName, parseProduceToken, stationOfMemphisStream } from "./names.js";

/** The SDK's idempotence header. */
export const MSG_ID_HEADER = "msg-id";
/** The SDK's producer-name header. */
export const PRODUCED_BY_HEADER = "$memphis_producedBy";
/** nats-server adds who sent the request when it crosses the import (not the client's header). */
const REQUEST_INFO_HEADER = "Nats-Request-Info";
/** Longest message id kept (JetStream ids are headers; Junction's frames allow 65535 bytes). */
const MAX_ID_LENGTH = 1024;

interface Pending {
  req: BusRequest;
  stream: string;
  msg: ProduceMessage;
}

/** The key of one producer's publishes to one station. */
const producerKey = (user: string, station: string, producer: string | undefined) => `${user}\u0000${station}\u0000${producer ?? ""}`;

interface Batch {
  caller: Caller;
  station: string;
  producer: string | undefined;
  items: Pending[];
}

/** Gathers `.final` publishes into produce requests and answers each one. */
export class MemphisProducer {
  readonly #ctx: MemphisContext;
  readonly #batches = new Map<string, Batch>();
  #scheduled = false;
  /** Publishes are identified one after another, so batches keep the order they arrived in. */
  #chain: Promise<void> = Promise.resolve();
  #inflight = 0;
  #idle: (() => void)[] = [];
  /** Publishes accepted and not yet answered, per producer and station (for destroy). */
  readonly #unanswered = new Map<string, { n: number; waiters: (() => void)[] }>();

  constructor(ctx: MemphisContext) {
    this.#ctx = ctx;
  }

  /** Handles one `jn.memphis.produce.<stream>` request. Never throws. */
  handle(req: BusRequest): void {
    const stats = this.#ctx.stats;
    if (!replyOk(req)) {
      stats.refused++;
      return; // nothing is stored for a publish nobody may be told about
    }
    const stream = parseProduceToken(req.subject) ?? "";
    this.#inflight++;
    this.#chain = this.#chain.then(() =>
      this.#accept(req, stream).then(
        () => this.#done(),
        (err: unknown) => {
          // Only identifying the caller can throw (before the publish joins a batch).
          this.#ctx.log.error("a Memphis publish failed", { error: String(err) });
          replyJson(req, jsError(500, errorText(err), codeOf(err)));
          this.#done();
        },
      ),
    );
  }

  async #accept(req: BusRequest, stream: string): Promise<void> {
    const refuse = (status: number, text: string, code?: string) => {
      this.#ctx.stats.produced++;
      this.#ctx.stats.produceRefused++;
      replyJson(req, jsError(status, text, code));
    };
    const s = stationOfMemphisStream(stream);
    const station = s ? junctionName(s.station, "station") : { problem: `'${stream}' is not a station` };
    if (typeof station !== "string") return refuse(400, station.problem, "INVALID_NAME");
    const caller = await callerOf(this.#ctx, req);
    if (!caller) return refuse(403, "the request carries no known Junction user", "PERMISSION_DENIED");
    if (caller.identity.tenant !== DEFAULT_TENANT) return refuse(403, "Memphis users belong to the default tenant", "PERMISSION_DENIED");
    const headers: Record<string, string> = {};
    let id = "";
    for (const k of req.headerNames()) {
      if (k === REQUEST_INFO_HEADER) continue;
      const v = req.header(k) ?? "";
      if (k === MSG_ID_HEADER) id = v;
      headers[k] = v;
    }
    if (id.length > MAX_ID_LENGTH) return refuse(400, `msg-id is longer than ${MAX_ID_LENGTH} characters`, "INVALID_ARGUMENT");
    const producer = headers[PRODUCED_BY_HEADER] || undefined;
    const key = producerKey(caller.identity.user, station, producer);
    const open = this.#unanswered.get(key) ?? { n: 0, waiters: [] };
    open.n++;
    this.#unanswered.set(key, open);
    let b = this.#batches.get(key);
    if (!b) {
      b = { caller, station, producer, items: [] };
      this.#batches.set(key, b);
    }
    b.items.push({ req, stream, msg: { id, headers, payload: req.data } });
    if (b.items.length >= this.#ctx.o.maxProduceBatch) {
      this.#batches.delete(key);
      void this.#send(b);
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const batches = [...this.#batches.values()];
    this.#batches.clear();
    for (const b of batches) void this.#send(b);
  }

  async #send(b: Batch): Promise<void> {
    const { stats, deps } = this.#ctx;
    this.#inflight++;
    try {
      const results = await deps.gateway.produce(
        b.caller,
        b.station,
        b.items.map((i) => i.msg),
        { producer: b.producer },
      );
      b.items.forEach((it, k) => {
        const r = results[k];
        stats.produced++;
        if (!r || "error" in r) stats.produceRefused++;
        replyJson(it.req, r ? publishAnswer(it.stream, r) : jsError(500, "no result for the message", "INTERNAL"));
      });
    } catch (err) {
      // A problem of the whole request (station not found, permission denied…).
      const code = codeOf(err);
      for (const it of b.items) {
        stats.produced++;
        stats.produceRefused++;
        replyJson(it.req, jsError(jsStatus(code), errorText(err), code));
      }
    } finally {
      const key = producerKey(b.caller.identity.user, b.station, b.producer);
      const open = this.#unanswered.get(key);
      if (open && (open.n -= b.items.length) <= 0) {
        this.#unanswered.delete(key);
        for (const w of open.waiters) w();
      }
      this.#done();
    }
  }

  /**
   * Resolves once the publishes this producer sent to this station so far are answered (stored
   * or refused), or after `maxWaitMs`: destroying a producer flushes it.
   */
  async flushed(user: string, station: string, producer: string, maxWaitMs: number): Promise<void> {
    await this.#chain; // publishes still being identified join their batch first
    const open = this.#unanswered.get(producerKey(user, station, producer));
    if (!open) return;
    if (this.#batches.size > 0) this.#flush();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, maxWaitMs);
      open.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #done(): void {
    this.#inflight--;
    if (this.#inflight === 0) for (const w of this.#idle.splice(0)) w();
  }

  /** Resolves when every accepted publish has been answered. */
  async idle(): Promise<void> {
    if (this.#inflight === 0 && this.#batches.size === 0) return;
    if (this.#batches.size > 0) this.#flush();
    await new Promise<void>((r) => this.#idle.push(r));
  }
}
