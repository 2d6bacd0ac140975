import { prepareMessages } from "./copy.js";
import { FunctionError } from "./errors.js";
import { resolveFunctionLimits, resolveFunctionRuntimeOptions } from "./limits.js";
import type { FunctionRuntimeOptions } from "./limits.js";
import { ModuleSetupError, Sandbox } from "./sandbox.js";
import type { CallFailure, CallResult } from "./sandbox.js";
import type {
  FnMessage,
  FnOutcome,
  FunctionContext,
  FunctionLogEntry,
  FunctionSpec,
  FunctionStats,
  PipelineOutcome,
  PipelineStep,
} from "./types.js";

/** Runs function versions in pooled isolates. Create one with {@link createFunctionRuntime}. */
export interface FunctionRuntime {
  /**
   * Runs one batch through one function version: ONE call into the sandbox for the whole batch
   * (batches over `maxBatch` are split); returns one outcome per input message, in order. If the
   * batch call fails (throw outside the function, timeout, memory), it is retried message by
   * message so one bad message does not fail its neighbours.
   *
   * Throws `FUNCTION_INVALID` if the spec's limits are invalid or its source does not compile,
   * and `FUNCTION_FAILED` once the runtime is closed.
   */
  runBatch(spec: FunctionSpec, context: FunctionContext, messages: FnMessage[]): Promise<FnOutcome[]>;
  /**
   * Runs an ordered pipeline of functions over a batch: the output of one step feeds the next,
   * fan-out and drops flow through. Returns, per INPUT message, the final messages or the first
   * failure with the failing function's name and version.
   */
  runPipeline(steps: PipelineStep[], station: string, messages: FnMessage[]): Promise<PipelineOutcome[]>;
  /** The console lines kept for a function (all versions), oldest first. */
  logs(name: string): FunctionLogEntry[];
  /** Counters of a function (all versions): messages run, messages failed, last failure. */
  stats(name: string): FunctionStats;
  /**
   * Forgets the isolates of a function's versions other than `keepVersion` (all of them when it is
   * omitted), e.g. after a hot update. Busy isolates are disposed when their call ends.
   */
  evict(name: string, keepVersion?: number): void;
  /** Disposes every isolate; later calls throw `FUNCTION_FAILED`. Idempotent. */
  close(): Promise<void>;
}

interface Slot {
  sandbox: Sandbox | undefined;
  busy: boolean;
}

interface Pool {
  spec: FunctionSpec;
  slots: Slot[];
  waiters: (() => void)[];
  retired: boolean;
}

type Resolved = Readonly<Required<FunctionRuntimeOptions>>;

/** Creates a function runtime. Options are validated here (`FUNCTION_INVALID` naming the option). */
export function createFunctionRuntime(options: FunctionRuntimeOptions = {}): FunctionRuntime {
  return new FunctionRuntimeImpl(resolveFunctionRuntimeOptions(options));
}

function poolKey(name: string, version: number): string {
  return `${name}\u0000${version}`;
}

