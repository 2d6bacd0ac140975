/**
 * Every quota, enforced by a whole gateway on the in-memory store: the refusal is QUOTA_EXCEEDED
 * naming the quota, its limit, its scope and how to raise it; a tenant's override changes it for
 * that tenant alone.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FunctionRuntime } from "../../functions/index.js";
import { fakeGateway, passThroughRuntime, type FakeGateway } from "../../test/fakes/gateway.js";
import { authorize } from "../auth/index.js";
import {
  DLS_STREAM,
  Headers,
  JunctionError,
  type DoctorReport,
  type ErrorBody,
  type Identity,
  type ProduceReply,
  type QuotaReport,
} from "../protocol/index.js";
import { QuotaService } from "./service.js";
import { MemoryBucket } from "../../test/fakes/memory-backend.js";
import { manualClock, silentLogger } from "../support/index.js";
import type { ApiContext, TenantRecords } from "../pipeline/index.js";

let g: FakeGateway;
afterEach(async () => {
  await g?.close();
});

const enc = new TextEncoder();

/** The error of a refused call. */
async function refused(op: string, body: unknown, headers?: Record<string, string>): Promise<ErrorBody> {
  const r = await g.api(op, body, headers ? { headers } : {});
  if (r.ok) throw new Error(`${op} was not refused`);
  return r.error;
}

const inAcme = { [Headers.Tenant]: "acme" };

describe("stations per tenant", () => {
  it("refuses the station over the quota, names it, and lets a tenant override raise it for that tenant alone", async () => {
    g = await fakeGateway({ quotas: { stations: 2 } });
    await g.ok("tenant.create", { name: "acme" });
    await g.ok("station.create", { name: "a" });
    await g.ok("station.create", { name: "b" });
    // Creating an existing station again is no new station.
    await g.ok("station.create", { name: "b" });
    const e = await refused("station.create", { name: "c" });
    expect(e).toMatchObject({
      code: "QUOTA_EXCEEDED",
      retriable: false,
      details: { quota: "stations", limit: 2, scope: "broker", current: 2, tenant: "default" },
    });
    expect(e.message).toBe(
      "tenant 'default' has 2 stations: the quota stations is 2 stations per tenant (set for every tenant by the broker); raise it with: junction quota set stations=4",
    );
    // Another tenant has its own count.
    for (const n of ["a", "b"]) expect((await g.api("station.create", { name: n }, { headers: inAcme })).ok).toBe(true);
    await g.ok("quota.set", { tenant: "acme", limits: { stations: 3 } });
    expect((await g.api("station.create", { name: "c" }, { headers: inAcme })).ok).toBe(true);
    expect(await refused("station.create", { name: "d" }, inAcme)).toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "stations", limit: 3, scope: "tenant", current: 3, tenant: "acme" },
    });
    expect((await refused("station.create", { name: "d" }, inAcme)).message).toContain(
      "(set for tenant 'acme'); raise it with: junction quota set --tenant acme stations=6",
    );
    // The default tenant is still at the broker's 2.
    expect((await refused("station.create", { name: "c" })).code).toBe("QUOTA_EXCEEDED");
    // Deleting a station makes room.
    await g.ok("station.delete", { name: "a" });
    await g.ok("station.create", { name: "c" });
  });

  it("counts creations under way: of many at once, exactly the quota gets in", async () => {
    g = await fakeGateway({ quotas: { stations: 3 } });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => g.api("station.create", { name: `s${i}` })));
    expect(replies.filter((r) => r.ok)).toHaveLength(3);
    for (const r of replies) if (!r.ok) expect(r.error.code).toBe("QUOTA_EXCEEDED");
    expect((await g.ok<unknown[]>("station.list")).length).toBe(3);
  });

  it("answers nats-server's own stream limit as QUOTA_EXCEEDED naming the server setting, not INTERNAL", async () => {
    g = await fakeGateway();
    g.backend.admin.ensureStation = async () => {
      throw Object.assign(new Error("maximum number of streams reached"), { name: "JetStreamApiError", code: 10027 });
    };
    const e = await refused("station.create", { name: "x" });
    expect(e).toMatchObject({ code: "QUOTA_EXCEEDED", retriable: false, details: { quota: "max_streams", scope: "store" } });
    expect(e.message).toContain("nats-server's max_streams limit is reached");
  });
});

