/**
 * A member's pull from one consumer group: flow control (the member never holds more than its
 * window) and leases (the server's ack timer is a short lease the member keeps renewing while it
 * holds a message; the application's own ack deadline runs from when it was handed the message).
 *
 * Why leases: JetStream starts a message's ack timer when it delivers it. A member that prefetches
 * lets that timer run while the message waits in its buffer, so a slow but healthy member saw its
 * prefetched messages resent (and dead-lettered as poison) before the application had seen them.
 * Renewing (`+WPI`) every held message keeps the server from resending it while the member lives;
 * a crashed member renews nothing, so the server resends its messages one lease later — the
 * soonest it can know — instead of after the whole ack time.
 */
import { Headers, POISON_TERM_PREFIX } from "../core/protocol/index.js";
import type { Delivery, PullChannel, PullRequest, PullStatus } from "./transport.js";

const KEY_HEADER = Headers.Key;

/** A message held by a member, from delivery until it is settled or its deadline passes. */
export interface Held {
  /** The latest delivery of the message (a redelivery of a message held replaces it). */
  delivery: Delivery;
  /** When the server's ack timer was last (re)started, as far as this member knows (ms). */
  armedAt: number;
  /** When it was handed to the application (ms); -1 while it waits in the buffer. */
  handedAt: number;
  /** When the application's time to settle it runs out (ms); Infinity while buffered. */
  deadline: number;
  /** Keyed pulls: deliveries so far, the member's own retries included. */
  attempts: number;
  /** Keyed pulls: not handed out before this (ms): a retry's delay. */
  notBefore: number;
  /** Keyed pulls: the message's ordering key, if it has one. */
  key: string | undefined;
}

/** Settings of a {@link LeasedPull}. */
export interface LeasedPullOptions {
  /** Most messages held at once: buffered plus handed out and not yet settled. */
  window: number;
  /** The server's ack wait (the lease), in ms. */
  leaseMs: number;
  /**
   * The application's time to settle a message, from hand-out (ms): one value, or one by delivery
   * count (backoff).
   */
  deadlineMs: number | ((deliveryCount: number) => number);
  /** Deliveries after which the server gives up on a message (-1 = never). */
  maxDeliveries: number;
  /** Stop after this many deliveries. */
  limit?: number | undefined;
  /** How long the server keeps a pull request, in ms. */
  expiresMs: number;
  /** Idle heartbeat asked of the server per pull request, in ms. */
  heartbeatMs: number;
  /**
   * Renew every held message together, in stream order, so that a crashed member's messages
   * return to the group in stream order (ordered consumption).
   */
  ordered: boolean;
  /** The consumer's priority group, when it has a priority policy. */
  group?: string | undefined;
  /**
   * A partition of a keyed station: several messages out at once, handed out by key (a key's next
   * message only once its previous one is settled; a message waiting for its retry's delay holds
   * back only its own key), retries kept in the member (a nak or a deadline re-hands the message
   * after its delay, counted here, and gives up as poison after maxDeliveries), and a hand-over
   * that gives everything back in stream order before the pin is freed.
   */
  keyed?: boolean | undefined;
  /** The clock, in ms. */
  now: () => number;
}

/** What the pull tells its owner. */
export interface LeasedPullHooks {
  /** Messages are waiting to be taken. */
  available(): void;
  /** The pull ended for good (limit reached and drained, consumer deleted, closed). */
  ended(reason: string | undefined): void;
  /** Keyed pulls: the hand-over finished (everything given back in order); free `pin` if any. */
  handedOver?(pin: string | undefined): void;
}

/** How long after a refused pull the member asks again, in ms. */
const RETRY_MS = 1000;

