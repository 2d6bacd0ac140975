import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { decodeOutcomes, encodeBatch, encodeFrame, FrameReader } from "./codec.js";
import type { Frame } from "./codec.js";
import { FunctionError } from "./errors.js";
import type { FunctionErrorCode } from "./errors.js";
import type { LogLine } from "./sandbox.js";
import type { WorkerConfig } from "./worker.js";
import type { FnFailureKind, FnMessage, FnOutcome, FunctionContext, FunctionSpec, QuarantineReason, WorkerExitEvent } from "./types.js";

/** What a worker answered for one batch. */
export interface RunReply {
  /** One outcome per message, in order. */
  outcomes: FnOutcome[];
  /** Console lines the function wrote. */
  logs: LogLine[];
  /** Sandbox calls made. */
  calls: number;
  /** Isolates created. */
  created: number;
  /** The failure that counts towards quarantine, if any. */
  fault?: { kind: QuarantineReason; message: string };
  /** The isolate hit V8's fatal out-of-memory path (the worker is being replaced). */
  abandoned?: string;
  /** The source does not compile (FUNCTION_INVALID). */
  invalid?: FunctionError;
}

/** What a worker answered for a check. */
export type CheckReply = { ok: true } | { ok: false; error: FunctionError };

interface Pending {
  kind: "run" | "check";
  count: number;
  /** The JSON texts of a run's input messages (see codec.ts). */
  jsonTexts?: (Uint8Array | string | undefined)[];
  resolve: (r: RunReply & CheckReply) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

/** Options of a {@link WorkerChild}. */
export interface WorkerChildOptions {
  config: WorkerConfig;
  /** Told once the process has ended and every batch it had in flight has been answered. */
  onExit: (child: WorkerChild, event: WorkerExitEvent) => void;
}

// A worker that has not answered a batch this long after the batch's budget ran out is stuck:
// it is killed. Generous, because a loaded machine delays everything.
const HUNG_GRACE_MS = 5000;
const STDERR_TAIL_BYTES = 8192;

/** V8 prints one of these on stderr when a process runs out of heap. */
const OOM_PATTERN = /out of memory|heap limit|allocation failed/i;

/** The worker script and the Node flags to start it with (TypeScript sources run through tsx). */
function workerCommand(): { script: string; execArgv: string[] } {
  const self = import.meta.url;
  const ts = self.endsWith(".ts");
  const script = new URL(ts ? "./worker.ts" : "./worker.js", self);
  const execArgv = ["--no-node-snapshot"];
  if (ts) execArgv.push("--import", pathToFileURL(createRequire(self).resolve("tsx")).href);
  return { script: script.pathname, execArgv };
}

let command: { script: string; execArgv: string[] } | undefined;
let nextRequest = 1;

/**
 * One worker process, seen from the runtime: sends it batches and matches the answers; when it
 * ends (closed, crashed, killed), every batch it still had fails as `crashed` (or `memory` when
 * V8 said it ran out of heap) instead of hanging.
 */
export class WorkerChild {
  readonly pid: number;
  #state: "starting" | "ready" | "retiring" | "exited" = "starting";
  readonly #child: ChildProcess;
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #options: WorkerChildOptions;
  #stderr = "";
  #reason: WorkerExitEvent["reason"] | undefined;
  #hungRequest: number | undefined;
  readonly exited: Promise<void>;
  #markExited: () => void = () => undefined;