describe("consumer groups per station", () => {
  it("refuses a new group over the quota; joining an existing group is no new group", async () => {
    g = await fakeGateway({ quotas: { groupsPerStation: 2 } });
    await g.ok("station.create", { name: "orders" });
    await g.ok("station.create", { name: "other" });
    await g.ok("group.create", { station: "orders", group: "g1" });
    await g.ok("group.create", { station: "orders", group: "g2" });
    await g.ok("group.create", { station: "orders", group: "g2", config: { maxAckTimeMs: 5000 } });
    const e = await refused("group.create", { station: "orders", group: "g3" });
    expect(e).toMatchObject({
      code: "QUOTA_EXCEEDED",
      retriable: false,
      details: { quota: "groupsPerStation", limit: 2, current: 2, station: "orders", scope: "broker" },
    });
    expect(e.message).toMatch(/^station 'orders' has 2 consumer groups: the quota groupsPerStation is 2 consumer groups per station/);
    // Per station: another station has room.
    await g.ok("group.create", { station: "other", group: "g3" });
    // A missing station is still STATION_NOT_FOUND, a bad name INVALID_NAME.
    expect((await refused("group.create", { station: "nope", group: "g" })).code).toBe("STATION_NOT_FOUND");
    expect((await refused("group.create", { station: "orders", group: "a*b" })).code).toBe("INVALID_NAME");
  });

  it("answers the store's 'maximum consumers limit reached' as QUOTA_EXCEEDED (not retriable), cause kept", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "orders" });
    g.backend.admin.ensureGroup = async (_s, station, group) => {
      const cause = Object.assign(new Error("maximum consumers limit reached"), { name: "JetStreamApiError", code: 10026 });
      // As core/nats reports it: INTERNAL wrapping the server's error.
      throw new JunctionError("INTERNAL", `cannot create consumer group '${group}' on '${station}': ${cause.message}`, { cause });
    };
    const e = await refused("group.create", { station: "orders", group: "g" });
    expect(e).toMatchObject({ code: "QUOTA_EXCEEDED", retriable: false, details: { quota: "max_consumers", scope: "store" } });
    expect(e.message).toMatch(/consumer group 'g' cannot be created on station 'orders': nats-server's max_consumers limit is reached/);
  });
});

const jsonSchema = (props: number) =>
  JSON.stringify({
    type: "object",
    properties: Object.fromEntries(Array.from({ length: props }, (_, i) => [`p${i}`, { type: "string" }])),
  });

describe("schemas", () => {
  it("refuses a version over versionsPerSchema; the same definition again (no new version) passes", async () => {
    g = await fakeGateway({ quotas: { versionsPerSchema: 2 } });
    await g.ok("schema.create", { name: "s", type: "json", definition: jsonSchema(1) });
    await g.ok("schema.create", { name: "s", type: "json", definition: jsonSchema(2) });
    expect(await g.ok("schema.create", { name: "s", type: "json", definition: jsonSchema(2) })).toMatchObject({
      version: 2,
      created: false,
    });
    const e = await refused("schema.create", { name: "s", type: "json", definition: jsonSchema(3) });
    expect(e).toMatchObject({ code: "QUOTA_EXCEEDED", details: { quota: "versionsPerSchema", limit: 2, current: 2, schema: "s" } });
    expect(e.message).toMatch(/^schema 's' has 2 versions: the quota versionsPerSchema is 2 versions per schema/);
    // Other schemas have their own count.
    await g.ok("schema.create", { name: "t", type: "json", definition: jsonSchema(3) });
  });

  it("refuses a definition over schemaDefinitionBytes; over the engine's own limit it stays SCHEMA_TOO_LARGE", async () => {
    g = await fakeGateway({ quotas: { schemaDefinitionBytes: 100 } });
    const big = jsonSchema(10);
    const e = await refused("schema.create", { name: "s", type: "json", definition: big });
    expect(e).toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "schemaDefinitionBytes", limit: 100, current: Buffer.byteLength(big), schema: "s" },
    });
    await g.ok("schema.create", { name: "s", type: "json", definition: jsonSchema(1) });
    const huge = JSON.stringify({ type: "object", description: "x".repeat(300 * 1024) });
    expect((await refused("schema.create", { name: "h", type: "json", definition: huge })).code).toBe("SCHEMA_TOO_LARGE");
  });
});

