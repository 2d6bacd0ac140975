/**
 * The admin API's request bodies, as JSON Schemas (plain data: no runtime dependency). The
 * gateway validates every body against these before a handler sees it (as Fastify does with
 * route schemas), so a bad body is `INVALID_ARGUMENT` naming the path. Names are checked by the
 * handlers against the naming rule (`INVALID_NAME`); settings objects (`config`) by their own
 * resolvers, which name the bad setting.
 */

type JsonSchema = Readonly<Record<string, unknown>>;

const name: JsonSchema = { type: "string" };
const version: JsonSchema = { oneOf: [{ type: "integer", minimum: 1 }, { const: "latest" }] };
const settings: JsonSchema = { type: "object" };
const secret: JsonSchema = { type: "string", minLength: 12, maxLength: 1024 };
const grants: JsonSchema = {
  type: "object",
  properties: {
    produce: { type: "array", items: { type: "string" }, maxItems: 256 },
    consume: { type: "array", items: { type: "string" }, maxItems: 256 },
    admin: { type: "boolean" },
  },
  additionalProperties: false,
};

function body(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: "object", properties, required, additionalProperties: false };
}

/** JSON Schema definitions only: how `format` is treated, the default draft, the URI it is published at. */
const schemaSourceOptions: Record<string, JsonSchema> = {
  formats: { type: "string", enum: ["assert", "annotate"] },
  dialect: { type: "string" },
  baseUri: { type: "string", maxLength: 2048 },
};

const dlsFilter: Record<string, JsonSchema> = {
  station: name,
  reason: { type: "string" },
  group: name,
  since: { type: "string" },
  until: { type: "string" },
  text: { type: "string", maxLength: 1024 },
};

const dlsTarget: JsonSchema = {
  type: "object",
  properties: { id: { type: "string", minLength: 1, maxLength: 1024 }, filter: body(dlsFilter) },
  additionalProperties: false,
  oneOf: [{ required: ["id"] }, { required: ["filter"] }],
};

/** The body schema of every admin operation (`jn.api.<op>`). */
export const API_REQUEST_SCHEMAS = {
  ping: body({}),
  "station.create": body({ name, config: settings }, ["name"]),
  "station.get": body({ name }, ["name"]),
  "station.list": body({}),
  "station.update": body({ name, config: settings, force: { type: "boolean" } }, ["name", "config"]),
  "station.delete": body({ name }, ["name"]),
  "group.create": body({ station: name, group: name, config: settings }, ["station", "group"]),
  "group.get": body({ station: name, group: name }, ["station", "group"]),
  "group.list": body({ station: name }, ["station"]),
  "group.delete": body({ station: name, group: name }, ["station", "group"]),
  "group.reset": body(
    {
      station: name,
      group: name,
      to: {
        type: "object",
        properties: {
          seq: { type: "integer", minimum: 1 },
          time: { type: "string", minLength: 1, maxLength: 64 },
          latest: { const: true },
        },
        additionalProperties: false,
        oneOf: [{ required: ["seq"] }, { required: ["time"] }, { required: ["latest"] }],
      },
    },
    ["station", "group", "to"],
  ),
  "schema.create": body(
    {
      name,
      type: { type: "string" },
      definition: { type: "string" },
      messageType: { type: "string" },
      compatibility: { type: "string" },
      description: { type: "string", maxLength: 4096 },
      ...schemaSourceOptions,
    },
    ["name", "type", "definition"],
  ),
  "schema.check": body(
    {
      name,
      type: { type: "string" },
      definition: { type: "string" },
      messageType: { type: "string" },
      compatibility: { type: "string" },
      ...schemaSourceOptions,
      station: name,
      sample: { type: "integer", minimum: 1 },
    },
    ["name", "definition"],
  ),
  "schema.diff": body({ name, from: { type: "integer", minimum: 1 }, to: { type: "integer", minimum: 1 } }, ["name", "from", "to"]),
  "schema.get": body({ name, version }, ["name"]),
  "schema.list": body({}),
  "schema.versions": body({ name }, ["name"]),
  "schema.delete": body({ name, force: { type: "boolean" } }, ["name"]),
  "schema.attach": body({ name, station: name, version, allowUnknownFields: { type: "boolean" } }, ["name", "station"]),
  "schema.detach": body({ station: name }, ["station"]),
  "function.create": body(
    {
      name,
      source: { type: "string" },
      timeoutMs: { type: "number" },
      memoryMb: { type: "number" },
      inputs: { type: "array", items: { type: "string" }, maxItems: 64 },
      description: { type: "string", maxLength: 4096 },
    },
    ["name", "source"],
  ),
  "function.get": body({ name, version }, ["name"]),
  "function.list": body({}),
  "function.versions": body({ name }, ["name"]),
  "function.logs": body({ name }, ["name"]),
  "function.quarantined": body({}),
  "function.release": body({ name, version: { type: "integer", minimum: 1 } }, ["name"]),
  "function.delete": body({ name, force: { type: "boolean" } }, ["name"]),
  "function.attach": body(
    {
      name,
      station: name,
      version,
      position: { type: "integer", minimum: 0 },
      inputs: { type: "object", additionalProperties: { type: "string" } },
    },
    ["name", "station"],
  ),
  "function.detach": body({ name, station: name }, ["name", "station"]),
  "dls.list": body({ ...dlsFilter, limit: { type: "integer" }, cursor: { type: "string" } }),
  "dls.get": body({ id: { type: "string", minLength: 1, maxLength: 1024 } }, ["id"]),
  "dls.resend": dlsTarget,
  "dls.drop": dlsTarget,
  "dls.stats": body({ station: name }),
  "dls.retention": body({ station: name, maxAgeSeconds: { type: "integer" }, maxEntries: { type: "integer" } }, ["station"]),
  "auth.whoami": body({}),
  "user.create": body({ name, tenant: { type: "string" }, password: secret, grants }, ["name"]),
  "user.get": body({ name, tenant: { type: "string" } }, ["name"]),
  "user.list": body({ tenant: { type: "string" } }),
  "user.update": body({ name, tenant: { type: "string" }, grants }, ["name", "grants"]),
  "user.delete": body({ name, tenant: { type: "string" } }, ["name"]),
  "user.rotate-password": body({ name, tenant: { type: "string" }, password: secret }, ["name"]),
  "tenant.create": body({ name, description: { type: "string", maxLength: 4096 } }, ["name"]),
  "tenant.get": body({ name }, ["name"]),
  "tenant.list": body({}),
  "tenant.delete": body({ name }, ["name"]),
  "doctor.run": body({ windowMs: { type: "integer", minimum: 0, maximum: 30_000 } }),
  "quota.list": body({ tenant: { type: "string" } }),
  // Quota names and values are checked by the handler, which names the bad one and the known ones.
  "quota.set": body(
    {
      tenant: { type: "string" },
      limits: {
        type: "object",
        minProperties: 1,
        maxProperties: 64,
        additionalProperties: { anyOf: [{ type: "integer" }, { type: "null" }] },
      },
    },
    ["limits"],
  ),
} as const satisfies Record<string, JsonSchema>;

