import { afterEach, describe, expect, it } from "vitest";
import { fakeGateway, type FakeGateway } from "../../../test/fakes/gateway.js";
import { authorize } from "../../auth/index.js";
import { DEFAULT_STATION_CONFIG } from "../../stations/index.js";
import { defaultScope, type DoctorCheckResult, type DoctorReport, type Identity } from "../../protocol/index.js";
import { BUILTIN_DOCTOR_CHECKS, runDoctor, type DoctorCheck, type DoctorDeps } from "./doctor.js";

let g: FakeGateway;
afterEach(async () => {
  await g?.close();
});

const enc = new TextEncoder();

/** Doctor deps on the fake gateway's store; `sleep` is what happens during the dead-letter window. */
function deps(o: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    backend: g.backend,
    replicas: 1,
    gatewayId: "gw-test",
    tenantNames: async () => [],
    invalidRecords: () => 0,
    dlsMaxEntries: async () => 100_000,
    clock: g.clock,
    sleep: async () => {},
    ...o,
  };
}

const byId = (r: DoctorReport) => Object.fromEntries(r.checks.map((c) => [c.id, c])) as Record<string, DoctorCheckResult>;

/** A healthy broker: a station with a schema-less group that has read everything. */
async function healthy(): Promise<void> {
  await g.ok("station.create", { name: "orders" });
  await g.ok("group.create", { station: "orders", group: "billing" });
}

