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
