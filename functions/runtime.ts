import { FunctionError } from "./errors.js";
import { resolveFunctionLimits, resolveFunctionRuntimeOptions } from "./limits.js";
import type { FunctionRuntimeOptions } from "./limits.js";
import { WorkerPool } from "./pool.js";
import { Quarantine } from "./quarantine.js";
import type {
  FnMessage,
  FnOutcome,
  FunctionContext,
  FunctionLogEntry,
  FunctionPoolStats,
  FunctionSpec,
  FunctionStats,
  PipelineOutcome,
  PipelineStep,
  QuarantineEntry,
  QuarantineReason,
} from "./types.js";

/** Runs function versions in isolates in worker processes. Create one with {@link createFunctionRuntime}. */
export interface FunctionRuntime {
  /**
   * Runs one batch through one function version: ONE call into the sandbox for the whole batch
   * (batches over `maxBatch` are split); returns one outcome per input message, in order. A
   * message that runs out of time or memory fails alone; its neighbours are run again without it.
   * The whole batch takes at most `max(batchTimeoutMs, spec.timeoutMs)` (plus scheduling); what
   * is not done by then fails as `timeout`. A quarantined version fails every message at once as
   * `quarantined`.
   *
   * Throws `FUNCTION_INVALID` if the spec's limits are invalid or its source does not compile,
   * and `FUNCTION_FAILED` once the runtime is closed.
   */
  runBatch(spec: FunctionSpec, context: FunctionContext, messages: FnMessage[]): Promise<FnOutcome[]>;
  /**
   * Runs an ordered pipeline of functions over a batch: the output of one step feeds the next,
   * fan-out and drops flow through. Returns, per INPUT message, the final messages or the first
   * failure with the failing function's name and version. Each step has its own time budget.
   */
  runPipeline(steps: PipelineStep[], station: string, messages: FnMessage[]): Promise<PipelineOutcome[]>;
  /** The console lines kept for a function (all versions), oldest first. */
  logs(name: string): FunctionLogEntry[];
  /** Counters of a function (all versions): messages run, messages failed, last failure. */
  stats(name: string): FunctionStats;
  /**
   * Forgets the isolates of a function's versions other than `keepVersion` (all of them when it is
   * omitted), e.g. after a hot update. Busy isolates are disposed when their call ends. Without
   * `keepVersion` (the function was deleted) its quarantines are lifted too.
   */
  evict(name: string, keepVersion?: number): void;
  /** The quarantined function versions, oldest first. */
  quarantined(): QuarantineEntry[];
  /**
   * Lifts the quarantine of a function version (of all its versions when `version` is omitted)
   * and forgets its recent failures; returns the entries lifted (empty when there were none).
   */
  release(name: string, version?: number): QuarantineEntry[];
  /** The worker processes, the isolates in them and the memory budget. */
  poolStats(): FunctionPoolStats;
  /**
   * Lets running batches finish (up to `drainTimeoutMs`), then kills the worker processes that
   * are left; batches cut short reject with `FUNCTION_FAILED`, and so do later calls. Idempotent.
   */
  close(): Promise<void>;
}

type Resolved = Readonly<Required<FunctionRuntimeOptions>>;

/**
 * Creates a function runtime. Options are validated here (`FUNCTION_INVALID` naming the option).
 * No process is started until a function runs.
 */
export function createFunctionRuntime(options: FunctionRuntimeOptions = {}): FunctionRuntime {
  return new FunctionRuntimeImpl(resolveFunctionRuntimeOptions(options));
}

