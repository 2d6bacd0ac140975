import {
  checkCompatibility,
  loadSchema,
  prepareSchema,
  SchemaError,
  COMPATIBILITY_MODES,
  type CompatibilityMode,
  type CompiledSchema,
  type PreparedSchema,
  type SchemaType,
} from "../../schemas/index.js";
import type { JsonBucket } from "../nats/index.js";
import { JunctionError, assertName } from "../protocol/index.js";
import { isoNow, systemClock, type Clock } from "../support/index.js";
import { VersionedStore } from "./versioned.js";

/** A schema's metadata (KV key `<name>.meta`). */
export interface SchemaMeta {
  name: string;
  type: SchemaType;
  compatibility: CompatibilityMode;
  latest: number;
  description?: string | undefined;
  createdAt: string;
  updatedAt: string;
}

/** One immutable version (KV key `<name>.v<N>`). */
export interface SchemaVersion {
  name: string;
  version: number;
  prepared: PreparedSchema;
  createdAt: string;
}

/** Input of {@link SchemaRegistry.create}. */
export interface CreateSchemaInput {
  name: string;
  type: SchemaType;
  definition: string;
  messageType?: string | undefined;
  compatibility?: CompatibilityMode | undefined;
  description?: string | undefined;
}

/** Wraps the engine's SchemaError as a JunctionError, keeping it as cause. */
export function fromSchemaError(err: unknown): JunctionError {
  if (err instanceof JunctionError) return err;
  if (err instanceof SchemaError)
    return new JunctionError(err.code, err.message, { cause: err, ...(err.details ? { details: err.details } : {}) });
  return new JunctionError("INTERNAL", `schema engine failure: ${(err as Error).message}`, { cause: err });
}

/**
 * Schemas in KV `jn_schemas`: immutable versions, compiled once per version and cached; a watch
 * on the metadata keys brings new versions to every gateway without a restart.
 */
export class SchemaRegistry {
  readonly #store: VersionedStore<SchemaMeta, SchemaVersion>;
  readonly #compiled = new Map<string, CompiledSchema>();

  readonly #clock: Clock;

