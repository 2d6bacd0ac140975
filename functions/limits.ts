import { FunctionError } from "./errors.js";
import type { FunctionLimits } from "./types.js";

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
   * Isolates kept per function version; calls beyond this many at once wait for a free one.
   * @defaultValue 2
   */
  poolSize?: number;
  /**
   * Largest output message, in bytes (strings counted by length, numbers as 8 bytes, byte arrays
   * by their length, plus keys).
   * @defaultValue 1048576 (1 MiB)
   */
  maxOutputBytes?: number;
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
   * The clock used to stamp log lines, in milliseconds since the epoch.
   * @defaultValue Date.now
   */
  now?: () => number;
  /**
   * Told when an isolate had to be abandoned after a catastrophic V8 out-of-memory error (the
   * message failed as `memory`; the isolate's thread and heap stay allocated until the process
   * ends). Restart the process gracefully when this happens repeatedly.
   * @defaultValue a no-op
   */
  onIsolateAbandoned?: (event: IsolateAbandonedEvent) => void;
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
  maxOutputBytes: 1024 * 1024,
  logLimit: 200,
  maxBatch: 1000,
  now: Date.now,
  onIsolateAbandoned: () => undefined,
});

/**
 * Fills in defaults and checks the runtime options; throws `FUNCTION_INVALID` naming the bad
 * option. The result is frozen.
 */
export function resolveFunctionRuntimeOptions(options: FunctionRuntimeOptions = {}): Readonly<Required<FunctionRuntimeOptions>> {
  const resolved = { ...DEFAULT_FUNCTION_RUNTIME_OPTIONS };
  const ranges = { poolSize: [1, 64], maxOutputBytes: [16, 256 * 1024 * 1024], logLimit: [1, 100_000], maxBatch: [1, 100_000] } as const;
  for (const key of ["poolSize", "maxOutputBytes", "logLimit", "maxBatch"] as const) {
    const value = options[key];
    if (value === undefined) continue;
    const [min, max] = ranges[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new FunctionError("FUNCTION_INVALID", `${key} must be an integer between ${min} and ${max}, got ${String(value)}`, {
        details: { option: key, value, min, max },
      });
    }
    resolved[key] = value;
  }
  if (options.now !== undefined) {
    if (typeof options.now !== "function") {
      throw new FunctionError("FUNCTION_INVALID", "now must be a function", { details: { option: "now" } });
    }
    resolved.now = options.now;
  }
  if (options.onIsolateAbandoned !== undefined) {
    if (typeof options.onIsolateAbandoned !== "function") {
      throw new FunctionError("FUNCTION_INVALID", "onIsolateAbandoned must be a function", { details: { option: "onIsolateAbandoned" } });
    }
    resolved.onIsolateAbandoned = options.onIsolateAbandoned;
  }
  return Object.freeze(resolved);
}
