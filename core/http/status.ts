import { ERROR_CODES, JunctionError, isErrorCode, type ErrorBody, type ErrorCode } from "../protocol/index.js";

/**
 * The HTTP status of every error code: one table (docs/http.md shows the same; a test checks
 * that they agree and that every code has a status).
 */
export const HTTP_STATUS = {
  INVALID_NAME: 400,
  INVALID_ARGUMENT: 400,
  INVALID_FRAME: 400,
  PAYLOAD_TOO_LARGE: 413,
  MESSAGE_TOO_LARGE: 413,
  INVALID_HEADER: 400,
  QUOTA_EXCEEDED: 429,
  BATCH_TOO_LARGE: 413,
  STATION_NOT_FOUND: 404,
  STATION_EXISTS: 409,
  STATION_UPDATE_REFUSED: 409,
  GROUP_NOT_FOUND: 404,
  GROUP_CONFLICT: 409,
  SCHEMA_NOT_FOUND: 404,
  SCHEMA_VERSION_NOT_FOUND: 404,
  SCHEMA_INVALID: 422,
  SCHEMA_TOO_LARGE: 413,
  SCHEMA_TOO_COMPLEX: 422,
  SCHEMA_OPTIONS_INVALID: 400,
  SCHEMA_UNAVAILABLE: 503,
  SCHEMA_INCOMPATIBLE: 409,
  SCHEMA_IN_USE: 409,
  SCHEMA_REFERENCED: 409,
  SCHEMA_VALIDATION_FAILED: 422,
  FUNCTION_NOT_FOUND: 404,
  FUNCTION_INVALID: 422,
  FUNCTION_FAILED: 422,
  FUNCTION_UNAVAILABLE: 503,
  FUNCTION_QUARANTINED: 409,
  FUNCTION_IN_USE: 409,
  DEAD_LETTER_NOT_FOUND: 404,
  USER_NOT_FOUND: 404,
  USER_EXISTS: 409,
  TENANT_NOT_FOUND: 404,
  TENANT_EXISTS: 409,
  TENANT_NOT_EMPTY: 409,
  AUTH_FAILED: 401,
  PERMISSION_DENIED: 403,
  NATS_UNAVAILABLE: 503,
  GATEWAY_UNAVAILABLE: 503,
  TIMEOUT: 504,
  STORE_FAILED: 503,
  STORE_TIMEOUT: 504,
  STORE_FULL: 507,
  CONNECTION_CLOSED: 503,
  NATS_SERVER_NOT_FOUND: 500,
  UNSUPPORTED_SERVER: 500,
  INTERNAL: 500,
} as const satisfies { readonly [K in ErrorCode]: number };

/** The HTTP status of an error code (500 for a code this build does not know). */
export function httpStatusOf(code: string): number {
  return isErrorCode(code) ? HTTP_STATUS[code] : 500;
}

/** The body of every error answer: `{ error: { code, message, retriable, details? } }`. */
export interface HttpErrorBody {
  error: ErrorBody;
}

/** An error as a JunctionError (anything else is INTERNAL, kept as its cause). */
export function asJunctionError(err: unknown): JunctionError {
  if (err instanceof JunctionError) return err;
  return new JunctionError("INTERNAL", (err as Error)?.message ?? String(err), { cause: err });
}

/** Every code in the table, in the order of core/protocol/errors.ts. */
export const HTTP_STATUS_CODES: readonly ErrorCode[] = Object.keys(ERROR_CODES) as ErrorCode[];
