/**
 * The function runtime's error. It carries the same stable codes as the gateway's error table
 * (`FUNCTION_INVALID`, `FUNCTION_FAILED`) so the gateway can pass it on unchanged, without this
 * folder depending on core/.
 */

/** The codes a {@link FunctionError} can carry. */
export const FunctionErrorCode = {
  /** The function source or its limits are invalid. */
  Invalid: "FUNCTION_INVALID",
  /** A function could not be run (the runtime is closed, messages could not be copied in…). */
  Failed: "FUNCTION_FAILED",
} as const;

/** One of {@link FunctionErrorCode}'s values. */
export type FunctionErrorCode = (typeof FunctionErrorCode)[keyof typeof FunctionErrorCode];

/** Options of {@link FunctionError}. */
export interface FunctionErrorOptions {
  /** The underlying error (usually isolated-vm's or V8's), kept as it was. */
  cause?: unknown;
  /** Structured facts: the bad option, the line and column of a syntax error… */
  details?: Record<string, unknown>;
}

/**
 * An error of the function runtime, with a stable `code`. Neither code is retriable: the same
 * source, limits or call fails the same way again.
 */
export class FunctionError extends Error {
  /** The stable error code. */
  readonly code: FunctionErrorCode;
  /** Whether trying the same call again, unchanged, can succeed (never, for these codes). */
  readonly retriable = false;
  /** Structured facts about what was wrong and where. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: FunctionErrorCode, message: string, options: FunctionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "FunctionError";
    this.code = code;
    this.details = options.details;
  }
}

/** Whether `e` is a {@link FunctionError}, optionally with the given code. */
export function isFunctionError(e: unknown, code?: FunctionErrorCode): e is FunctionError {
  return e instanceof FunctionError && (code === undefined || e.code === code);
}