/** A runtime that fans each `{ "parts": n }` message out into n messages. */
function fanOutRuntime(): FunctionRuntime {
  const split = (ms: { payload: unknown; headers: Record<string, string> }[]) =>
    ms.map((m) => {
      const n = (JSON.parse(String(m.payload)) as { parts: number }).parts;
      return { ok: true as const, messages: Array.from({ length: n }, (_, i) => ({ payload: { part: i }, headers: m.headers })) };
    });
  return { ...passThroughRuntime(), runBatch: async (_s, _c, ms) => split(ms), runPipeline: async (_s, _st, ms) => split(ms) };
}

describe("fan-out parts per message", () => {
  it("fails the message over partsPerMessage alone, with a dead letter; the others are stored", async () => {
    g = await fakeGateway({ functionRuntime: fanOutRuntime(), quotas: { partsPerMessage: 3 } });
    await g.ok("station.create", { name: "orders" });
    await g.ok("function.create", { name: "split", source: "export default (m) => m" });
    await g.ok("function.attach", { name: "split", station: "orders" });
    const r = await g.produce("orders", [
      { id: "a", payload: enc.encode(JSON.stringify({ parts: 3 })) },
      { id: "b", payload: enc.encode(JSON.stringify({ parts: 4 })) },
    ]);
    if (!r.ok) throw new Error(r.error.message);
    const [a, b] = (r.data as ProduceReply).results;
    expect(a).toMatchObject({ seqs: [1, 2, 3] });
    expect(b).toMatchObject({
      error: { code: "QUOTA_EXCEEDED", retriable: false, details: { quota: "partsPerMessage", limit: 3, current: 4, index: 1 } },
    });
    expect((b as { error: ErrorBody }).error.message).toMatch(/^the message fanned out into 4 parts: the quota partsPerMessage is 3/);
    expect(g.backend.messages("JN_ST_orders")).toHaveLength(3);
    expect(g.backend.messages(DLS_STREAM).map((m) => m.subject)).toEqual(["jn.dls.orders.function"]);
  });
});

describe("messages and bytes per produce request", () => {
  it("refuses the whole request over messagesPerRequest or bytesPerRequest, storing nothing", async () => {
    g = await fakeGateway({ quotas: { messagesPerRequest: 2, bytesPerRequest: 10 } });
    await g.ok("station.create", { name: "orders" });
    const three = await g.produce("orders", [{ payload: enc.encode("1") }, { payload: enc.encode("2") }, { payload: enc.encode("3") }]);
    expect(three).toMatchObject({
      ok: false,
      error: { code: "QUOTA_EXCEEDED", retriable: false, details: { quota: "messagesPerRequest", limit: 2, current: 3 } },
    });
    expect(!three.ok && three.error.message).toMatch(
      /^the request carries 3 messages: the quota messagesPerRequest is 2 messages per produce request/,
    );
    const bytes = await g.produce("orders", [{ payload: enc.encode("123456") }, { payload: enc.encode("78901") }]);
    expect(bytes).toMatchObject({
      ok: false,
      error: { code: "QUOTA_EXCEEDED", details: { quota: "bytesPerRequest", limit: 10, current: 11 } },
    });
    expect(g.backend.messages("JN_ST_orders")).toHaveLength(0);
    expect(await g.produce("orders", [{ payload: enc.encode("12345") }, { payload: enc.encode("67890") }])).toMatchObject({ ok: true });
  });
});

