// The gateway's schema machinery, shared by every tenant's registry: one worker pool (prepare,
// compatibility checks, diffs and large-payload validation run off the event loop), the limits
// every definition is held to, and a bound on registrations running at once.
import {
  createSchemaWorkerPool,
  DEFAULT_ASYNC_THRESHOLD_BYTES,
  resolveSchemaLimits,
  resolveSchemaWorkerPoolOptions,
  SchemaError,
  type SchemaLimits,
  type SchemaWorkerPool,
  type SchemaWorkerPoolOptions,
} from "../../schemas/index.js";
import { JunctionError, check, resolveOptions } from "../protocol/index.js";

/** Options of {@link createSchemaRuntime} (the gateway option `schemas`). */
export interface SchemaRuntimeOptions {
  /**
   * Bounds on every registered definition: `maxDefinitionBytes`, `maxDepth`, `maxEnumValues`,
   * `maxProperties`, `maxPatterns`, `maxSchemaNodes`, `maxReferences`.
   * @default DEFAULT_SCHEMA_LIMITS (256 KiB, depth 64, 10,000 enum values and properties, 500 patterns…)
   */
  limits?: SchemaLimits | undefined;
  /**
   * The worker pool: `size` (threads), `jobTimeoutMs` (time budget of one job), `maxQueuedJobs`,
   * `maxConcurrentBuilds` (`buf` processes at once), `buildTimeoutMs`, `workerMemoryMb`, `cachedSchemas`.
   * @default DEFAULT_SCHEMA_WORKER_POOL_OPTIONS
   */
  pool?: Omit<SchemaWorkerPoolOptions, "limits"> | undefined;
  /**
   * Registrations (and `schema.check` candidates) prepared at once by this gateway; the others wait.
   * @default 4
   */
  maxConcurrentRegistrations?: number | undefined;
  /**
   * Registrations that may wait for a turn; more are refused at once with the retriable
   * SCHEMA_UNAVAILABLE, so a flood of registrations holds neither memory nor `buf` processes.
   * @default 32
   */
  maxQueuedRegistrations?: number | undefined;
  /**
   * Payloads larger than this (bytes) are validated in the worker pool instead of on the event
   * loop, so one huge message cannot hold up other stations.
   * @default 65536 (64 KiB)
   */
  asyncThresholdBytes?: number | undefined;
  /**
   * Most stored messages one `schema.check` reads per station.
   * @default 1000
   */
  maxCheckSample?: number | undefined;
}

type RuntimeScalars = { [K in Exclude<keyof SchemaRuntimeOptions, "limits" | "pool">]-?: NonNullable<SchemaRuntimeOptions[K]> };

/** Defaults of {@link SchemaRuntimeOptions} (the pool and the limits default to the engine's). */
export const DEFAULT_SCHEMA_RUNTIME_OPTIONS: Readonly<RuntimeScalars> = Object.freeze({
  maxConcurrentRegistrations: 4,
  maxQueuedRegistrations: 32,
  asyncThresholdBytes: DEFAULT_ASYNC_THRESHOLD_BYTES,
  maxCheckSample: 1000,
});

/** Resolved {@link SchemaRuntimeOptions}. */
export type ResolvedSchemaRuntimeOptions = Readonly<
  RuntimeScalars & { limits: Readonly<Required<SchemaLimits>>; pool: Readonly<Omit<SchemaWorkerPoolOptions, "limits">> }
>;

const COMPONENT = "gateway.schemas";

/** Runs an engine resolver; its SCHEMA_OPTIONS_INVALID names the option under `gateway.schemas.<prefix>`. */
function named<T>(prefix: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    const option = `${COMPONENT}.${prefix}${String(err.details?.["option"] ?? "")}`;
    throw new JunctionError("SCHEMA_OPTIONS_INVALID", `${option}: ${err.message}`, { cause: err, details: { ...err.details, option } });
  }
}

