/** One reason a payload does not match its schema. */
export interface SchemaIssue {
  /**
   * Where in the payload: a JSON Pointer (RFC 6901) — `""` is the whole payload, `/items/0/price`
   * a nested value. Protobuf paths use the fields' JSON names; encode errors name the field
   * instead (`field shop.Order.id`).
   */
  path: string;
  /** What is wrong, in words. */
  message: string;
  /** The JSON Schema keyword that failed (`required`, `type`…) or a protobuf/avro check (`wire-type`, `utf8`…). */
  keyword?: string;
}

/**
 * Codes of {@link SchemaError}; they match Junction's error table. Only `SCHEMA_UNAVAILABLE`
 * is retriable.
 */
export type SchemaErrorCode =
  "SCHEMA_INVALID" | "SCHEMA_TOO_LARGE" | "SCHEMA_TOO_COMPLEX" | "SCHEMA_INCOMPATIBLE" | "SCHEMA_OPTIONS_INVALID" | "SCHEMA_UNAVAILABLE";

/** Whether each code is worth a retry: only an overloaded or closing worker pool is. */
export const SCHEMA_ERROR_RETRIABLE: Readonly<Record<SchemaErrorCode, boolean>> = Object.freeze({
  SCHEMA_INVALID: false,
  SCHEMA_TOO_LARGE: false,
  SCHEMA_TOO_COMPLEX: false,
  SCHEMA_INCOMPATIBLE: false,
  SCHEMA_OPTIONS_INVALID: false,
  SCHEMA_UNAVAILABLE: true,
});

/** Options of {@link SchemaError}. */
export interface SchemaErrorOptions {
  /** Structured facts: where the problem is (`path`, `line`, `column`…), the limit that was hit… */
  details?: Record<string, unknown>;
  /** The underlying error (ajv, buf, avsc, @bufbuild/protobuf), kept as it was. */
  cause?: unknown;
}

/**
 * A schema definition was refused (invalid, too large, too complex, incompatible with earlier
 * versions), bad options were given, or the worker pool could not take the job.
 */
export class SchemaError extends Error {
  /** Stable error code. */
  readonly code: SchemaErrorCode;
  /** Whether the same call can succeed later: true only for `SCHEMA_UNAVAILABLE`. */
  readonly retriable: boolean;
  /** Where and why, e.g. `{ path, message }` (JSON) or `{ file, line, column, message }` (protobuf). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SchemaErrorCode, message: string, options: SchemaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SchemaError";
    this.code = code;
    this.retriable = SCHEMA_ERROR_RETRIABLE[code] ?? false;
    this.details = options.details;
  }
}

/** A payload or value does not match its schema; `issues` says where and why. */
export class SchemaValidationError extends Error {
  /** Stable error code. */
  readonly code = "SCHEMA_VALIDATION_FAILED";
  /** Always false: the same payload fails the same way again. */
  readonly retriable = false;
  /** Every problem found. */
  readonly issues: SchemaIssue[];

  constructor(issues: SchemaIssue[], options: { cause?: unknown } = {}) {
    const first = issues[0];
    const where = first === undefined ? "" : first.path === "" ? " at the root" : ` at ${first.path}`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(
      `the value does not match the schema${where}: ${first?.message ?? "invalid"}${more}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "SchemaValidationError";
    this.issues = issues;
  }
}

/** Whether `e` is a {@link SchemaError}, optionally with the given code. */
export function isSchemaError(e: unknown, code?: SchemaErrorCode): e is SchemaError {
  return e instanceof SchemaError && (code === undefined || e.code === code);
}
