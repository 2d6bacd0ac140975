import type { ApiOperation } from "../protocol/index.js";

/** A JSON Schema (plain data). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** An HTTP route that runs one admin operation through the gateway front. */
export interface AdminRoute {
  method: "GET" | "PUT" | "PATCH" | "POST" | "DELETE";
  /** Fastify form: `/v1/stations/:station`. */
  url: string;
  op: ApiOperation;
  tag: string;
  summary: string;
  /** Query string properties (values coerced to their types). */
  query?: Record<string, JsonSchema>;
  /** The JSON body, when the route takes one. */
  body?: JsonSchema;
  /** Builds the operation's body from the path parameters, the query and the request body. */
  build: (params: Record<string, string>, query: Record<string, unknown>, body: Record<string, unknown>) => Record<string, unknown>;
  /** Shapes the operation's data for HTTP (default: as it is). */
  answer?: (data: unknown) => unknown;
}

const str: JsonSchema = { type: "string", maxLength: 1024 };
const version: JsonSchema = { type: "integer", minimum: 1, description: "a version number; the latest when absent" };
const settings: JsonSchema = { type: "object", description: "settings (see docs/protocol.md)" };
/** The default group ack time (core/stations), the lease of a group an HTTP member creates or joins without one. */
const DEFAULT_HTTP_ACK_TIME_MS = 30_000;

function obj(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: "object", properties, required, additionalProperties: false };
}

