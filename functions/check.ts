import { resolveFunctionLimits } from "./limits.js";
import { ModuleSetupError, Sandbox } from "./sandbox.js";
import { FunctionError } from "./errors.js";
import type { FunctionLimits } from "./types.js";

/**
 * Checks a function before it is stored: compiles the module in a throwaway isolate (with the
 * same prelude as at run time), runs its top-level code under the limits, and checks that its
 * default export is a function. Throws `FUNCTION_INVALID` (with `details.line` and
 * `details.column` for syntax errors) if it is not runnable, or if a limit is out of range
 * (`details.option` names it).
 */
export async function checkFunctionSource(source: string, limits: Partial<FunctionLimits> = {}): Promise<void> {
  const resolved = resolveFunctionLimits(limits);
  if (typeof source !== "string") {
    throw new FunctionError("FUNCTION_INVALID", "the function source must be a string", { details: { option: "source" } });
  }
  let sandbox: Sandbox;
  try {
    sandbox = await Sandbox.create(
      { name: "check", version: 0, source, ...resolved },
      { maxOutputBytes: 1024, logCap: 0, onLog: () => undefined },
    );
  } catch (e) {
    if (e instanceof ModuleSetupError) {
      throw new FunctionError("FUNCTION_INVALID", e.message, { cause: e.cause ?? e, details: { kind: e.kind } });
    }
    throw e;
  }
  sandbox.dispose();
}
