import ivm from "isolated-vm";
import { FunctionError } from "./errors.js";
import { PRELUDE_SOURCE } from "./prelude.js";
import type { FnFailureKind, FnMessage, FnOutcome, FunctionContext, FunctionSpec } from "./types.js";

/** What a sandbox needs besides the function version. */
export interface SandboxOptions {
  /** Largest output message, in bytes. */
  maxOutputBytes: number;
  /** Most console lines one call may write. */
  logCap: number;
  /** Receives each console line (strings only). */
  onLog: (level: "log" | "warn" | "error", message: string) => void;
  /** Told when an isolate had to be abandoned after a catastrophic V8 error (see {@link Sandbox}). */
  onAbandon?: (message: string) => void;
}

/** A failure of a whole call into the sandbox. */
export interface CallFailure {
  kind: FnFailureKind;
  message: string;
}

/** The result of one call into the sandbox: one outcome per message, or a failure of the whole call. */
export type CallResult = { ok: true; outcomes: FnOutcome[] } | ({ ok: false } & CallFailure);

/**
 * Thrown by {@link Sandbox.create} when the module compiled but its top-level code failed
 * (threw, timed out, ran out of memory) or its default export is not a function.
 */
export class ModuleSetupError extends Error {
  readonly kind: FnFailureKind;
  constructor(kind: FnFailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ModuleSetupError";
    this.kind = kind;
  }
}

// After isolated-vm's own timeout, the host gives a call this much longer before it disposes
// the isolate itself (a safety net: the runner never waits on anything but microtasks).
const HOST_GRACE_MS = 2000;

const LEVELS = new Set(["log", "warn", "error"]);

/** The file name the module is compiled under; it shows in stack traces and syntax errors. */
export function moduleFilename(spec: Pick<FunctionSpec, "name" | "version">): string {
  return `${spec.name}@${spec.version}.js`;
}

/**
 * One isolate running one function version: prelude, module and runner set up once; then one
 * call per batch.
 *
 * V8 cannot always stop an allocation at the heap limit: growing a large Map, Set or
 * dictionary object can hit a fatal out-of-memory error instead of the soft limit, which would
 * abort the whole process. isolated-vm's `onCatastrophicError` (isolated-vm README, "Wishlist")
 * parks that isolate's thread instead; the sandbox then fails the call as `memory` and abandons
 * the isolate without touching it again (its thread and heap stay allocated until the process
 * ends, so the owner should be told and restart the process when convenient).
 */
export class Sandbox {
  readonly #isolate: ivm.Isolate;
  readonly #spec: FunctionSpec;
  #run: ivm.Reference | undefined;
  #collect: ivm.Reference | undefined;
  #hostDisposed = false;
  #abandoned = false;
  readonly #catastrophe: Promise<never>;
  #raiseCatastrophe: (e: Error) => void = () => undefined;