/** Copies the given keys that are present. */
function pick(from: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

const dlsFilterQuery: Record<string, JsonSchema> = {
  station: str,
  reason: { type: "string", enum: ["poison", "terminated", "schema", "function"] },
  group: str,
  since: { type: "string", maxLength: 64, description: "ISO time: created at or after" },
  until: { type: "string", maxLength: 64, description: "ISO time: created before" },
  text: str,
};
const DLS_FILTER_KEYS = Object.keys(dlsFilterQuery);

/**
 * The admin routes: reads of stations, groups, schemas, functions and dead letters; creating
 * and deleting stations and groups (a consumer needs its group), schemas and their attachment;
 * resending and dropping dead letters. Each runs the operation of the same name on the bus API,
 * with the same authorization and checks.
 */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  {
    method: "GET",
    url: "/v1/whoami",
    op: "auth.whoami",
    tag: "users",
    summary: "Who you are: user, tenant, grants",
    build: () => ({}),
  },
  { method: "GET", url: "/v1/stations", op: "station.list", tag: "stations", summary: "List the stations you may see", build: () => ({}) },
  {
    method: "GET",
    url: "/v1/stations/:station",
    op: "station.get",
    tag: "stations",
    summary: "A station: settings, state, schema, functions",
    build: (p) => ({ name: p["station"] }),
  },
  {
    method: "PUT",
    url: "/v1/stations/:station",
    op: "station.create",
    tag: "stations",
    summary: "Create a station (the same settings again: no change, `created: false`)",
    body: obj({ config: settings }),
    build: (p, _q, b) => ({ name: p["station"], ...pick(b, ["config"]) }),
  },
  {
    method: "PATCH",
    url: "/v1/stations/:station",
    op: "station.update",
    tag: "stations",
    summary: "Change a station's settings",
    body: obj({ config: settings, force: { type: "boolean" } }, ["config"]),
    build: (p, _q, b) => ({ name: p["station"], config: b["config"], ...pick(b, ["force"]) }),
  },
  {
    method: "DELETE",
    url: "/v1/stations/:station",
    op: "station.delete",
    tag: "stations",
    summary: "Delete a station, its messages and groups",
    build: (p) => ({ name: p["station"] }),
  },
  {
    method: "GET",
    url: "/v1/stations/:station/groups",
    op: "group.list",
    tag: "groups",
    summary: "The station's consumer groups you may consume as, with stats",
    build: (p) => ({ station: p["station"] }),
  },
  {
    method: "GET",
    url: "/v1/stations/:station/groups/:group",
    op: "group.get",
    tag: "groups",
    summary: "A consumer group with stats (pending, unacked, redelivered, dead-lettered, oldest unacked age)",
    build: (p) => ({ station: p["station"], group: p["group"] }),
  },
  {
    method: "PUT",
    url: "/v1/stations/:station/groups/:group",
    op: "group.create",
    tag: "groups",
    summary: "Create or join a consumer group (given settings apply to the live group)",
    body: obj({ config: settings }),
    build: (p, _q, b) => {
      // An HTTP member cannot renew what it holds (its tokens are stateless): unless told
      // otherwise the group's lease is its whole ack time, and long work calls in-progress.
      const config = { ...((b?.["config"] as Record<string, unknown> | undefined) ?? {}) };
      config["memberTimeoutMs"] ??= config["maxAckTimeMs"] ?? DEFAULT_HTTP_ACK_TIME_MS;
      return { station: p["station"], group: p["group"], config };
    },
    // `reconnect` tells a NATS connection to renew its rights; an HTTP member has none to renew.
    answer: (data) => {
      const { reconnect: _, ...rest } = data as Record<string, unknown>;
      return rest;
    },
  },
  {
    method: "DELETE",
    url: "/v1/stations/:station/groups/:group",
    op: "group.delete",
    tag: "groups",
    summary: "Delete a consumer group",
    build: (p) => ({ station: p["station"], group: p["group"] }),
  },
  {
    method: "PUT",
    url: "/v1/stations/:station/schema",
    op: "schema.attach",
    tag: "schemas",
    summary: "Attach a schema to the station (latest version, or pinned)",
    body: obj({ name: str, version, allowUnknownFields: { type: "boolean" } }, ["name"]),
    build: (p, _q, b) => ({ station: p["station"], ...pick(b, ["name", "version", "allowUnknownFields"]) }),
  },
  {
    method: "DELETE",
    url: "/v1/stations/:station/schema",
    op: "schema.detach",
    tag: "schemas",
    summary: "Detach the station's schema",
    build: (p) => ({ station: p["station"] }),
  },
  { method: "GET", url: "/v1/schemas", op: "schema.list", tag: "schemas", summary: "List the schemas", build: () => ({}) },
  {
    method: "POST",
    url: "/v1/schemas",
    op: "schema.create",
    tag: "schemas",
    summary: "Register a schema, or a new version of one (checked against its compatibility mode)",
    body: obj(
      {
        name: str,
        type: { type: "string", description: "json, protobuf or avro" },
        definition: { type: "string" },
        messageType: str,
        compatibility: str,
        description: { type: "string", maxLength: 4096 },
      },
      ["name", "type", "definition"],
    ),
    build: (_p, _q, b) => b,
  },
  {
    method: "GET",
    url: "/v1/schemas/:name",
    op: "schema.get",
    tag: "schemas",
    summary: "A schema at a version (the latest by default)",
    query: { version },
    build: (p, q) => ({ name: p["name"], ...pick(q, ["version"]) }),
  },
  {
    method: "GET",
    url: "/v1/schemas/:name/versions",
    op: "schema.versions",
    tag: "schemas",
    summary: "The versions of a schema",
    build: (p) => ({ name: p["name"] }),
  },
  { method: "GET", url: "/v1/functions", op: "function.list", tag: "functions", summary: "List the functions", build: () => ({}) },
  {
    method: "GET",
    url: "/v1/functions/:name",
    op: "function.get",
    tag: "functions",
    summary: "A function at a version (the latest by default)",
    query: { version },
    build: (p, q) => ({ name: p["name"], ...pick(q, ["version"]) }),
  },
  {
    method: "GET",
    url: "/v1/functions/:name/versions",
    op: "function.versions",
    tag: "functions",
    summary: "The versions of a function",
    build: (p) => ({ name: p["name"] }),
  },
  {
    method: "GET",
    url: "/v1/dead-letters",
    op: "dls.list",
    tag: "dead letters",
    summary: "List dead letters (newest first), filtered; page with `cursor`",
    query: { ...dlsFilterQuery, limit: { type: "integer", minimum: 1, maximum: 1000 }, cursor: str },
    build: (_p, q) => pick(q, [...DLS_FILTER_KEYS, "limit", "cursor"]),
  },
  {
    method: "GET",
    url: "/v1/dead-letters/stats",
    op: "dls.stats",
    tag: "dead letters",
    summary: "Dead letters per station, reason and group",
    query: { station: str },
    build: (_p, q) => pick(q, ["station"]),
  },
  {
    method: "POST",
    url: "/v1/dead-letters/resend",
    op: "dls.resend",
    tag: "dead letters",
    summary: "Resend every dead letter matching a filter",
    body: obj({ filter: obj(dlsFilterQuery) }, ["filter"]),
    build: (_p, _q, b) => ({ filter: b["filter"] }),
  },
  {
    method: "POST",
    url: "/v1/dead-letters/drop",
    op: "dls.drop",
    tag: "dead letters",
    summary: "Drop every dead letter matching a filter",
    body: obj({ filter: obj(dlsFilterQuery) }, ["filter"]),
    build: (_p, _q, b) => ({ filter: b["filter"] }),
  },
  {
    method: "GET",
    url: "/v1/dead-letters/:id",
    op: "dls.get",
    tag: "dead letters",
    summary: "One dead letter (URL-encode the id: it holds ':' and, in a tenant, '/')",
    build: (p) => ({ id: p["id"] }),
  },
  {
    method: "POST",
    url: "/v1/dead-letters/:id/resend",
    op: "dls.resend",
    tag: "dead letters",
    summary: "Resend one dead letter to the group(s) that failed it (or through today's schema and functions)",
    build: (p) => ({ id: p["id"] }),
  },
  {
    method: "DELETE",
    url: "/v1/dead-letters/:id",
    op: "dls.drop",
    tag: "dead letters",
    summary: "Drop one dead letter",
    build: (p) => ({ id: p["id"] }),
  },
];
