import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterReason,
  GroupConfig,
  GroupInfo,
  Grants,
  QuotaReport,
  StationConfig,
  StationInfo,
} from "../core/protocol/index.js";

/** Calls one admin operation. */
export type Requester = <T>(op: string, body: unknown, timeoutMs?: number) => Promise<T>;

/** Station administration. */
export interface StationsApi {
  /** Creates a station. Creating it again with the same settings returns it unchanged; other settings fail with STATION_EXISTS. */
  create(name: string, config?: Partial<StationConfig>): Promise<StationInfo & { created: boolean }>;
  get(name: string): Promise<StationInfo>;
  list(): Promise<StationInfo[]>;
  /**
   * Changes retention, limits, replicas, de-duplication window or max message size, or grows the
   * partitions of a partitioned station (refused while a group has unread messages, unless
   * `force`: see docs/streaming.md, "Growing partitions").
   */
  update(name: string, config: Partial<StationConfig>, o?: { force?: boolean }): Promise<StationInfo>;
  delete(name: string): Promise<void>;
}

/** Consumer group administration. */
export interface GroupsApi {
  create(station: string, group: string, config?: Partial<GroupConfig>): Promise<GroupInfo & { created: boolean }>;
  get(station: string, group: string): Promise<GroupInfo>;
  list(station: string): Promise<GroupInfo[]>;
  delete(station: string, group: string): Promise<void>;
  /**
   * Moves the group's read position: to a stream sequence, to the first message stored at or
   * after a time, or past the last message (`{ latest: true }`). The group then reads from there
   * on (members keep running; what they hold unacked is forgotten and not resent). Resolves with
   * the group and the sequence it now reads from.
   */
  reset(station: string, group: string, to: GroupResetTarget): Promise<GroupInfo & { resetSeq: number }>;
}

/** Where {@link GroupsApi.reset} moves a group. */
export type GroupResetTarget = { seq: number } | { time: Date | string } | { latest: true };

/** A schema language. */
export type SchemaKind = "json" | "protobuf" | "avro";

/** A compatibility mode as the gateway reports it (Confluent's names). */
export type SchemaCompatibility =
  "NONE" | "BACKWARD" | "BACKWARD_TRANSITIVE" | "FORWARD" | "FORWARD_TRANSITIVE" | "FULL" | "FULL_TRANSITIVE";

/** A compatibility mode as accepted: a canonical name, or the lowercase aliases of the first release. */
export type SchemaCompatibilityInput = SchemaCompatibility | "none" | "backward" | "forward" | "full";

/** A schema's metadata as the gateway returns it. */
export interface SchemaInfo {
  name: string;
  type: SchemaKind;
  compatibility: SchemaCompatibility;
  latest: number;
  description?: string;
  createdAt: string;
  updatedAt: string;
  /** Stations the schema is attached to. */
  usedBy: string[];
}

/** A version of another schema that uses a version of this one. */
export interface SchemaReferrerInfo {
  schema: string;
  version: number;
  /** The version of this schema it uses. */
  uses: number;
}

/** One schema version, with its stored (prepared) form. */
export interface SchemaVersionInfo {
  name: string;
  version: number;
  createdAt: string;
  prepared: {
    type: SchemaKind;
    definition: string;
    messageType?: string;
    descriptorSetBase64?: string;
    fingerprint: string;
    /** The versions of other schemas it uses (directly or not). */
    references?: { name: string; version: number; uri?: string }[];
    warnings?: string[];
  };
}

/** A definition as given to `create` and `check`. */
export interface SchemaDefinitionInput {
  /** The schema language. `check` defaults to the schema's. */
  type?: SchemaKind;
  /** JSON Schema text, .proto text, or Avro schema (.avsc) text. */
  definition: string;
  /** Protobuf: the payload message type. */
  messageType?: string;
  /** JSON Schema: `assert` (default) checks `format`, `annotate` only records it. */
  formats?: "assert" | "annotate";
  /** JSON Schema: the draft when the document has no `$schema` (default draft-07). */
  dialect?: "draft-04" | "draft-06" | "draft-07" | "2019-09" | "2020-12";
  /** JSON Schema: the absolute URI the schema is published at (others may `$ref` it). */
  baseUri?: string;
}

/** A breaking change, with the earlier version it breaks against. */
export interface SchemaBreakingChange {
  path: string;
  rule: string;
  message: string;
  version: number;
}

/** One structural change between two versions, with the modes it breaks. */
export interface SchemaChangeInfo {
  path: string;
  rule: string;
  message: string;
  breaks: SchemaCompatibility[];
}

