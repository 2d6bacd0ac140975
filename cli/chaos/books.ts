/**
 * The books of a chaos run: every message the producers sent, what the producer was told, what
 * the stream holds, what the members got, and what the DLS holds — per message id. Pure
 * bookkeeping (no I/O), so every rule is unit-tested.
 */

/** What a message is for. */
export const MessageKind = {
  /** Members ack it. */
  Normal: "normal",
  /** Members nak it until its deliveries run out: it must become exactly one `poison` dead letter. */
  Poison: "poison",
  /** The member that gets it dead-letters it: it must become exactly one `terminated` dead letter. */
  Terminate: "terminate",
} as const;
/** A {@link MessageKind}. */
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** One delivery to a member, as the member reported it before acking. */
export interface Delivery {
  /** When the member handed it to the application, in ms from the start. */
  atMs: number;
  member: string;
  deliveryCount: number;
  seq: number;
}

interface Entry {
  id: string;
  kind: MessageKind;
  /** Its ordering key, when it has one. */
  key: string | undefined;
  producer: number;
  sentAtMs: number;
  outcome: "pending" | "acked" | "failed";
  settledAtMs: number | undefined;
  duplicateAck: boolean;
  errorCode: string | undefined;
  storedSeqs: number[];
  deliveries: Delivery[];
  /** The first delivery a member processed (acked, or dead-lettered on purpose). */
  processedAtMs: number | undefined;
  deadLetters: number;
  /** The reasons of its dead letters. */
  deadLetterReasons: string[];
}

/** The totals of a run's books. */
export interface BooksSummary {
  /** Messages handed to a producer. */
  sent: number;
  /** Acknowledged to the producer (stored, or a duplicate of a stored message). */
  acked: number;
  /** Reported failed to the producer. */
  failed: number;
  /** Neither, when the run ended. */
  unsettled: number;
  /** Failures per error code. */
  failedByCode: Record<string, number>;
  /** The first failure of each code: `<id>: <message>`. */
  firstErrors: Record<string, string>;
  /** Acks that said the id was already stored (a retry of a message stored before). */
  duplicateAcks: number;
  /** Entries read back from the station's stream. */
  streamEntries: number;
  /** Message ids stored at least once. */
  stored: number;
  /** Message ids stored more than once. */
  storedTwice: number;
  /** Reported failed to the producer, yet stored. */
  storedButReportedFailed: number;
  /** Stream, DLS entries and deliveries no producer of the run sent. */
  unknownEntries: number;
  /** Normal messages a member processed (acked) at least once. */
  consumed: number;
  /** Deliveries of normal messages. */
  deliveries: number;
  /** Normal messages delivered more than once. */
  deliveredTwice: number;
  /** Extra deliveries with a higher delivery count than any before (JetStream's resend). */
  redeliveries: number;
  /**
   * Extra deliveries with the same delivery count as one before: the server forgot that it had
   * delivered the message (`redelivered` is false on a duplicate).
   */
  replays: number;
  /**
   * Extra deliveries with a lower delivery count than one before: a copy a member held past the
   * ack time, handed to the application after the message had been redelivered elsewhere.
   */
  staleCopies: number;
  /** Deliveries of a normal message after a member had processed it: the duplicates an application sees. */
  afterProcessed: number;
  /** Stored poison and dead-letter-on-purpose messages: each must have exactly one dead letter. */
  deadLetterExpected: number;
  /** Of those, the ones with exactly one dead letter. */
  deadLetteredOnce: number;
  /** Of those, the ones with none. */
  dlsMissing: number;
  /** Of those, the ones with more than one. */
  dlsDoubled: number;
  /** Dead letters of normal messages (a member would have acked them). */
  falseDeadLetters: number;
  /** Acked, and then not stored, or stored and neither consumed nor dead-lettered. */
  lost: number;
  /** Keyed messages: hand-outs of a key's message after a later one of the same key, with no ack-losing fault between (see {@link Books.summarize}). */
  keyOrderBroken: number;
  /** Acked, not in the stream. */
  lostNotStored: number;
  /** Acked and stored, but never consumed (normal) or never dead-lettered (poison, terminate). */
  lostNotConsumed: number;
  /** From send to first processing of normal messages, in ms. */
  endToEndMs: { p50: number; p99: number; max: number } | undefined;
  /** The first ids of each kind of problem (at most 10 each), to look them up. */
  examples: Record<string, string[]>;
}

/** How the broker recovered from a fault at a given time. */
export interface Recovery {
  /** To the end of the longest time without an ack on a producer (the slowest producer), in ms. */
  produceBackMs: number | undefined;
  /** To the end of the longest time without a first delivery to any member, in ms. */
  consumeBackMs: number | undefined;
  /** The longest send-to-processing time of normal messages sent in the window, in ms. */
  worstEndToEndMs: number | undefined;
}

