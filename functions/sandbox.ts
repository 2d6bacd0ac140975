import ivm from "isolated-vm";
import { FunctionError } from "./errors.js";
import { PRELUDE_SOURCE } from "./prelude.js";
import type { FnFailureKind, FunctionContext, FunctionSpec } from "./types.js";

/**
 * How a payload travels: JSON text, a string, bytes, or any other value copied as it is; on the
 * way out also `R<i>`, the same JSON text as input message i of the call (nothing is sent).
 */
export type PayloadTag = "J" | "S" | "B" | "V" | `R${number}`;

/** One console line: level and text. */
export type LogLine = [level: "log" | "warn" | "error", message: string];

/**
 * One message's outcome as the sandbox encodes it: `[0, kind, message]` for a failure, or
 * `[1, tag, data, headers, tag, data, headers, …]` for the messages it became.
 */
export type SandboxOutcome = readonly unknown[];

/**
 * Payloads of a batch, packed: the texts of the `J` and `S` payloads concatenated (one string to
 * copy instead of one per message) with their lengths, and the other payloads in order.
 */
export interface PackedPayloads {
  /** One {@link PayloadTag} per payload. */
  kinds: string;
  /** The `J` and `S` payloads' texts, concatenated. */
  text: string;
  /** The length (UTF-16 units) of each of those texts. */
  textLens: number[];
  /** The `B` and `V` payloads. */
  binary: unknown[];
}

/**
 * Outcomes as they leave the sandbox: the JSON text of their shape (a failure whole; a success as
 * `[1, tag, headers, tag, headers, …]`) and the payloads of every produced message, packed.
 */
export interface PackedOutcomes {
  shape: string;
  text: string;
  textLens: number[];
  binary: unknown[];
}

/** One batch as it goes into the sandbox. */
export interface SandboxInput extends PackedPayloads {
  /** The headers of all messages, as one JSON array. */
  headers: string;
  /** The context every message gets. */
  context: FunctionContext;
}

/** What a sandbox needs besides the function version. */
export interface SandboxOptions {
  /** Largest output message, in bytes. */
  maxOutputBytes: number;
  /** Most messages returned for one input message. @defaultValue 1000 */
  maxOutputMessages?: number;
  /** Most console lines one call may write. */
  logCap: number;
  /** Time limit of the module's top-level code, in milliseconds. @defaultValue the spec's timeoutMs */
  setupTimeoutMs?: number;
  /** Told when the isolate had to be abandoned after a catastrophic V8 error (see {@link Sandbox}). */
  onAbandon?: (message: string) => void;
}

/** A failure of a whole call into the sandbox. */
export interface CallFailure {
  kind: FnFailureKind;
  message: string;
  /** The isolate hit V8's fatal out-of-memory path and was abandoned. */
  fatal: boolean;
}

/** The result of one call into the sandbox: one outcome per message, or a failure of the whole call. */
export type CallResult = { ok: true; packed: PackedOutcomes; logs: LogLine[] } | ({ ok: false } & CallFailure);

/** What a stopped call had done (see {@link Sandbox.progress}). */
export interface CallProgress {
  /** Per message of the call: its outcome, or null if it did not finish. */
  outcomes: (SandboxOutcome | null)[];
  /** Console lines written during the call. */
  logs: LogLine[];
  /** The message whose synchronous part was running when the call stopped, or -1. */
  current: number;
  /** Whether every message's synchronous part had run (only promise continuations were left). */
  syncDone: boolean;
}

/**
 * Thrown by {@link Sandbox.create} when the module compiled but its top-level code failed
 * (threw, timed out, ran out of memory) or its default export is not a function.
 */
