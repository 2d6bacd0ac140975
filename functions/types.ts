/** A message as a function sees it and returns it. */
export interface FnMessage {
  /**
   * The payload: a plain object on JSON and Protobuf stations; a string or a `Uint8Array` on
   * schemaless stations.
   */
  payload: unknown;
  /** Message headers, string to string. */
  headers: Record<string, string>;
}

/** What a function receives beside each message. */
export interface FunctionContext {
  /** The station the message is produced to. */
  station: string;
  /** The inputs configured where the function is attached to the station. */
  inputs: Record<string, string>;
  /** Which function and version is running. */
  function: { name: string; version: number };
}

/**
 * Why a message failed in a function:
 * - `threw`: the function threw (or its promise rejected);
 * - `timeout`: the call ran past `timeoutMs`, or the promise it returned never settled;
 * - `memory`: the isolate ran past `memoryMb` and was replaced;
 * - `bad-output`: the function returned something that is not a message, a list of messages or
 *   null (not plain data, cyclic, too large, non-string headers…).
 */
export type FnFailureKind = "threw" | "timeout" | "memory" | "bad-output";

/** The kinds of {@link FnFailureKind}, as values. */
export const FnFailureKinds: readonly FnFailureKind[] = Object.freeze(["threw", "timeout", "memory", "bad-output"]);

/**
 * The result of one input message in one function: the messages it became (`[]` when the
 * function dropped it, several on fan-out), or why it failed.
 */
export type FnOutcome = { ok: true; messages: FnMessage[] } | { ok: false; kind: FnFailureKind; message: string };

/**
 * The result of one input message through a pipeline: the final messages, or the first failure
 * with the function (name and version) that failed.
 */
export type PipelineOutcome =
  { ok: true; messages: FnMessage[] } | { ok: false; kind: FnFailureKind; message: string; function: string; version: number };

/** One step of a pipeline: a function version and the inputs it is attached with. */
export interface PipelineStep {
  /** The function version to run. */
  spec: FunctionSpec;
  /** The inputs configured for this function on this station. */
  inputs: Record<string, string>;
}

/** The resource limits of a function version. */
export interface FunctionLimits {
  /**
   * Wall-clock limit of one call into the sandbox, in milliseconds (a call runs a whole batch;
   * a batch that runs out is retried message by message, each with the full limit).
   * Between 1 and 60000.
   * @defaultValue 1000
   */
  timeoutMs: number;
  /**
   * Heap limit of each isolate, in mebibytes. Between 8 and 1024.
   * @defaultValue 32
   */
  memoryMb: number;
}

/** A function version: its name, version number, source and limits. */
export interface FunctionSpec extends FunctionLimits {
  /** The function's name. */
  name: string;
  /** The version number (versions are immutable: a new source is a new version). */
  version: number;
  /** The ES module source; its default export is `(message, context) => message | message[] | null`. */
  source: string;
}

/** One line a function wrote with `console.log`, `console.warn` or `console.error`. */
export interface FunctionLogEntry {
  /** When the host received the line, in milliseconds since the epoch. */
  time: number;
  /** The function's name. */
  function: string;
  /** The function's version. */
  version: number;
  /** Which console method wrote it. */
  level: "log" | "warn" | "error";
  /** The formatted line (truncated to 2 KiB). */
  message: string;
}

/** Counters of one function (all versions). */
export interface FunctionStats {
  /** Messages run through the function. */
  calls: number;
  /** Messages that failed. */
  errors: number;
  /** The message of the last failure. */
  lastError?: string;
}