const EXAMPLES = 10;

/** The ledger of one run. */
export class Books {
  readonly #entries = new Map<string, Entry>();
  readonly #byProducer: Entry[][] = [];
  #unknown = 0;
  #firstDeliveries: number[] = [];
  #firstDeliveriesSorted = true;
  #streamEntries = 0;
  #lastAckAtMs = 0;
  #ackTimes: number[][] | undefined;
  readonly #firstErrors = new Map<string, string>();

  /** Records a message handed to producer `producer` at `atMs` (with its ordering key, if any). */
  sent(id: string, kind: MessageKind, producer: number, atMs: number, key?: string): void {
    const e: Entry = {
      id,
      kind,
      key,
      producer,
      sentAtMs: atMs,
      outcome: "pending",
      settledAtMs: undefined,
      duplicateAck: false,
      errorCode: undefined,
      storedSeqs: [],
      deliveries: [],
      processedAtMs: undefined,
      deadLetters: 0,
      deadLetterReasons: [],
    };
    this.#entries.set(id, e);
    (this.#byProducer[producer] ??= []).push(e);
  }

  /** The producer was told the message is stored. */
  acked(id: string, atMs: number, duplicate: boolean): void {
    const e = this.#entries.get(id);
    if (!e) return void this.#unknown++;
    e.outcome = "acked";
    e.settledAtMs = atMs;
    this.#lastAckAtMs = Math.max(this.#lastAckAtMs, atMs);
    this.#ackTimes = undefined;
    e.duplicateAck = duplicate;
  }

  /** The producer was told the message failed (`message`: the error's text, kept for the first of each code). */
  failed(id: string, atMs: number, code: string, message = ""): void {
    const e = this.#entries.get(id);
    if (!e) return void this.#unknown++;
    e.outcome = "failed";
    e.settledAtMs = atMs;
    e.errorCode = code;
    if (!this.#firstErrors.has(code)) this.#firstErrors.set(code, `${id}: ${message.slice(0, 300)}`);
  }

  /** A member got the message; `processed` when it acked it or dead-lettered it on purpose. */
  delivered(id: string | undefined, d: Delivery, processed: boolean): void {
    const e = id === undefined ? undefined : this.#entries.get(id);
    if (!e) return void this.#unknown++;
    if (e.deliveries.length === 0) {
      const last = this.#firstDeliveries[this.#firstDeliveries.length - 1];
      if (last !== undefined && d.atMs < last) this.#firstDeliveriesSorted = false;
      this.#firstDeliveries.push(d.atMs);
    }
    e.deliveries.push(d);
    if (processed && (e.processedAtMs === undefined || d.atMs < e.processedAtMs)) e.processedAtMs = d.atMs;
  }

  /** One entry read back from the station's stream (`id` undefined when it carries none of ours). */
  stored(id: string | undefined, seq: number): void {
    this.#streamEntries++;
    const e = id === undefined ? undefined : this.#entries.get(id);
    if (!e) return void this.#unknown++;
    e.storedSeqs.push(seq);
  }

  /** One dead letter read back from the DLS (`id` undefined when it carries none of ours). */
  deadLettered(id: string | undefined, reason = "?"): void {
    const e = id === undefined ? undefined : this.#entries.get(id);
    if (!e) return void this.#unknown++;
    e.deadLetters++;
    e.deadLetterReasons.push(reason);
  }

  /** Messages sent so far. */
  get size(): number {
    return this.#entries.size;
  }

  /** Acked normal messages no member has processed yet. */
  unconsumed(): string[] {
    const out: string[] = [];
    for (const e of this.#entries.values())
      if (e.outcome === "acked" && e.kind === MessageKind.Normal && e.processedAtMs === undefined) out.push(e.id);
    return out;
  }

  /** Acked messages that must end as dead letters (poison, terminate). */
  expectedDeadLetters(): string[] {
    const out: string[] = [];
    for (const e of this.#entries.values()) if (e.outcome === "acked" && e.kind !== MessageKind.Normal) out.push(e.id);
    return out;
  }

  /** Sends not answered yet. */
  unsettled(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.outcome === "pending") n++;
    return n;
  }

  /** The time of the last ack any producer got, in ms from the start (0 when none). */
  lastAckAtMs(): number {
    return this.#lastAckAtMs;
  }

  /**
   * How the broker recovered from something that happened at `atMs` (the next one happens at
   * `untilMs`). A stall is a time without progress; "back" is when the longest stall that
   * overlaps [atMs, untilMs) ended, counted from `atMs` (so a message that squeezes through just
   * after a fault does not hide the outage that follows). Produce is judged per producer (acks)
   * and the slowest producer counts; consume by first deliveries to any member. Produce is not
   * back (undefined) when a producer that sent after `atMs` never got an ack again.
   */
  recovery(atMs: number, untilMs: number, lookBackMs = 5000): Recovery {
    let produce: number | undefined;
    let anyProducer = false;
    let allBack = true;
    this.#ackTimes ??= this.#byProducer.map((list) =>
      (list ?? [])
        .filter((e) => e.outcome === "acked")
        .map((e) => e.settledAtMs!)
        .sort((a, b) => a - b),
    );
    for (const [p, list] of this.#byProducer.entries()) {
      if (!list || list.length === 0 || list[list.length - 1]!.sentAtMs < atMs) continue;
      anyProducer = true;
      const back = backAfter(this.#ackTimes[p] ?? [], atMs, untilMs);
      if (back === undefined) allBack = false;
      else produce = Math.max(produce ?? 0, back);
    }
    if (!this.#firstDeliveriesSorted) {
      this.#firstDeliveries.sort((a, b) => a - b);
      this.#firstDeliveriesSorted = true;
    }
    const consume = backAfter(this.#firstDeliveries, atMs, untilMs);
    let worst: number | undefined;
    for (const list of this.#byProducer) {
      if (!list) continue;
      for (let i = lowerBound(list, atMs - lookBackMs, (e) => e.sentAtMs); i < list.length && list[i]!.sentAtMs < untilMs; i++) {
        const e = list[i]!;
        if (e.kind !== MessageKind.Normal || e.processedAtMs === undefined) continue;
        worst = Math.max(worst ?? 0, e.processedAtMs - e.sentAtMs);
      }
    }
    const round = (x: number | undefined) => (x === undefined ? undefined : Math.round(x));
    return {
      produceBackMs: round(anyProducer && allBack ? produce : undefined),
      consumeBackMs: round(consume),
      worstEndToEndMs: round(worst),
    };
  }

  /**
   * The totals; call once the stream and the DLS have been read back. `breaksMs`: when faults that
   * can lose an ack began (a killed member's last acks, a killed server's consumer state); a key
   * may then be given a message it had already been given again, before its later ones, and that
   * is not counted as broken order — any other step back in a key's hand-outs is.
   */
  summarize(breaksMs: readonly number[] = []): BooksSummary {
    const s: BooksSummary = {
      sent: this.#entries.size,
      acked: 0,
      failed: 0,
      unsettled: 0,
      failedByCode: {},
      firstErrors: Object.fromEntries(this.#firstErrors),
      duplicateAcks: 0,
      streamEntries: this.#streamEntries,
      stored: 0,
      storedTwice: 0,
      storedButReportedFailed: 0,
      unknownEntries: this.#unknown,
      consumed: 0,
      deliveries: 0,
      deliveredTwice: 0,
      redeliveries: 0,
      replays: 0,
      staleCopies: 0,
      afterProcessed: 0,
      deadLetterExpected: 0,
      deadLetteredOnce: 0,
      dlsMissing: 0,
      dlsDoubled: 0,
      falseDeadLetters: 0,
      lost: 0,
      keyOrderBroken: 0,
      lostNotStored: 0,
      lostNotConsumed: 0,
      endToEndMs: undefined,
      examples: {},
    };
    const example = (what: string, id: string) => {
      const list = (s.examples[what] ??= []);
      if (list.length < EXAMPLES) list.push(id);
    };
    const latencies: number[] = [];
    for (const e of this.#entries.values()) {
      if (e.outcome === "acked") s.acked++;
      else if (e.outcome === "failed") {
        s.failed++;
        s.failedByCode[e.errorCode ?? "?"] = (s.failedByCode[e.errorCode ?? "?"] ?? 0) + 1;
      } else s.unsettled++;
      if (e.duplicateAck) s.duplicateAcks++;
      const stored = e.storedSeqs.length;
      if (stored > 0) s.stored++;
      if (stored > 1) {
        s.storedTwice++;
        example("storedTwice", `${e.id} (seqs ${e.storedSeqs.join(", ")})`);
      }
      if (stored > 0 && e.outcome === "failed") {
        s.storedButReportedFailed++;
        example("storedButReportedFailed", `${e.id} (${e.errorCode ?? "?"})`);
      }
      if (e.kind === MessageKind.Normal) {
        if (e.processedAtMs !== undefined) {
          s.consumed++;
          latencies.push(e.processedAtMs - e.sentAtMs);
        }
        s.deliveries += e.deliveries.length;
        if (e.deliveries.length > 1) s.deliveredTwice++;
        // In the order the application was handed them (reports can arrive out of order).
        const handed = e.deliveries.length > 1 ? [...e.deliveries].sort((a, b) => a.atMs - b.atMs) : e.deliveries;
        const processedAt = e.processedAtMs;
        let maxCount = 0;
        const counts = () => handed.map((x) => x.deliveryCount).join(",");
        for (const [i, d] of handed.entries()) {
          if (i > 0) {
            if (d.deliveryCount > maxCount) s.redeliveries++;
            else if (d.deliveryCount === maxCount) {
              s.replays++;
              example("replays", `${e.id} (counts ${counts()})`);
            } else {
              s.staleCopies++;
              example("staleCopies", `${e.id} (counts ${counts()})`);
            }
            if (processedAt !== undefined && d.atMs > processedAt) s.afterProcessed++;
          }
          maxCount = Math.max(maxCount, d.deliveryCount);
        }
        if (e.deadLetters > 0) {
          s.falseDeadLetters++;
          example("falseDeadLetters", `${e.id} (${e.deadLetterReasons.join(", ")})`);
        }
      } else if (stored > 0) {
        s.deadLetterExpected++;
        if (e.deadLetters === 1) s.deadLetteredOnce++;
        else if (e.deadLetters === 0) {
          s.dlsMissing++;
          example("dlsMissing", e.id);
        } else {
          s.dlsDoubled++;
          const seen = [...e.deliveries].sort((a, b) => a.atMs - b.atMs).map((x) => `${x.deliveryCount}@${x.member}`);
          example("dlsDoubled", `${e.id} (${e.deadLetterReasons.join(", ")}; deliveries ${seen.join(" ") || "none"})`);
        }
      }
      if (e.outcome !== "acked") continue;
      if (stored === 0) {
        s.lostNotStored++;
        example("lostNotStored", e.id);
      } else if (e.kind === MessageKind.Normal ? e.processedAtMs === undefined && e.deadLetters === 0 : e.deadLetters === 0) {
        s.lostNotConsumed++;
        example("lostNotConsumed", e.id);
      }
    }
    s.lost = s.lostNotStored + s.lostNotConsumed;
    if (latencies.length > 0) {
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
      s.endToEndMs = { p50: Math.round(at(0.5)), p99: Math.round(at(0.99)), max: Math.round(latencies[latencies.length - 1]!) };
    }
    for (const broken of this.#keyOrder(breaksMs)) {
      s.keyOrderBroken++;
      example("keyOrder", broken);
    }
    return s;
  }

  /** Every step back in a key's hand-outs (by hand-out time) that no ack-losing fault explains. */
  #keyOrder(breaksMs: readonly number[]): string[] {
    const byKey = new Map<string, { atMs: number; seq: number; id: string }[]>();
    for (const e of this.#entries.values()) {
      if (e.key === undefined) continue;
      const list = byKey.get(e.key) ?? [];
      for (const d of e.deliveries) list.push({ atMs: d.atMs, seq: d.seq, id: e.id });
      byKey.set(e.key, list);
    }
    const breaks = [...breaksMs].sort((a, b) => a - b);
    const broken: string[] = [];
    for (const [key, list] of byKey) {
      list.sort((a, b) => a.atMs - b.atMs);
      // Each hand-out against the one before it (after a step back, order counts from there).
      let prev: { atMs: number; seq: number } | undefined;
      for (const d of list) {
        if (prev && d.seq < prev.seq) {
          // Allowed only when an ack-losing fault began after the later message was handed out.
          const i = lowerBound(breaks, prev.atMs, (t) => t);
          const explained = i < breaks.length && breaks[i]! <= d.atMs;
          if (!explained) broken.push(`${key}: ${d.id} (seq ${d.seq}) after seq ${prev.seq}`);
        }
        prev = d;
      }
    }
    return broken;
  }
}

/** A gap in progress shorter than this is ordinary pacing, not a stall, in ms. */
export const STALL_MS = 1000;

/**
 * In sorted progress times: when progress was back after something that happened at `from`
 * (the next thing happens at `until`). That is the end of the longest stall (a gap of at least
 * `stallMs`) that ends after `from` and begins before `until − stallMs` — a gap that begins
 * later belongs to the next thing; one that began before `from` counts from `from` — or, without
 * a stall, the first progress after `from`; minus `from`. Undefined when nothing happened after
 * `from`.
 */
export function backAfter(times: readonly number[], from: number, until: number, stallMs = STALL_MS): number | undefined {
  let i = lowerBound(times, from, (t) => t);
  if (i >= times.length) return undefined;
  let end = times[i]!;
  let longest = stallMs;
  for (; i < times.length; i++) {
    const began = i > 0 ? times[i - 1]! : from;
    if (began >= until - stallMs) break;
    const length = times[i]! - Math.max(began, from);
    if (length >= longest) {
      longest = length;
      end = times[i]!;
    }
  }
  return end - from;
}

/** The first index whose key is >= x, in a list sorted by key. */
function lowerBound<T>(list: readonly T[], x: number, key: (t: T) => number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid]!) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
