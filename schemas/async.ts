import { SchemaError } from "./errors.js";
import type { LoadOptions, PreparedSchema, ValidationResult } from "./types.js";

/** Payloads larger than this are validated by the worker pool in `validateAsync` (64 KiB). */
export const DEFAULT_ASYNC_THRESHOLD_BYTES = 64 * 1024;

/**
 * Builds {@link CompiledSchema.validateAsync}: small payloads are validated in the caller's
 * thread (no extra cost but a resolved promise), large ones by the pool, with its time budget.
 * A payload the pool gives up on (SCHEMA_TOO_COMPLEX) is invalid, with one issue of keyword
 * `limit`; a pool that cannot take the job rejects with its retriable SCHEMA_UNAVAILABLE.
 */
export function validateAsyncWith(
  validate: (payload: Uint8Array) => ValidationResult,
  prepared: PreparedSchema,
  opts: LoadOptions,
): (payload: Uint8Array) => Promise<ValidationResult> {
  const pool = opts.pool;
  const threshold = opts.asyncThresholdBytes ?? DEFAULT_ASYNC_THRESHOLD_BYTES;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new SchemaError("SCHEMA_OPTIONS_INVALID", `asyncThresholdBytes must be a non-negative integer, got ${String(threshold)}`, {
      details: { option: "asyncThresholdBytes", value: threshold },
    });
  }
  if (pool === undefined) return (payload) => Promise.resolve(validate(payload));
  const forPool: LoadOptions = {
    ...(opts.allowUnknownFields === undefined ? {} : { allowUnknownFields: opts.allowUnknownFields }),
    ...(opts.references === undefined ? {} : { references: opts.references }),
  };
  return async (payload) => {
    if (payload.byteLength <= threshold) return validate(payload);
    try {
      return await pool.validate(prepared, payload, forPool);
    } catch (err) {
      if (err instanceof SchemaError && err.code === "SCHEMA_TOO_COMPLEX") {
        return { ok: false, issues: [{ path: "", message: `the payload is too costly to validate: ${err.message}`, keyword: "limit" }] };
      }
      throw err;
    }
  };
}
