import { randomUUID } from "node:crypto";
import { DEFAULT_TENANT, deadLetterId, type DeadLetter, type DeadLetterReason, type ErrorBody } from "../protocol/index.js";
import { isoNow, type Clock, type TraceScope } from "../support/index.js";
import type { StageContext, StageFailure } from "./stages.js";

/** Where refused messages are recorded (the DLS writer implements it). */
export interface DeadLetterSink {
  /**
   * Stores one dead letter; resolves true when stored (or already there). `cause`: where the
   * failure was traced (the produce request), when tracing is on.
   */
  write(dl: DeadLetter, cause?: TraceScope): Promise<boolean>;
}

/** Records nothing. */
export const noDeadLetters: DeadLetterSink = Object.freeze({ write: async () => true });

/** Base64 of bytes. */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}

/**
 * The dead letter of a message refused on produce. A message with an id gets an id derived from
 * it, so a retried produce of the same message records one dead letter.
 */
export function produceDeadLetter(
  reason: DeadLetterReason,
  ctx: StageContext,
  m: { id: string; headers: Record<string, string>; payload: Uint8Array },
  error: ErrorBody,
  clock: Clock,
): DeadLetter {
  const tenant = ctx.scope.tenant;
  return {
    id: deadLetterId(tenant, reason, ctx.station.name, m.id || randomUUID()),
    ...(tenant !== DEFAULT_TENANT ? { tenant } : {}),
    station: ctx.station.name,
    reason,
    groups: [],
    payload: toBase64(m.payload),
    headers: m.headers,
    error,
    producer: ctx.producer,
    createdAt: isoNow(clock),
  };
}

/** Records the failures that ask for it (in parallel); resolves once every write is done. */
export async function recordFailures(
  sink: DeadLetterSink,
  ctx: StageContext,
  failed: ReadonlyMap<number, StageFailure>,
  clock: Clock,
): Promise<void> {
  const writes: Promise<boolean>[] = [];
  for (const f of failed.values())
    if (f.deadLetter) writes.push(sink.write(produceDeadLetter(f.deadLetter, ctx, f.msg, f.error, clock), ctx.trace));
  await Promise.all(writes);
}
