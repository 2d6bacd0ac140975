import type { SchemaIssue } from "./types.js";

/** Codes of {@link SchemaError}; they match Junction's error table. */
export type SchemaErrorCode = "SCHEMA_INVALID" | "SCHEMA_TOO_LARGE" | "SCHEMA_INCOMPATIBLE";

/** Options of {@link SchemaError}. */
export interface SchemaErrorOptions {
  /** Structured facts: where the problem is (`path`, `line`, `column`…). */
  details?: Record<string, unknown>;
  /** The underlying error (ajv, buf, @bufbuild/protobuf), kept as it was. */
  cause?: unknown;
}

/** A schema definition was refused: invalid, too large, or incompatible with the previous version. */
export class SchemaError extends Error {
  /** Stable error code. */
  readonly code: SchemaErrorCode;
  /** Always false: the same schema fails the same way again. */
  readonly retriable = false;
  /** Where and why, e.g. `{ path, message }` (JSON) or `{ file, line, column, message }` (protobuf). */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: SchemaErrorCode, message: string, options: SchemaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SchemaError";
    this.code = code;
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
