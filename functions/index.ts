/**
 * The function runtime: runs station functions — small JavaScript modules
 * `(message, context) => message | message[] | null` — in isolated-vm sandboxes inside a pool of
 * worker processes, one call per batch, with memory and time limits, a total memory budget and
 * quarantine of misbehaving versions. The function registry and the gateway's produce pipeline
 * build on this; this folder depends on nothing else in Junction.
 */
export { checkFunctionSource } from "./check.js";
export { FunctionError, FunctionErrorCode, isFunctionError } from "./errors.js";
export {
  DEFAULT_FUNCTION_LIMITS,
  DEFAULT_FUNCTION_RUNTIME_OPTIONS,
  FUNCTION_LIMIT_RANGES,
  FUNCTION_RUNTIME_OPTION_RANGES,
  resolveFunctionLimits,
  resolveFunctionRuntimeOptions,
} from "./limits.js";
export { createFunctionRuntime } from "./runtime.js";
export { FnFailureKinds } from "./types.js";

export type { FunctionErrorOptions } from "./errors.js";
export type { FunctionRuntimeOptions, IsolateAbandonedEvent } from "./limits.js";
export type { FunctionRuntime } from "./runtime.js";
export type {
  FnFailureKind,
  FnMessage,
  FnOutcome,
  FunctionContext,
  FunctionLimits,
  FunctionLogEntry,
  FunctionPoolStats,
  FunctionSpec,
  FunctionStats,
  PipelineOutcome,
  PipelineStep,
  QuarantineEntry,
  QuarantineReason,
  QuarantineReleaseEvent,
  WorkerExitEvent,
  WorkerStats,
} from "./types.js";
