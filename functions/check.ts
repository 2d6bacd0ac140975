import { WorkerChild } from "./child.js";
import { FunctionError } from "./errors.js";
import { resolveFunctionLimits } from "./limits.js";
import type { FunctionLimits } from "./types.js";

// The check starts its own short-lived worker: even a module whose top-level code exhausts V8's
// heap must not touch the calling process.
const CHECK_DRAIN_MS = 1000;

/**
 * Checks a function before it is stored: compiles the module in a throwaway isolate (with the
 * same prelude as at run time) in a short-lived worker process, runs its top-level code under the
 * limits, and checks that its default export is a function. Throws `FUNCTION_INVALID` (with
 * `details.line` and `details.column` for syntax errors, `details.import` for an import,
 * `details.kind` when the top-level code failed) if it is not runnable, or if a limit is out of
 * range (`details.option` names it); `FUNCTION_FAILED` if the worker could not run the check.
 */
export async function checkFunctionSource(source: string, limits: Partial<FunctionLimits> = {}): Promise<void> {
  const resolved = resolveFunctionLimits(limits);
  if (typeof source !== "string") {
    throw new FunctionError("FUNCTION_INVALID", "the function source must be a string", { details: { option: "source" } });
  }
  const child = new WorkerChild({ config: { maxOutputBytes: 1024, logCap: 0 }, onExit: () => undefined });
  try {
    const reply = await child.check({ name: "check", version: 0, source, ...resolved });
    if (!reply.ok) throw reply.error;
  } finally {
    child.close();
    const timer = setTimeout(() => child.kill("closed"), CHECK_DRAIN_MS);
    await child.exited;
    clearTimeout(timer);
  }
}