/** Validates a spec and returns a clean copy with resolved limits. */
export function checkSpec(spec: FunctionSpec): FunctionSpec {
  if (spec === null || typeof spec !== "object") {
    throw new FunctionError("FUNCTION_INVALID", "the function spec must be an object", { details: { option: "spec" } });
  }
  if (typeof spec.name !== "string" || spec.name === "") {
    throw new FunctionError("FUNCTION_INVALID", "the function name must be a non-empty string", { details: { option: "name" } });
  }
  if (typeof spec.version !== "number" || !Number.isInteger(spec.version) || spec.version < 0) {
    throw new FunctionError("FUNCTION_INVALID", `the function version must be a non-negative integer, got ${String(spec.version)}`, {
      details: { option: "version", value: spec.version },
    });
  }
  if (typeof spec.source !== "string") {
    throw new FunctionError("FUNCTION_INVALID", "the function source must be a string", { details: { option: "source" } });
  }
  const limits = resolveFunctionLimits({ timeoutMs: spec.timeoutMs, memoryMb: spec.memoryMb });
  return { name: spec.name, version: spec.version, source: spec.source, ...limits };
}

interface ChunkResult {
  outcomes: FnOutcome[];
  fault?: { kind: QuarantineReason; message: string } | undefined;
}

/** The runtime behind {@link createFunctionRuntime}. */
class FunctionRuntimeImpl implements FunctionRuntime {
  readonly #options: Resolved;
  readonly #pool: WorkerPool;
  readonly #quarantine: Quarantine;
  readonly #logs = new Map<string, FunctionLogEntry[]>();
  readonly #stats = new Map<string, FunctionStats>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: Resolved) {
    this.#options = options;
    this.#pool = new WorkerPool(options);
    this.#quarantine = new Quarantine({
      after: options.quarantineAfter,
      windowMs: options.quarantineWindowMs,
      now: options.now,
      onQuarantine: options.onQuarantine,
      onRelease: options.onRelease,
    });
  }

  async runBatch(specIn: FunctionSpec, context: FunctionContext, messages: FnMessage[]): Promise<FnOutcome[]> {
    this.#assertOpen();
    const spec = checkSpec(specIn);
    if (messages.length === 0) return [];
    const ctx: FunctionContext = {
      station: context.station,
      inputs: { ...context.inputs },
      function: { name: spec.name, version: spec.version },
    };
    const held = this.#quarantine.get(spec.name, spec.version);
    let outcomes: FnOutcome[];
    if (held !== undefined) {
      const message = `function ${spec.name}@${spec.version} is quarantined since ${new Date(held.since).toISOString()} (${held.reason}: ${held.message})`;
      outcomes = messages.map((): FnOutcome => ({ ok: false, kind: "quarantined", message }));
    } else {
      const budgetMs = Math.max(this.#options.batchTimeoutMs, spec.timeoutMs);
      const deadline = performance.now() + budgetMs;
      const max = this.#options.maxBatch;
      let results: ChunkResult[];
      if (messages.length <= max) results = [await this.#runChunk(spec, ctx, messages, deadline, budgetMs)];
      else {
        const chunks: Promise<ChunkResult>[] = [];
        for (let i = 0; i < messages.length; i += max) {
          chunks.push(this.#runChunk(spec, ctx, messages.slice(i, i + max), deadline, budgetMs));
        }
        results = await Promise.all(chunks);
      }
      outcomes = results.length === 1 ? (results[0] as ChunkResult).outcomes : results.flatMap((r) => r.outcomes);
      const fault = results.find((r) => r.fault !== undefined)?.fault;
      if (fault !== undefined && this.#quarantine.record(spec.name, spec.version, fault.kind, fault.message) !== undefined) {
        // Not run again until released: its isolates give their memory back now.
        this.#pool.drop(spec.name, spec.version);
      }
    }
    this.#count(spec.name, outcomes);
    return outcomes;
  }

  async runPipeline(steps: PipelineStep[], station: string, messages: FnMessage[]): Promise<PipelineOutcome[]> {
    this.#assertOpen();
    const failed: (PipelineOutcome | undefined)[] = new Array<PipelineOutcome | undefined>(messages.length).fill(undefined);
    // Each live message remembers the input it came from.
    let live: { origin: number; message: FnMessage }[] = messages.map((message, origin) => ({ origin, message }));
    for (const step of steps) {
      if (live.length === 0) break;
      const outcomes = await this.runBatch(
        step.spec,
        { station, inputs: step.inputs, function: { name: step.spec.name, version: step.spec.version } },
        live.map((l) => l.message),
      );
      const next: typeof live = [];
      for (let i = 0; i < live.length; i++) {
        const { origin } = live[i] as (typeof live)[number];
        const outcome = outcomes[i] as FnOutcome;
        if (failed[origin] !== undefined) continue;
        if (outcome.ok) {
          for (const message of outcome.messages) next.push({ origin, message });
        } else {
          failed[origin] = {
            ok: false,
            kind: outcome.kind,
            message: outcome.message,
            function: step.spec.name,
            version: step.spec.version,
          };
        }
      }
      live = next.filter((l) => failed[l.origin] === undefined);
    }
    const results: PipelineOutcome[] = messages.map((_, i) => failed[i] ?? { ok: true, messages: [] });
    for (const { origin, message } of live) {
      const r = results[origin];
      if (r !== undefined && r.ok) r.messages.push(message);
    }
    return results;
  }

  logs(name: string): FunctionLogEntry[] {
    return [...(this.#logs.get(name) ?? [])];
  }

  stats(name: string): FunctionStats {
    const s = this.#stats.get(name);
    return s === undefined ? { calls: 0, errors: 0 } : { ...s };
  }

  evict(name: string, keepVersion?: number): void {
    this.#pool.evict(name, keepVersion);
    if (keepVersion === undefined) this.#quarantine.release(name, undefined, "deleted");
  }

  quarantined(): QuarantineEntry[] {
    return this.#quarantine.list();
  }

  release(name: string, version?: number): QuarantineEntry[] {
    return this.#quarantine.release(name, version, "operator");
  }

  poolStats(): FunctionPoolStats {
    return this.#pool.stats();
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#pool.close(this.#options.drainTimeoutMs);
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new FunctionError("FUNCTION_FAILED", "the function runtime is closed", { details: { reason: "closed" } });
  }

  async #runChunk(
    spec: FunctionSpec,
    ctx: FunctionContext,
    messages: FnMessage[],
    deadline: number,
    budgetMs: number,
  ): Promise<ChunkResult> {
    const slot = await this.#pool.acquire(spec, deadline);
    if (!("id" in slot)) return { outcomes: messages.map((): FnOutcome => ({ ok: false, kind: slot.kind, message: slot.message })) };
    let reply;
    try {
      reply = await this.#pool.run(slot, ctx, messages, Math.max(1, Math.floor(deadline - performance.now())), budgetMs);
    } catch (e) {
      this.#pool.release(slot);
      throw e;
    }
    if (reply.invalid !== undefined) {
      this.#pool.discard(slot);
      throw reply.invalid;
    }
    this.#pool.release(slot);
    for (const [level, message] of reply.logs) this.#log(spec, level, message);
    if (reply.abandoned !== undefined) {
      const event = { function: spec.name, version: spec.version, message: reply.abandoned };
      try {
        this.#options.onIsolateAbandoned(event);
      } catch {
        // An observer's failure is not the runtime's.
      }
    }
    return { outcomes: reply.outcomes, fault: reply.fault };
  }

  #count(name: string, outcomes: FnOutcome[]): void {
    let s = this.#stats.get(name);
    if (s === undefined) {
      s = { calls: 0, errors: 0 };
      this.#stats.set(name, s);
    }
    s.calls += outcomes.length;
    for (const o of outcomes) {
      if (!o.ok) {
        s.errors++;
        s.lastError = `${o.kind}: ${o.message}`;
      }
    }
  }

  #log(spec: FunctionSpec, level: FunctionLogEntry["level"], message: string): void {
    let ring = this.#logs.get(spec.name);
    if (ring === undefined) {
      ring = [];
      this.#logs.set(spec.name, ring);
    }
    ring.push({ time: this.#options.now(), function: spec.name, version: spec.version, level, message });
    if (ring.length > this.#options.logLimit) ring.splice(0, ring.length - this.#options.logLimit);
  }
}
