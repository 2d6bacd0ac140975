import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import type { StoreAck, StoreMessage, StoreWriter } from "./ports.js";

/** Default of the atomic batches one writer keeps in flight per subject. */
export const DEFAULT_MAX_ATOMIC_INFLIGHT = 16;

/**
 * Writes to streams with core publishes and one shared reply subscription, instead of
 * `js.publish` — nats.js builds an Error with a stack for each request, a third of its CPU
 * (measured). Batches are JetStream atomic batches (nats-server >= 2.12): one fsync per batch.
 */
export class NatsStoreWriter implements StoreWriter {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #sub: Subscription;
  readonly #pending = new Map<string, { resolve: (a: StoreAck) => void; timer: NodeJS.Timeout | undefined }>();
  #next = 0;
  readonly #timeoutMs: number;
  readonly #maxAtomicInflight: number;
  /** Atomic batches in flight per subject, and those waiting for room (FIFO, so in order). */
  readonly #atomic = new Map<string, { n: number; queue: { send: () => void; cancel: () => void }[] }>();

  /**
   * @param timeoutMs how long to wait for a store acknowledgement
   * @param maxAtomicInflight atomic batches in flight per subject from this writer; more wait
   *   their turn (in order). nats-server queues at most 100,000 messages (128 MiB) per stream and
   *   refuses the rest with "too many requests" (10167), and keeps at most 50 atomic batches open
   *   per stream: 16 batches of up to 1,000 leave room for several gateways, and a fan-out of
   *   200,000 parts in one request is stored instead of refused.
   */
  constructor(nc: NatsConnection, timeoutMs = 10_000, maxAtomicInflight = DEFAULT_MAX_ATOMIC_INFLIGHT) {
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
    this.#maxAtomicInflight = maxAtomicInflight;
    this.#prefix = createInbox();
    this.#sub = nc.subscribe(`${this.#prefix}.*`, { callback: (_err, msg) => this.#onReply(msg) });
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.slice(this.#prefix.length + 1);
    const p = this.#pending.get(token);
    if (!p) return;
    this.#pending.delete(token);
    clearTimeout(p.timer);
    // nats-server answers a request nobody serves with a 503 status: no stream captures the
    // subject (JetStream is down, for example out of space, or the stream is gone).
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.resolve({
        ok: false,
        errCode: 503,
        description: "no responders: no stream took the message (JetStream unavailable or the stream is gone)",
      });
      return;
    }
    p.resolve(parseAck(msg.data));
  }

  #expect(): { reply: string; done: Promise<StoreAck> } {
    const token = (this.#next++).toString(36);
    const reply = `${this.#prefix}.${token}`;
    const done = new Promise<StoreAck>((resolve) => {
      const entry: { resolve: (a: StoreAck) => void; timer: NodeJS.Timeout | undefined } = { resolve, timer: undefined };
      let due = performance.now() + this.#timeoutMs;
      let given = 0;
      const expire = () => {
        // A timer that fires late means the gateway itself was busy (a blocked event loop): the
        // reply may be sitting unread in the socket. Give the store back the time the gateway
        // took (up to the timeout again), and read pending input (setImmediate runs after I/O)
        // before calling it a timeout.
        const overdue = performance.now() - due;
        if (overdue > LAG_TOLERANCE_MS && given < this.#timeoutMs) {
          const more = Math.min(overdue, this.#timeoutMs - given);
          given += more;
          due = performance.now() + more;
          entry.timer = setTimeout(expire, more);
          return;
        }
        setImmediate(() => {
          if (this.#pending.get(token) !== entry) return;
          this.#pending.delete(token);
          resolve({ ok: false, errCode: 0, description: `no store acknowledgement within ${this.#timeoutMs} ms`, timeout: true });
        });
      };
      entry.timer = setTimeout(expire, this.#timeoutMs);
      this.#pending.set(token, entry);
    });
    return { reply, done };
  }

  /** Publishes one message and waits for the store ack. */
  publish(subject: string, m: StoreMessage): Promise<StoreAck> {
    const { reply, done } = this.#expect();
    const block = headerBlock(m, "");
    this.#nc.publish(m.subject ?? subject, m.payload, {
      reply,
      headers: block === undefined ? buildHeaders(m) : rawHeaders(headerEnc.encode(block)),
    });
    return done;
  }

  /**
   * Publishes messages as one atomic batch (at most 1,000): all are stored or none.
   * Resolves with the commit ack; its `seq` is the last message's, and the batch is stored
   * contiguously, so message i has `seq - count + 1 + i`.
   */
  publishAtomic(subject: string, msgs: readonly StoreMessage[]): Promise<StoreAck> {
    if (msgs.length === 1) return this.publish(subject, msgs[0]!);
    let slot = this.#atomic.get(subject);
    if (!slot) this.#atomic.set(subject, (slot = { n: 0, queue: [] }));
    const release = () => {
      const next = slot.queue.shift();
      if (next) next.send();
      else if (--slot.n === 0) this.#atomic.delete(subject);
    };
    const send = () => {
      const done = this.#sendAtomic(subject, msgs);
      void done.then(release);
      return done;
    };
    if (slot.n < this.#maxAtomicInflight) {
      slot.n++;
      return send();
    }
    return new Promise<StoreAck>((resolve) =>
      slot.queue.push({
        send: () => resolve(send()),
        cancel: () => resolve({ ok: false, errCode: 0, description: "writer closed", timeout: true }),
      }),
    );
  }

  #sendAtomic(subject: string, msgs: readonly StoreMessage[]): Promise<StoreAck> {
    const batchId = nuid.next();
    const { reply, done } = this.#expect();
    const last = msgs.length - 1;
    const batchHeader = `Nats-Batch-Id: ${batchId}\r\nNats-Batch-Sequence: `;
    // Header blocks of the whole batch as one string, encoded once (TextEncoder per message was
    // the largest self time in the profile); each message gets a view of its bytes.
    const blocks: (string | MsgHdrs)[] = new Array(msgs.length);
    let all = "";
    for (let i = 0; i <= last; i++) {
      const m = msgs[i]!;
      const commit = i === last;
      const block = headerBlock(m, `${batchHeader}${i + 1}\r\n${commit ? "Nats-Batch-Commit: 1\r\n" : ""}`);
      if (block !== undefined) {
        blocks[i] = block;
        all += block;
        continue;
      }
      const slow = buildHeaders(m);
      slow.set("Nats-Batch-Id", batchId);
      slow.set("Nats-Batch-Sequence", String(i + 1));
      if (commit) slow.set("Nats-Batch-Commit", "1");
      blocks[i] = slow;
    }
    const bytes = headerEnc.encode(all);
    // ASCII only (the usual case) when bytes and characters agree: offsets are then the same.
    const ascii = bytes.length === all.length;
    let at = 0;
    for (let i = 0; i <= last; i++) {
      const b = blocks[i]!;
      let h: MsgHdrs;
      if (typeof b === "string") {
        h = rawHeaders(ascii ? bytes.subarray(at, at + b.length) : headerEnc.encode(b));
        at += b.length;
      } else h = b;
      const m = msgs[i]!;
      if (i === last) this.#nc.publish(m.subject ?? subject, m.payload, { reply, headers: h });
      else this.#nc.publish(m.subject ?? subject, m.payload, { headers: h });
    }
    return done;
  }