/** What `schemas.check` found: would the candidate register, and which stored messages would it refuse. */
export interface SchemaCheckReport {
  name: string;
  type: SchemaKind;
  fingerprint: string;
  warnings: string[];
  /** Stored messages read per station (the request's `sample`, at most the gateway's `maxCheckSample`). */
  sample: number;
  /** Breaking changes under the mode (the schema's, or the one asked for); empty when it would register. */
  compatibility: { mode: SchemaCompatibility; changes: SchemaBreakingChange[] };
  stations: {
    station: string;
    checked: number;
    failed: number;
    /** The first failures: sequence, the version it was stored with, and why the candidate refuses it. */
    failures: { seq: number; storedWith?: string; issues: { path: string; message: string; keyword?: string }[] }[];
  }[];
  checked: number;
  failed: number;
}

/** Schema administration (`jn.api.schema.*`). */
export interface SchemasApi {
  /** Registers a schema or a new version of it (checked against its compatibility mode); `warnings` tell what the engine ignored. */
  create(
    o: SchemaDefinitionInput & {
      name: string;
      type: SchemaKind;
      compatibility?: SchemaCompatibilityInput;
      description?: string;
    },
  ): Promise<Omit<SchemaInfo, "usedBy"> & { version: number; created: boolean; warnings: string[] }>;
  get(name: string, version?: number): Promise<{ meta: SchemaInfo & { referencedBy: SchemaReferrerInfo[] }; version: SchemaVersionInfo }>;
  list(): Promise<SchemaInfo[]>;
  versions(name: string): Promise<{ version: number; createdAt: string; fingerprint: string }[]>;
  /** The structural changes from version `from` to `to`, each with its rule and the modes it breaks. */
  diff(
    name: string,
    from: number,
    to: number,
  ): Promise<{ name: string; type: SchemaKind; from: number; to: number; changes: SchemaChangeInfo[] }>;
  /**
   * Checks a candidate definition without registering it: its breaking changes, and the last
   * `sample` (default 100) stored messages of every station using the schema (or `station`) it would refuse.
   */
  check(
    name: string,
    candidate: SchemaDefinitionInput & { compatibility?: SchemaCompatibilityInput; station?: string; sample?: number },
  ): Promise<SchemaCheckReport>;
  /** Refused with SCHEMA_IN_USE while attached, unless `force` (which detaches it); with SCHEMA_REFERENCED while another schema uses it. */
  delete(name: string, o?: { force?: boolean }): Promise<{ deleted: boolean; detachedFrom: string[] }>;
  /** Attaches at the latest version (follows new versions) or pinned to one. */
  attach(name: string, station: string, o?: { version?: number; allowUnknownFields?: boolean }): Promise<unknown>;
  detach(station: string): Promise<unknown>;
}

/** A function's metadata. */
export interface FunctionInfo {
  name: string;
  latest: number;
  description?: string;
  createdAt: string;
  updatedAt: string;
  usedBy?: string[];
  stats?: { calls: number; errors: number; lastError?: string };
}

/** Function administration (`jn.api.function.*`). */
export interface FunctionsApi {
  create(o: {
    name: string;
    source: string;
    timeoutMs?: number;
    memoryMb?: number;
    inputs?: string[];
    description?: string;
  }): Promise<FunctionInfo & { version: number; created: boolean }>;
  get(
    name: string,
    version?: number,
  ): Promise<{
    meta: FunctionInfo;
    version: { name: string; version: number; source: string; timeoutMs: number; memoryMb: number; inputs: string[]; createdAt: string };
  }>;
  list(): Promise<FunctionInfo[]>;
  versions(name: string): Promise<{ version: number; createdAt: string; timeoutMs: number; memoryMb: number }[]>;
  /** Recent console output of the function on the gateway that answers, and its call/error counts. */
  logs(name: string): Promise<{
    logs: { time: number; function: string; version: number; level: string; message: string }[];
    stats: { calls: number; errors: number; lastError?: string };
  }>;
  delete(name: string, o?: { force?: boolean }): Promise<{ deleted: boolean; detachedFrom: string[] }>;
  /**
   * Quarantined versions of this tenant's functions on the gateway that answers: after repeated
   * batch failures (timeout, memory, crash) a version's messages go straight to the DLS
   * (`FUNCTION_QUARANTINED`) until it is released, replaced by a new version, or the gateway restarts.
   */
  quarantined(): Promise<FunctionQuarantine[]>;
  /** Lifts the quarantine of a function (one version, or all of them) on the gateway that answers. */
  release(name: string, version?: number): Promise<{ released: FunctionQuarantine[] }>;
  /** Attaches to a station's pipeline (at the end, or at `position`; attaching again moves it). */
  attach(
    name: string,
    station: string,
    o?: { version?: number; position?: number; inputs?: Record<string, string> },
  ): Promise<{ station: string; functions: { name: string; version: number | "latest"; inputs: Record<string, string> }[] }>;
  detach(
    name: string,
    station: string,
  ): Promise<{ station: string; functions: { name: string; version: number | "latest"; inputs: Record<string, string> }[] }>;
}