  /** `clock` stamps created and updated times. @default the system clock */
  constructor(bucket: JsonBucket<unknown>, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#store = new VersionedStore<SchemaMeta, SchemaVersion>(bucket, (name, version) =>
      version === undefined
        ? new JunctionError("SCHEMA_NOT_FOUND", `schema '${name}' not found`, { details: { schema: name } })
        : new JunctionError("SCHEMA_VERSION_NOT_FOUND", `schema '${name}' has no version ${version}`, {
            details: { schema: name, version },
          }),
    );
    this.#store.onChange((name, meta) => {
      if (meta === undefined) for (const k of [...this.#compiled.keys()]) if (k.startsWith(name + "@")) this.#compiled.delete(k);
    });
  }

  start(): Promise<void> {
    return this.#store.start();
  }

  /** Calls `fn` on every change of a schema's metadata (a new version, a deletion: undefined). */
  onChange(fn: (name: string, meta: SchemaMeta | undefined) => void): void {
    this.#store.onChange(fn);
  }

  close(): void {
    this.#store.close();
  }

  /** The metadata, from the cache or KV; throws SCHEMA_NOT_FOUND. */
  meta(name: string, fresh = false): Promise<SchemaMeta> {
    return this.#store.meta(name, fresh);
  }

  /** One version (cached forever: versions are immutable); throws SCHEMA_VERSION_NOT_FOUND. */
  version(name: string, version: number | "latest"): Promise<SchemaVersion> {
    return this.#store.version(name, version);
  }

  /** The cached latest version number, without I/O (undefined if unknown yet). */
  cachedLatest(name: string): number | undefined {
    return this.#store.cachedLatest(name);
  }

  /** The compiled validator of a version (compiled once, then cached). */
  async compiled(name: string, version: number, allowUnknownFields = false): Promise<CompiledSchema> {
    const key = `${name}@${version}:${allowUnknownFields ? 1 : 0}`;
    const c = this.#compiled.get(key);
    if (c) return c;
    const v = await this.version(name, version);
    let compiled: CompiledSchema;
    try {
      compiled = loadSchema(v.prepared, { allowUnknownFields });
    } catch (err) {
      throw fromSchemaError(err);
    }
    this.#compiled.set(key, compiled);
    return compiled;
  }

  /**
   * Registers a schema, or a new version of it. The same definition as the latest version
   * registers nothing. A new version must pass the schema's compatibility mode.
   */
  async create(input: CreateSchemaInput): Promise<{ meta: SchemaMeta; version: SchemaVersion; created: boolean }> {
    assertName("schema", input.name);
    if (input.compatibility !== undefined && !(COMPATIBILITY_MODES as readonly string[]).includes(input.compatibility)) {
      throw new JunctionError(
        "INVALID_ARGUMENT",
        `compatibility must be one of ${COMPATIBILITY_MODES.join(", ")} (got ${JSON.stringify(input.compatibility)})`,
        {
          details: { field: "compatibility" },
        },
      );
    }
    let prepared: PreparedSchema;
    try {
      prepared = await prepareSchema({
        type: input.type,
        definition: input.definition,
        ...(input.messageType ? { messageType: input.messageType } : {}),
      });
    } catch (err) {
      throw fromSchemaError(err);
    }
    const now = isoNow(this.#clock);
    const existing = await this.#store.maybeMeta(input.name);
    if (!existing) {
      const meta: SchemaMeta = {
        name: input.name,
        type: input.type,
        compatibility: input.compatibility ?? "backward",
        latest: 1,
        description: input.description,
        createdAt: now,
        updatedAt: now,
      };
      const version: SchemaVersion = { name: input.name, version: 1, prepared, createdAt: now };
      if (!(await this.#store.add(meta, version))) return await this.create(input); // lost a race: add a version instead
      return { meta, version, created: true };
    }
    if (existing.type !== input.type) {
      throw new JunctionError("SCHEMA_INCOMPATIBLE", `schema '${input.name}' is ${existing.type}; a new version cannot be ${input.type}`, {
        details: { schema: input.name, changes: [{ path: "type", rule: "type-changed", message: `${existing.type} -> ${input.type}` }] },
      });
    }
    const latest = await this.version(input.name, existing.latest);
    const mode = input.compatibility ?? existing.compatibility;
    if (latest.prepared.fingerprint === prepared.fingerprint) {
      if (mode === existing.compatibility) return { meta: existing, version: latest, created: false };
      const meta = { ...existing, compatibility: mode, updatedAt: now };
      await this.#store.putMeta(meta);
      return { meta, version: latest, created: false };
    }
    const breaking = checkCompatibility(mode, latest.prepared, prepared);
    if (breaking.length > 0) {
      throw new JunctionError(
        "SCHEMA_INCOMPATIBLE",
        `schema '${input.name}' version ${existing.latest + 1} breaks ${mode} compatibility: ${breaking.map((b) => `${b.path}: ${b.message}`).join("; ")}`,
        { details: { schema: input.name, mode, changes: breaking } },
      );
    }
    const next = existing.latest + 1;
    const version: SchemaVersion = { name: input.name, version: next, prepared, createdAt: now };
    const meta: SchemaMeta = {
      ...existing,
      latest: next,
      compatibility: mode,
      updatedAt: now,
      description: input.description ?? existing.description,
    };
    if (!(await this.#store.add(meta, version))) return await this.create(input);
    return { meta, version, created: true };
  }

  list(): Promise<SchemaMeta[]> {
    return this.#store.list();
  }

  async versions(name: string): Promise<{ version: number; createdAt: string; fingerprint: string }[]> {
    return (await this.#store.versions(name)).map((r) => ({
      version: r.version,
      createdAt: r.createdAt,
      fingerprint: r.prepared.fingerprint,
    }));
  }

  delete(name: string): Promise<void> {
    return this.#store.delete(name);
  }
}
