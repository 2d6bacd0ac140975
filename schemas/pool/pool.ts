// A bounded pool of worker threads for the schema engine's expensive work, so a hostile schema
// or payload never stalls the caller's event loop: every job has a time budget (a job over it
// loses its worker, which is replaced) and a heap limit; buf builds are child processes,
// bounded in number, run from here.
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { SchemaError } from "../errors.js";
import { resolveSchemaLimits, type SchemaLimits } from "../limits.js";
import { bufBuild } from "../protobuf/buf.js";
import { protobufImports } from "../protobuf/schema.js";
import { checkSource } from "../engine.js";
import type {
  AsyncValidator,
  BreakingChange,
  CompatibilityMode,
  LoadOptions,
  PreparedSchema,
  PrepareOptions,
  SchemaChange,
  SchemaSource,
  ValidationResult,
} from "../types.js";
import { fromWire, type JobRequest, type JobResults, type WorkerRequest, type WorkerResponse } from "./protocol.js";

/** Options of {@link createSchemaWorkerPool}. */
export interface SchemaWorkerPoolOptions {
  /**
   * Worker threads.
   * @defaultValue the number of CPUs minus one, at least 1, at most 4
   */
  size?: number;
  /**
   * Time budget of one job (prepare, compatibility check, diff, validation), in milliseconds. A
   * job over it is stopped (its worker is terminated and replaced) and fails with SCHEMA_TOO_COMPLEX.
   * @defaultValue 5000
   */
  jobTimeoutMs?: number;
  /**
   * Jobs that may wait for a worker; more are refused with SCHEMA_UNAVAILABLE (retriable).
   * @defaultValue 1000
   */
  maxQueuedJobs?: number;
  /**
   * `buf build` child processes at once (Protobuf schemas); more wait their turn.
   * @defaultValue 2
   */
  maxConcurrentBuilds?: number;
  /**
   * Time budget of one `buf build`, in milliseconds; over it, SCHEMA_TOO_COMPLEX.
   * @defaultValue 30000
   */
  buildTimeoutMs?: number;
  /**
   * Heap limit of each worker, in MiB; a job that exhausts it fails with SCHEMA_TOO_COMPLEX.
   * @defaultValue 256
   */
  workerMemoryMb?: number;
  /**
   * Compiled schemas each worker keeps for {@link SchemaWorkerPool.validate}.
   * @defaultValue 64
   */
  cachedSchemas?: number;
  /** Limits applied to {@link SchemaWorkerPool.prepare} calls that pass none. */
  limits?: SchemaLimits;
}

/** The default {@link SchemaWorkerPoolOptions} (without `limits`, which default to DEFAULT_SCHEMA_LIMITS). */
export const DEFAULT_SCHEMA_WORKER_POOL_OPTIONS: Readonly<Required<Omit<SchemaWorkerPoolOptions, "limits">>> = Object.freeze({
  size: Math.max(1, Math.min(4, availableParallelism() - 1)),
  jobTimeoutMs: 5000,
  maxQueuedJobs: 1000,
  maxConcurrentBuilds: 2,
  buildTimeoutMs: 30_000,
  workerMemoryMb: 256,
  cachedSchemas: 64,
});

type ResolvedPoolOptions = Readonly<Required<Omit<SchemaWorkerPoolOptions, "limits">> & { limits: SchemaLimits | undefined }>;

/** Fills in defaults and checks the pool options; throws SCHEMA_OPTIONS_INVALID naming the bad one. Frozen. */
export function resolveSchemaWorkerPoolOptions(options: SchemaWorkerPoolOptions = {}): ResolvedPoolOptions {
  const ranges = {
    size: [1, 64],
    jobTimeoutMs: [10, 600_000],
    maxQueuedJobs: [0, 1_000_000],
    maxConcurrentBuilds: [1, 64],
    buildTimeoutMs: [100, 600_000],
    workerMemoryMb: [16, 16_384],
    cachedSchemas: [1, 100_000],
  } as const;
  const resolved: Required<Omit<SchemaWorkerPoolOptions, "limits">> & { limits: SchemaLimits | undefined } = {
    ...DEFAULT_SCHEMA_WORKER_POOL_OPTIONS,
    limits: undefined,
  };
  for (const key of Object.keys(ranges) as (keyof typeof ranges)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const [min, max] = ranges[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new SchemaError("SCHEMA_OPTIONS_INVALID", `${key} must be an integer between ${min} and ${max}, got ${String(value)}`, {
        details: { option: key, value, min, max },
      });
    }
    resolved[key] = value;
  }
  if (options.limits !== undefined) {
    resolveSchemaLimits(options.limits); // fails naming the bad limit
    resolved.limits = options.limits;
  }
  return Object.freeze(resolved);
}