  constructor(options: WorkerChildOptions) {
    this.#options = options;
    command ??= workerCommand();
    this.exited = new Promise<void>((resolve) => {
      this.#markExited = resolve;
    });
    // A minimal environment: the worker needs nothing from the gateway's (time zone aside).
    const env: Record<string, string> = {};
    if (process.env.TZ !== undefined) env.TZ = process.env.TZ;
    this.#child = spawn(process.execPath, [...command.execArgv, command.script, JSON.stringify(options.config)], {
      stdio: ["ignore", "ignore", "pipe", "pipe"],
      env,
    });
    this.pid = this.#child.pid ?? -1;
    this.#socket = this.#child.stdio[3] as Socket;
    const stderr = this.#child.stderr;
    stderr?.setEncoding("utf8");
    stderr?.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL_BYTES);
    });
    const reader = new FrameReader((frame) => this.#onFrame(frame));
    this.#socket.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (e) {
        // A worker that speaks garbage is not trusted any further.
        this.#stderr += `\nbad frame from the worker: ${e instanceof Error ? e.message : String(e)}`;
        this.kill("crashed");
      }
    });
    this.#socket.on("error", () => undefined);
    this.#child.on("error", (e) => {
      this.#stderr += `\n${e.message}`;
      this.#onExit(null, null);
    });
    this.#child.on("exit", (code, signal) => this.#onExit(code, signal));
    // Idle workers must not keep the gateway alive; a batch in flight holds a timer that does.
    this.#child.unref();
    this.#socket.unref();
    (stderr as Socket | null)?.unref();
  }

  /** `starting` until the worker said it is ready, `retiring` once it takes no new work, then `exited`. */
  get state(): "starting" | "ready" | "retiring" | "exited" {
    return this.#state;
  }

  /** Whether new work may go to it. */
  get usable(): boolean {
    return this.#state === "starting" || this.#state === "ready";
  }

  /** Requests sent and not answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Runs a batch on isolate `iso` (`spec` on the isolate's first batch). Resolves with one outcome
   * per message even if the worker dies meanwhile; rejects with FUNCTION_FAILED only when the
   * runtime closed it.
   */
  run(
    iso: number,
    spec: FunctionSpec | undefined,
    context: FunctionContext,
    messages: readonly FnMessage[],
    budgetMs: number,
    budgetLabelMs: number,
  ): Promise<RunReply> {
    const { kinds, jsonTexts, textBytes, parts } = encodeBatch(messages);
    const id = nextRequest++;
    const meta: Record<string, unknown> = { t: "run", id, iso, ctx: context, budgetMs, budgetLabelMs, kinds, tb: textBytes };
    if (spec !== undefined) meta.spec = spec;
    return this.#request(id, "run", messages.length, budgetMs, encodeFrame(meta, parts), jsonTexts);
  }

  /** Compiles and starts a module in a throwaway isolate. */
  check(spec: FunctionSpec): Promise<CheckReply> {
    const id = nextRequest++;
    return this.#request(id, "check", 0, spec.timeoutMs + 10_000, encodeFrame({ t: "check", id, spec }));
  }

  /** Tells the worker to forget an isolate. */
  dispose(iso: number): void {
    if (this.#state !== "exited") this.#socket.write(encodeFrame({ t: "dispose", iso }));
  }

  /** No new work: it is killed as soon as it has nothing in flight (after a fatal out-of-memory error). */
  retire(): void {
    if (!this.usable) return;
    this.#state = "retiring";
    this.#reapIfIdle();
  }

  /** Asks the worker to finish what it runs and exit. */
  close(): void {
    if (this.#state === "exited") return;
    this.#reason ??= "closed";
    if (this.usable) this.#state = "retiring";
    this.#socket.write(encodeFrame({ t: "close" }));
  }

  /** Kills the process (SIGKILL); its batches in flight fail. */
  kill(reason: WorkerExitEvent["reason"]): void {
    if (this.#state === "exited") return;
    this.#reason ??= reason;
    if (this.usable) this.#state = "retiring";
    this.#child.kill("SIGKILL");
  }

  #request<T>(
    id: number,
    kind: Pending["kind"],
    count: number,
    budgetMs: number,
    frame: Buffer,
    jsonTexts?: (Uint8Array | string | undefined)[],
  ): Promise<T> {
    if (this.#state === "exited") {
      return Promise.resolve(this.#failedReply(kind, count, "crashed", "the worker process had already exited") as T);
    }
    return new Promise<T>((resolve, reject) => {
      // Ref'd on purpose: it keeps the process alive while the batch is out.
      const timer = setTimeout(() => {
        this.#hungRequest = id;
        this.kill("hung");
      }, budgetMs + HUNG_GRACE_MS);
      const pending: Pending = { kind, count, resolve: resolve as Pending["resolve"], reject, timer };
      if (jsonTexts !== undefined) pending.jsonTexts = jsonTexts;
      this.#pending.set(id, pending);
      this.#socket.write(frame);
    });
  }

  #onFrame(frame: Frame): void {
    const meta = frame.meta;
    if (meta.t === "ready") {
      if (this.#state === "starting") this.#state = "ready";
      return;
    }
    const id = meta.id as number;
    const p = this.#pending.get(id);
    if (p === undefined) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    try {
      if (p.kind === "check") p.resolve(checkReply(meta) as RunReply & CheckReply);
      else p.resolve(this.#runReply(meta, frame, p.count, p.jsonTexts) as RunReply & CheckReply);
    } catch (e) {
      // An answer that does not decode: the worker is not trusted any further.
      const text = `the worker sent an answer that does not decode (${e instanceof Error ? e.message : String(e)})`;
      p.resolve(this.#failedReply(p.kind, p.count, "crashed", text) as RunReply & CheckReply);
      this.kill("crashed");
      return;
    }
    if (meta.fatal === true) this.retire();
    this.#reapIfIdle();
  }

  #runReply(meta: Record<string, unknown>, frame: Frame, count: number, jsonTexts: Pending["jsonTexts"]): RunReply {
    const created = typeof meta.created === "number" ? meta.created : 0;
    if (meta.invalid !== undefined) {
      return { outcomes: [], logs: [], calls: 0, created, invalid: toFunctionError(meta.invalid) };
    }
    if (meta.error !== undefined) {
      const reply = this.#failedReply("run", count, "crashed", `the worker failed: ${String(meta.error)}`) as RunReply;
      return { ...reply, created };
    }
    const reply: RunReply = {
      outcomes: decodeOutcomes(frame, count, meta.tb, jsonTexts),
      logs: Array.isArray(meta.logs) ? (meta.logs as LogLine[]) : [],
      calls: typeof meta.calls === "number" ? meta.calls : 0,
      created,
    };
    const fault = meta.fault as RunReply["fault"] | undefined;
    if (fault !== undefined) reply.fault = fault;
    if (typeof meta.abandoned === "string") reply.abandoned = meta.abandoned;
    return reply;
  }

  #failedReply(kind: Pending["kind"], count: number, failure: FnFailureKind, message: string): RunReply | CheckReply {
    if (kind === "check") return { ok: false, error: new FunctionError("FUNCTION_FAILED", message, { details: { reason: failure } }) };
    const outcomes = Array.from({ length: count }, (): FnOutcome => ({ ok: false, kind: failure, message }));
    const reply: RunReply = { outcomes, logs: [], calls: 0, created: 0 };
    if (failure === "crashed" || failure === "memory" || failure === "timeout") reply.fault = { kind: failure, message };
    return reply;
  }

  #reapIfIdle(): void {
    if (this.#state === "retiring" && this.#pending.size === 0 && this.#reason === undefined) this.kill("recycled");
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#state === "exited") return;
    this.#state = "exited";
    const oom = OOM_PATTERN.test(this.#stderr);
    const reason = this.#reason ?? (oom ? "memory" : "crashed");
    const how = signal !== null ? `signal ${signal}` : `code ${String(code)}`;
    const lastLine = this.#stderr.trim().split("\n").at(-1) ?? "";
    const event: WorkerExitEvent = { pid: this.pid, reason, code, signal, inFlight: this.#pending.size, stderr: this.#stderr };
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      if (reason === "closed") {
        p.reject(new FunctionError("FUNCTION_FAILED", "the function runtime was closed", { details: { reason: "closed" } }));
      } else if (id === this.#hungRequest) {
        p.resolve(
          this.#failedReply(
            p.kind,
            p.count,
            "timeout",
            "the worker did not answer within the batch's time budget and was stopped",
          ) as RunReply & CheckReply,
        );
      } else {
        const kind = reason === "memory" ? "memory" : "crashed";
        const text =
          kind === "memory"
            ? `the function's worker process ran out of memory (${how})`
            : `the function's worker process exited (${how})${lastLine !== "" && reason === "crashed" ? `: ${lastLine.slice(0, 200)}` : ""}`;
        p.resolve(this.#failedReply(p.kind, p.count, kind, text) as RunReply & CheckReply);
      }
    }
    this.#pending.clear();
    this.#socket.destroy();
    this.#markExited();
    this.#options.onExit(this, event);
  }
}

function checkReply(meta: Record<string, unknown>): CheckReply {
  if (meta.invalid !== undefined) return { ok: false, error: toFunctionError(meta.invalid) };
  if (meta.setup !== undefined) {
    const setup = meta.setup as { kind: string; message: string };
    return { ok: false, error: new FunctionError("FUNCTION_INVALID", setup.message, { details: { kind: setup.kind } }) };
  }
  if (meta.error !== undefined) {
    return { ok: false, error: new FunctionError("FUNCTION_FAILED", `the worker failed: ${String(meta.error)}`) };
  }
  return { ok: true };
}

function toFunctionError(body: unknown): FunctionError {
  const b = (body ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  const code: FunctionErrorCode = b.code === "FUNCTION_FAILED" ? "FUNCTION_FAILED" : "FUNCTION_INVALID";
  const message = typeof b.message === "string" ? b.message : "the function is invalid";
  // The worker's error cannot cross the process boundary as an object; its text is kept as the cause.
  return new FunctionError(code, message, { cause: new Error(message), details: b.details ?? {} });
}
