/**
 * The control plane: the nine request/reply subjects of the Memphis SDK, answered with the shapes
 * and texts its code expects (read from memphis.js 1.3.2 and Memphis's broker):
 *
 * - station creation, station/schema attachment and detachment answer text, `""` meaning success
 *   (and a station that exists already is success);
 * - producer creation answers JSON with `error: ""`, the station's partitions (`[1]`: a Junction
 *   station is one partition), its schema, and `station_partitions_first_functions` as an object
 *   (no functions are advertised: Junction runs them in the gateway);
 * - consumer creation answers JSON on success and plain text on failure (as Memphis did);
 * - schema creation answers JSON `{ error }`;
 * - destructions answer `""` (Junction keeps consumer groups when a member leaves; see
 *   docs/memphis.md).
 *
 * Producer and consumer creation create a missing station with Memphis's defaults, when the user
 * may create stations.
 */
import { canProduce } from "../auth/index.js";
import type { Caller } from "../gateway/index.js";
import type { BusRequest } from "../nats/index.js";
import { DEFAULT_TENANT, JunctionError, scopeOf, type GroupInfo, type StationInfo } from "../protocol/index.js";
import type { TenantRecords } from "../pipeline/index.js";
import { callerOf, codeOf, errorText, jsonBody, replyJson, replyText, type MemphisContext } from "./context.js";
import { consumerRequest, field, stationRequest } from "./mapping.js";
import { PULL_EXPECTED_MS } from "./consumers.js";
import { ControlSubjects, junctionName, memphisNameProblem, type ControlSubject } from "./names.js";
import { schemaInit, type PushableSchema, type SchemaUpdateInit } from "./schema-push.js";

/** The partitions of every Junction station, as Memphis names them. */
const PARTITIONS = [1];

/** The schema a station is checked against now, as the SDK will be told. */
export async function stationSchema(records: TenantRecords, station: string): Promise<PushableSchema | undefined> {
  const rec = records.stations.cached(station) ?? (await records.stations.get(station));
  const at = rec?.schema;
  if (!at) return undefined;
  try {
    const version = at.version === "latest" ? (await records.schemas.meta(at.name)).latest : at.version;
    const meta = await records.schemas.meta(at.name);
    const v = await records.schemas.version(at.name, version);
    return {
      name: at.name,
      version,
      type: meta.type,
      definition: v.prepared.definition,
      messageType: v.prepared.messageType,
      references: v.prepared.references,
    };
  } catch {
    return undefined; // a schema removed meanwhile: the gateway reports it on produce
  }
}

/** The `schema_update` of a creation reply. */
async function schemaUpdateOf(ctx: MemphisContext, tenant: string, station: string): Promise<SchemaUpdateInit> {
  return schemaInit(await stationSchema(await ctx.deps.records(tenant), station));
}

/** The station, created with Memphis's defaults when it does not exist (and the user may create it). */
async function ensureStation(ctx: MemphisContext, caller: Caller, station: string): Promise<void> {
  try {
    await ctx.deps.gateway.call(caller, "station.get", { name: station });
    return;
  } catch (err) {
    if (codeOf(err) !== "STATION_NOT_FOUND") throw err;
  }
  const a = ctx.o.autoStation;
  try {
    await ctx.deps.gateway.call(caller, "station.create", {
      name: station,
      config: { maxAgeSeconds: a.maxAgeSeconds, storage: a.storage, idempotencyWindowMs: a.idempotencyWindowMs },
    });
    ctx.log.info("created a station for a Memphis client", { station, user: caller.identity.user });
  } catch (err) {
    if (codeOf(err) !== "STATION_EXISTS") throw err; // created meanwhile: fine
  }
}

type Handler = (ctx: MemphisContext, caller: Caller, body: Record<string, unknown>, req: BusRequest) => Promise<void>;

const stationCreations: Handler = async (ctx, caller, body, req) => {
  const r = stationRequest(body);
  if ("problem" in r) return replyText(req, r.problem);
  for (const note of r.notes) ctx.log.info("Memphis station setting mapped", { station: r.station, note });
  try {
    if (r.schema !== undefined) await ctx.deps.gateway.call(caller, "schema.get", { name: r.schema });
    const created = (await ctx.deps.gateway.call(caller, "station.create", { name: r.station, config: r.config })) as StationInfo & {
      created: boolean;
    };
    if (created.created && r.schema !== undefined)
      await ctx.deps.gateway.call(caller, "schema.attach", { name: r.schema, station: r.station });
    replyText(req, "");
  } catch (err) {
    // Memphis answers success when the station exists, whatever its settings.
    replyText(req, codeOf(err) === "STATION_EXISTS" ? "" : errorText(err));
  }
};

