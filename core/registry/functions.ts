import { checkFunctionSource, FunctionError, resolveFunctionLimits, type FunctionSpec } from "../../functions/index.js";
import type { JsonBucket } from "../nats/index.js";
import { JunctionError, assertName } from "../protocol/index.js";

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
  if (err instanceof FunctionError) return new JunctionError(err.code, err.message, { cause: err, ...(err.details ? { details: err.details } : {}) });
  return new JunctionError("INTERNAL", `function runtime failure: ${(err as Error).message}`, { cause: err });
}

/** Functions in KV `jn_functions`, with immutable versions; every gateway watches the metadata. */
export class FunctionRegistry {
  readonly #bucket: JsonBucket<unknown>;
  readonly #meta = new Map<string, FunctionMeta>();
  readonly #versions = new Map<string, FunctionVersion>();
  #watch: { stop(): void } | undefined;
  readonly #listeners = new Set<(name: string, meta: FunctionMeta | undefined) => void>();

  constructor(bucket: JsonBucket<unknown>) {
    this.#bucket = bucket;
  }

  async start(): Promise<void> {
    this.#watch = await this.#bucket.watch((key, value) => {
      if (!key.endsWith(".meta")) return;
      const name = key.slice(0, -5);
      if (value === undefined) this.#meta.delete(name);
      else this.#meta.set(name, value as FunctionMeta);
      for (const l of this.#listeners) l(name, value as FunctionMeta | undefined);
    }, "*.meta");
  }

  onChange(fn: (name: string, meta: FunctionMeta | undefined) => void): void {
    this.#listeners.add(fn);
  }

  close(): void {
    this.#watch?.stop();
  }

  async meta(name: string, fresh = false): Promise<FunctionMeta> {
    const c = fresh ? undefined : this.#meta.get(name);
    if (c) return c;
    const e = await this.#bucket.get(`${name}.meta`);
    if (!e) throw new JunctionError("FUNCTION_NOT_FOUND", `function '${name}' not found`, { details: { function: name } });
    const m = e.value as FunctionMeta;
    this.#meta.set(name, m);
    return m;
  }

  cachedLatest(name: string): number | undefined {
    return this.#meta.get(name)?.latest;
  }

  async version(name: string, version: number | "latest"): Promise<FunctionVersion> {
    const v = version === "latest" ? (this.cachedLatest(name) ?? (await this.meta(name)).latest) : version;
    const c = this.#versions.get(`${name}@${v}`);
    if (c) return c;
    const e = await this.#bucket.get(`${name}.v${v}`);
    if (!e) {
      await this.meta(name);
      throw new JunctionError("FUNCTION_NOT_FOUND", `function '${name}' has no version ${v}`, { details: { function: name, version: v } });
    }
    const rec = e.value as FunctionVersion;
    this.#versions.set(`${name}@${v}`, rec);
    return rec;
  }

  /** The runtime spec of a version. */
  async spec(name: string, version: number | "latest"): Promise<FunctionSpec> {
    const v = await this.version(name, version);
    return { name: v.name, version: v.version, source: v.source, timeoutMs: v.timeoutMs, memoryMb: v.memoryMb };
  }

  /** Registers a function or a new version (same source and limits as the latest: no new version). */
  async create(input: CreateFunctionInput): Promise<{ meta: FunctionMeta; version: FunctionVersion; created: boolean }> {
    assertName("function", input.name);
    if (typeof input.source !== "string") throw new JunctionError("INVALID_ARGUMENT", "'source' must be a string", { details: { field: "source" } });
    const size = Buffer.byteLength(input.source);
    if (size > MAX_FUNCTION_SOURCE_BYTES) {
      throw new JunctionError("FUNCTION_INVALID", `function source is ${size} bytes; at most ${MAX_FUNCTION_SOURCE_BYTES} allowed`, { details: { size, max: MAX_FUNCTION_SOURCE_BYTES } });
    }
    const inputs = input.inputs ?? [];
    if (!Array.isArray(inputs) || inputs.some((x) => typeof x !== "string")) throw new JunctionError("INVALID_ARGUMENT", "'inputs' must be a list of names", { details: { field: "inputs" } });
    let limits;
    try {
      limits = resolveFunctionLimits({ ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}), ...(input.memoryMb !== undefined ? { memoryMb: input.memoryMb } : {}) });
      await checkFunctionSource(input.source, limits);
    } catch (err) {
      throw fromFunctionError(err);
    }
    const now = new Date().toISOString();
    const existing = await this.meta(input.name, true).catch((e: unknown) => {
      if (e instanceof JunctionError && e.code === "FUNCTION_NOT_FOUND") return undefined;
      throw e;
    });
    const next = existing ? existing.latest + 1 : 1;
    if (existing) {
      const latest = await this.version(input.name, existing.latest);
      if (latest.source === input.source && latest.timeoutMs === limits.timeoutMs && latest.memoryMb === limits.memoryMb && JSON.stringify(latest.inputs) === JSON.stringify(inputs)) {
        return { meta: existing, version: latest, created: false };
      }
    }
    const version: FunctionVersion = { name: input.name, version: next, source: input.source, timeoutMs: limits.timeoutMs, memoryMb: limits.memoryMb, inputs, description: input.description, createdAt: now };
    if (!(await this.#bucket.create(`${input.name}.v${next}`, version))) return await this.create(input);
    const meta: FunctionMeta = { name: input.name, latest: next, description: input.description ?? existing?.description, createdAt: existing?.createdAt ?? now, updatedAt: now };
    await this.#bucket.put(`${input.name}.meta`, meta);
    this.#meta.set(input.name, meta);
    return { meta, version, created: true };
  }

  async list(): Promise<FunctionMeta[]> {
    const out: FunctionMeta[] = [];
    for (const k of (await this.#bucket.keys("*.meta")).sort()) {
      const e = await this.#bucket.get(k);
      if (e) out.push(e.value as FunctionMeta);
    }
    return out;
  }

  async versions(name: string): Promise<{ version: number; createdAt: string; timeoutMs: number; memoryMb: number }[]> {
    const meta = await this.meta(name, true);
    const out = [];
    for (let v = 1; v <= meta.latest; v++) {
      const r = await this.version(name, v);
      out.push({ version: v, createdAt: r.createdAt, timeoutMs: r.timeoutMs, memoryMb: r.memoryMb });
    }
    return out;
  }

  async delete(name: string): Promise<void> {
    const meta = await this.meta(name, true);
    for (let v = 1; v <= meta.latest; v++) await this.#bucket.delete(`${name}.v${v}`);
    await this.#bucket.delete(`${name}.meta`);
    this.#meta.delete(name);
  }
}