  private constructor(spec: FunctionSpec, onAbandon: ((message: string) => void) | undefined) {
    this.#spec = spec;
    this.#catastrophe = new Promise<never>((_, reject) => {
      this.#raiseCatastrophe = reject;
    });
    this.#catastrophe.catch(() => undefined);
    this.#isolate = new ivm.Isolate({
      memoryLimit: spec.memoryMb,
      onCatastrophicError: (message: string) => {
        this.#abandoned = true;
        this.#raiseCatastrophe(new Error(`memory limit: catastrophic V8 error (${message})`));
        onAbandon?.(message);
      },
    });
  }

  /** Races an isolate operation against a catastrophic error of the isolate. */
  #guard<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.#catastrophe]);
  }

  /** Whether the isolate was abandoned after a catastrophic error. */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /**
   * Creates the isolate, runs the prelude, compiles and evaluates the module. Throws
   * `FUNCTION_INVALID` if the source does not compile or imports anything, and
   * {@link ModuleSetupError} if its top-level code fails or it has no default export function.
   */
  static async create(spec: FunctionSpec, options: SandboxOptions): Promise<Sandbox> {
    const sandbox = new Sandbox(spec, options.onAbandon);
    try {
      await sandbox.#setup(options);
      return sandbox;
    } catch (e) {
      sandbox.dispose();
      throw e;
    }
  }

  async #setup(options: SandboxOptions): Promise<void> {
    const spec = this.#spec;
    const isolate = this.#isolate;
    const filename = moduleFilename(spec);
    const context = await isolate.createContext();
    const prelude = await isolate.compileScript(PRELUDE_SOURCE, { filename: "junction-prelude.js" });
    const factory = (await prelude.run(context, { reference: true })) as ivm.Reference;
    const onLog = options.onLog;
    const hostLog = new ivm.Callback(
      (level: unknown, message: unknown) => {
        if (typeof level === "string" && LEVELS.has(level) && typeof message === "string") {
          onLog(level as "log" | "warn" | "error", message);
        }
      },
      { ignored: true },
    );
    const api = (await factory.apply(
      undefined,
      [hostLog, new ivm.ExternalCopy({ maxOutputBytes: options.maxOutputBytes, logCap: options.logCap, filename }).copyInto()],
      { result: { reference: true }, timeout: 10_000 },
    )) as ivm.Reference;
    factory.release();
    prelude.release();

    let module: ivm.Module;
    try {
      module = await isolate.compileModule(spec.source, { filename });
    } catch (e) {
      throw invalidSource(e, filename);
    }
    try {
      await module.instantiate(context, (specifier) => {
        throw new FunctionError("FUNCTION_INVALID", `functions cannot import modules (import of '${specifier}')`, {
          details: { import: specifier },
        });
      });
    } catch (e) {
      if (e instanceof FunctionError) throw e;
      throw new FunctionError("FUNCTION_INVALID", `the function module could not be linked: ${errorMessage(e)}`, { cause: e });
    }
    try {
      await this.#guard(module.evaluate({ timeout: spec.timeoutMs }));
    } catch (e) {
      const failure = this.#classify(e);
      const what = failure.kind === "threw" && e instanceof Error && e.name !== "Error" ? `${e.name}: ${failure.message}` : failure.message;
      throw new ModuleSetupError(failure.kind, `the module's top-level code failed: ${what}`, { cause: e });
    }
    const fn = await module.namespace.get("default", { reference: true });
    if (fn.typeof !== "function") {
      throw new ModuleSetupError("threw", "the module has no default export function (export default (message, context) => …)");
    }
    const setFunction = (await api.get("setFunction", { reference: true })) as ivm.Reference;
    await setFunction.apply(undefined, [fn.derefInto()], { timeout: spec.timeoutMs });
    setFunction.release();
    fn.release();
    this.#run = (await api.get("run", { reference: true })) as ivm.Reference;
    this.#collect = (await api.get("collect", { reference: true })) as ivm.Reference;
    api.release();
  }

  /** Whether the isolate is gone (memory breach, timeout, or {@link dispose}). */
  get disposed(): boolean {
    return this.#hostDisposed || this.#abandoned || this.#isolate.isDisposed;
  }

  /** Disposes the isolate (idempotent; an abandoned isolate is left alone). */
  dispose(): void {
    this.#hostDisposed = true;
    if (!this.#abandoned && !this.#isolate.isDisposed) this.#isolate.dispose();
  }

  /**
   * Runs one batch in one call. Messages and context are copied in; outcomes are copied out.
   * A failure of the whole call (timeout, memory) leaves the sandbox disposed.
   */
  async call(messages: FnMessage[], context: FunctionContext): Promise<CallResult> {
    const run = this.#run;
    const collect = this.#collect;
    if (run === undefined || collect === undefined || this.disposed) {
      return { ok: false, kind: "threw", message: "the sandbox is not available" };
    }
    const timeout = this.#spec.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let hostTimedOut = false;
    const backstop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        hostTimedOut = true;
        this.dispose();
        reject(new Error("Script execution timed out."));
      }, timeout + HOST_GRACE_MS);
    });
    try {
      let result: unknown = await Promise.race([
        run.apply(undefined, [messages, context], { arguments: { copy: true }, result: { copy: true }, timeout }),
        backstop,
        this.#catastrophe,
      ]);
      if (result === "pending") {
        result = await Promise.race([collect.apply(undefined, [], { result: { copy: true }, timeout }), backstop, this.#catastrophe]);
      }
      if (!Array.isArray(result) || result.length !== messages.length) {
        return { ok: false, kind: "threw", message: "the sandbox returned an unexpected result" };
      }
      return { ok: true, outcomes: result as FnOutcome[] };
    } catch (e) {
      const failure = hostTimedOut ? this.#timeoutFailure() : this.#classify(e);
      if (failure.kind === "timeout" || failure.kind === "memory") this.dispose();
      return { ok: false, ...failure };
    } finally {
      clearTimeout(timer);
    }
  }

  #timeoutFailure(): CallFailure {
    return { kind: "timeout", message: `the function ran longer than its ${this.#spec.timeoutMs} ms time limit` };
  }

  #classify(e: unknown): CallFailure {
    const message = errorMessage(e);
    if (/memory limit/i.test(message) || this.#abandoned || (this.#isolate.isDisposed && !this.#hostDisposed)) {
      return { kind: "memory", message: `the function used more than its ${this.#spec.memoryMb} MB memory limit` };
    }
    if (/timed out/i.test(message)) return this.#timeoutFailure();
    return { kind: "threw", message };
  }
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Turns a compile error into FUNCTION_INVALID with the line and column when V8 gave them. */
export function invalidSource(e: unknown, filename: string): FunctionError {
  const raw = errorMessage(e);
  const name = e instanceof Error && e.name !== "Error" ? `${e.name}: ` : "";
  const marker = ` [${filename}:`;
  const at = raw.lastIndexOf(marker);
  const details: Record<string, unknown> = {};
  let text = raw;
  if (at !== -1) {
    const m = /^(\d+):(\d+)\]$/.exec(raw.slice(at + marker.length));
    if (m !== null) {
      details.line = Number(m[1]);
      details.column = Number(m[2]);
      text = `${raw.slice(0, at)} (line ${m[1]}, column ${m[2]})`;
    }
  }
  return new FunctionError("FUNCTION_INVALID", `the function does not compile: ${name}${text}`, { cause: e, details });
}