export class ModuleSetupError extends Error {
  readonly kind: FnFailureKind;
  readonly fatal: boolean;
  constructor(kind: FnFailureKind, message: string, options?: { cause?: unknown; fatal?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ModuleSetupError";
    this.kind = kind;
    this.fatal = options?.fatal ?? false;
  }
}

// After isolated-vm's own timeout, the host gives a call this much longer before it disposes
// the isolate itself (a safety net: the runner never waits on anything but microtasks).
const HOST_GRACE_MS = 2000;

/** The file name the module is compiled under; it shows in stack traces and syntax errors. */
export function moduleFilename(spec: Pick<FunctionSpec, "name" | "version">): string {
  return `${spec.name}@${spec.version}.js`;
}

/**
 * One isolate running one function version: prelude, module and runner set up once; then one
 * call per batch. Runs inside a worker process (see worker.ts), never in the gateway.
 *
 * V8 cannot always stop an allocation at the heap limit: growing a large Map, Set or
 * dictionary object can hit a fatal out-of-memory error instead of the soft limit, which would
 * abort the whole process. isolated-vm's `onCatastrophicError` (isolated-vm README, "Wishlist")
 * parks that isolate's thread instead; the sandbox then fails the call as `memory` (fatal) and
 * abandons the isolate without touching it again. Its thread and heap stay allocated until the
 * process ends, so the worker process is replaced.
 *
 * A call that runs out of time is stopped by isolated-vm and the isolate stays usable (V8 drops
 * the pending promise jobs), so the host can ask what finished ({@link progress}).
 */
export class Sandbox {
  readonly #isolate: ivm.Isolate;
  readonly #spec: FunctionSpec;
  #run: ivm.Reference | undefined;
  #collect: ivm.Reference | undefined;
  #progress: ivm.Reference | undefined;
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
    const api = (await factory.apply(
      undefined,
      [
        new ivm.ExternalCopy({
          maxOutputBytes: options.maxOutputBytes,
          maxOutputMessages: options.maxOutputMessages ?? 1000,
          logCap: options.logCap,
          filename,
        }).copyInto(),
      ],
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
    const timeout = Math.max(1, Math.min(spec.timeoutMs, options.setupTimeoutMs ?? spec.timeoutMs));
    try {
      await this.#guard(module.evaluate({ timeout }));
    } catch (e) {
      const failure = this.#classify(e, timeout);
      const what = failure.kind === "threw" && e instanceof Error && e.name !== "Error" ? `${e.name}: ${failure.message}` : failure.message;
      throw new ModuleSetupError(failure.kind, `the module's top-level code failed: ${what}`, { cause: e, fatal: failure.fatal });
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
    this.#progress = (await api.get("progress", { reference: true })) as ivm.Reference;
    api.release();
  }

  /** Whether the isolate is gone (memory breach, {@link dispose}, or abandoned). */
  get disposed(): boolean {
    return this.#hostDisposed || this.#abandoned || this.#isolate.isDisposed;
  }

  /** Disposes the isolate (idempotent; an abandoned isolate is left alone). */
  dispose(): void {
    this.#hostDisposed = true;
    if (!this.#abandoned && !this.#isolate.isDisposed) this.#isolate.dispose();
  }

  /**
   * Runs one batch in one call, stopped after `timeoutMs`. The batch is copied in; outcomes are
   * copied out. After a memory breach the sandbox is disposed; after a timeout it stays usable
   * and {@link progress} tells what finished.
   */
  async call(input: SandboxInput, timeoutMs: number): Promise<CallResult> {
    const run = this.#run;
    const collect = this.#collect;
    if (run === undefined || collect === undefined || this.disposed) {
      return { ok: false, kind: "threw", message: "the sandbox is not available", fatal: false };
    }
    const timeout = Math.max(1, Math.floor(timeoutMs));
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
        run.apply(undefined, [input.kinds, input.text, input.textLens, input.binary, input.headers, input.context], {
          arguments: { copy: true },
          result: { copy: true },
          timeout,
        }),
        backstop,
        this.#catastrophe,
      ]);
      if (result === "pending") {
        result = await Promise.race([collect.apply(undefined, [], { result: { copy: true }, timeout }), backstop, this.#catastrophe]);
      }
      const r = result as { s?: unknown; t?: unknown; c?: unknown; b?: unknown; l?: unknown } | null;
      if (
        r === null ||
        typeof r !== "object" ||
        typeof r.s !== "string" ||
        typeof r.t !== "string" ||
        !Array.isArray(r.c) ||
        !Array.isArray(r.b)
      ) {
        return { ok: false, kind: "threw", message: "the sandbox returned an unexpected result", fatal: false };
      }
      return { ok: true, packed: { shape: r.s, text: r.t, textLens: r.c as number[], binary: r.b }, logs: asLogs(r.l) };
    } catch (e) {
      const failure = hostTimedOut
        ? { kind: "timeout" as const, message: timeoutMessage(timeout), fatal: false }
        : this.#classify(e, timeout);
      if (failure.kind === "memory") this.dispose();
      return { ok: false, ...failure };
    } finally {
      clearTimeout(timer);
    }
  }

  /** After a call that timed out: what it had finished. Undefined when the isolate is gone. */
  async progress(): Promise<CallProgress | undefined> {
    const progress = this.#progress;
    if (progress === undefined || this.disposed) return undefined;
    try {
      const r = (await this.#guard(progress.apply(undefined, [], { result: { copy: true }, timeout: 1000 }))) as {
        o: (SandboxOutcome | null)[];
        l: unknown;
        current: number;
        syncDone: boolean;
      };
      return { outcomes: r.o, logs: asLogs(r.l), current: r.current, syncDone: r.syncDone };
    } catch {
      return undefined;
    }
  }

  #classify(e: unknown, timeout: number): CallFailure {
    const message = errorMessage(e);
    if (/memory limit/i.test(message) || this.#abandoned || (this.#isolate.isDisposed && !this.#hostDisposed)) {
      return { kind: "memory", message: `the function used more than its ${this.#spec.memoryMb} MB memory limit`, fatal: this.#abandoned };
    }
    if (/timed out/i.test(message)) return { kind: "timeout", message: timeoutMessage(timeout), fatal: false };
    return { kind: "threw", message, fatal: false };
  }
}

/** The payloads of a batch, one per message, from their packed form. */
export function unpackPayloads(p: PackedPayloads): unknown[] {
  const out = new Array<unknown>(p.kinds.length);
  let at = 0;
  let t = 0;
  let b = 0;
  for (let i = 0; i < p.kinds.length; i++) {
    const kind = p.kinds[i];
    if (kind === "J" || kind === "S") {
      const len = p.textLens[t++] as number;
      out[i] = p.text.slice(at, at + len);
      at += len;
    } else if (kind === "B" || kind === "V") out[i] = p.binary[b++];
    else out[i] = null;
  }
  return out;
}

/** Packs payloads (the inverse of {@link unpackPayloads}). */
export function packPayloads(kinds: string, payloads: readonly unknown[]): PackedPayloads {
  const texts: string[] = [];
  const textLens: number[] = [];
  const binary: unknown[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i];
    const d = payloads[i];
    if (kind === "J" || kind === "S") {
      texts.push(d as string);
      textLens.push((d as string).length);
    } else if (kind === "B" || kind === "V") binary.push(d);
  }
  return { kinds, text: texts.join(""), textLens, binary };
}

/** Turns packed outcomes back into one {@link SandboxOutcome} per message. */
export function unpackOutcomes(packed: PackedOutcomes): SandboxOutcome[] {
  const shape = JSON.parse(packed.shape) as unknown[][];
  let at = 0;
  let t = 0;
  let b = 0;
  return shape.map((o) => {
    if (o[0] !== 1) return o;
    const full: unknown[] = [1];
    for (let j = 1; j + 1 < o.length; j += 2) {
      const tag = String(o[j]);
      let data: unknown = null;
      if (tag === "J" || tag === "S") {
        const len = packed.textLens[t++] as number;
        data = packed.text.slice(at, at + len);
        at += len;
      } else if (tag === "B" || tag === "V") data = packed.binary[b++];
      full.push(tag, data, o[j + 1]);
    }
    return full;
  });
}

/** The inverse of {@link unpackOutcomes}. */
export function packOutcomes(outcomes: readonly SandboxOutcome[]): PackedOutcomes {
  const texts: string[] = [];
  const textLens: number[] = [];
  const binary: unknown[] = [];
  const shape = outcomes.map((o) => {
    if (o[0] !== 1) return o;
    const s: unknown[] = [1];
    for (let j = 1; j + 2 < o.length; j += 3) {
      const tag = String(o[j]);
      s.push(tag, o[j + 2]);
      if (tag === "J" || tag === "S") {
        texts.push(o[j + 1] as string);
        textLens.push((o[j + 1] as string).length);
      } else if (tag === "B" || tag === "V") binary.push(o[j + 1]);
    }
    return s;
  });
  return { shape: JSON.stringify(shape), text: texts.join(""), textLens, binary };
}

function timeoutMessage(ms: number): string {
  return `the function ran longer than its ${ms} ms time limit`;
}

function asLogs(l: unknown): LogLine[] {
  return Array.isArray(l) ? (l as LogLine[]) : [];
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