/** A flow-controlled, lease-keeping pull. */
export class LeasedPull {
  readonly #o: LeasedPullOptions;
  readonly #hooks: LeasedPullHooks;
  readonly #open: (onMessage: (d: Delivery) => void, onStatus: (s: PullStatus) => void) => PullChannel;
  readonly #probe: () => Promise<void>;
  #channel: PullChannel | undefined;
  /** Everything held, in arrival order. */
  readonly #held = new Set<Held>();
  // Not yet handed out: an array with a moving head (shift() would copy it on every message).
  #buffer: Held[] = [];
  #head = 0;
  /** Messages asked for and not yet delivered or given up by the server. */
  #outstanding = 0;
  #delivered = 0;
  #lastActivity = 0;
  #retryAt = 0;
  #pinId: string | undefined;
  /** A partition not assigned to this member: it asks for nothing. */
  #disowned = false;
  /** Keyed pulls: messages not handed out now, in stream order (retries wait here too). */
  #waiting: Held[] = [];
  /** Keyed pulls: the keys with a message out with the application now. */
  readonly #busyKeys = new Set<string>();
  /** Keyed pulls: a wake-up after a settle is queued (see {@link #freeKey}). */
  #wakeQueued = false;
  /** Keyed pulls: what is held, by stream sequence (a redelivery replaces the delivery). */
  readonly #bySeq = new Map<number, Held>();
  /**
   * Keyed pulls: the sequences acked lately (a window of them): a redelivery of one of them (its
   * ack was lost, e.g. in a nats-server crash) is acked again instead of handed out.
   */
  readonly #acked = new Set<number>();
  /** The same sequences, oldest first, in a ring of ACKED_MEMORY. */
  readonly #ackedRing: number[] = [];
  #ackedNext = 0;
  /** Keyed pulls: letting the partition go (see {@link own}). */
  #handingOver = false;
  readonly #handOverWaiters: ((pin: string | undefined) => void)[] = [];
  #lastRequestAt = 0;
  #closing = false;
  #ended = false;
  #timer: NodeJS.Timeout | undefined;
  #acks: Delivery[] = [];
  #ackFlush: NodeJS.Immediate | undefined;
  readonly #threshold: number;
  readonly #tickMs: number;

  /**
   * `open` opens the pull channel; `probe` makes the server look at the consumer's next message
   * without taking it (Transport.probe).
   */
  constructor(
    open: (onMessage: (d: Delivery) => void, onStatus: (s: PullStatus) => void) => PullChannel,
    probe: () => Promise<void>,
    o: LeasedPullOptions,
    hooks: LeasedPullHooks,
  ) {
    this.#open = open;
    this.#probe = probe;
    this.#o = o;
    this.#hooks = hooks;
    // Ask again once a quarter of the window is free: fewer, larger requests, no idle gap.
    this.#threshold = Math.max(1, Math.ceil(o.window / 4));
    let shortest = o.leaseMs;
    for (let dc = 1; dc <= Math.min(o.maxDeliveries > 0 ? o.maxDeliveries : 1, 64); dc++)
      shortest = Math.min(shortest, this.#deadlineMs(dc));
    this.#tickMs = tickMs(shortest);
  }

  #deadlineMs(deliveryCount: number): number {
    const d = this.#o.deadlineMs;
    return typeof d === "number" ? d : d(deliveryCount);
  }