/** A quarantined function version. */
export interface FunctionQuarantine {
  function: string;
  version: number;
  /** The kind of failure that tipped it over. */
  reason: "timeout" | "memory" | "crashed" | string;
  message: string;
  /** Batch failures counted within the window. */
  failures: number;
  /** When it was quarantined, ms since the epoch. */
  since: number;
}

/** Dead-letter operations (`jn.api.dls.*`). Every operation is idempotent and reports counts. */
export interface DlsApi {
  list(filter?: DeadLetterFilter & { limit?: number; cursor?: string }): Promise<DeadLetterPage>;
  /** One dead letter, with its payload decoded by the station's schema when it has one. */
  get(id: string): Promise<DeadLetter>;
  /**
   * Resends: poison and terminated dead letters go back only to the group(s) that failed them;
   * schema and function dead letters go back through the produce path (checked again).
   */
  resend(
    target: { id: string } | { filter: DeadLetterFilter },
  ): Promise<{ resent: number; failed: number; errors?: { id: string; code: string; message: string }[] }>;
  drop(target: { id: string } | { filter: DeadLetterFilter }): Promise<{ dropped: number }>;
  /** Counts per reason and group. */
  stats(station?: string): Promise<{
    total: number;
    byReason: Partial<Record<DeadLetterReason, number>>;
    byGroup: Record<string, number>;
    byStation: Record<string, number>;
  }>;
  /**
   * A station's DLS retention; with `change`, sets it first. The age applies to dead letters
   * written afterwards; a lower cap trims the oldest entries at once (`trimmed`).
   */
  retention(
    station: string,
    change?: { maxAgeSeconds?: number; maxEntries?: number },
  ): Promise<{ station: string; maxAgeSeconds: number; maxEntries: number; trimmed: number }>;
}

/** A user as the API shows it (never its password). */
export interface UserInfo {
  name: string;
  tenant: string;
  grants: Grants;
  createdAt: string;
  updatedAt: string;
}

/** User administration (`jn.api.user.*`): a tenant admin manages its tenant's users; an operator, any tenant's (`tenant`). */
export interface UsersApi {
  /** Creates a user. Without `password`, one is generated and returned (once). */
  create(o: { name: string; grants: Partial<Grants>; password?: string; tenant?: string }): Promise<UserInfo & { password?: string }>;
  get(name: string, o?: { tenant?: string }): Promise<UserInfo>;
  list(o?: { tenant?: string }): Promise<UserInfo[]>;
  /** Replaces the user's grants; its connections are closed so the new rights apply now. */
  update(name: string, grants: Partial<Grants>, o?: { tenant?: string }): Promise<UserInfo & { disconnected: number }>;
  delete(name: string, o?: { tenant?: string }): Promise<{ deleted: boolean; disconnected: number }>;
  /** Sets a new password (generated and returned when not given); the user's connections are closed. */
  rotatePassword(
    name: string,
    o?: { password?: string; tenant?: string },
  ): Promise<{ name: string; disconnected: number; password?: string }>;
}

/** A tenant. */
export interface TenantInfo {
  name: string;
  createdAt: string;
  description?: string;
}

/** Tenant administration (`jn.api.tenant.*`, an operator's right). */
export interface TenantsApi {
  create(name: string, o?: { description?: string }): Promise<TenantInfo & { created: boolean }>;
  get(name: string): Promise<TenantInfo & { users: number }>;
  list(): Promise<TenantInfo[]>;
  /** Refused with TENANT_NOT_EMPTY while it has users or stations. */
  delete(name: string): Promise<{ deleted: boolean }>;
}

