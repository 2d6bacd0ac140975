import type { DeadLetterWriter } from "../dls/index.js";
import type { ErrorBody } from "../protocol/index.js";
import type { StationRecord } from "../stations/index.js";

/** A message moving through the produce pipeline. */
export interface StageMessage {
  id: string;
  headers: Record<string, string>;
  payload: Uint8Array;
  /** The payload decoded by the station's schema (set by the schema stage). */
  value?: unknown;
}

/** What a stage made of one message: messages to store ([] = dropped), or an error. */
export type StageOutcome = { ok: true; messages: StageMessage[] } | { ok: false; error: ErrorBody };

/** Facts about the request a stage may use (for dead-letter copies). */
export interface StageContext {
  station: StationRecord;
  producer: string | undefined;
  /**
   * Where refused messages are recorded, when not the stage's own writer (a DLS resend records
   * a new failure as linked to the dead letter it resent).
   */
  deadLetters?: DeadLetterWriter | undefined;
}

/**
 * One step of the produce path between decode and store (schema validation, functions).
 * Gets the whole batch at once; returns one outcome per message, in order.
 */
export interface ProduceStage {
  readonly name: string;
  /** Whether this stage has work for the station; skipped otherwise (the hot path stays flat). */
  applies(station: StationRecord): boolean;
  run(ctx: StageContext, messages: StageMessage[]): StageOutcome[] | Promise<StageOutcome[]>;
}

/** A message with the index of the input message it came from (fan-out keeps the index). */
export interface IndexedMessage {
  index: number;
  msg: StageMessage;
}

/** What the stages made of a batch. */
export interface StagesResult {
  /** The messages to store, in order. */
  survivors: IndexedMessage[];
  /** Input indexes refused by a stage, with the error. Nothing of such a message is stored. */
  failed: Map<number, ErrorBody>;
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
  const failed = new Map<number, ErrorBody>();
  for (const stage of stages) {
    if (current.length === 0 || !stage.applies(ctx.station)) continue;
    const outcomes = await stage.run(
      ctx,
      current.map((c) => c.msg),
    );
    const next: IndexedMessage[] = [];
    outcomes.forEach((o, k) => {
      const index = current[k]!.index;
      if (!o.ok) {
        if (!failed.has(index)) failed.set(index, o.error);
        return;
      }
      o.messages.forEach((m, j) => next.push({ index, msg: j === 0 ? m : { ...m, id: m.id ? `${m.id}:${j}` : "" } }));
    });
    current = next;
  }
  return { survivors: failed.size > 0 ? current.filter((c) => !failed.has(c.index)) : current, failed };
}