describe("function memory per tenant", () => {
  it("refuses an attachment or a new attached version that takes the attached functions over the quota", async () => {
    g = await fakeGateway({ quotas: { functionMemoryMb: 64 } });
    await g.ok("station.create", { name: "a" });
    await g.ok("station.create", { name: "b" });
    await g.ok("function.create", { name: "f", source: "export default (m) => m", memoryMb: 32 });
    await g.ok("function.create", { name: "h", source: "export default (m) => m", memoryMb: 48 });
    await g.ok("function.attach", { name: "f", station: "a" });
    // The same version on another station shares its isolates: still 32 MiB.
    await g.ok("function.attach", { name: "f", station: "b" });
    const e = await refused("function.attach", { name: "h", station: "a" });
    expect(e).toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "functionMemoryMb", limit: 64, current: 32, requested: 80 },
    });
    expect(e.message).toMatch(
      /^attaching function 'h' to station 'a' would bring the tenant's attached functions to 80 MiB \(32 MiB now\): the quota functionMemoryMb is 64 .*junction quota set functionMemoryMb=128$/,
    );
    // A new version of an attached function (at latest) counts with its own memory.
    await g.ok("function.create", { name: "f", source: "export default (m) => m", memoryMb: 64 });
    const v = await refused("function.create", { name: "f", source: "export default (m) => m", memoryMb: 96 });
    expect(v).toMatchObject({ code: "QUOTA_EXCEEDED", details: { quota: "functionMemoryMb", current: 64, requested: 96 } });
    // A function attached nowhere is not counted.
    await g.ok("function.create", { name: "h", source: "export default (m) => m", memoryMb: 1024 });
    // Below a lowered quota, a change that lowers the total passes; one that raises it does not.
    await g.ok("quota.set", { limits: { functionMemoryMb: 16 } });
    await g.ok("function.create", { name: "f", source: "export default (m) => m", memoryMb: 32 });
    expect((await refused("function.attach", { name: "f", station: "a", version: 2 })).details).toMatchObject({
      quota: "functionMemoryMb",
      limit: 16,
      scope: "tenant",
      current: 32,
      requested: 96,
    });
  });
});

describe("connections per user", () => {
  const seed = "SAAJUNCTIONTESTSEED";
  it("refuses a connection over connectionsPerUser in the auth callout, saying why in the log only", async () => {
    g = await fakeGateway({
      auth: {
        mode: "callout",
        issuerSeed: seed,
        bootstrapUsers: [{ name: "app", password: "app-password-123", grants: { produce: ["*"], consume: [], admin: false } }],
      },
      quotas: { connectionsPerUser: 2 },
    });
    // The fake server holds each admitted connection, as a real one would once the client is in.
    let cid = 0;
    const connect = async () => {
      const r = await g.backend.authenticate({ user: "app", pass: "app-password-123" });
      if (r.ok) g.backend.connections.push({ account: "CLIENTS", user: "app", serverId: "fake", cid: ++cid, startedAtMs: 0 });
      return r;
    };
    expect(await connect()).toMatchObject({ ok: true, user: "app" });
    expect(await connect()).toMatchObject({ ok: true });
    expect(await connect()).toEqual({ ok: false, error: "connection quota reached" });
    // A wrong password is still refused as before (the quota is checked only for a real user).
    expect(await g.backend.authenticate({ user: "app", pass: "wrong-password-1" })).toEqual({ ok: false, error: "authorization failed" });
  });

  it("counts the user's live connections reported by the system account", async () => {
    g = await fakeGateway({
      auth: {
        mode: "callout",
        issuerSeed: seed,
        bootstrapUsers: [{ name: "app", password: "app-password-123", grants: { produce: ["*"], consume: [], admin: false } }],
      },
      quotas: { connectionsPerUser: 3 },
    });
    for (let cid = 1; cid <= 3; cid++)
      g.backend.connections.push({ account: "CLIENTS", user: "app", serverId: "fake", cid, startedAtMs: 0 });
    const connect = () => g.backend.authenticate({ user: "app", pass: "app-password-123" });
    // The first connection is admitted while the count is read; then the three live ones count.
    expect((await connect()).ok).toBe(true);
    expect(await connect()).toEqual({ ok: false, error: "connection quota reached" });
  });
});

