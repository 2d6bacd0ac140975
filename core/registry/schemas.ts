import { createHash } from "node:crypto";
import {
  COMPATIBILITY_MODES,
  SCHEMA_TYPES,
  SchemaError,
  loadSchema,
  normalizeCompatibilityMode,
  protoImportPath,
  referenceUri,
  schemaReferences,
  type BreakingChange,
  type CanonicalCompatibilityMode,
  type CompiledSchema,
  type FormatMode,
  type JsonDialect,
  type PreparedSchema,
  type ReferencedSchema,
  type ReferenceRequest,
  type SchemaChange,
  type SchemaReference,
  type SchemaSource,
  type SchemaType,
} from "../../schemas/index.js";
import type { JsonBucket } from "../nats/index.js";
import { JunctionError, assertName } from "../protocol/index.js";
import { isoNow, systemClock, type Clock } from "../support/index.js";
import type { SchemaRuntime } from "./runtime.js";
import { VersionedStore } from "./versioned.js";

/** A schema's metadata (KV key `<name>.meta`). */
export interface SchemaMeta {
  name: string;
  type: SchemaType;
  /** Always one of the seven canonical modes (records of the first release are read as such). */
  compatibility: CanonicalCompatibilityMode;
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

/** Input of {@link SchemaRegistry.create} and {@link SchemaRegistry.candidate}. */
export interface CreateSchemaInput {
  name: string;
  type: SchemaType;
  definition: string;
  /** Protobuf: the payload message type (may be omitted when the file declares one message). */
  messageType?: string | undefined;
  /** A compatibility mode: a canonical name (`BACKWARD_TRANSITIVE`) or a lowercase alias (`backward`). */
  compatibility?: string | undefined;
  description?: string | undefined;
  /** JSON Schema: `assert` (default) checks formats, `annotate` only records them. */
  formats?: FormatMode | undefined;
  /** JSON Schema: the draft when the document has no `$schema` (default draft-07). */
  dialect?: JsonDialect | undefined;
  /** JSON Schema: the absolute URI the schema is published at (other schemas may `$ref` it). */
  baseUri?: string | undefined;
}

/** What {@link SchemaRegistry.create} did. */
export interface CreateSchemaResult {
  meta: SchemaMeta;
  version: SchemaVersion;
  /** False when the latest version already had this definition (nothing was registered). */
  created: boolean;
  /** The engine's warnings about the definition (ignored keywords, unknown formats…). */
  warnings: string[];
}

/** A definition checked like a registration, without storing anything. */
export interface SchemaCandidate {
  prepared: PreparedSchema;
  /** The versions it uses, with their prepared forms (for loading it). */
  references: ReferencedSchema[];
}

/** A stored version that uses another schema's version. */
export interface SchemaReferrer {
  /** The referring schema and version. */
  schema: string;
  version: number;
  /** The version of the referenced schema it uses. */
  uses: number;
}

/** A breaking change found at registration, with the earlier version it breaks against. */
export type VersionedBreakingChange = BreakingChange & { version: number };

/** Options of {@link SchemaRegistry}. */
export interface SchemaRegistryOptions {
  /** The gateway's schema machinery (worker pool, limits, registration bound). */
  runtime: SchemaRuntime;
  /** Stamps created and updated times. @default the system clock */
  clock?: Clock | undefined;
}

/** Wraps the engine's SchemaError as a JunctionError, keeping it as cause. */
export function fromSchemaError(err: unknown): JunctionError {
  if (err instanceof JunctionError) return err;
  if (err instanceof SchemaError)
    return new JunctionError(err.code, err.message, { cause: err, ...(err.details ? { details: err.details } : {}) });
  return new JunctionError("INTERNAL", `schema engine failure: ${(err as Error).message}`, { cause: err });
}

/** The canonical mode of an input; INVALID_ARGUMENT naming the accepted spellings otherwise. */
export function compatibilityModeOf(mode: unknown): CanonicalCompatibilityMode {
  const m = normalizeCompatibilityMode(mode);
  if (m === undefined) {
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `compatibility must be one of ${COMPATIBILITY_MODES.join(", ")} (got ${JSON.stringify(mode)})`,
      {
        details: { field: "compatibility", accepted: COMPATIBILITY_MODES },
      },
    );
  }
  return m;
}

