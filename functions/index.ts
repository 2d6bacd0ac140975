/**
 * The function runtime: runs station functions — small JavaScript modules
 * `(message, context) => message | message[] | null` — in isolated-vm sandboxes, one call per
 * batch, with memory and time limits. The function registry and the gateway's produce pipeline
 * build on this; this folder depends on nothing else in Junction.
 */
export { checkFunctionSource } from "./check.js";
export { FunctionError, FunctionErrorCode, isFunctionError } from "./errors.js";
export {
  DEFAULT_FUNCTION_LIMITS,
  DEFAULT_FUNCTION_RUNTIME_OPTIONS,
  FUNCTION_LIMIT_RANGES,
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
  FunctionSpec,
  FunctionStats,
  PipelineOutcome,
  PipelineStep,
} from "./types.js";