const stationDestructions: Handler = async (ctx, caller, body, req) => {
  const name = junctionName(field(body, "station_name", "string") ?? "", "station");
  if (typeof name !== "string") return replyText(req, name.problem);
  try {
    await ctx.deps.gateway.call(caller, "station.delete", { name });
    replyText(req, "");
  } catch (err) {
    replyText(req, errorText(err));
  }
};

const producerCreations: Handler = async (ctx, caller, body, req) => {
  const fail = (error: string) => replyJson(req, { error });
  const producer = (field(body, "name", "string") ?? "").toLowerCase();
  const np = memphisNameProblem(producer, "Producer");
  if (np !== undefined) return fail(np);
  const type = (field(body, "producer_type", "string") ?? "application").toLowerCase();
  if (type !== "application" && type !== "connector") return fail("producer type has to be one of the following application/connector");
  const station = junctionName(field(body, "station_name", "string") ?? "", "station");
  if (typeof station !== "string") return fail(station.problem);
  try {
    const { identity } = caller;
    if (!identity.grants.admin && !canProduce(identity.grants, station)) {
      throw new JunctionError("PERMISSION_DENIED", `user '${identity.user}' may not produce to station '${station}'`);
    }
    await ensureStation(ctx, caller, station);
    replyJson(req, {
      schema_update: await schemaUpdateOf(ctx, identity.tenant, station),
      partitions_update: { partitions_list: PARTITIONS },
      schemaverse_to_dls: true,
      send_notification: false,
      station_version: 2,
      station_partitions_first_functions: {},
      error: "",
    });
  } catch (err) {
    fail(errorText(err));
  }
};

const consumerCreations: Handler = async (ctx, caller, body, req) => {
  const r = consumerRequest(body);
  if ("problem" in r) return replyText(req, r.problem);
  try {
    await ensureStation(ctx, caller, r.station);
    let info: GroupInfo & { created: boolean; reconnect?: boolean };
    try {
      info = (await ctx.deps.gateway.call(caller, "group.create", { station: r.station, group: r.group, config: r.config })) as typeof info;
    } catch (err) {
      if (codeOf(err) !== "GROUP_CONFLICT") throw err;
      // Memphis lets a member join a group whatever start position it asks for.
      const { startPosition: _ignored, ...rest } = r.config;
      info = (await ctx.deps.gateway.call(caller, "group.create", { station: r.station, group: r.group, config: rest })) as typeof info;
    }
    // An operator pulls with a wildcard permission; anyone else gets its pull rights when it
    // connects (expanded from its grants), so a pattern grant does not cover what is newer.
    if (info.reconnect === true && !caller.identity.grants.admin) {
      return replyText(
        req,
        `this connection's rights predate station '${r.station}' or group '${r.group}' (your grant is a pattern): ` +
          "connect again to consume from it",
      );
    }
    const consumer = (field(body, "name", "string") ?? "").toLowerCase();
    if (ctx.members.size < 100_000) ctx.members.set(`${caller.identity.user}\u0000${r.station}\u0000${consumer}`, r.group);
    replyJson(req, {
      schema_update: await schemaUpdateOf(ctx, caller.identity.tenant, r.station),
      partitions_update: { partitions_list: PARTITIONS },
      error: "",
    });
  } catch (err) {
    replyText(req, errorText(err));
  }
};

/** Longest a destruction waits for what is in flight (the SDK gives up on it after 1 s). */
const DESTROY_WAIT_MS = 500;

/** Destroying a producer flushes it: the answer comes once what it sent before is stored (or refused). */
const producerDestructions: Handler = async (ctx, caller, body, req) => {
  const station = junctionName(field(body, "station_name", "string") ?? "", "station");
  const name = (field(body, "name", "string") ?? "").toLowerCase();
  if (typeof station === "string") await ctx.flushProducer(caller.identity.user, station, name);
  replyText(req, "");
};

/**
 * A consumer (member) leaves; its group and what the group has not acked stay (Junction's groups
 * are durable). The answer waits, briefly, until the group holds no message handed out and not
 * acked and none is on its way to a pull — one waiting, or one a member announced by asking for
 * the consumer info just before: what the member was given is settled first, so a program that
 * destroys its consumer right after producing still sees what was stored for it.
 */
const consumerDestructions: Handler = async (ctx, caller, body, req) => {
  const station = junctionName(field(body, "station_name", "string") ?? "", "station");
  const consumer = (field(body, "name", "string") ?? "").toLowerCase();
  if (typeof station === "string") {
    const key = `${caller.identity.user}\u0000${station}\u0000${consumer}`;
    const group = ctx.members.get(key) ?? consumer;
    ctx.members.delete(key);
    const end = ctx.deps.clock.now() + DESTROY_WAIT_MS;
    while (ctx.deps.clock.now() < end && !(await groupSettled(ctx, station, group))) await new Promise((r) => setTimeout(r, 10));
    ctx.pullsExpected.delete(`${station}\u0000${group}`);
  }
  replyText(req, "");
};

