import { StoreErrorCode, type StoreAck, type StoreMessage, type StoreWriter } from "../nats/index.js";

/** Default of the small-batch threshold: requests of at most this many messages skip the atomic batch. */
export const DEFAULT_SMALL_BATCH = 8;

/** Largest atomic batch JetStream accepts (nats-server 2.12: 1,000 messages). */
export const MAX_ATOMIC_BATCH = 1000;

/** How a failed store is reported (see the error table). */
export type StoreErrorKind = "STORE_FAILED" | "STORE_FULL" | "STORE_TIMEOUT";

/** One message's store result. */
export type AckResult =
  | { ok: true; seq: number; duplicate: boolean }
  | { ok: false; code: StoreErrorKind; description: string; errCode: number; timeout?: boolean };

/** JetStream errors that mean "out of space or at a storage limit" (nats-server errors.json). */
const FULL_CODES = new Set<number>([
  10002, // JSAccountResourcesExceededErr
  10023, // JSInsufficientResourcesErr
  10028, // JSMemoryResourcesExceededErr
  10047, // JSStorageResourcesExceededErr
]);
const FULL_TEXT = /maximum (bytes|messages)|insufficient (storage )?resources|no space left|resource limits exceeded/i;

/** The error code a failed store ack is reported with. */
export function storeErrorKind(a: { errCode: number; description: string; timeout?: boolean | undefined }): StoreErrorKind {
  if (a.timeout) return "STORE_TIMEOUT";
  if (FULL_CODES.has(a.errCode) || FULL_TEXT.test(a.description)) return "STORE_FULL";
  return "STORE_FAILED";
}

function toAckResult(a: StoreAck): AckResult {
  if (a.ok) return { ok: true, seq: a.seq, duplicate: a.duplicate };
  const r: AckResult = { ok: false, code: storeErrorKind(a), description: a.description, errCode: a.errCode };
  if (a.timeout) r.timeout = true;
  return r;
}

/** Options of {@link storeMessages}. */
export interface StoreOptions {
  /** Requests of at most this many messages are stored message by message. @default 8 */
  smallBatchMessages?: number | undefined;
  /** Counts atomic batches refused for a duplicate id and stored again unit by unit. */
  onFallback?: (() => void) | undefined;
  /**
   * The input message each stored message came from (a function's fan-out gives one input
   * several parts, adjacent). The parts of one input are stored together or not at all.
   * @default each message on its own
   */
  groups?: readonly number[] | undefined;
  /**
   * Asks the store again, once, about messages whose acknowledgement timed out and that all have
   * an id: the answer (stored now, or duplicate = it had been stored) is then certain.
   * @default true
   */
  reaskTimeouts?: boolean | undefined;
}

/** [start, end) of each unit: the messages stored together. */
function unitsOf(n: number, groups: readonly number[] | undefined): [number, number][] {
  const units: [number, number][] = [];
  for (let i = 0; i < n;) {
    let j = i + 1;
    if (groups) while (j < n && groups[j] === groups[i]) j++;
    units.push([i, j]);
    i = j;
  }
  return units;
}

/** Stores one unit on its own: one publish, or an atomic batch of its parts. */
async function storeUnit(w: StoreWriter, subject: string, msgs: readonly StoreMessage[]): Promise<AckResult[]> {
  if (msgs.length === 1) return [toAckResult(await w.publish(subject, msgs[0]!))];
  const ack = await w.publishAtomic(subject, msgs);
  // Parts already stored (the unit was, atomically): each is then reported as the duplicate it is.
  if (!ack.ok && ack.errCode === StoreErrorCode.BatchDuplicateMsgId) {
    return Promise.all(msgs.map(async (m) => toAckResult(await w.publish(subject, m))));
  }
  return expand(ack, msgs.length);
}

/** Results of an atomic batch of n messages from its commit ack. */
function expand(ack: StoreAck, n: number): AckResult[] {
  if (ack.ok && n > 1 && ack.count !== n) {
    ack = { ok: false, errCode: 0, description: `batch count mismatch: sent ${n}, stored ${ack.count}` };
  }
  if (!ack.ok || n === 1) return Array.from({ length: n }, () => toAckResult(ack));
  // An atomic batch is stored contiguously: message i has seq - count + 1 + i.
  const first = ack.seq - n + 1;
  return Array.from({ length: n }, (_, i) => ({ ok: true as const, seq: first + i, duplicate: false }));
}