/** Fills in defaults and checks the options; a bad one fails naming it (`gateway.schemas.limits.maxEnumValues`). Frozen. */
export function resolveSchemaRuntimeOptions(o: SchemaRuntimeOptions = {}): ResolvedSchemaRuntimeOptions {
  const scalars = resolveOptions<SchemaRuntimeOptions>(
    COMPONENT,
    { ...DEFAULT_SCHEMA_RUNTIME_OPTIONS, limits: undefined, pool: undefined },
    o,
    {
      limits: check.any,
      pool: check.any,
      maxConcurrentRegistrations: check.int(1, 256),
      maxQueuedRegistrations: check.int(0, 100_000),
      asyncThresholdBytes: check.int(0, 1024 * 1024 * 1024),
      maxCheckSample: check.int(1, 100_000),
    },
  ) as RuntimeScalars & Pick<SchemaRuntimeOptions, "limits" | "pool">;
  const limits = named("", () => resolveSchemaLimits(o.limits ?? {}));
  if (o.pool !== undefined && (o.pool === null || typeof o.pool !== "object" || "limits" in o.pool)) {
    throw new JunctionError("SCHEMA_OPTIONS_INVALID", `${COMPONENT}.pool must be an object of pool options (limits are set beside it)`, {
      details: { option: `${COMPONENT}.pool` },
    });
  }
  named("pool.", () => resolveSchemaWorkerPoolOptions(o.pool ?? {}));
  return Object.freeze({
    maxConcurrentRegistrations: scalars.maxConcurrentRegistrations,
    maxQueuedRegistrations: scalars.maxQueuedRegistrations,
    asyncThresholdBytes: scalars.asyncThresholdBytes,
    maxCheckSample: scalars.maxCheckSample,
    limits,
    pool: Object.freeze({ ...(o.pool ?? {}) }),
  });
}

/** Counters of a {@link SchemaRuntime}. */
export interface SchemaRuntimeStats {
  /** Registrations running now. */
  running: number;
  /** Registrations waiting for a turn. */
  waiting: number;
  /** Registrations refused because the queue was full, since start. */
  refused: number;
  /** Jobs running and waiting in the worker pool. */
  poolPending: number;
}

/** The gateway's schema machinery; see {@link createSchemaRuntime}. */
export interface SchemaRuntime {
  /** The worker pool every expensive schema job runs in. */
  readonly pool: SchemaWorkerPool;
  /** The limits every definition is held to. */
  readonly limits: Readonly<Required<SchemaLimits>>;
  /** Payloads over this many bytes are validated in the pool. */
  readonly asyncThresholdBytes: number;
  /** Most stored messages one `schema.check` reads per station. */
  readonly maxCheckSample: number;
  /**
   * Runs `fn` (a registration) when a turn is free: at most `maxConcurrentRegistrations` at once,
   * `maxQueuedRegistrations` waiting; beyond that SCHEMA_UNAVAILABLE (retriable) at once.
   */
  register<T>(fn: () => Promise<T>): Promise<T>;
  stats(): SchemaRuntimeStats;
  /** Stops the pool; waiting registrations fail with SCHEMA_UNAVAILABLE. Idempotent. */
  close(): Promise<void>;
}

class SchemaRuntimeImpl implements SchemaRuntime {
  readonly pool: SchemaWorkerPool;
  readonly limits: Readonly<Required<SchemaLimits>>;
  readonly asyncThresholdBytes: number;
  readonly maxCheckSample: number;
  readonly #o: ResolvedSchemaRuntimeOptions;
  readonly #waiting: { start: () => void; fail: (e: Error) => void }[] = [];
  #running = 0;
  #refused = 0;
  #closed: Promise<void> | undefined;

  constructor(o: ResolvedSchemaRuntimeOptions) {
    this.#o = o;
    this.limits = o.limits;
    this.asyncThresholdBytes = o.asyncThresholdBytes;
    this.maxCheckSample = o.maxCheckSample;
    this.pool = createSchemaWorkerPool({ ...o.pool, limits: o.limits });
  }

  async register<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed !== undefined) throw new JunctionError("SCHEMA_UNAVAILABLE", "the gateway is closing");
    if (this.#running >= this.#o.maxConcurrentRegistrations) {
      if (this.#waiting.length >= this.#o.maxQueuedRegistrations) {
        this.#refused++;
        throw new JunctionError(
          "SCHEMA_UNAVAILABLE",
          `too many schema registrations at once: ${this.#running} running and ${this.#waiting.length} waiting on this gateway; retry shortly`,
          {
            details: {
              limit: "maxQueuedRegistrations",
              max: this.#o.maxQueuedRegistrations,
              running: this.#running,
              waiting: this.#waiting.length,
            },
          },
        );
      }
      await new Promise<void>((start, fail) => this.#waiting.push({ start, fail }));
    }
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      this.#waiting.shift()?.start();
    }
  }

  stats(): SchemaRuntimeStats {
    return { running: this.#running, waiting: this.#waiting.length, refused: this.#refused, poolPending: this.pool.pending };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const w of this.#waiting.splice(0)) w.fail(new JunctionError("SCHEMA_UNAVAILABLE", "the gateway is closing"));
      await this.pool.close();
    })();
    return this.#closed;
  }
}

/**
 * Builds the schema machinery of one gateway (its worker pool starts threads on demand). Close
 * it with the gateway.
 */
export function createSchemaRuntime(options: SchemaRuntimeOptions = {}): SchemaRuntime {
  return new SchemaRuntimeImpl(resolveSchemaRuntimeOptions(options));
}