  close(): void {
    this.#sub.unsubscribe();
    for (const [, slot] of this.#atomic) for (const q of slot.queue.splice(0)) q.cancel();
    this.#atomic.clear();
    for (const [, p] of this.#pending) {
      clearTimeout(p.timer);
      p.resolve({ ok: false, errCode: 0, description: "writer closed", timeout: true });
    }
    this.#pending.clear();
  }
}

const headerEnc = new TextEncoder();
/** A store timer firing this much later than due means the gateway was busy, not the store. */
const LAG_TOLERANCE_MS = 100;

/**
 * The header block of one message, built directly, for the hot path. nats.js's MsgHdrs costs
 * about a quarter of the gateway's produce CPU (measured with --cpu-prof: key validation and
 * lookup on every set, the block rebuilt as a string and encoded per message). Returns
 * undefined when a header needs nats.js's checks (a name outside printable ASCII or with a
 * colon, a value with CR/LF or surrounding spaces, a Nats-* name): the caller then takes the
 * nats.js path, which behaves (and throws) as before.
 */
function headerBlock(m: StoreMessage, tail: string): string | undefined {
  let s = "NATS/1.0\r\n";
  if (m.headers) {
    for (const k in m.headers) {
      const v = m.headers[k]!;
      if (!plainName(k) || !plainValue(v)) return undefined;
      s += `${k}: ${v}\r\n`;
    }
  }
  if (m.id) {
    if (!plainValue(m.id)) return undefined;
    s += `Nats-Msg-Id: ${m.id}\r\n`;
  }
  if (m.control) {
    for (const k in m.control) {
      const v = m.control[k]!;
      if (!plainValue(v)) return undefined;
      s += `${k}: ${v}\r\n`;
    }
  }
  // No header at all: nats.js sends an empty header block (HPUB with 0 header bytes); so do we.
  if (s.length === 10 && tail === "") return "";
  return `${s}${tail}\r\n`;
}

/**
 * Encoded header bytes as nats.js headers. nats.js 3.x only calls `encode()` on the headers of
 * a publish (nats-core protocol.js `publish`), so an object with that one method carries them.
 */
class RawHeaders {
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  encode(): Uint8Array {
    return this.#bytes;
  }
}

function rawHeaders(bytes: Uint8Array): MsgHdrs {
  return new RawHeaders(bytes) as unknown as MsgHdrs;
}

/** A header name nats.js would keep as is, and not one the writer sets itself. */
function plainName(k: string): boolean {
  if (k.length === 0) return false;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c === 58 || c < 33 || c > 126) return false;
  }
  return !k.startsWith("Nats-");
}

/** A header value nats.js would keep as is (it trims values and refuses CR/LF). */
function plainValue(v: string): boolean {
  return v.trim() === v && !v.includes("\r") && !v.includes("\n");
}

function buildHeaders(m: StoreMessage): MsgHdrs {
  const h = natsHeaders();
  if (m.headers) for (const k in m.headers) h.set(k, m.headers[k]!);
  if (m.id) h.set("Nats-Msg-Id", m.id);
  if (m.control) for (const k in m.control) h.set(k, m.control[k]!);
  return h;
}

const dec = new TextDecoder();

function parseAck(data: Uint8Array): StoreAck {
  if (data.length === 0) return { ok: false, errCode: 0, description: "empty store acknowledgement" };
  try {
    const a = JSON.parse(dec.decode(data)) as {
      seq?: number;
      duplicate?: boolean;
      count?: number;
      error?: { err_code?: number; description?: string };
    };
    if (a.error) return { ok: false, errCode: a.error.err_code ?? 0, description: a.error.description ?? "store error" };
    return { ok: true, seq: a.seq ?? 0, duplicate: a.duplicate === true, count: a.count ?? 1 };
  } catch {
    return { ok: false, errCode: 0, description: "unreadable store acknowledgement" };
  }
}