  #deadlineOf(h: Held): number {
    const d = this.#o.deadlineMs;
    // A fixed deadline spares parsing the delivery count of every message.
    return typeof d === "number" ? d : d(h.attempts);
  }

  /** Starts pulling. */
  start(): void {
    this.#channel = this.#open(
      (d) => this.#onMessage(d),
      (s) => this.#onStatus(s),
    );
    this.#lastActivity = this.#o.now();
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
    this.#refill();
  }

  /** Messages held now (buffered plus handed out, not settled). */
  get held(): number {
    return this.#held.size;
  }

  /** Messages waiting to be handed out. */
  get buffered(): number {
    return this.#o.keyed ? this.#waiting.length : this.#buffer.length - this.#head;
  }

  /** Messages asked of the server and not yet delivered. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** The pin id this member holds (consumers that pin one client). */
  get pinId(): string | undefined {
    return this.#pinId;
  }

  /**
   * Keyed pulls (partitions): whether this member reads this partition (it is assigned to it).
   * Let go, it asks for nothing more and hands the partition over once nothing is out with the
   * application and no pull request of its own still waits on the server: everything it holds
   * goes back in stream order, then hooks.handedOver frees the pin, so the next owner gets those
   * messages first, in order.
   */
  own(owned: boolean): void {
    if (owned) {
      const was = this.#disowned;
      this.#disowned = false;
      this.#handingOver = false;
      if (was) this.#refill();
      return;
    }
    this.#disowned = true;
    this.#handingOver = true;
    this.#tryHandOver();
  }

  /**
   * Keyed pulls: lets the partition go (see {@link own}) and resolves once it is handed over,
   * with the pin to free (if any).
   */
  handOver(): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.#handOverWaiters.push(resolve);
      this.own(false);
    });
  }

  #tryHandOver(): void {
    if (!this.#handingOver || this.#outstanding > 0) return;
    for (const h of this.#held) if (h.handedAt >= 0) return;
    if (this.#ackFlush) {
      clearImmediate(this.#ackFlush);
      this.#ackFlush = undefined;
    }
    const acks = this.#acks;
    this.#acks = [];
    for (const d of acks) d.ack();
    const all = [...this.#held].sort((a, b) => a.delivery.seq - b.delivery.seq);
    this.#held.clear();
    this.#bySeq.clear();
    this.#busyKeys.clear();
    this.#waiting = [];
    for (const h of all) h.delivery.nak();
    const pin = this.#pinId;
    this.#pinId = undefined;
    this.#handingOver = false;
    this.#hooks.handedOver?.(pin);
    for (const w of this.#handOverWaiters.splice(0)) w(pin);
    if (this.#closing && this.#held.size === 0) this.#stopTimer();
  }

  /** Keyed pulls: the keys whose message is being retried here now (delivered more than once). */
  retryingKeys(): string[] {
    const out: string[] = [];
    for (const h of this.#held) if (h.attempts > 1 && h.key !== undefined) out.push(h.key);
    return out;
  }

  /** Whether this member reads this partition now (see {@link own}). */
  get owned(): boolean {
    return !this.#disowned;
  }

  /** No message will come any more (closing, limit reached, or ended). */
  get exhausted(): boolean {
    return this.#closing || this.#ended || (this.#o.limit !== undefined && this.#delivered >= this.#o.limit);
  }

  /**
   * Hands the next buffered message to the application: its deadline starts now. Keyed pulls
   * look through what waits in stream order and hand out the first whose key is free (no message
   * of it out, none before it waiting for a retry's delay); nothing while handing over.
   */
  take(): Held | undefined {
    if (this.#o.keyed) return this.#takeKeyed();
    while (this.#head < this.#buffer.length) {
      const h = this.#buffer[this.#head++]!;
      if (this.#head >= 1024 && this.#head * 2 >= this.#buffer.length) {
        this.#buffer = this.#buffer.slice(this.#head);
        this.#head = 0;
      }
      if (!this.#held.has(h)) continue;
      const now = this.#o.now();
      h.handedAt = now;
      h.deadline = now + this.#deadlineOf(h);
      return h;
    }
    return undefined;
  }

  #takeKeyed(): Held | undefined {
    if (this.#handingOver) return undefined;
    const now = this.#o.now();
    const w = this.#waiting;
    const busy = this.#busyKeys;
    // Keys whose earlier message waits for its retry's delay (made only when one does).
    let blocked: Set<string> | undefined;
    for (let i = 0; i < w.length; i++) {
      const h = w[i]!;
      const key = h.key;
      if (key !== undefined && (busy.has(key) || blocked?.has(key) === true)) continue;
      if (h.notBefore > now) {
        if (key !== undefined) (blocked ??= new Set()).add(key);
        continue;
      }
      w.splice(i, 1);
      if (key !== undefined) busy.add(key);
      h.handedAt = now;
      h.deadline = now + this.#deadlineOf(h);
      return h;
    }
    return undefined;
  }

  /**
   * Keyed pulls: a message handed out was settled or went back for a retry: its key is free, and
   * the owner is told once the application's ack/nak call has returned (a handler that acks is
   * not called again from inside its own ack).
   */
  #freeKey(h: Held): void {
    if (h.handedAt < 0) return;
    if (h.key !== undefined) this.#busyKeys.delete(h.key);
    if (this.#wakeQueued) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      this.#hooks.available();
    });
  }

  /** Keyed pulls: the message goes back to wait (after `delayMs`), or is given up as poison. */
  #retry(h: Held, delayMs: number): void {
    if (!this.#held.has(h)) return;
    this.#freeKey(h);
    const max = this.#o.maxDeliveries;
    if (max > 0 && h.attempts >= max) {
      this.#release(h);
      if (this.#bySeq.get(h.delivery.seq) === h) this.#bySeq.delete(h.delivery.seq);
      h.delivery.term(`${POISON_TERM_PREFIX}${h.attempts}`);
    } else {
      h.attempts++;
      h.handedAt = -1;
      h.deadline = Infinity;
      h.notBefore = this.#o.now() + delayMs;
      insertBySeq(this.#waiting, h);
      if (delayMs > 0) setTimeout(() => this.#hooks.available(), delayMs + 1).unref();
    }
    this.#tryHandOver();
  }

  /**
   * Acks. The ack is sent with the other acks of the same burst (nats.js writes to its socket
   * once per microtask round, and an async iterator spends several per message).
   */
  ack(h: Held): void {
    // The room it frees is asked for after the ack is sent, so the server never counts more
    // than the window unacked for this member.
    const held = this.#held.delete(h);
    this.#acks.push(h.delivery);
    this.#ackFlush ??= setImmediate(this.#flushAcks);
    if (held && this.#o.keyed) {
      this.#rememberAck(h.delivery.seq);
      this.#settledKeyed(h);
    }
  }

  /** Keyed pulls: remembers an acked sequence (a bounded window of them). */
  #rememberAck(seq: number): void {
    if (this.#acked.has(seq)) return;
    this.#acked.add(seq);
    const ring = this.#ackedRing;
    if (ring.length < ACKED_MEMORY) ring.push(seq);
    else {
      this.#acked.delete(ring[this.#ackedNext]!);
      ring[this.#ackedNext] = seq;
      this.#ackedNext = (this.#ackedNext + 1) % ACKED_MEMORY;
    }
  }

  /** Keyed pulls: a message handed out was settled for good. */
  #settledKeyed(h: Held): void {
    if (this.#bySeq.get(h.delivery.seq) === h) this.#bySeq.delete(h.delivery.seq);
    this.#freeKey(h);
    this.#tryHandOver();
  }

  /** Acks and waits for the server's confirmation. */
  async ackAndWait(h: Held, timeoutMs: number): Promise<boolean> {
    const held = this.#held.has(h);
    this.#release(h);
    const ok = h.delivery.ackAndWait(timeoutMs);
    if (held && this.#o.keyed) {
      this.#rememberAck(h.delivery.seq);
      this.#settledKeyed(h);
    }
    return ok;
  }

  /**
   * Gives the message back for a redelivery (after `delayMs` when given). Keyed pulls keep it and
   * hand it out again after the delay (its key waits meanwhile).
   */
  nak(h: Held, delayMs?: number): void {
    if (this.#o.keyed) return this.#retry(h, Math.max(0, delayMs ?? 0));
    this.#release(h);
    h.delivery.nak(delayMs);
    this.#probeIfIdle(h);
  }

  /** Gives up on the message (`reason` goes into the server's advisory). */
  term(h: Held, reason?: string): void {
    const held = this.#held.has(h);
    this.#release(h);
    h.delivery.term(reason);
    if (held && this.#o.keyed) this.#settledKeyed(h);
  }

  /** The application needs more time: its deadline starts again. */
  inProgress(h: Held): void {
    if (!this.#held.has(h)) return;
    const now = this.#o.now();
    h.deadline = now + this.#deadlineOf(h);
    if (this.#o.ordered) this.#renew(now, true);
    else {
      h.delivery.working();
      h.armedAt = now;
    }
  }

  #release(h: Held): void {
    if (this.#held.delete(h)) this.#refill();
    if (this.#closing && this.#held.size === 0) this.#stopTimer();
  }

  readonly #flushAcks = (): void => {
    this.#ackFlush = undefined;
    const acks = this.#acks;
    this.#acks = [];
    for (const d of acks) d.ack();
    this.#refill();
    if (this.#closing && this.#held.size === 0) this.#stopTimer();
  };

  #onMessage(d: Delivery): void {
    const now = this.#o.now();
    this.#lastActivity = now;
    if (this.#outstanding > 0) this.#outstanding--;
    this.#delivered++;
    // A pin got while letting a partition go (a request made before) is freed by the hand-over.
    const pin = this.#o.group !== undefined ? d.pinId : undefined;
    if (pin) this.#pinId = pin;
    if (this.#closing || (this.#o.limit !== undefined && this.#delivered > this.#o.limit)) {
      // Not wanted any more (a request that was taken for lost delivered after all): give it back.
      d.nak();
      return;
    }
    if (this.#o.keyed) {
      if (d.deliveryCount > 1 && this.#acked.has(d.seq)) {
        // Acked here already (the ack was lost, e.g. in a nats-server crash): ack it again and
        // hand nothing out.
        d.ack();
        this.#refill();
        return;
      }
      const known = this.#bySeq.get(d.seq);
      if (known && this.#held.has(known)) {
        // A redelivery of a message this member holds (its lease ran out while this process
        // stalled): keep one, answering through the newest delivery.
        known.delivery = d;
        known.armedAt = now;
        return;
      }
    }
    const h: Held = {
      delivery: d,
      armedAt: now,
      handedAt: -1,
      deadline: Infinity,
      attempts: d.deliveryCount,
      notBefore: 0,
      key: this.#o.keyed ? d.headers()[KEY_HEADER] : undefined,
    };
    // Ordered: a message arriving behind later ones (a redelivery) must not outlive them on the
    // server, or a crash would return them out of order; renewing all keeps their timers in order.
    let behind = false;
    if (this.#o.ordered) for (const x of this.#held) if (x.delivery.seq > d.seq) behind = true;
    this.#held.add(h);
    if (this.#o.keyed) {
      this.#bySeq.set(d.seq, h);
      insertBySeq(this.#waiting, h);
    } else this.#buffer.push(h);
    if (behind) this.#renew(now, true);
    this.#hooks.available();
  }

  #onStatus(s: PullStatus): void {
    const now = this.#o.now();
    this.#lastActivity = now;
    switch (s.kind) {
      case "heartbeat":
        return;
      case "ended":
        this.#outstanding = Math.max(0, this.#outstanding - s.unfilled);
        // 404/408: nothing there or expired, ask again now. Anything else (no responders while
        // the server restarts, too many waiting requests…): ask again a little later.
        if (s.code !== 404 && s.code !== 408 && !/exceeds maxbytes/i.test(s.description)) {
          if (s.code === 400) {
            this.#end(`the server refused the pull request: ${s.description}`);
            return;
          }
          this.#retryAt = now + RETRY_MS;
        }
        this.#refill();
        this.#tryHandOver();
        return;
      case "unpinned":
        this.#pinId = undefined;
        this.#outstanding = Math.max(0, this.#outstanding - s.unfilled);
        this.#refill();
        this.#tryHandOver();
        return;
      case "consumer-deleted":
        this.#end("the consumer group was deleted");
        return;
      case "reconnected":
        // Requests made before the reconnect are gone with the old connection.
        this.#outstanding = 0;
        this.#refill();
        this.#tryHandOver();
        return;
    }
  }

  /** Asks for as many messages as the window has room for, once enough room is free. */
  #refill(): void {
    if (this.#closing || this.#ended || !this.#channel) return;
    const now = this.#o.now();
    if (now < this.#retryAt || this.#disowned) return;
    let room = this.#o.window - this.#held.size - this.#outstanding;
    if (this.#o.limit !== undefined) room = Math.min(room, this.#o.limit - this.#delivered - this.#outstanding);
    if (room <= 0) return;
    // Small requests only when the member would otherwise run dry.
    if (room < this.#threshold && (this.#outstanding > 0 || this.buffered > 0)) return;
    const expiresMs = this.#o.expiresMs;
    const r: PullRequest = { batch: room, expiresMs, heartbeatMs: Math.min(this.#o.heartbeatMs, Math.floor(expiresMs / 2)) };
    if (this.#o.group !== undefined) r.group = this.#o.group;
    if (this.#pinId) r.pinId = this.#pinId;
    if (this.#outstanding === 0) this.#lastActivity = now;
    this.#outstanding += room;
    this.#lastRequestAt = now;
    this.#channel.request(r);
  }

  /**
   * The pin holder of an exclusive group keeps pulling while its window is full: the server
   * restarts its pin timer only on a pull request, so a busy member would otherwise lose the
   * pin. A request for at most one byte hands out nothing (the server ends it instead).
   */
  #keepPin(now: number): void {
    if (this.#o.group === undefined || !this.#pinId || !this.#channel || this.#closing || this.#ended || this.#disowned) return;
    if (this.#outstanding > 0 || now - this.#lastRequestAt < this.#o.expiresMs / 2) return;
    this.#outstanding += 1;
    this.#lastRequestAt = now;
    this.#lastActivity = now;
    this.#channel.request({
      batch: 1,
      maxBytes: 1,
      expiresMs: this.#o.expiresMs,
      heartbeatMs: 0,
      group: this.#o.group,
      pinId: this.#pinId,
    });
  }

  /**
   * Once a second or faster: renew leases, give back messages whose deadline passed, and take
   * requests the server stopped answering for lost.
   */
  tick(): void {
    const now = this.#o.now();
    if (this.#outstanding > 0 && now - this.#lastActivity > 2 * this.#o.heartbeatMs + 1000) {
      // No message, heartbeat or status for two heartbeats: the server no longer holds our
      // requests (a restart, a leader change). Ask again.
      this.#outstanding = 0;
    }
    for (const h of this.#held) {
      if (h.handedAt >= 0 && now >= h.deadline) this.#timeout(h);
    }
    this.#renew(now, false);
    this.#refill();
    this.#keepPin(now);
    this.#tryHandOver();
  }

  /**
   * Renews leases older than a quarter of the lease (ordered: all of them, in stream order, as
   * soon as one needs it, so their server timers stay in stream order); `force` renews all now.
   */
  #renew(now: number, force: boolean): void {
    const due = this.#o.leaseMs / 4;
    if (this.#o.ordered) {
      let need = force;
      for (const h of this.#held) if (now - h.armedAt >= due) need = true;
      if (!need) return;
      for (const h of [...this.#held].sort((a, b) => a.delivery.seq - b.delivery.seq)) {
        h.delivery.working();
        h.armedAt = now;
      }
      return;
    }
    for (const h of this.#held) {
      if (force || now - h.armedAt >= due) {
        h.delivery.working();
        h.armedAt = now;
      }
    }
  }

  /** The application's time ran out: the message goes back to the group now. */
  #timeout(h: Held): void {
    // Keyed: the member retries it itself (its key waits).
    if (this.#o.keyed) return this.#retry(h, 0);
    this.#held.delete(h);
    h.delivery.timeout();
    this.#probeIfIdle(h);
    if (this.#closing && this.#held.size === 0) this.#stopTimer();
  }

  /**
   * A message given back after its last allowed delivery becomes a dead letter only when the
   * server next tries to deliver it, which takes a pull. A member that pulls no more asks once,
   * for nothing: a request for at most 1 byte makes the server look (and give up on the message)
   * without handing out anything.
   */
  #probeIfIdle(h: Held): void {
    const max = this.#o.maxDeliveries;
    if (max <= 0 || h.delivery.deliveryCount < max || !this.exhausted) return;
    void this.#probe();
  }

  #end(reason: string | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hooks.ended(reason);
  }

  #stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Stops pulling. Buffered messages (and any still arriving) are given back at once, so other
   * members get them without waiting; messages handed out stay leased until the application
   * settles them or their deadline passes. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#ackFlush) clearImmediate(this.#ackFlush);
    this.#flushAcks();
    const buffered = this.#o.keyed ? this.#waiting.splice(0) : this.#buffer.slice(this.#head);
    this.#buffer = [];
    this.#head = 0;
    for (const h of buffered) {
      if (!this.#held.delete(h)) continue;
      h.delivery.nak();
      this.#probeIfIdle(h);
    }
    if (this.#held.size === 0) this.#stopTimer();
    await this.#channel?.close((d) => d.nak());
    this.#end(undefined);
  }

  /** Stops everything now (the connection is closing): leases are no longer renewed. */
  stop(): void {
    this.#closing = true;
    this.#stopTimer();
    this.#end(undefined);
  }
}

/** Keyed pulls: how many settled sequences a pull remembers. */
const ACKED_MEMORY = 4096;

/** Inserts `h` into `list` (sorted by stream sequence) at its place. */
function insertBySeq(list: Held[], h: Held): void {
  const seq = h.delivery.seq;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.delivery.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, h);
}

/** Tick period: an eighth of the shortest lease or deadline, between 10 ms and 1 s. */
function tickMs(shortestMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(shortestMs / 8)));
}
