import { FunctionError } from "./errors.js";
import type { FunctionLimits, QuarantineEntry, QuarantineReleaseEvent, WorkerExitEvent } from "./types.js";

/** The default limits of a function version. */
export const DEFAULT_FUNCTION_LIMITS: Readonly<FunctionLimits> = Object.freeze({ timeoutMs: 1000, memoryMb: 32 });

/** Allowed ranges of the limits, inclusive. */
export const FUNCTION_LIMIT_RANGES = Object.freeze({
  timeoutMs: Object.freeze({ min: 1, max: 60_000 }),
  memoryMb: Object.freeze({ min: 8, max: 1024 }),
});

/**
 * Fills in default limits and checks them; throws `FUNCTION_INVALID` naming the bad option.
 */
export function resolveFunctionLimits(limits: Partial<FunctionLimits> = {}): Readonly<FunctionLimits> {
  const resolved = { ...DEFAULT_FUNCTION_LIMITS };
  for (const key of ["timeoutMs", "memoryMb"] as const) {
    const value = limits[key];
    if (value === undefined) continue;
    const { min, max } = FUNCTION_LIMIT_RANGES[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new FunctionError("FUNCTION_INVALID", `${key} must be an integer between ${min} and ${max}, got ${String(value)}`, {
        details: { option: key, value, min, max },
      });
    }
    resolved[key] = value;
  }
  return Object.freeze(resolved);
}

/** Options of {@link createFunctionRuntime}. */
export interface FunctionRuntimeOptions {
  /**
   * Isolates kept per function version (batches of one version running at once); more wait for
   * a free one.
   * @defaultValue 2
   */
  poolSize?: number;
  /**
   * Most worker processes the isolates live in. Function versions are spread over them, one
   * worker per version while there are enough; a worker is started when first needed.
   * @defaultValue 4
   */
  maxWorkers?: number;
  /**
   * Total memory budget of the runtime, in mebibytes: the `memoryMb` of every live isolate plus
   * `workerOverheadMb` per worker process must stay within it. When a new isolate does not fit,
   * idle isolates are evicted, least recently used first; when everything is busy the batch waits
   * (within its time budget) and then fails as `capacity`.
   * @defaultValue 2048
   */
  memoryBudgetMb?: number;
  /**
   * Memory counted for each worker process besides its isolates, in mebibytes (Node itself, the
   * frames of the batches in flight).
   * @defaultValue 64
   */
  workerOverheadMb?: number;
  /**
   * Time budget of one function over one batch, in milliseconds, from the call to its outcomes
   * (queueing, retries and all). Messages not done when it runs out fail as `timeout`. A
   * function whose own `timeoutMs` is larger gets that instead, so one message always has its
   * full limit.
   * @defaultValue 5000
   */
  batchTimeoutMs?: number;
  /**
   * Batch failures by timeout, memory or crash within `quarantineWindowMs` after which a
   * function version is quarantined; 0 never quarantines.
   * @defaultValue 3
   */
  quarantineAfter?: number;
  /**
   * The window in which batch failures are counted for quarantine, in milliseconds.
   * @defaultValue 60000
   */
  quarantineWindowMs?: number;
  /**
   * How long `close()` lets running batches finish, in milliseconds, before it kills the worker
   * processes that have not exited.
   * @defaultValue 5000
   */
  drainTimeoutMs?: number;
  /**
   * Largest output message, in bytes (strings counted by length, numbers as 8 bytes, byte arrays
   * by their length, plus keys).
   * @defaultValue 1048576 (1 MiB)
   */
  maxOutputBytes?: number;
  /**
   * Most messages a function may return for one input message (fan-out); more fail the message as
   * `bad-output` inside the sandbox, before anything crosses to the gateway.
   * @defaultValue 1000 (the largest atomic batch, so a message's parts are stored together)
   */
  maxOutputMessages?: number;
  /**
   * Console lines kept per function (older lines are dropped); also the most lines one call
   * can write.
   * @defaultValue 200
   */
  logLimit?: number;
  /**
   * Most messages sent into the sandbox in one call; larger batches are split.
   * @defaultValue 1000
   */
  maxBatch?: number;
  /**
   * The clock used to stamp log lines and quarantine times, in milliseconds since the epoch.
   * @defaultValue Date.now
   */
  now?: () => number;
  /**
   * Told when a function hit V8's fatal out-of-memory path and its isolate had to be abandoned
   * (the batch failed as `memory`; the worker process holding it is replaced, which gives the
   * memory back).
   * @defaultValue a no-op
   */
  onIsolateAbandoned?: (event: IsolateAbandonedEvent) => void;
  /**
   * Told when a function version is quarantined.
   * @defaultValue a no-op
   */
  onQuarantine?: (entry: QuarantineEntry) => void;
  /**
   * Told when a quarantine is lifted.
   * @defaultValue a no-op
   */
  onRelease?: (event: QuarantineReleaseEvent) => void;
  /**
   * Told when a worker process ends (closed, crashed, ran out of memory, recycled after a fatal
   * out-of-memory error, or killed because it stopped answering).
   * @defaultValue a no-op
   */
  onWorkerExit?: (event: WorkerExitEvent) => void;
}