/** Runs the schema engine's expensive work in worker threads. */
export interface SchemaWorkerPool extends AsyncValidator {
  /** {@link prepareSchema} in a worker (buf builds bounded in number). */
  prepare(src: SchemaSource, options?: PrepareOptions): Promise<PreparedSchema>;
  /** {@link checkCompatibility} in a worker. */
  checkCompatibility(
    mode: CompatibilityMode,
    previous: PreparedSchema | readonly PreparedSchema[],
    next: PreparedSchema,
  ): Promise<BreakingChange[]>;
  /** {@link diffSchemas} in a worker. */
  diff(a: PreparedSchema, b: PreparedSchema): Promise<SchemaChange[]>;
  /** Loads the schema in a worker (cached there) and validates one payload. */
  validate(prepared: PreparedSchema, payload: Uint8Array, options?: LoadOptions): Promise<ValidationResult>;
  /** Jobs running and waiting. */
  readonly pending: number;
  /** Stops the workers; running and waiting jobs fail with SCHEMA_UNAVAILABLE. Idempotent. */
  close(): Promise<void>;
}

interface Job {
  id: number;
  request: JobRequest;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  startedAt?: number;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
  dead: boolean;
  ready: boolean;
}

function workerScript(): { url: URL; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith(".ts");
  const url = new URL(fromSource ? "./worker.ts" : "./worker.js", import.meta.url);
  if (!fromSource) return { url, execArgv: [] };
  // Running from TypeScript sources (tests, tsx): the worker needs the same loader.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  return { url, execArgv: ["--import", tsx] };
}

const unavailable = (message: string): SchemaError => new SchemaError("SCHEMA_UNAVAILABLE", message, { details: { message } });

class SchemaWorkerPoolImpl implements SchemaWorkerPool {
  readonly #opts: ResolvedPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed: Promise<void> | undefined;
  #builds = 0;
  readonly #buildQueue: (() => void)[] = [];

  constructor(opts: ResolvedPoolOptions) {
    this.#opts = opts;
  }

  get pending(): number {
    return this.#queue.length + this.#slots.filter((s) => s.job !== undefined).length;
  }