/**
 * Stores messages on a station subject; one result per message, in order, and each exactly true:
 * a message is reported stored only when the store said so, failed only when nothing of it was
 * stored, and `STORE_TIMEOUT` (outcome unknown) when the store did not answer even when asked
 * again. More than `smallBatchMessages` go as atomic batches of at most 1,000, published at once in
 * order (one fsync each), never splitting one input's parts; fewer go unit by unit (an atomic
 * commit has a fixed cost of about 2.5 ms on nats-server 2.15, which would dominate latency at low
 * rates). A batch refused for an already-stored id (JetStream 10201) is stored again unit by unit,
 * so duplicates are reported and the rest stored.
 */
export async function storeMessages(
  w: StoreWriter,
  subject: string,
  msgs: readonly StoreMessage[],
  o: StoreOptions = {},
): Promise<AckResult[]> {
  const units = unitsOf(msgs.length, o.groups);
  const out: AckResult[] = new Array(msgs.length);
  const put = (start: number, rs: AckResult[]) => rs.forEach((r, k) => (out[start + k] = r));
  if (msgs.length <= (o.smallBatchMessages ?? DEFAULT_SMALL_BATCH)) {
    const acks = await Promise.all(units.map(([s, e]) => storeUnit(w, subject, msgs.slice(s, e))));
    units.forEach(([s], k) => put(s, acks[k]!));
  } else {
    // Units packed into atomic batches of at most MAX_ATOMIC_BATCH (the fan-out limit keeps a
    // unit within one batch).
    const chunks: [number, number][][] = [];
    let cur: [number, number][] = [];
    let size = 0;
    for (const u of units) {
      const n = u[1] - u[0];
      if (size + n > MAX_ATOMIC_BATCH && cur.length > 0) {
        chunks.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(u);
      size += n;
    }
    if (cur.length > 0) chunks.push(cur);
    // Every chunk is published now, in order (synchronously); the acks are awaited after.
    const pending = chunks.map((c) => w.publishAtomic(subject, msgs.slice(c[0]![0], c[c.length - 1]![1])));
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c]!;
      const start = chunk[0]![0];
      const n = chunk[chunk.length - 1]![1] - start;
      const ack = await pending[c]!;
      if (!ack.ok && ack.errCode === StoreErrorCode.BatchDuplicateMsgId) {
        o.onFallback?.();
        for (const [s, e] of chunk) put(s, await storeUnit(w, subject, msgs.slice(s, e)));
        continue;
      }
      put(start, expand(ack, n));
    }
  }
  if (o.reaskTimeouts !== false) await reask(w, subject, msgs, units, out);
  return out;
}

/**
 * Asks again about units whose store ack timed out: with the same ids the store answers
 * "duplicate" for what it had stored and stores what it had not, so an acknowledgement makes the
 * result certain. Units with a message without id, or that are refused again, keep STORE_TIMEOUT
 * (storing them again without an id could store them twice).
 */
async function reask(
  w: StoreWriter,
  subject: string,
  msgs: readonly StoreMessage[],
  units: [number, number][],
  out: AckResult[],
): Promise<void> {
  const again = units.filter(([s, e]) => {
    const r = out[s]!;
    if (r.ok || r.code !== "STORE_TIMEOUT") return false;
    for (let i = s; i < e; i++) if (!msgs[i]!.id) return false;
    return true;
  });
  if (again.length === 0) return;
  const acks = await Promise.all(again.map(([s, e]) => storeUnit(w, subject, msgs.slice(s, e))));
  // Only an acknowledgement settles it: a refusal now does not prove the first attempt failed
  // (nats-server keeps a batch cut short by a full disk and may commit it when JetStream restarts).
  again.forEach(([s], k) => {
    const rs = acks[k]!;
    if (rs.every((r) => r.ok)) rs.forEach((r, j) => (out[s + j] = r));
  });
}