/** What {@link FunctionRuntimeOptions.onIsolateAbandoned} is told. */
export interface IsolateAbandonedEvent {
  /** The function whose isolate was abandoned. */
  function: string;
  /** Its version. */
  version: number;
  /** isolated-vm's description of the error. */
  message: string;
}

/** The default {@link FunctionRuntimeOptions}. */
export const DEFAULT_FUNCTION_RUNTIME_OPTIONS: Readonly<Required<FunctionRuntimeOptions>> = Object.freeze({
  poolSize: 2,
  maxWorkers: 4,
  memoryBudgetMb: 2048,
  workerOverheadMb: 64,
  batchTimeoutMs: 5000,
  quarantineAfter: 3,
  quarantineWindowMs: 60_000,
  drainTimeoutMs: 5000,
  maxOutputBytes: 1024 * 1024,
  maxOutputMessages: 1000,
  logLimit: 200,
  maxBatch: 1000,
  now: Date.now,
  onIsolateAbandoned: () => undefined,
  onQuarantine: () => undefined,
  onRelease: () => undefined,
  onWorkerExit: () => undefined,
});

/** Allowed ranges of the numeric runtime options, inclusive. */
export const FUNCTION_RUNTIME_OPTION_RANGES = Object.freeze({
  poolSize: Object.freeze({ min: 1, max: 64 }),
  maxWorkers: Object.freeze({ min: 1, max: 64 }),
  memoryBudgetMb: Object.freeze({ min: 16, max: 1024 * 1024 }),
  workerOverheadMb: Object.freeze({ min: 0, max: 64 * 1024 }),
  batchTimeoutMs: Object.freeze({ min: 1, max: 600_000 }),
  quarantineAfter: Object.freeze({ min: 0, max: 1_000_000 }),
  quarantineWindowMs: Object.freeze({ min: 1, max: 7 * 24 * 3600 * 1000 }),
  drainTimeoutMs: Object.freeze({ min: 0, max: 600_000 }),
  maxOutputBytes: Object.freeze({ min: 16, max: 256 * 1024 * 1024 }),
  maxOutputMessages: Object.freeze({ min: 1, max: 1000 }),
  logLimit: Object.freeze({ min: 1, max: 100_000 }),
  maxBatch: Object.freeze({ min: 1, max: 100_000 }),
});

const CALLBACKS = ["now", "onIsolateAbandoned", "onQuarantine", "onRelease", "onWorkerExit"] as const;

/**
 * Fills in defaults and checks the runtime options; throws `FUNCTION_INVALID` naming the bad
 * option. The result is frozen.
 */
export function resolveFunctionRuntimeOptions(options: FunctionRuntimeOptions = {}): Readonly<Required<FunctionRuntimeOptions>> {
  if (options === null || typeof options !== "object") {
    throw new FunctionError("FUNCTION_INVALID", "the runtime options must be an object", { details: { option: "options" } });
  }
  const resolved: Required<FunctionRuntimeOptions> = { ...DEFAULT_FUNCTION_RUNTIME_OPTIONS };
  for (const key of Object.keys(FUNCTION_RUNTIME_OPTION_RANGES) as (keyof typeof FUNCTION_RUNTIME_OPTION_RANGES)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const { min, max } = FUNCTION_RUNTIME_OPTION_RANGES[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new FunctionError("FUNCTION_INVALID", `${key} must be an integer between ${min} and ${max}, got ${String(value)}`, {
        details: { option: key, value, min, max },
      });
    }
    resolved[key] = value;
  }
  for (const key of CALLBACKS) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== "function") {
      throw new FunctionError("FUNCTION_INVALID", `${key} must be a function`, { details: { option: key } });
    }
    (resolved as Record<string, unknown>)[key] = value;
  }
  if (resolved.workerOverheadMb + FUNCTION_LIMIT_RANGES.memoryMb.min > resolved.memoryBudgetMb) {
    throw new FunctionError(
      "FUNCTION_INVALID",
      `memoryBudgetMb (${resolved.memoryBudgetMb}) must hold at least one worker (workerOverheadMb ${resolved.workerOverheadMb}) and one smallest isolate (${FUNCTION_LIMIT_RANGES.memoryMb.min} MB)`,
      { details: { option: "memoryBudgetMb", value: resolved.memoryBudgetMb } },
    );
  }
  return Object.freeze(resolved);
}