/** An admin operation name (`station.create`, `dls.resend`…). */
export type ApiOperation = keyof typeof API_REQUEST_SCHEMAS;

/** Whether `op` is an admin operation. */
export function isApiOperation(op: string): op is ApiOperation {
  return Object.hasOwn(API_REQUEST_SCHEMAS, op);
}

/** The outcome of one doctor check: fine, worth a look, or broken. */
export const DoctorStatus = { Ok: "ok", Warn: "warn", Fail: "fail" } as const;
export type DoctorStatus = (typeof DoctorStatus)[keyof typeof DoctorStatus];

/** One check of `jn.api.doctor.run`. */
export interface DoctorCheckResult {
  /** Stable, dotted id (`streams.orphans`): scripts key on it. */
  id: string;
  /** What was checked, in a few words. */
  title: string;
  status: DoctorStatus;
  /** What was found. */
  message: string;
  /** How to fix it (warn and fail). */
  fix?: string | undefined;
  /** The things concerned (records, streams, groups…), at most 50. */
  items?: string[] | undefined;
}

/** The reply of `jn.api.doctor.run` (an operator's request): every check, in a fixed order. */
export interface DoctorReport {
  /** False when any check failed. */
  ok: boolean;
  /** When the checks ran (ISO). */
  checkedAt: string;
  /** The gateway that ran them. */
  gateway: string;
  counts: Record<DoctorStatus, number>;
  checks: DoctorCheckResult[];
}

/** Where a quota's limit comes from: the built-in default, the broker's settings, or the tenant's override. */
export const QuotaSource = { Default: "default", Broker: "broker", Tenant: "tenant" } as const;
export type QuotaSource = (typeof QuotaSource)[keyof typeof QuotaSource];

/** One quota of a tenant, as `jn.api.quota.list` shows it. */
export interface QuotaEntry {
  /** Its name (`stations`, `groupsPerStation`…), as `junction quota set` takes it. */
  name: string;
  /** The limit in force for the tenant. */
  limit: number;
  /** Where the limit comes from. */
  source: QuotaSource;
  /** What one count is, and per what (`stations per tenant`). */
  per: string;
  /** What it protects. */
  protects: string;
  /** The usage now, when cheap to know (admins only); for per-station or per-schema quotas, the largest. */
  current?: number | undefined;
  /** Where the largest usage is (a station or a schema), when `current` is per station or schema. */
  at?: string | undefined;
}

/** The effective quotas of a tenant (`jn.api.quota.list`, and the reply of `quota.set`). */
export interface QuotaReport {
  tenant: string;
  quotas: QuotaEntry[];
  /** When the tenant's overrides last changed, and by whom (absent when it has none). */
  updatedAt?: string | undefined;
  updatedBy?: string | undefined;
  /** `quota.set` only: the quotas the request changed. */
  changed?: string[] | undefined;
}