describe("doctor", () => {
  it("says ok on a healthy broker, every built-in check in order", async () => {
    g = await fakeGateway();
    await healthy();
    const r = await runDoctor(deps(), 0);
    expect(r.checks.map((c) => c.id)).toEqual([
      "server.version",
      "jetstream.sync",
      "metadata.records",
      "streams.orphans",
      "stations.streams",
      "groups.backlog",
      "dls.growth",
    ]);
    expect(r.checks.length).toBe(BUILTIN_DOCTOR_CHECKS.length);
    expect(r).toMatchObject({ ok: true, gateway: "gw-test", counts: { ok: 7, warn: 0, fail: 0 } });
    for (const c of r.checks) {
      expect(c.status, `${c.id}: ${c.message}`).toBe("ok");
      expect(c).not.toHaveProperty("fix");
    }
    expect(byId(r)["stations.streams"]!.message).toBe("every station has its stream (1 station)");
    expect(byId(r)["streams.orphans"]!.message).toBe("every station stream belongs to a station (1 station stream)");
  });

  it("finds invalid metadata records (not JSON, bad shape) in every bucket, with a fix", async () => {
    g = await fakeGateway();
    await healthy();
    g.backend.rawBucket("jn_stations").putRaw("broken", "{not json");
    await g.backend.rawBucket("jn_stations").put("wrong", { name: "other", config: {}, createdAt: "x" });
    await g.backend.rawBucket("jn_groups").put("orders.ghost", { station: "orders" });
    await g.backend.rawBucket("jn_schemas").put("order.meta", { name: "order", latest: 0 });
    await g.backend.rawBucket("jn_users").put("eve", { name: "eve", password: "plain" });
    const r = await runDoctor(deps({ invalidRecords: () => 3 }), 0);
    const m = byId(r)["metadata.records"]!;
    expect(m).toMatchObject({ status: "fail", fix: expect.stringMatching(/nats kv del <bucket> <key>/) });
    expect(m.message).toBe(
      "5 metadata records fail validation: gateways ignore them, so what they describe is missing (this gateway has skipped an invalid record 3 times since it started)",
    );
    expect(m.items).toEqual([
      expect.stringMatching(/^jn_stations\/broken: not JSON/),
      "jn_stations/wrong: its name does not match its key or the naming rule",
      "jn_groups/orders.ghost: its station and name do not match its key or the naming rule",
      "jn_schemas/order.meta: latest is not a version number",
      "jn_users/eve: fails validation",
    ]);
    expect(r.ok).toBe(false);
  });

  it("finds orphan streams and stations without a stream", async () => {
    g = await fakeGateway();
    await healthy();
    await g.backend.admin.ensureStation(defaultScope, "ghost", DEFAULT_STATION_CONFIG);
    g.backend.rawBucket("jn_stations").putRaw("broken", "[]");
    await g.backend.admin.ensureStation(defaultScope, "broken", DEFAULT_STATION_CONFIG);
    await g.backend.admin.ensureStation(
      { ...defaultScope, stationStream: () => "JN_T_gone_ST_x" } as typeof defaultScope,
      "x",
      DEFAULT_STATION_CONFIG,
    );
    await g.ok("station.create", { name: "lost" });
    g.backend.streams.delete("JN_ST_lost");
    const r = byId(await runDoctor(deps(), 0));
    expect(r["streams.orphans"]).toMatchObject({
      status: "warn",
      items: [
        "JN_ST_broken: its station record is invalid",
        "JN_ST_ghost: no station record",
        "JN_T_gone_ST_x: tenant 'gone' does not exist",
      ],
    });
    expect(r["stations.streams"]).toMatchObject({
      status: "fail",
      message: "1 station has no stream: producing to it fails",
      items: ["lost (stream JN_ST_lost)"],
    });
  });

  it("finds a group with a backlog and no members; a group that read everything is fine", async () => {
    g = await fakeGateway();
    await healthy();
    await g.ok("group.create", { station: "orders", group: "audit" });
    await g.produce("orders", [{ payload: enc.encode("{}") }, { payload: enc.encode("{}") }]);
    const r = byId(await runDoctor(deps(), 0));
    expect(r["groups.backlog"]).toMatchObject({
      status: "warn",
      message: "2 consumer groups have messages waiting and no member reading them",
      items: ["orders:billing: 2 pending, 0 unacked, no member pulling", "orders:audit: 2 pending, 0 unacked, no member pulling"],
    });
    // A member busy with what it holds has no pull waiting, but it announces itself: not idle.
    const busy = byId(
      await runDoctor(deps({ membersHeard: (stream, group) => (stream.endsWith("orders") && group === "audit" ? 1 : 0) }), 0),
    );
    expect(busy["groups.backlog"]).toMatchObject({ items: ["orders:billing: 2 pending, 0 unacked, no member pulling"] });
  });

  it("reports dead letters that arrive during the window, and stations near their retention cap", async () => {
    g = await fakeGateway();
    await healthy();
    const dead = (n: number) =>
      g.backend.writer.publish("jn.dls.orders.schema", { id: `d${n}`, headers: undefined, payload: enc.encode("{}") });
    await dead(1);
    let calm = byId(await runDoctor(deps(), 0))["dls.growth"]!;
    expect(calm).toMatchObject({ status: "ok", message: "no new dead letter in 0 s (1 dead letter held)" });
    const r = byId(
      await runDoctor(
        deps({
          sleep: async () => {
            await dead(2);
            await dead(3);
          },
        }),
        1500,
      ),
    )["dls.growth"]!;
    expect(r).toMatchObject({
      status: "warn",
      message: "dead letters arrived on 1 station in 1.5 s",
      items: ["orders: +2 in 1.5 s (3 held)"],
    });
    calm = byId(await runDoctor(deps({ dlsMaxEntries: async () => 3 }), 0))["dls.growth"]!;
    expect(calm).toMatchObject({ status: "warn", items: ["orders: 3 of 3 kept; the oldest are being dropped"] });
  });

  it("checks the server version and fsync of every server, and says when it cannot see them", async () => {
    g = await fakeGateway();
    g.backend.jetstreamSync = { syncAlways: false, syncIntervalMs: 120_000 };
    (g.backend.server as { version: string }).version = "2.11.4";
    const r = byId(await runDoctor(deps(), 0));
    expect(r["jetstream.sync"]).toMatchObject({ status: "warn", items: ["fake: fsync every 120 s"] });
    expect(r["jetstream.sync"]!.fix).toMatch(/sync_interval: always/);
    expect(r["server.version"]).toMatchObject({
      status: "fail",
      items: [expect.stringMatching(/^fake: 2\.11\.4 lacks atomic batch publish/)],
    });
    const blind = Object.create(g.backend, { system: { value: undefined } }) as typeof g.backend;
    const b = byId(await runDoctor(deps({ backend: blind }), 0));
    expect(b["jetstream.sync"]).toMatchObject({ status: "warn", fix: expect.stringMatching(/--system-user/) });
    expect(b["streams.orphans"]).toMatchObject({ status: "warn", message: "cannot list the broker's streams without the system account" });
    expect(b["server.version"]).toMatchObject({ status: "fail", items: [expect.stringMatching(/^the gateway's server: 2\.11\.4 lacks/)] });
    (g.backend.server as { version: string }).version = "2.15.1";
    expect(byId(await runDoctor(deps({ backend: blind }), 0))["server.version"]).toMatchObject({
      status: "ok",
      message: "the gateway's server runs nats-server 2.15.1: every feature Junction uses (no system account to ask the others)",
    });
  });

  it("runs registered checks after the built-in ones; one that throws is reported, not fatal; items are capped", async () => {
    g = await fakeGateway();
    for (let i = 0; i < 60; i++) g.backend.rawBucket("jn_stations").putRaw(`bad-${i}`, "{");
    const quota: DoctorCheck = {
      id: "quota.stations",
      title: "stations under their quota",
      run: async (ctx) => ({ status: "fail", message: `${(await ctx.stations()).get("default")!.length} of 50 stations`, fix: "raise it" }),
    };
    const broken: DoctorCheck = {
      id: "broken",
      title: "a check that breaks",
      run: async () => {
        throw new Error("boom");
      },
    };
    const r = await runDoctor(deps({ checks: [quota, broken] }), 0);
    expect(r.checks.slice(-2)).toEqual([
      { id: "quota.stations", title: "stations under their quota", status: "fail", message: "60 of 50 stations", fix: "raise it" },
      {
        id: "broken",
        title: "a check that breaks",
        status: "warn",
        message: "the check could not run: boom",
        fix: expect.stringMatching(/again/),
      },
    ]);
    const items = byId(r)["metadata.records"]!.items!;
    expect(items).toHaveLength(51);
    expect(items[50]).toBe("… and 10 more");
  });

  it("is served as doctor.run to operators only", async () => {
    g = await fakeGateway();
    await healthy();
    expect(await g.ok<DoctorReport>("doctor.run", { windowMs: 0 })).toMatchObject({ ok: true, counts: { fail: 0 } });
    expect(await g.api("doctor.run", { windowMs: 60_000 })).toMatchObject({ ok: false, error: { code: "INVALID_ARGUMENT" } });
    const admin: Identity = { user: "acme-admin", tenant: "acme", grants: { produce: [], consume: [], admin: true }, operator: false };
    expect(() => authorize("doctor.run", {}, admin)).toThrow(/may not administer tenants/);
    expect(() => authorize("doctor.run", {}, { ...admin, operator: true })).not.toThrow();
  });
});
