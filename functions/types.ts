/** A message as a function sees it and returns it. */
export interface FnMessage {
  /**
   * The payload: a plain object (or any JSON value) on JSON and Protobuf stations; a string or a
   * `Uint8Array` on schemaless stations.
   */
  payload: unknown;
  /** Message headers, string to string. */
  headers: Record<string, string>;
  /**
   * The payload as UTF-8 JSON text, when it is known.
   *
   * - On input, optional: a caller that holds the payload's JSON text (a JSON station's validated
   *   bytes) passes it here and the runtime sends these bytes to the sandbox instead of encoding
   *   `payload` (which it then ignores). It must be the JSON text of `payload`.
   * - On output, the runtime sets it (as a non-enumerable property) on every message whose payload
   *   the function returned as JSON data; `payload` is then decoded from it only when read. It
   *   describes the payload as the function returned it: assigning `payload` clears it, but
   *   changing the decoded object in place does not.
   */
  json?: Uint8Array | undefined;
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
 * - `timeout`: the message ran past the function's `timeoutMs`, its promise never settled, or the
 *   batch ran out of its time budget before the message was done;
 * - `memory`: the isolate ran past `memoryMb` (the isolate, or its whole worker process, was
 *   replaced);
 * - `bad-output`: the function returned something that is not a message, a list of messages or
 *   null (not plain data, cyclic, too large, non-string headers…);
 * - `crashed`: the worker process running the batch died (killed, crashed, stopped answering);
 * - `quarantined`: the function version is quarantined after repeated crashes, memory breaches or
 *   timeouts; it is not run until it is released or a new version replaces it;
 * - `capacity`: the runtime's memory budget has no room for the function (its `memoryMb` can never
 *   fit, or the budget stayed full of busy functions until the batch's time budget ran out).
 */
export type FnFailureKind = "threw" | "timeout" | "memory" | "bad-output" | "crashed" | "quarantined" | "capacity";

/** The kinds of {@link FnFailureKind}, as values. */
export const FnFailureKinds: readonly FnFailureKind[] = Object.freeze([
  "threw",
  "timeout",
  "memory",
  "bad-output",
  "crashed",
  "quarantined",
  "capacity",
]);

/** The failure kinds that count towards quarantining a function version. */
export type QuarantineReason = "timeout" | "memory" | "crashed";

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
   * Time limit of one message, in milliseconds (wall clock, including the promise the function
   * returns). A whole batch is also bounded, by the runtime's `batchTimeoutMs`.
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

/** A quarantined function version (see {@link FunctionRuntime.quarantined}). */
export interface QuarantineEntry {
  /** The function's name. */
  function: string;
  /** The quarantined version. */
  version: number;
  /** The kind of the failure that tipped it over. */
  reason: QuarantineReason;
  /** What that failure said. */
  message: string;
  /** Batch failures counted within the window when it was quarantined. */
  failures: number;
  /** When it was quarantined, in milliseconds since the epoch. */
  since: number;
}

/** What {@link FunctionRuntimeOptions.onRelease} is told. */
export interface QuarantineReleaseEvent extends QuarantineEntry {
  /** Who lifted the quarantine: an operator (`release()`), or the function was deleted (`evict(name)`). */
  by: "operator" | "deleted";
  /** When, in milliseconds since the epoch. */
  released: number;
}

/** What {@link FunctionRuntimeOptions.onWorkerExit} is told when a worker process ends. */
export interface WorkerExitEvent {
  /** The worker's process id. */
  pid: number;
  /** Why it ended. */
  reason: "closed" | "crashed" | "memory" | "recycled" | "hung";
  /** Its exit code, when it exited. */
  code: number | null;
  /** The signal that ended it, when one did. */
  signal: string | null;
  /** Batches it still had in flight (they failed). */
  inFlight: number;
  /** The end of what it wrote to stderr (V8 prints fatal errors there). */
  stderr: string;
}

/** One worker process, as {@link FunctionPoolStats} shows it. */
export interface WorkerStats {
  /** Its process id. */
  pid: number;
  /** `starting` until it said it is ready; `retiring` once it takes no new work. */
  state: "starting" | "ready" | "retiring";
  /** Isolates it holds. */
  isolates: number;
  /** Batches sent to it and not answered yet. */
  inFlight: number;
  /** Memory counted against the budget for it: its overhead plus its isolates' limits, MiB. */
  reservedMb: number;
}

/** The state of the worker pool (see {@link FunctionRuntime.poolStats}). */
export interface FunctionPoolStats {
  /** The live worker processes. */
  workers: WorkerStats[];
  /** Memory counted against the budget, MiB. */
  reservedMb: number;
  /** The budget, MiB. */
  budgetMb: number;
  /** Isolates held, across workers. */
  isolates: number;
  /** Isolates running a batch now. */
  busyIsolates: number;
  /** Worker processes started since the runtime was created. */
  workersStarted: number;
  /** Isolates created since the runtime was created. */
  isolatesCreated: number;
  /** Calls into sandboxes since the runtime was created (a batch takes one when nothing fails). */
  sandboxCalls: number;
}
