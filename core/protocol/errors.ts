/**
 * Junction's error codes: one table, the single source of truth. The README's "Error codes"
 * section lists the same codes; a test checks that the two agree.
 *
 * `retriable` says whether trying the same call again, unchanged, can succeed.
 */
export const ERROR_CODES = {
  INVALID_NAME: { retriable: false, message: "a station, group, schema or function name breaks the naming rule" },
  INVALID_ARGUMENT: { retriable: false, message: "an option or argument has a bad value" },
  INVALID_FRAME: { retriable: false, message: "a request or batch frame could not be decoded" },
  PAYLOAD_TOO_LARGE: { retriable: false, message: "a message is larger than the station's maximum message size" },
  MESSAGE_TOO_LARGE: {
    retriable: false,
    message: "a message's headers (over 63 KiB), or its headers and payload together, are more than the store accepts",
  },
  INVALID_HEADER: {
    retriable: false,
    message: "a header name or value cannot be stored (not printable ASCII, reserved, CR/LF, surrounding spaces)",
  },
  QUOTA_EXCEEDED: { retriable: false, message: "a quota of the broker or of the tenant is reached (the error names it and its limit)" },
  BATCH_TOO_LARGE: { retriable: false, message: "a batch holds more messages or bytes than allowed" },
  STATION_NOT_FOUND: { retriable: false, message: "no station has that name" },
  STATION_EXISTS: { retriable: false, message: "a station with that name exists with other settings" },
  STATION_UPDATE_REFUSED: { retriable: false, message: "that station setting cannot be changed after creation" },
  GROUP_NOT_FOUND: { retriable: false, message: "no consumer group has that name on the station" },
  GROUP_CONFLICT: { retriable: false, message: "the consumer group exists with a conflicting start position" },
  SCHEMA_NOT_FOUND: { retriable: false, message: "no schema has that name" },
  SCHEMA_VERSION_NOT_FOUND: { retriable: false, message: "the schema has no such version" },
  SCHEMA_INVALID: { retriable: false, message: "the schema definition is invalid" },
  SCHEMA_TOO_LARGE: { retriable: false, message: "the schema definition is larger than allowed" },
  SCHEMA_TOO_COMPLEX: {
    retriable: false,
    message: "the schema is over a complexity limit, or a schema job ran over its time or memory budget",
  },
  SCHEMA_OPTIONS_INVALID: { retriable: false, message: "invalid schema limits, pool options or compatibility mode" },
  SCHEMA_UNAVAILABLE: {
    retriable: true,
    message:
      "the schema machinery cannot take the job now: the worker pool is busy or lost a worker, too many registrations at once, or a schema is still loading",
  },
  SCHEMA_INCOMPATIBLE: { retriable: false, message: "the new schema version breaks the compatibility mode" },
  SCHEMA_IN_USE: { retriable: false, message: "the schema is attached to a station" },
  SCHEMA_REFERENCED: { retriable: false, message: "a version of another schema references the schema" },
  SCHEMA_VALIDATION_FAILED: { retriable: false, message: "the message does not match the station's schema" },
  FUNCTION_NOT_FOUND: { retriable: false, message: "no function has that name or version" },
  FUNCTION_INVALID: { retriable: false, message: "the function source or limits are invalid" },
  FUNCTION_FAILED: { retriable: false, message: "a station function threw, timed out, ran out of memory or returned bad output" },
  FUNCTION_UNAVAILABLE: { retriable: true, message: "the function workers are at capacity or restarting" },
  FUNCTION_QUARANTINED: {
    retriable: false,
    message: "the station's function failed repeatedly and is quarantined until a new version is attached or it is released",
  },
  FUNCTION_IN_USE: { retriable: false, message: "the function is attached to a station" },
  DEAD_LETTER_NOT_FOUND: { retriable: false, message: "no dead letter has that id" },
  USER_NOT_FOUND: { retriable: false, message: "no user has that name" },
  USER_EXISTS: { retriable: false, message: "a user with that name exists" },
  TENANT_NOT_FOUND: { retriable: false, message: "no tenant has that name" },
  TENANT_EXISTS: { retriable: false, message: "a tenant with that name exists" },
  TENANT_NOT_EMPTY: { retriable: false, message: "the tenant still has stations or users" },
  AUTH_FAILED: { retriable: false, message: "the user, password or token was refused" },
  PERMISSION_DENIED: { retriable: false, message: "the user may not do that" },
  NATS_UNAVAILABLE: { retriable: true, message: "the NATS server cannot be reached" },
  GATEWAY_UNAVAILABLE: { retriable: true, message: "no gateway answered" },
  TIMEOUT: { retriable: true, message: "the operation did not complete in time" },
  STORE_FAILED: { retriable: true, message: "JetStream refused the write for a passing reason (no leader, too many requests)" },
  STORE_TIMEOUT: {
    retriable: true,
    message: "the store did not answer in time: the message may or may not be stored (retry with the same id; it is de-duplicated)",
  },
  STORE_FULL: {
    retriable: false,
    message: "the store is out of space or at a storage limit; nothing of the message was stored (retry once space is freed)",
  },
  CONNECTION_CLOSED: { retriable: false, message: "the connection is closed" },
  NATS_SERVER_NOT_FOUND: { retriable: false, message: "no nats-server binary >= 2.12 was found" },
  UNSUPPORTED_SERVER: { retriable: false, message: "the nats-server is too old for Junction" },
  INTERNAL: { retriable: true, message: "an unexpected error inside Junction" },
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `code` is one of Junction's error codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/** The wire form of an error, as carried in `{ ok: false, error }` replies. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  retriable?: boolean;
  details?: Record<string, unknown>;
}

/** Options of {@link JunctionError}. */
export interface JunctionErrorOptions {
  /** The underlying error (NATS, ajv, isolated-vm…), kept as it was. */
  cause?: unknown;
  /** Structured facts about what was wrong and where. */
  details?: Record<string, unknown>;
  /** Overrides the code's retriable flag for this error (a limit on work under way: waiting helps). */
  retriable?: boolean;
}

/**
 * The one error class of Junction: a stable `code`, whether a retry can help, and the
 * underlying `cause`.
 */
export class JunctionError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: JunctionErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "JunctionError";
    this.code = code;
    this.retriable = options.retriable ?? ERROR_CODES[code].retriable;
    this.details = options.details;
  }

  /** The wire form of this error. */
  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retriable: this.retriable };
    if (this.details !== undefined) body.details = this.details;
    return body;
  }

  /** Rebuilds an error from its wire form. */
  static fromBody(body: ErrorBody): JunctionError {
    const code: ErrorCode = isErrorCode(body.code) ? body.code : "INTERNAL";
    const opts: JunctionErrorOptions = {};
    if (body.details !== undefined) opts.details = body.details;
    // The sender's flag wins when it knows better than the code (a limit on work under way).
    if (code === body.code && typeof body.retriable === "boolean") opts.retriable = body.retriable;
    return new JunctionError(code, body.message, opts);
  }
}

/** Whether `e` is a {@link JunctionError}, optionally with the given code. */
export function isJunctionError(e: unknown, code?: ErrorCode): e is JunctionError {
  return e instanceof JunctionError && (code === undefined || e.code === code);
}