  #withLimits(options: PrepareOptions): PrepareOptions {
    return options.limits === undefined && this.#opts.limits !== undefined ? { ...options, limits: this.#opts.limits } : options;
  }

  async prepare(src: SchemaSource, options: PrepareOptions = {}): Promise<PreparedSchema> {
    checkSource(src);
    const opts = this.#withLimits(options);
    if (src.type !== "protobuf") return this.#submit({ op: "prepare", src, options: opts }) as Promise<PreparedSchema>;
    // buf runs here (a child process, not this thread's CPU), bounded in number; the descriptor
    // set it builds is then checked and loaded in a worker.
    if (this.#closed !== undefined) throw unavailable("the schema worker pool is closed");
    const files = protobufImports(src.definition, opts.references ?? [], resolveSchemaLimits(opts.limits));
    const descriptorSet = await this.#build(() => bufBuild(src.definition, { files, timeoutMs: this.#opts.buildTimeoutMs }));
    return this.#submit({ op: "prepare-protobuf", src, options: opts, descriptorSet }) as Promise<PreparedSchema>;
  }

  checkCompatibility(
    mode: CompatibilityMode,
    previous: PreparedSchema | readonly PreparedSchema[],
    next: PreparedSchema,
  ): Promise<BreakingChange[]> {
    return this.#submit({ op: "compat", mode, previous, next }) as Promise<BreakingChange[]>;
  }

  diff(a: PreparedSchema, b: PreparedSchema): Promise<SchemaChange[]> {
    return this.#submit({ op: "diff", a, b }) as Promise<SchemaChange[]>;
  }

  validate(prepared: PreparedSchema, payload: Uint8Array, options: LoadOptions = {}): Promise<ValidationResult> {
    const { pool: _pool, ...rest } = options;
    return this.#submit({ op: "validate", prepared, payload, options: rest }) as Promise<ValidationResult>;
  }

  async #build<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#builds >= this.#opts.maxConcurrentBuilds) {
      await new Promise<void>((resolve) => this.#buildQueue.push(resolve));
    }
    this.#builds++;
    try {
      return await fn();
    } finally {
      this.#builds--;
      this.#buildQueue.shift()?.();
    }
  }

  #submit<K extends JobRequest["op"]>(request: JobRequest & { op: K }): Promise<JobResults[K]> {
    if (this.#closed !== undefined) return Promise.reject(unavailable("the schema worker pool is closed"));
    // Jobs a free (or starting) worker will take at once are not waiting.
    const free = this.#slots.filter((s) => s.job === undefined && !s.dead).length + (this.#opts.size - this.#slots.length);
    const waiting = this.#queue.length - free;
    if (waiting >= this.#opts.maxQueuedJobs) {
      return Promise.reject(unavailable(`the schema worker pool is busy (${waiting} jobs waiting)`));
    }
    return new Promise<JobResults[K]>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, request, resolve: resolve as (v: unknown) => void, reject });
      this.#dispatch();
    });
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.job === undefined && s.ready && !s.dead);
      if (slot === undefined) {
        // Start another worker if there is room and none is already starting for these jobs.
        const starting = this.#slots.filter((s) => !s.ready && !s.dead).length;
        if (this.#slots.length < this.#opts.size && starting < this.#queue.length) this.#spawn();
        return;
      }
      this.#start(slot, this.#queue.shift() as Job);
    }
  }

  #spawn(): Slot {
    const { url, execArgv } = workerScript();
    const worker = new Worker(url, {
      execArgv,
      workerData: { cachedSchemas: this.#opts.cachedSchemas },
      resourceLimits: { maxOldGenerationSizeMb: this.#opts.workerMemoryMb },
    });
    const slot: Slot = { worker, job: undefined, timer: undefined, dead: false, ready: false };
    worker.on("message", (res: WorkerResponse) => {
      if ("ready" in res) {
        slot.ready = true;
        this.#dispatch();
      } else this.#settle(slot, res);
    });
    worker.on("error", (err: Error) => this.#lost(slot, err));
    worker.on("exit", (code) => this.#lost(slot, new Error(`the schema worker exited with code ${code}`)));
    worker.unref();
    this.#slots.push(slot);
    return slot;
  }

  #start(slot: Slot, job: Job): void {
    slot.job = job;
    job.startedAt = performance.now();
    slot.worker.ref();
    slot.timer = setTimeout(() => this.#timeout(slot), this.#opts.jobTimeoutMs);
    slot.worker.postMessage({ ...job.request, id: job.id } satisfies WorkerRequest);
  }

  #finish(slot: Slot): Job | undefined {
    const job = slot.job;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    if (!slot.dead) slot.worker.unref();
    return job;
  }

  #settle(slot: Slot, res: Exclude<WorkerResponse, { ready: true }>): void {
    if (slot.job === undefined || slot.job.id !== res.id) return;
    const job = this.#finish(slot) as Job;
    if (res.ok) job.resolve(res.value);
    else job.reject(fromWire(res.error));
    this.#dispatch();
  }

  #retire(slot: Slot): void {
    slot.dead = true;
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
  }

  #timeout(slot: Slot): void {
    const job = this.#finish(slot);
    this.#retire(slot);
    void slot.worker.terminate();
    if (job !== undefined) {
      const elapsed = Math.round(performance.now() - (job.startedAt ?? 0));
      const max = this.#opts.jobTimeoutMs;
      job.reject(
        new SchemaError("SCHEMA_TOO_COMPLEX", `the schema is too complex: the ${job.request.op} job ran over its ${max} ms budget`, {
          details: { limit: "jobTimeoutMs", max, actual: elapsed, op: job.request.op },
        }),
      );
    }
    this.#dispatch();
  }

  #lost(slot: Slot, err: Error): void {
    if (slot.dead) return;
    const job = this.#finish(slot);
    this.#retire(slot);
    if (job !== undefined) {
      const oom = (err as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY";
      job.reject(
        oom
          ? new SchemaError(
              "SCHEMA_TOO_COMPLEX",
              `the schema is too complex: the ${job.request.op} job ran out of its ${this.#opts.workerMemoryMb} MiB heap`,
              {
                details: { limit: "workerMemoryMb", max: this.#opts.workerMemoryMb, op: job.request.op },
                cause: err,
              },
            )
          : new SchemaError("SCHEMA_UNAVAILABLE", `the schema worker failed: ${err.message}`, {
              details: { op: job.request.op },
              cause: err,
            }),
      );
    }
    if (!slot.ready && this.#slots.every((s) => !s.ready)) {
      // No worker could start (a broken install, a runtime without the loader): fail what waits
      // instead of starting one worker after another forever. The next job tries again.
      for (const waiting of this.#queue.splice(0)) {
        waiting.reject(new SchemaError("SCHEMA_UNAVAILABLE", `the schema worker could not start: ${err.message}`, { cause: err }));
      }
      return;
    }
    if (this.#closed === undefined) this.#dispatch();
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      const waiting = this.#queue.splice(0);
      for (const job of waiting) job.reject(unavailable("the schema worker pool is closed"));
      const slots = this.#slots.splice(0);
      for (const slot of slots) {
        const job = this.#finish(slot);
        slot.dead = true;
        job?.reject(unavailable("the schema worker pool is closed"));
      }
      for (const resolve of this.#buildQueue.splice(0)) resolve();
      await Promise.all(slots.map((s) => s.worker.terminate()));
    })();
    return this.#closed;
  }
}

/**
 * Starts a pool of worker threads for prepare, compatibility checks, diffs and large-payload
 * validation. Workers start on demand, up to `size`. Close it with {@link SchemaWorkerPool.close}.
 */
export function createSchemaWorkerPool(options: SchemaWorkerPoolOptions = {}): SchemaWorkerPool {
  return new SchemaWorkerPoolImpl(resolveSchemaWorkerPoolOptions(options));
}