function checkSpec(spec: FunctionSpec): FunctionSpec {
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

/** The runtime behind {@link createFunctionRuntime}. */
class FunctionRuntimeImpl implements FunctionRuntime {
  readonly #options: Resolved;
  readonly #pools = new Map<string, Pool>();
  readonly #logs = new Map<string, FunctionLogEntry[]>();
  readonly #stats = new Map<string, FunctionStats>();
  #closed = false;

  constructor(options: Resolved) {
    this.#options = options;
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
    const prepared = prepareMessages(messages);
    const max = this.#options.maxBatch;
    let outcomes: FnOutcome[];
    if (prepared.length <= max) {
      outcomes = await this.#runChunk(spec, ctx, prepared);
    } else {
      const chunks: Promise<FnOutcome[]>[] = [];
      for (let i = 0; i < prepared.length; i += max) chunks.push(this.#runChunk(spec, ctx, prepared.slice(i, i + max)));
      outcomes = (await Promise.all(chunks)).flat();
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
    for (const [key, pool] of this.#pools) {
      if (pool.spec.name !== name || pool.spec.version === keepVersion) continue;
      this.#pools.delete(key);
      this.#retire(pool);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pool of this.#pools.values()) this.#retire(pool, true);
    this.#pools.clear();
    await Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#closed) throw new FunctionError("FUNCTION_FAILED", "the function runtime is closed", { details: { reason: "closed" } });
  }

  #retire(pool: Pool, now = false): void {
    pool.retired = true;
    for (const slot of pool.slots) {
      if (!slot.busy || now) {
        slot.sandbox?.dispose();
        slot.sandbox = undefined;
      }
    }
    pool.slots = pool.slots.filter((s) => s.busy);
    // Waiters wake up, see the pool retired, and move to the current one.
    for (const wake of pool.waiters.splice(0)) wake();
  }

  #pool(spec: FunctionSpec): Pool {
    const key = poolKey(spec.name, spec.version);
    let pool = this.#pools.get(key);
    if (
      pool !== undefined &&
      (pool.spec.source !== spec.source || pool.spec.memoryMb !== spec.memoryMb || pool.spec.timeoutMs !== spec.timeoutMs)
    ) {
      this.#pools.delete(key);
      this.#retire(pool);
      pool = undefined;
    }
    if (pool === undefined) {
      pool = { spec, slots: [], waiters: [], retired: false };
      this.#pools.set(key, pool);
    }
    return pool;
  }

  async #acquire(spec: FunctionSpec): Promise<{ pool: Pool; slot: Slot }> {
    for (;;) {
      this.#assertOpen();
      const pool = this.#pool(spec);
      const idle = pool.slots.find((s) => !s.busy);
      if (idle !== undefined) {
        idle.busy = true;
        return { pool, slot: idle };
      }
      if (pool.slots.length < this.#options.poolSize) {
        const slot: Slot = { sandbox: undefined, busy: true };
        pool.slots.push(slot);
        return { pool, slot };
      }
      await new Promise<void>((resolve) => pool.waiters.push(resolve));
    }
  }

  #release(pool: Pool, slot: Slot): void {
    slot.busy = false;
    if (pool.retired || this.#closed) {
      slot.sandbox?.dispose();
      slot.sandbox = undefined;
      pool.slots = pool.slots.filter((s) => s !== slot);
    }
    pool.waiters.shift()?.();
  }

  /** One call into a sandbox of the pool, creating the sandbox if needed. */
  async #call(
    spec: FunctionSpec,
    ctx: FunctionContext,
    messages: FnMessage[],
  ): Promise<CallResult | ({ ok: false; setup: true } & CallFailure)> {
    const { pool, slot } = await this.#acquire(spec);
    try {
      if (slot.sandbox === undefined || slot.sandbox.disposed) {
        slot.sandbox = undefined;
        try {
          slot.sandbox = await Sandbox.create(spec, {
            maxOutputBytes: this.#options.maxOutputBytes,
            logCap: this.#options.logLimit,
            onLog: (level, message) => this.#log(spec, level, message),
            onAbandon: (message) => this.#options.onIsolateAbandoned({ function: spec.name, version: spec.version, message }),
          });
        } catch (e) {
          if (e instanceof ModuleSetupError) return { ok: false, setup: true, kind: e.kind, message: e.message };
          throw e;
        }
      }
      const result = await slot.sandbox.call(messages, ctx);
      if (this.#closed) this.#assertOpen();
      if (slot.sandbox.disposed) slot.sandbox = undefined;
      return result;
    } finally {
      this.#release(pool, slot);
    }
  }

  async #runChunk(spec: FunctionSpec, ctx: FunctionContext, messages: FnMessage[]): Promise<FnOutcome[]> {
    const result = await this.#call(spec, ctx, messages);
    if (result.ok) return result.outcomes;
    const failure = (f: CallFailure): FnOutcome => ({ ok: false, kind: f.kind, message: f.message });
    // A module that cannot even start fails every message the same way: no retry.
    if ("setup" in result || messages.length === 1) return messages.map(() => failure(result));
    // The batch call failed as a whole: retry message by message so one bad message does not
    // fail its neighbours.
    const outcomes: FnOutcome[] = [];
    for (const message of messages) {
      const single = await this.#call(spec, ctx, [message]);
      outcomes.push(single.ok ? (single.outcomes[0] as FnOutcome) : failure(single));
    }
    return outcomes;
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