describe("quota.list and quota.set", () => {
  it("lists each quota's limit, source and usage; sets and removes a tenant's overrides", async () => {
    g = await fakeGateway({ quotas: { groupsPerStation: 10 } });
    await g.ok("tenant.create", { name: "acme" });
    await g.ok("station.create", { name: "orders" });
    await g.ok("group.create", { station: "orders", group: "g1" });
    await g.ok("group.create", { station: "orders", group: "g2" });
    await g.ok("schema.create", { name: "s", type: "json", definition: jsonSchema(1) });
    const r = await g.ok<QuotaReport>("quota.list");
    expect(r.tenant).toBe("default");
    const by = Object.fromEntries(r.quotas.map((q) => [q.name, q]));
    expect(r.quotas.map((q) => q.name)).toEqual([
      "stations",
      "groupsPerStation",
      "versionsPerSchema",
      "schemaDefinitionBytes",
      "concurrentSchemaRegistrations",
      "partsPerMessage",
      "messagesPerRequest",
      "bytesPerRequest",
      "functionMemoryMb",
      "connectionsPerUser",
    ]);
    expect(by["stations"]).toMatchObject({ limit: 1000, source: "default", current: 1, per: "stations per tenant" });
    expect(by["groupsPerStation"]).toMatchObject({ limit: 10, source: "broker", current: 2, at: "orders" });
    expect(by["versionsPerSchema"]).toMatchObject({ current: 1, at: "s" });
    expect(by["functionMemoryMb"]).toMatchObject({ current: 0 });
    expect(by["messagesPerRequest"]).not.toHaveProperty("current");

    const set = await g.ok<QuotaReport>("quota.set", { tenant: "acme", limits: { stations: 5, groupsPerStation: 20 } });
    expect(set).toMatchObject({ tenant: "acme", changed: ["stations", "groupsPerStation"], updatedBy: "(no authentication)" });
    expect(set.quotas.find((q) => q.name === "stations")).toMatchObject({ limit: 5, source: "tenant", current: 0 });
    // Through the Jn-Tenant header, as `junction --tenant acme quota list` sends it.
    const acme = await g.api<QuotaReport>("quota.list", {}, { headers: inAcme });
    expect(acme.ok && acme.data.quotas.find((q) => q.name === "groupsPerStation")).toMatchObject({ limit: 20, source: "tenant" });
    await g.ok("quota.set", { tenant: "acme", limits: { groupsPerStation: null } });
    const after = await g.ok<QuotaReport>("quota.list", { tenant: "acme" });
    expect(after.quotas.find((q) => q.name === "groupsPerStation")).toMatchObject({ limit: 10, source: "broker" });
    // A deleted tenant's overrides go with it.
    await g.ok("tenant.delete", { name: "acme" });
    await g.ok("tenant.create", { name: "acme" });
    expect((await g.ok<QuotaReport>("quota.list", { tenant: "acme" })).quotas.find((q) => q.name === "stations")).toMatchObject({
      limit: 1000,
      source: "default",
    });
  });

  it("refuses unknown quotas, bad values and unknown tenants, naming them", async () => {
    g = await fakeGateway();
    const unknown = await refused("quota.set", { limits: { stationz: 1 } });
    expect(unknown).toMatchObject({ code: "INVALID_ARGUMENT", details: { quota: "stationz" } });
    expect(unknown.message).toMatch(/^unknown quota 'stationz' \(known: stations, groupsPerStation/);
    expect((await refused("quota.set", { limits: { partsPerMessage: 2000 } })).message).toBe(
      "quota partsPerMessage must be an integer from 1 to 1000, or null to use the broker's (got 2000)",
    );
    expect((await refused("quota.set", { limits: { stations: 1.5 } })).code).toBe("INVALID_ARGUMENT");
    expect((await refused("quota.set", { limits: {} })).code).toBe("INVALID_ARGUMENT");
    expect(await refused("quota.set", { tenant: "nope", limits: { stations: 1 } })).toMatchObject({ code: "TENANT_NOT_FOUND" });
  });

  it("lets anyone read its own tenant's quotas (usage for admins only); setting them is an operator's", async () => {
    const app: Identity = { user: "app", tenant: "acme", grants: { produce: ["*"], consume: [], admin: false }, operator: false };
    const admin: Identity = { ...app, user: "acme-admin", grants: { ...app.grants, admin: true } };
    expect(() => authorize("quota.list", {}, app)).not.toThrow();
    expect(() => authorize("quota.list", { tenant: "acme" }, app)).not.toThrow();
    expect(() => authorize("quota.list", { tenant: "other" }, admin)).toThrow(/may not see the quotas of tenant 'other'/);
    expect(() => authorize("quota.set", { limits: {} }, admin)).toThrow(/user 'acme-admin' may not set quotas \(an operator's right\)/);
    expect(() => authorize("quota.set", { limits: {} }, { ...admin, tenant: "default", operator: true })).not.toThrow();
  });
});

describe("junction doctor", () => {
  it("warns when a tenant is at 80% or more of a quota", async () => {
    g = await fakeGateway({ quotas: { stations: 5, groupsPerStation: 2 } });
    await g.ok("tenant.create", { name: "acme" });
    for (const n of ["a", "b", "c"]) await g.ok("station.create", { name: n });
    const fine = await g.ok<DoctorReport>("doctor.run", { windowMs: 0 });
    expect(fine.checks.find((c) => c.id === "quotas.near-limit")).toMatchObject({
      status: "ok",
      message: "every tenant is below 80% of its quotas (2 tenants)",
    });
    await g.ok("station.create", { name: "d" });
    await g.ok("group.create", { station: "a", group: "g1" });
    await g.ok("group.create", { station: "a", group: "g2" });
    const r = await g.ok<DoctorReport>("doctor.run", { windowMs: 0 });
    const c = r.checks.find((x) => x.id === "quotas.near-limit");
    expect(c).toMatchObject({
      status: "warn",
      items: ["default: stations 4 of 5 (80%), broker quota", "default: groupsPerStation 2 of 2 (100%) on a, broker quota"],
    });
    expect(c?.fix).toContain("junction quota set stations=10");
  });
});

describe("concurrent schema registrations per tenant", () => {
  /** A quota service over a fake tenant whose registrations wait until released. */
  function service(limit: number) {
    const q = new QuotaService({
      bucket: new MemoryBucket<unknown>(),
      broker: { concurrentSchemaRegistrations: limit },
      records: async () => {
        throw new Error("unused");
      },
      buckets: async () => {
        throw new Error("unused");
      },
      tenantExists: async () => true,
      system: undefined,
      clientAccount: "CLIENTS",
      clock: manualClock(),
      logger: silentLogger,
    });
    const releases: (() => void)[] = [];
    const handlers = q.guard({
      "schema.create": () => new Promise((resolve) => releases.push(() => resolve({ created: true }))),
    });
    const notFound = async () => {
      throw new JunctionError("SCHEMA_NOT_FOUND", "no such schema");
    };
    const ctx = (tenant: string) =>
      ({ scope: { tenant }, records: { schemas: { meta: notFound } } as unknown as TenantRecords }) as unknown as ApiContext;
    const create = (tenant: string, name: string) => handlers["schema.create"]!({ name, type: "json", definition: "{}" }, ctx(tenant));
    return { q, releases, create };
  }

  it("refuses a tenant's registration beyond the quota while others run; other tenants are not counted", async () => {
    const { releases, create } = service(2);
    const a = create("acme", "s1");
    const b = create("acme", "s2");
    await new Promise((r) => setImmediate(r));
    await expect(create("acme", "s3")).rejects.toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { quota: "concurrentSchemaRegistrations", limit: 2, current: 2, tenant: "acme" },
      message: expect.stringMatching(
        /retry once one finishes, or raise it with: junction quota set --tenant acme concurrentSchemaRegistrations=4$/,
      ),
    });
    const other = create("beta", "s1");
    await new Promise((r) => setImmediate(r));
    expect(releases).toHaveLength(3);
    for (const r of releases.splice(0)) r();
    await Promise.all([a, b, other]);
    // Finished registrations free their places.
    const c = create("acme", "s3");
    await new Promise((r) => setImmediate(r));
    releases[0]!();
    await expect(c).resolves.toEqual({ created: true });
  });
});
