import { StoreErrorCode, type StoreAck, type StoreMessage, type StoreWriter } from "../nats/index.js";

/** Default of the small-batch threshold: requests of at most this many messages skip the atomic batch. */
export const DEFAULT_SMALL_BATCH = 8;

/** Largest atomic batch JetStream accepts (nats-server 2.12: 1,000 messages). */
export const MAX_ATOMIC_BATCH = 1000;

/** One message's store result. */
export type AckResult = { ok: boolean; seq: number; duplicate: boolean; description: string; errCode: number; timeout?: boolean };

function toAckResult(a: StoreAck): AckResult {
  return a.ok ? { ok: true, seq: a.seq, duplicate: a.duplicate, description: "", errCode: 0 } : { ...a, seq: 0, duplicate: false };
}

/**
 * Stores messages on a station subject; one result per message, in order. More than
 * `smallBatchMessages` go as atomic batches of at most 1,000, published at once in order (one
 * fsync each); fewer go message by message (an atomic commit has a fixed cost of about 2.5 ms on
 * nats-server 2.15, which would dominate latency at low rates). A batch refused for an
 * already-stored id (JetStream 10201) is published again message by message, so duplicates are
 * reported and the rest stored; `onFallback` counts those.
 */
export async function storeMessages(
  w: StoreWriter,
  subject: string,
  msgs: StoreMessage[],
  smallBatchMessages = DEFAULT_SMALL_BATCH,
  onFallback: () => void = () => {},
): Promise<AckResult[]> {
  if (msgs.length <= smallBatchMessages) return (await Promise.all(msgs.map((m) => w.publish(subject, m)))).map(toAckResult);
  const chunks: StoreMessage[][] = [];
  for (let i = 0; i < msgs.length; i += MAX_ATOMIC_BATCH) chunks.push(msgs.slice(i, i + MAX_ATOMIC_BATCH));
  // Every chunk is published now, in order (synchronously); the acks are awaited after.
  const pending = chunks.map((c) => w.publishAtomic(subject, c));
  const out: AckResult[] = [];
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]!;
    let ack = await pending[c]!;
    if (!ack.ok && ack.errCode === StoreErrorCode.BatchDuplicateMsgId) {
      onFallback();
      for (const m of chunk) out.push(toAckResult(await w.publish(subject, m)));
      continue;
    }
    if (ack.ok && chunk.length > 1 && ack.count !== chunk.length) {
      ack = { ok: false, errCode: 0, description: `batch count mismatch: sent ${chunk.length}, stored ${ack.count}` };
    }
    if (!ack.ok || chunk.length === 1) {
      for (let i = 0; i < chunk.length; i++) out.push(toAckResult(ack));
      continue;
    }
    // An atomic batch is stored contiguously: message i has seq - count + 1 + i.
    const first = ack.seq - chunk.length + 1;
    for (let i = 0; i < chunk.length; i++) out.push({ ok: true, seq: first + i, duplicate: false, description: "", errCode: 0 });
  }
  return out;
}