// KV keys beside the versions (schema names cannot start with "_", so these never collide):
//   _id.<sha256 of uri>              { uri, name }                the schema that owns a `$id`
//   _id.<sha256 of uri>.<version>    { uri, name, version }       a version that declares it
//   _ref.<target>.<tv>.<name>.<v>    { … }                        name@v uses target@tv
//   _del.<name>                      { at }                       a deletion in progress
const idKey = (uri: string): string => `_id.${createHash("sha256").update(uri).digest("hex")}`;
const refKey = (target: string, tv: number, name: string, v: number): string => `_ref.${target}.${tv}.${name}.${v}`;
const delKey = (name: string): string => `_del.${name}`;

/** A deletion marker older than this is left over from a crash and ignored. */
const STALE_DELETION_MS = 5 * 60_000;
/** A version key without metadata older than this is left over from a crash and replaced. */
const ORPHAN_VERSION_MS = 30_000;
/** Attempts at taking the next version number when other gateways register at the same time. */
const MAX_COMMIT_ATTEMPTS = 40;

interface IdOwner {
  uri: string;
  name: string;
}

interface RefEdge {
  target: string;
  targetVersion: number;
  schema: string;
  version: number;
  createdAt: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Schemas in KV `jn_schemas`: immutable versions, compiled once per version and cached; a watch
 * on the metadata keys brings new versions to every gateway without a restart. Preparing a
 * definition, checking compatibility and diffing run in the gateway's worker pool; references
 * to other registered versions are resolved here, recorded, and block deleting what they use.
 */
export class SchemaRegistry {
  readonly #bucket: JsonBucket<unknown>;
  readonly #store: VersionedStore<SchemaMeta, SchemaVersion>;
  readonly #compiled = new Map<string, Promise<CompiledSchema>>();
  readonly #runtime: SchemaRuntime;
  readonly #clock: Clock;

