import { checkFunctionSource, FunctionError, resolveFunctionLimits, type FunctionSpec } from "../../functions/index.js";
import type { JsonBucket } from "../nats/index.js";
import { JunctionError, assertName } from "../protocol/index.js";
import { isoNow, systemClock, type Clock } from "../support/index.js";
import { VersionedStore } from "./versioned.js";

/** A function's metadata (KV key `<name>.meta`). */
export interface FunctionMeta {
  name: string;
  latest: number;
  description?: string | undefined;
  createdAt: string;
  updatedAt: string;
}

/** One immutable function version (KV key `<name>.v<N>`). */
export interface FunctionVersion {
  name: string;
  version: number;
  source: string;
  timeoutMs: number;
  memoryMb: number;
  /** Declared inputs (settings an attachment may give). */
  inputs: string[];
  description?: string | undefined;
  createdAt: string;
}

/** Input of {@link FunctionRegistry.create}. */
export interface CreateFunctionInput {
  name: string;
  source: string;
  timeoutMs?: number | undefined;
  memoryMb?: number | undefined;
  inputs?: string[] | undefined;
  description?: string | undefined;
}

/** Largest function source accepted. */
export const MAX_FUNCTION_SOURCE_BYTES = 256 * 1024;

/** Wraps the runtime's FunctionError as a JunctionError. */
export function fromFunctionError(err: unknown): JunctionError {
  if (err instanceof JunctionError) return err;
  if (err instanceof FunctionError)
    return new JunctionError(err.code, err.message, { cause: err, ...(err.details ? { details: err.details } : {}) });
  return new JunctionError("INTERNAL", `function runtime failure: ${(err as Error).message}`, { cause: err });
}

/** Functions in KV `jn_functions`, with immutable versions; every gateway watches the metadata. */
export class FunctionRegistry {
  readonly #store: VersionedStore<FunctionMeta, FunctionVersion>;

  readonly #clock: Clock;

  /** `clock` stamps created and updated times. @default the system clock */
  constructor(bucket: JsonBucket<unknown>, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#store = new VersionedStore<FunctionMeta, FunctionVersion>(
      bucket,
      (name, version) =>
        new JunctionError(
          "FUNCTION_NOT_FOUND",
          version === undefined ? `function '${name}' not found` : `function '${name}' has no version ${version}`,
          {
            details: { function: name, ...(version !== undefined ? { version } : {}) },
          },
        ),
    );
  }

  start(): Promise<void> {
    return this.#store.start();
  }

  /** Calls `fn` when a function's metadata changes (a new version, a delete). */
  onChange(fn: (name: string, meta: FunctionMeta | undefined) => void): void {
    this.#store.onChange(fn);
  }

  close(): void {
    this.#store.close();
  }

  meta(name: string, fresh = false): Promise<FunctionMeta> {
    return this.#store.meta(name, fresh);
  }

  cachedLatest(name: string): number | undefined {
    return this.#store.cachedLatest(name);
  }

  version(name: string, version: number | "latest"): Promise<FunctionVersion> {
    return this.#store.version(name, version);
  }

  /** The runtime spec of a version. */
  async spec(name: string, version: number | "latest"): Promise<FunctionSpec> {
    const v = await this.version(name, version);
    return { name: v.name, version: v.version, source: v.source, timeoutMs: v.timeoutMs, memoryMb: v.memoryMb };
  }

  /** Registers a function or a new version (same source, limits and inputs as the latest: no new version). */
  async create(input: CreateFunctionInput): Promise<{ meta: FunctionMeta; version: FunctionVersion; created: boolean }> {
    assertName("function", input.name);
    if (typeof input.source !== "string")
      throw new JunctionError("INVALID_ARGUMENT", "'source' must be a string", { details: { field: "source" } });
    const size = Buffer.byteLength(input.source);
    if (size > MAX_FUNCTION_SOURCE_BYTES) {
      throw new JunctionError("FUNCTION_INVALID", `function source is ${size} bytes; at most ${MAX_FUNCTION_SOURCE_BYTES} allowed`, {
        details: { size, max: MAX_FUNCTION_SOURCE_BYTES },
      });
    }
    const inputs = input.inputs ?? [];
    if (!Array.isArray(inputs) || inputs.some((x) => typeof x !== "string"))
      throw new JunctionError("INVALID_ARGUMENT", "'inputs' must be a list of names", { details: { field: "inputs" } });
    let limits;
    try {
      limits = resolveFunctionLimits({
        ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
        ...(input.memoryMb !== undefined ? { memoryMb: input.memoryMb } : {}),
      });
      await checkFunctionSource(input.source, limits);
    } catch (err) {
      throw fromFunctionError(err);
    }
    const now = isoNow(this.#clock);
    const existing = await this.#store.maybeMeta(input.name);
    if (existing) {
      const latest = await this.version(input.name, existing.latest);
      if (
        latest.source === input.source &&
        latest.timeoutMs === limits.timeoutMs &&
        latest.memoryMb === limits.memoryMb &&
        JSON.stringify(latest.inputs) === JSON.stringify(inputs)
      ) {
        return { meta: existing, version: latest, created: false };
      }
    }
    const next = existing ? existing.latest + 1 : 1;
    const version: FunctionVersion = {
      name: input.name,
      version: next,
      source: input.source,
      timeoutMs: limits.timeoutMs,
      memoryMb: limits.memoryMb,
      inputs,
      description: input.description,
      createdAt: now,
    };
    const meta: FunctionMeta = {
      name: input.name,
      latest: next,
      description: input.description ?? existing?.description,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (!(await this.#store.add(meta, version))) return await this.create(input);
    return { meta, version, created: true };
  }

  list(): Promise<FunctionMeta[]> {
    return this.#store.list();
  }

  async versions(name: string): Promise<{ version: number; createdAt: string; timeoutMs: number; memoryMb: number }[]> {
    return (await this.#store.versions(name)).map((r) => ({
      version: r.version,
      createdAt: r.createdAt,
      timeoutMs: r.timeoutMs,
      memoryMb: r.memoryMb,
    }));
  }

  delete(name: string): Promise<void> {
    return this.#store.delete(name);
  }
}