/** Quotas (`jn.api.quota.*`): what a tenant may create and send, and how much of it it uses. */
export interface QuotasApi {
  /**
   * The effective quotas of your tenant (an operator: of `tenant`), each with its source
   * (default, broker or tenant) and, for admins, its current usage.
   */
  list(o?: { tenant?: string }): Promise<QuotaReport>;
  /**
   * Sets a tenant's overrides (an operator's right): `{ stations: 200 }`; `null` removes one
   * (the broker's limit applies again). Returns the tenant's quotas afterwards.
   */
  set(limits: Record<string, number | null>, o?: { tenant?: string }): Promise<QuotaReport & { changed: string[] }>;
}

/** The admin API objects. */
export interface AdminApis {
  users: UsersApi;
  tenants: TenantsApi;
  stations: StationsApi;
  groups: GroupsApi;
  schemas: SchemasApi;
  functions: FunctionsApi;
  dls: DlsApi;
  quotas: QuotasApi;
}

/** Builds the admin API objects over a requester. */
export function adminApis(request: Requester): AdminApis {
  const t = (o?: { tenant?: string }) => (o?.tenant !== undefined ? { tenant: o.tenant } : {});
  return {
    users: {
      create: (o) => request("user.create", o),
      get: (name, o) => request("user.get", { name, ...t(o) }),
      list: (o) => request("user.list", { ...t(o) }),
      update: (name, grants, o) => request("user.update", { name, grants, ...t(o) }),
      delete: (name, o) => request("user.delete", { name, ...t(o) }),
      rotatePassword: (name, o) =>
        request("user.rotate-password", { name, ...t(o), ...(o?.password !== undefined ? { password: o.password } : {}) }),
    },
    tenants: {
      create: (name, o) => request("tenant.create", { name, ...(o?.description !== undefined ? { description: o.description } : {}) }),
      get: (name) => request("tenant.get", { name }),
      list: () => request("tenant.list", {}),
      delete: (name) => request("tenant.delete", { name }),
    },
    stations: {
      create: (name, config) => request("station.create", { name, config: config ?? {} }),
      get: (name) => request("station.get", { name }),
      list: () => request("station.list", {}),
      update: (name, config, o) => request("station.update", { name, config, ...(o?.force === true ? { force: true } : {}) }),
      delete: async (name) => {
        await request("station.delete", { name });
      },
    },
    groups: {
      create: (station, group, config) => request("group.create", { station, group, config: config ?? {} }),
      get: (station, group) => request("group.get", { station, group }),
      list: (station) => request("group.list", { station }),
      reset: (station, group, to) =>
        request("group.reset", {
          station,
          group,
          to: "time" in to ? { time: to.time instanceof Date ? to.time.toISOString() : to.time } : to,
        }),
      delete: async (station, group) => {
        await request("group.delete", { station, group });
      },
    },
    schemas: {
      create: (o) => request("schema.create", o),
      get: (name, version) => request("schema.get", { name, ...(version !== undefined ? { version } : {}) }),
      list: () => request("schema.list", {}),
      versions: (name) => request("schema.versions", { name }),
      diff: (name, from, to) => request("schema.diff", { name, from, to }),
      check: (name, candidate) => request("schema.check", { name, ...candidate }, 60_000),
      delete: (name, o) => request("schema.delete", { name, force: o?.force === true }),
      attach: (name, station, o) => request("schema.attach", { name, station, ...o }),
      detach: (station) => request("schema.detach", { station }),
    },
    functions: {
      create: (o) => request("function.create", o),
      get: (name, version) => request("function.get", { name, ...(version !== undefined ? { version } : {}) }),
      list: () => request("function.list", {}),
      versions: (name) => request("function.versions", { name }),
      logs: (name) => request("function.logs", { name }),
      delete: (name, o) => request("function.delete", { name, force: o?.force === true }),
      quarantined: () => request("function.quarantined", {}),
      release: (name, version) => request("function.release", { name, ...(version !== undefined ? { version } : {}) }),
      attach: (name, station, o) => request("function.attach", { name, station, ...o }),
      detach: (name, station) => request("function.detach", { name, station }),
    },
    dls: {
      list: (filter) => request("dls.list", filter ?? {}),
      get: (id) => request("dls.get", { id }),
      resend: (target) => request("dls.resend", target, 60_000),
      drop: (target) => request("dls.drop", target, 60_000),
      stats: (station) => request("dls.stats", station !== undefined ? { station } : {}),
      retention: (station, change) => request("dls.retention", { station, ...change }),
    },
    quotas: {
      list: (o) => request("quota.list", { ...t(o) }),
      set: (limits, o) => request("quota.set", { limits, ...t(o) }),
    },
  };
}