/** Whether a group holds nothing handed out and unacked, and nothing about to be (an unknown group: yes). */
export async function groupSettled(ctx: MemphisContext, station: string, group: string): Promise<boolean> {
  try {
    const raw = await ctx.deps.jetstream.consumerInfo(scopeOf(DEFAULT_TENANT).stationStream(station), group);
    const ci = JSON.parse(new TextDecoder().decode(raw)) as {
      error?: unknown;
      num_ack_pending?: number;
      num_pending?: number;
      num_waiting?: number;
    };
    if (ci.error !== undefined) return true;
    if ((ci.num_ack_pending ?? 0) > 0) return false;
    if ((ci.num_pending ?? 0) === 0) return true;
    if ((ci.num_waiting ?? 0) > 0) return false;
    const asked = ctx.pullsExpected.get(`${station}\u0000${group}`);
    return asked === undefined || ctx.deps.clock.now() - asked > PULL_EXPECTED_MS;
  } catch {
    return true;
  }
}

const schemaCreations: Handler = async (ctx, caller, body, req) => {
  const fail = (error: string) => replyJson(req, { error });
  const name = junctionName(field(body, "name", "string") ?? "", "schema");
  if (typeof name !== "string") return fail(name.problem);
  const type = (field(body, "type", "string") ?? "").toLowerCase();
  if (type === "graphql") return fail("GraphQL schemas are not supported by Junction (json, protobuf and avro are)");
  if (type !== "json" && type !== "protobuf" && type !== "avro") return fail("Schema type not supported");
  const definition = field(body, "schema_content", "string") ?? "";
  const messageType = field(body, "message_struct_name", "string") ?? "";
  try {
    await ctx.deps.gateway.call(caller, "schema.create", { name, type, definition, ...(messageType ? { messageType } : {}) });
    fail("");
  } catch (err) {
    fail(errorText(err));
  }
};

const schemaAttachments: Handler = async (ctx, caller, body, req) => {
  const name = junctionName(field(body, "name", "string") ?? "", "schema");
  if (typeof name !== "string") return replyText(req, name.problem);
  const station = junctionName(field(body, "station_name", "string") ?? "", "station");
  if (typeof station !== "string") return replyText(req, station.problem);
  try {
    await ctx.deps.gateway.call(caller, "schema.attach", { name, station });
    replyText(req, "");
  } catch (err) {
    replyText(req, errorText(err));
  }
};

const schemaDetachments: Handler = async (ctx, caller, body, req) => {
  const station = junctionName(field(body, "station_name", "string") ?? "", "station");
  if (typeof station !== "string") return replyText(req, station.problem);
  try {
    await ctx.deps.gateway.call(caller, "schema.detach", { station });
    replyText(req, "");
  } catch (err) {
    replyText(req, errorText(err));
  }
};

/** The handler of each control subject. */
export const CONTROL_HANDLERS: Readonly<Record<ControlSubject, Handler>> = Object.freeze({
  [ControlSubjects.StationCreations]: stationCreations,
  [ControlSubjects.StationDestructions]: stationDestructions,
  [ControlSubjects.ProducerCreations]: producerCreations,
  [ControlSubjects.ProducerDestructions]: producerDestructions,
  [ControlSubjects.ConsumerCreations]: consumerCreations,
  [ControlSubjects.ConsumerDestructions]: consumerDestructions,
  [ControlSubjects.SchemaCreations]: schemaCreations,
  [ControlSubjects.SchemaAttachments]: schemaAttachments,
  [ControlSubjects.SchemaDetachments]: schemaDetachments,
});

/** The form a refusal takes on each subject (JSON `{error}` or text). */
const JSON_REPLIES: ReadonlySet<ControlSubject> = new Set([ControlSubjects.ProducerCreations, ControlSubjects.SchemaCreations]);

/** Serves one control request: identifies the caller, parses the body, runs the handler. */
export async function serveControl(ctx: MemphisContext, subject: ControlSubject, req: BusRequest): Promise<void> {
  const refuse = (text: string) => (JSON_REPLIES.has(subject) ? replyJson(req, { error: text }) : replyText(req, text));
  const caller = await callerOf(ctx, req);
  if (!caller) {
    ctx.stats.refused++;
    return refuse("the request carries no known Junction user");
  }
  // Memphis users belong to the default tenant (see the login front).
  if (caller.identity.tenant !== DEFAULT_TENANT) return refuse("Memphis users belong to the default tenant");
  const body = jsonBody(req);
  if (!body) {
    ctx.stats.refused++;
    return refuse("the request is not a JSON object");
  }
  ctx.stats.control++;
  try {
    await CONTROL_HANDLERS[subject](ctx, caller, body, req);
  } catch (err) {
    ctx.log.error("a Memphis control request failed", { subject, error: String(err) });
    refuse(errorText(err));
  }
}
