// Messages between the schema worker pool and its worker threads (structured clone).
import { SchemaError, SchemaValidationError, type SchemaErrorCode } from "../errors.js";
import type {
  BreakingChange,
  CompatibilityMode,
  LoadOptions,
  PreparedSchema,
  PrepareOptions,
  SchemaChange,
  SchemaIssue,
  SchemaSource,
  ValidationResult,
} from "../types.js";

/** A job for a worker. */
export type JobRequest =
  | { op: "prepare"; src: SchemaSource; options: PrepareOptions }
  | { op: "prepare-protobuf"; src: SchemaSource; options: PrepareOptions; descriptorSet: Uint8Array }
  | { op: "compat"; mode: CompatibilityMode; previous: PreparedSchema | readonly PreparedSchema[]; next: PreparedSchema }
  | { op: "diff"; a: PreparedSchema; b: PreparedSchema }
  | { op: "validate"; prepared: PreparedSchema; payload: Uint8Array; options: LoadOptions };

/** What each job returns. */
export interface JobResults {
  prepare: PreparedSchema;
  "prepare-protobuf": PreparedSchema;
  compat: BreakingChange[];
  diff: SchemaChange[];
  validate: ValidationResult;
}

/** A request as posted: the job and its id. */
export type WorkerRequest = JobRequest & { id: number };

/** An error as it crosses the thread boundary. */
export type WireError =
  | { kind: "schema"; code: SchemaErrorCode; message: string; details: Record<string, unknown> | undefined }
  | { kind: "validation"; issues: SchemaIssue[] }
  | { kind: "other"; name: string; message: string };

/** A worker's answer to a job, or its signal that it is ready for jobs. */
export type WorkerResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError } | { ready: true };

/** Turns an error into its wire form. */
export function toWire(err: unknown): WireError {
  if (err instanceof SchemaError) return { kind: "schema", code: err.code, message: err.message, details: plain(err.details) };
  if (err instanceof SchemaValidationError) return { kind: "validation", issues: err.issues };
  return { kind: "other", name: err instanceof Error ? err.name : "Error", message: err instanceof Error ? err.message : String(err) };
}

/** Rebuilds an error from its wire form. */
export function fromWire(w: WireError): Error {
  if (w.kind === "schema") return new SchemaError(w.code, w.message, w.details === undefined ? {} : { details: w.details });
  if (w.kind === "validation") return new SchemaValidationError(w.issues);
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

// details hold plain data, but make sure nothing uncloneable (an Error, a function) crosses.
function plain(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (details === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    return { message: String(details.message ?? "") };
  }
}