  constructor(bucket: JsonBucket<unknown>, o: SchemaRegistryOptions) {
    this.#bucket = bucket;
    this.#runtime = o.runtime;
    this.#clock = o.clock ?? systemClock;
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

  close(): void {
    this.#store.close();
  }

  /** Payloads over this many bytes are validated in the worker pool (see `validateAsync`). */
  get asyncThresholdBytes(): number {
    return this.#runtime.asyncThresholdBytes;
  }

  /** The gateway's schema machinery. */
  get runtime(): SchemaRuntime {
    return this.#runtime;
  }

  /** The metadata, from the cache or KV; throws SCHEMA_NOT_FOUND. */
  async meta(name: string, fresh = false): Promise<SchemaMeta> {
    return normalized(await this.#store.meta(name, fresh));
  }

  /** One version (cached forever: versions are immutable); throws SCHEMA_VERSION_NOT_FOUND. */
  version(name: string, version: number | "latest"): Promise<SchemaVersion> {
    return this.#store.version(name, version);
  }

  /** The cached latest version number, without I/O (undefined if unknown yet). */
  cachedLatest(name: string): number | undefined {
    return this.#store.cachedLatest(name);
  }

  /**
   * The compiled validator of a version (compiled once, then cached), with the versions it
   * references; `validateAsync` sends payloads over the threshold to the worker pool.
   */
  compiled(name: string, version: number, allowUnknownFields = false): Promise<CompiledSchema> {
    const key = `${name}@${version}:${allowUnknownFields ? 1 : 0}`;
    let c = this.#compiled.get(key);
    if (!c) {
      c = (async () => {
        const v = await this.version(name, version);
        const references = await this.#referenced(v.prepared.references ?? []);
        try {
          return loadSchema(v.prepared, {
            allowUnknownFields,
            references,
            pool: this.#runtime.pool,
            asyncThresholdBytes: this.#runtime.asyncThresholdBytes,
          });
        } catch (err) {
          throw fromSchemaError(err);
        }
      })();
      this.#compiled.set(key, c);
      c.catch(() => this.#compiled.delete(key));
    }
    return c;
  }

  /** The stored versions a version's recorded references name, with their prepared forms. */
  async #referenced(refs: readonly SchemaReference[]): Promise<ReferencedSchema[]> {
    const out: ReferencedSchema[] = [];
    for (const r of refs) {
      const v = await this.version(r.name, r.version);
      out.push({ name: r.name, version: r.version, prepared: v.prepared, ...(r.uri === undefined ? {} : { uri: r.uri }) });
    }
    return out;
  }

  /**
   * Checks a definition as a registration would (references resolved, limits, the engine's
   * checks, in the worker pool), without storing anything. Counts as a registration for the
   * gateway's concurrency bound.
   */
  candidate(input: CreateSchemaInput): Promise<SchemaCandidate> {
    const src = sourceOf(input);
    return this.#runtime.register(() => this.#prepare(src));
  }

  /**
   * Registers a schema, or a new version of it. The same definition as the latest version
   * registers nothing (a different mode given then only changes the mode). A new version must
   * pass the schema's compatibility mode: against the latest version, or every earlier one for
   * the `_TRANSITIVE` modes. Throws SCHEMA_INVALID / SCHEMA_TOO_LARGE / SCHEMA_TOO_COMPLEX,
   * SCHEMA_INCOMPATIBLE (`details.changes`, each with the `version` it breaks), and the
   * retriable SCHEMA_UNAVAILABLE when the gateway has too many registrations at once.
   */
  async create(input: CreateSchemaInput): Promise<CreateSchemaResult> {
    assertName("schema", input.name);
    const src = sourceOf(input);
    const mode = input.compatibility === undefined ? undefined : compatibilityModeOf(input.compatibility);
    return this.#runtime.register(async () => {
      const { prepared } = await this.#prepare(src);
      await this.#assertIdsFree(input.name, prepared);
      const warnings = prepared.warnings ?? [];
      for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
        const now = isoNow(this.#clock);
        const raw = await this.#store.maybeMeta(input.name);
        const existing = raw === undefined ? undefined : normalized(raw);
        if (existing === undefined) {
          const meta: SchemaMeta = {
            name: input.name,
            type: input.type,
            compatibility: mode ?? "BACKWARD",
            latest: 1,
            description: input.description,
            createdAt: now,
            updatedAt: now,
          };
          const version: SchemaVersion = { name: input.name, version: 1, prepared, createdAt: now };
          if (await this.#commit(meta, version)) return { meta, version, created: true, warnings };
          await this.#afterLostRace(input.name, 1, attempt);
          continue;
        }
        if (existing.type !== input.type) {
          throw new JunctionError(
            "SCHEMA_INCOMPATIBLE",
            `schema '${input.name}' is ${existing.type}; a new version cannot be ${input.type}`,
            {
              details: {
                schema: input.name,
                changes: [{ path: "", rule: "schema.type-changed", message: `${existing.type} -> ${input.type}` }],
              },
            },
          );
        }
        const latest = await this.version(input.name, existing.latest);
        const m = mode ?? existing.compatibility;
        if (latest.prepared.fingerprint === prepared.fingerprint) {
          if (m === existing.compatibility) return { meta: existing, version: latest, created: false, warnings };
          const meta = { ...existing, compatibility: m, updatedAt: now };
          await this.#store.putMeta(meta);
          return { meta, version: latest, created: false, warnings };
        }
        const breaking = await this.#breaking(m, input.name, existing.latest, prepared);
        const next = existing.latest + 1;
        if (breaking.length > 0) {
          const shown = breaking
            .slice(0, 5)
            .map((b) => `${b.path || "/"}: ${b.message} (${b.rule}, against version ${b.version})`)
            .join("; ");
          const more = breaking.length > 5 ? ` (and ${breaking.length - 5} more)` : "";
          throw new JunctionError(
            "SCHEMA_INCOMPATIBLE",
            `schema '${input.name}' version ${next} breaks ${m} compatibility: ${shown}${more}`,
            {
              details: { schema: input.name, mode: m, changes: breaking },
            },
          );
        }
        const version: SchemaVersion = { name: input.name, version: next, prepared, createdAt: now };
        const meta: SchemaMeta = {
          ...existing,
          latest: next,
          compatibility: m,
          updatedAt: now,
          description: input.description ?? existing.description,
        };
        if (await this.#commit(meta, version)) return { meta, version, created: true, warnings };
        await this.#afterLostRace(input.name, next, attempt);
      }
      throw new JunctionError("SCHEMA_UNAVAILABLE", `schema '${input.name}': too many versions registered at the same time; retry`, {
        details: { schema: input.name },
      });
    });
  }

  /**
   * The breaking changes of `next` under `mode` against the latest version, or every version for
   * the transitive modes (in the worker pool), each with the version it breaks against.
   */
  async #breaking(
    mode: CanonicalCompatibilityMode,
    name: string,
    latest: number,
    next: PreparedSchema,
  ): Promise<VersionedBreakingChange[]> {
    if (mode === "NONE") return [];
    const first = mode.endsWith("_TRANSITIVE") ? 1 : latest;
    const previous: PreparedSchema[] = [];
    for (let v = first; v <= latest; v++) previous.push((await this.version(name, v)).prepared);
    let changes: BreakingChange[];
    try {
      changes = await this.#runtime.pool.checkCompatibility(mode, previous, next);
    } catch (err) {
      throw fromSchemaError(err);
    }
    return changes.map((c) => ({ ...c, version: first + (c.against ?? previous.length - 1) }));
  }

  /**
   * The breaking changes a candidate would meet if registered now (for `schema.check`), under
   * `mode` or the schema's own.
   */
  async breakingChanges(
    name: string,
    candidate: PreparedSchema,
    mode?: CanonicalCompatibilityMode,
  ): Promise<{ mode: CanonicalCompatibilityMode; changes: VersionedBreakingChange[] }> {
    const meta = await this.meta(name, true);
    const m = mode ?? meta.compatibility;
    if (meta.type !== candidate.type) {
      return {
        mode: m,
        changes: [{ path: "", rule: "schema.type-changed", message: `${meta.type} -> ${candidate.type}`, version: meta.latest }],
      };
    }
    return { mode: m, changes: await this.#breaking(m, name, meta.latest, candidate) };
  }

  /** The structural changes from version `a` to version `b` (in the worker pool), with the modes each breaks. */
  async diff(name: string, a: number, b: number): Promise<SchemaChange[]> {
    const [va, vb] = [await this.version(name, a), await this.version(name, b)];
    try {
      return await this.#runtime.pool.diff(va.prepared, vb.prepared);
    } catch (err) {
      throw fromSchemaError(err);
    }
  }

  /** Resolves a definition's references and prepares it in the worker pool. */
  async #prepare(src: SchemaSource): Promise<SchemaCandidate> {
    // Refuse an oversized definition before parsing it for its references.
    const max = this.#runtime.limits.maxDefinitionBytes;
    if (src.definition.length > max / 3) {
      const bytes = Buffer.byteLength(src.definition, "utf8");
      if (bytes > max) {
        throw new JunctionError("SCHEMA_TOO_LARGE", `the schema definition is ${bytes} bytes; the limit maxDefinitionBytes is ${max}`, {
          details: { limit: "maxDefinitionBytes", max, actual: bytes },
        });
      }
    }
    try {
      const references = await this.#resolve(schemaReferences(src), src.type);
      const prepared = await this.#runtime.pool.prepare(src, { references });
      return { prepared, references };
    } catch (err) {
      throw fromSchemaError(err);
    }
  }

  /** The registered versions a definition refers to, and everything those refer to in turn. */
  async #resolve(requests: ReferenceRequest[], type: SchemaType): Promise<ReferencedSchema[]> {
    const found = new Map<string, ReferencedSchema>();
    const max = this.#runtime.limits.maxReferences;
    const add = async (name: string, version: number, uri: string | undefined, asked: string): Promise<void> => {
      const key = `${name}@${version}`;
      if (found.has(key)) return;
      if (found.size >= max) {
        throw new JunctionError(
          "SCHEMA_TOO_COMPLEX",
          `the schema is too complex: it references more than ${max} schema versions; the limit maxReferences is ${max}`,
          { details: { limit: "maxReferences", max, actual: found.size + 1 } },
        );
      }
      let v: SchemaVersion;
      try {
        v = await this.version(name, version);
      } catch (err) {
        if (err instanceof JunctionError && (err.code === "SCHEMA_NOT_FOUND" || err.code === "SCHEMA_VERSION_NOT_FOUND")) {
          throw new JunctionError("SCHEMA_INVALID", `the schema refers to ${asked}, but ${err.message}`, {
            cause: err,
            details: { path: "", message: "missing reference", missingRef: asked, missing: { name, version } },
          });
        }
        throw err;
      }
      found.set(key, { name, version, prepared: v.prepared, ...(uri === undefined ? {} : { uri }) });
      for (const r of v.prepared.references ?? []) await add(r.name, r.version, r.uri, `${r.name}@${r.version} (used by ${key})`);
    };
    for (const req of requests) {
      if (req.kind === "version") {
        const asked = type === "protobuf" ? protoImportPath(req.name, req.version) : referenceUri(req.name, req.version);
        await add(req.name, req.version, undefined, asked);
        continue;
      }
      // By `$id`: the latest version of the schema that owns the URI and declares it. One the
      // registry does not know is left to the engine, which names it (details.missingRef).
      const key = idKey(req.uri);
      const owner = (await this.#bucket.get(key))?.value as IdOwner | undefined;
      if (owner === undefined) continue;
      const versions = (await this.#bucket.keys(`${key}.*`)).map((k) => Number(k.slice(key.length + 1))).filter(Number.isInteger);
      if (versions.length === 0) continue;
      await add(owner.name, Math.max(...versions), req.uri, req.uri);
    }
    return [...found.values()];
  }

  /** SCHEMA_INVALID when a `$id` the definition declares belongs to another schema. */
  async #assertIdsFree(name: string, prepared: PreparedSchema): Promise<void> {
    for (const uri of prepared.ids ?? []) {
      const owner = (await this.#bucket.get(idKey(uri)))?.value as IdOwner | undefined;
      if (owner !== undefined && owner.name !== name) throw idTaken(uri, owner.name, name);
    }
  }

  /**
   * Stores a version: its key (which claims the number), the edges to what it references, a
   * check that none of those is being deleted, its `$id`s, then the metadata that makes it
   * visible. False when another writer took the number first. Deletion marks a schema before it
   * reads the edges, and this writes the edges before it reads the marks, so one of the two
   * always sees the other.
   */
  async #commit(meta: SchemaMeta, version: SchemaVersion): Promise<boolean> {
    if (!(await this.#store.addVersion(version))) return false;
    const refs = version.prepared.references ?? [];
    const written: string[] = [];
    const undo = async () => {
      for (const k of written) await this.#bucket.delete(k);
      await this.#store.removeVersion(version.name, version.version);
    };
    try {
      for (const r of refs) {
        if (r.name === version.name) continue;
        const k = refKey(r.name, r.version, version.name, version.version);
        const edge: RefEdge = {
          target: r.name,
          targetVersion: r.version,
          schema: version.name,
          version: version.version,
          createdAt: meta.updatedAt,
        };
        if (await this.#bucket.create(k, edge)) written.push(k);
      }
      for (const r of refs) {
        if (r.name === version.name) continue;
        const target = await this.#store.maybeMeta(r.name);
        if (target === undefined || target.latest < r.version || (await this.#deleting(r.name))) {
          throw new JunctionError("SCHEMA_INVALID", `the schema refers to ${r.name}@${r.version}, which is being deleted`, {
            details: { path: "", message: "reference being deleted", missing: { name: r.name, version: r.version } },
          });
        }
      }
      for (const uri of version.prepared.ids ?? []) {
        const key = idKey(uri);
        if (await this.#bucket.create(key, { uri, name: version.name } satisfies IdOwner)) written.push(key);
        else {
          const owner = (await this.#bucket.get(key))?.value as IdOwner | undefined;
          if (owner !== undefined && owner.name !== version.name) throw idTaken(uri, owner.name, version.name);
        }
        await this.#bucket.put(`${key}.${version.version}`, { uri, name: version.name, version: version.version });
        written.push(`${key}.${version.version}`);
      }
    } catch (err) {
      await undo();
      throw err;
    }
    await this.#store.putMeta(meta);
    return true;
  }

  /**
   * Waits after losing the race for a version number. A version key that never got its
   * metadata (a gateway died in between) is removed once it is old enough.
   */
  async #afterLostRace(name: string, version: number, attempt: number): Promise<void> {
    const meta = await this.#store.maybeMeta(name);
    if ((meta?.latest ?? 0) < version) {
      const orphan = await this.#store.peekVersion(name, version);
      if (orphan && this.#clock.now() - Date.parse(orphan.createdAt) > ORPHAN_VERSION_MS) {
        for (const r of orphan.prepared.references ?? []) await this.#bucket.delete(refKey(r.name, r.version, name, version));
        await this.#store.removeVersion(name, version);
        return;
      }
    }
    await sleep(Math.min(200, 5 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()));
  }

  async #deleting(name: string): Promise<boolean> {
    const mark = (await this.#bucket.get(delKey(name)))?.value as { at?: number } | undefined;
    return mark !== undefined && this.#clock.now() - (mark.at ?? 0) < STALE_DELETION_MS;
  }

  /**
   * The stored versions of other schemas that use a version of `name`. Edges left by
   * registrations that never completed are removed on the way.
   */
  async referrers(name: string): Promise<SchemaReferrer[]> {
    const out: SchemaReferrer[] = [];
    for (const k of await this.#bucket.keys(`_ref.${name}.>`)) {
      const e = (await this.#bucket.get(k))?.value as RefEdge | undefined;
      if (e === undefined || e.schema === name) continue;
      const meta = await this.#store.maybeMeta(e.schema);
      const live =
        (meta !== undefined && meta.latest >= e.version) ||
        // A registration between its version key and its metadata.
        (await this.#store.peekVersion(e.schema, e.version)) !== undefined;
      if (live) out.push({ schema: e.schema, version: e.version, uses: e.targetVersion });
      else await this.#bucket.delete(k);
    }
    return out.sort((a, b) => (a.schema === b.schema ? a.version - b.version : a.schema < b.schema ? -1 : 1));
  }

  /** SCHEMA_REFERENCED naming the referrers, when there are any. */
  async assertUnreferenced(name: string): Promise<void> {
    const users = await this.referrers(name);
    if (users.length === 0) return;
    const shown = users
      .slice(0, 10)
      .map((r) => `${r.schema}@${r.version} (uses ${name}@${r.uses})`)
      .join(", ");
    const more = users.length > 10 ? ` and ${users.length - 10} more` : "";
    throw new JunctionError(
      "SCHEMA_REFERENCED",
      `schema '${name}' is used by ${shown}${more}; delete those schemas first (references are immutable)`,
      { details: { schema: name, referrers: users } },
    );
  }

  list(): Promise<SchemaMeta[]> {
    return this.#store.list().then((l) => l.map(normalized));
  }

  async versions(name: string): Promise<{ version: number; createdAt: string; fingerprint: string; references?: SchemaReference[] }[]> {
    return (await this.#store.versions(name)).map((r) => ({
      version: r.version,
      createdAt: r.createdAt,
      fingerprint: r.prepared.fingerprint,
      ...(r.prepared.references ? { references: r.prepared.references } : {}),
    }));
  }

  /**
   * Deletes a schema with all its versions. Refused with SCHEMA_REFERENCED while a version of
   * another schema uses one of its versions.
   */
  async delete(name: string): Promise<void> {
    const meta = await this.#store.meta(name, true);
    await this.#bucket.put(delKey(name), { at: this.#clock.now() });
    try {
      await this.assertUnreferenced(name);
      for (let v = 1; v <= meta.latest; v++) {
        const ver = await this.#store.peekVersion(name, v);
        if (!ver) continue;
        for (const r of ver.prepared.references ?? []) await this.#bucket.delete(refKey(r.name, r.version, name, v));
        for (const uri of ver.prepared.ids ?? []) {
          const key = idKey(uri);
          await this.#bucket.delete(`${key}.${v}`);
          const owner = (await this.#bucket.get(key))?.value as IdOwner | undefined;
          if (owner?.name === name) await this.#bucket.delete(key);
        }
      }
      for (const k of await this.#bucket.keys(`_ref.${name}.>`)) await this.#bucket.delete(k);
      await this.#store.delete(name);
    } finally {
      await this.#bucket.delete(delKey(name));
    }
  }
}

/** Metadata as Junction speaks of it now: the mode in its canonical spelling. */
function normalized(m: SchemaMeta): SchemaMeta {
  const mode = normalizeCompatibilityMode(m.compatibility) ?? "BACKWARD";
  return mode === m.compatibility ? m : { ...m, compatibility: mode };
}

function idTaken(uri: string, owner: string, name: string): JunctionError {
  return new JunctionError(
    "SCHEMA_INVALID",
    `the $id ${uri} is declared by schema '${owner}'; schema '${name}' cannot declare it too (give it another $id, or register it as a version of '${owner}')`,
    { details: { path: "/$id", message: "$id taken", uri, owner } },
  );
}

/** The engine's source for an input, refusing an unknown type. */
function sourceOf(input: CreateSchemaInput): SchemaSource {
  if (!(SCHEMA_TYPES as readonly unknown[]).includes(input.type)) {
    throw new JunctionError("INVALID_ARGUMENT", `'type' must be one of ${SCHEMA_TYPES.join(", ")} (got ${JSON.stringify(input.type)})`, {
      details: { field: "type" },
    });
  }
  if (typeof input.definition !== "string") {
    throw new JunctionError("INVALID_ARGUMENT", "'definition' must be a string", { details: { field: "definition" } });
  }
  return {
    type: input.type,
    definition: input.definition,
    ...(input.messageType ? { messageType: input.messageType } : {}),
    ...(input.formats !== undefined ? { formats: input.formats } : {}),
    ...(input.dialect !== undefined ? { dialect: input.dialect } : {}),
    ...(input.baseUri !== undefined ? { baseUri: input.baseUri } : {}),
  };
}
