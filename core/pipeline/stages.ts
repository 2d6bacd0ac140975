import type { DeadLetterReason, ErrorBody, Scope } from "../protocol/index.js";
import type { StationRecord } from "../stations/index.js";
import { TraceAttr, endSpan, messageFailed, scopeIn, startSpan, type TraceScope } from "../support/index.js";

/** A message moving through the produce pipeline. */
export interface StageMessage {
  id: string;
  headers: Record<string, string>;
  payload: Uint8Array;
  /** The payload decoded by the station's schema (set by the schema stage). */
  value?: unknown;
}

/**
 * What a stage made of one message: messages to store ([] = dropped), or a refusal. A refusal
 * with `deadLetter` asks the caller to record the message in the DLS with that reason.
 */
export type StageOutcome = { ok: true; messages: StageMessage[] } | { ok: false; error: ErrorBody; deadLetter?: DeadLetterReason };

/** Facts about the request a stage may use. */
export interface StageContext {
  scope: Scope;
  station: StationRecord;
  producer: string | undefined;
  /**
   * Where the request is traced, when tracing is on: each stage runs in its own span, a child of
   * `trace.parent` (and a stage sees its own span there). Absent = nothing is traced.
   */
  trace?: TraceScope | undefined;
}

/**
 * One step of the produce path between decode and store (schema validation, functions).
 * Gets the whole batch at once; returns one outcome per message, in order. A stage records
 * nothing itself: refusals go back to the caller, which records dead letters.
 */
export interface ProduceStage {
  readonly name: string;
  /** The operation its span is named after (`<operation> <station>`). @default name */
  readonly traceName?: string | undefined;
  /** Whether this stage has work for the station; skipped otherwise (the hot path stays flat). */
  applies(station: StationRecord): boolean;
  run(ctx: StageContext, messages: StageMessage[]): StageOutcome[] | Promise<StageOutcome[]>;
}

/** A message with the index of the input message it came from (fan-out keeps the index). */
export interface IndexedMessage {
  index: number;
  msg: StageMessage;
}

/** Why an input message was refused, and the message as the refusing stage saw it. */
export interface StageFailure {
  error: ErrorBody;
  /** Set when the refusal is to be recorded in the DLS. */
  deadLetter?: DeadLetterReason | undefined;
  /** The message the refusing stage was given. */
  msg: StageMessage;
}

/** What the stages made of a batch. */
export interface StagesResult {
  /** The messages to store, in order. */
  survivors: IndexedMessage[];
  /** Input indexes refused by a stage. Nothing of such a message is stored. */
  failed: Map<number, StageFailure>;
}

/**
 * Runs the stages that apply to the station over a batch: each stage sees the survivors of the
 * previous one. Fan-out keeps the input index and suffixes the message id (`<id>:<n>`), so each
 * stored message keeps a de-duplication id. An input message one of whose parts fails is refused
 * whole: none of its parts is stored. Used by produce and by the DLS resend of schema/function
 * dead letters, so both see the same checks.
 */
export async function runStages(stages: readonly ProduceStage[], ctx: StageContext, input: IndexedMessage[]): Promise<StagesResult> {
  let current = input;
  const failed = new Map<number, StageFailure>();
  for (const stage of stages) {
    if (current.length === 0 || !stage.applies(ctx.station)) continue;
    const span = ctx.trace
      ? startSpan(ctx.trace, stage.traceName ?? stage.name, undefined, { [TraceAttr.BatchCount]: current.length })
      : undefined;
    let outcomes: StageOutcome[];
    try {
      outcomes = await stage.run(
        span ? { ...ctx, trace: scopeIn(ctx.trace!, span) } : ctx,
        current.map((c) => c.msg),
      );
    } catch (err) {
      if (span) endSpan(span, { code: (err as { code?: string }).code ?? "INTERNAL", message: (err as Error).message });
      throw err;
    }
    const next: IndexedMessage[] = [];
    let refused = 0;
    outcomes.forEach((o, k) => {
      const c = current[k]!;
      if (!o.ok) {
        refused++;
        if (span) messageFailed(span, "message refused", c.index, o.error.code);
        if (!failed.has(c.index)) failed.set(c.index, { error: o.error, deadLetter: o.deadLetter, msg: c.msg });
        return;
      }
      o.messages.forEach((m, j) => next.push({ index: c.index, msg: j === 0 ? m : { ...m, id: m.id ? `${m.id}:${j}` : "" } }));
    });
    if (span) {
      span.setAttribute(TraceAttr.Rejected, refused);
      span.end();
    }
    current = next;
  }
  return { survivors: failed.size > 0 ? current.filter((c) => !failed.has(c.index)) : current, failed };
}
