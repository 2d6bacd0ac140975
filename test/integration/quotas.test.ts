/**
 * Quotas against a real nats-server: every quota refused with QUOTA_EXCEEDED naming the quota, its
 * limit and the use that reached it, with nothing of the refused operation done, while a
 * bystander tenant's producer keeps being answered; `junction quota list|set` (run in-process, as
 * an operator); a user's connections quota in the auth callout, counting live connections through
 * the system account.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { Headers, encodeBatch, subjects, type ErrorBody, type ProduceMessage, type QuotaReport } from "../../core/protocol/index.js";
import { createLogger } from "../../core/server/index.js";
import { JunctionError, connect, type JunctionClient } from "../../sdk/index.js";
import { expectServed, withBystander } from "../harness/bystander.js";
import { adminCli, type CliResult } from "../harness/cli.js";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let junction: (...args: string[]) => Promise<CliResult>;
/** The gateway's log lines at info and above. */
const logged: { msg: string; reason?: string }[] = [];

beforeAll(async () => {
  const logger = createLogger({ level: "info", namespace: "gateway", write: (line) => logged.push(JSON.parse(line) as { msg: string }) });
  broker = await startBroker({ gatewayOptions: { logger } });
  junction = await adminCli(broker);
});
afterAll(async () => {
  await broker.stop();
});

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Produces one batch frame as a raw client; the whole request's error, or each message's outcome. */
async function produceRaw(
  nc: NatsConnection,
  station: string,
  msgs: { headers?: Record<string, string>; payload?: Uint8Array }[],
): Promise<ErrorBody | (ErrorBody | "ok")[]> {
  const frame = encodeBatch(msgs.map((m): ProduceMessage => ({ id: "", headers: m.headers, payload: m.payload ?? enc.encode("{}") })));
  const h = natsHeaders();
  h.set(Headers.Batch, "1");
  const r = await nc.request(subjects.produce(station), frame, { timeout: 20_000, headers: h });
  const body = JSON.parse(dec.decode(r.data)) as
    { ok: true; data: { results: ({ error: ErrorBody } | { seq: number })[] } } | { ok: false; error: ErrorBody };
  if (!body.ok) return body.error;
  return body.data.results.map((x) => ("error" in x ? x.error : "ok"));
}

/** Checks a refusal names the quota, its limit (set for `tenant`), the use that reached it, and how to raise it. */
function expectQuota(e: ErrorBody | JunctionError, quota: string, limit: number, current: number, tenant: string): void {
  // Only the limit on work under way is worth retrying after a wait.
  const retriable = quota === "concurrentSchemaRegistrations";
  expect(e, quota).toMatchObject({ code: "QUOTA_EXCEEDED", retriable, details: { quota, limit, current, scope: "tenant", tenant } });
  expect(e.message, quota).toContain(`: the quota ${quota} is ${limit} `);
  expect(e.message, quota).toContain(String(current));
  expect(e.message, quota).toMatch(new RegExp(`junction quota set --tenant ${tenant} ${quota}=\\d+$`));
}

async function refusal(p: Promise<unknown>): Promise<JunctionError> {
  try {
    await p;
  } catch (e) {
    return e as JunctionError;
  }
  throw new Error("not refused");
}

describe("quotas on a real broker", () => {
  it("a tenant's stations quota refuses its station, another tenant is unaffected, and junction quota set raises it", async () => {
    const acme = uniqueName("acme").replace(/-/g, "").slice(0, 30);
    const beta = uniqueName("beta").replace(/-/g, "").slice(0, 30);
    const ops = await broker.client();
    await ops.tenants.create(acme);
    await ops.tenants.create(beta);
    // The operator acting in each tenant (the Jn-Tenant header).
    const inAcme = await broker.client({ tenant: acme });
    const inBeta = await broker.client({ tenant: beta });

    const set = await junction("quota", "set", "--tenant", acme, "stations=2");
    expect(set.code, set.err).toBe(0);
    expect(set.out).toMatch(new RegExp(`quotas of tenant ${acme}`));
    expect(set.out).toMatch(/stations\s+2\s+tenant\s+0 \(0%\)/);

    await inAcme.stations.create("one");
    await inAcme.stations.create("two");
    const e = await refusal(inAcme.stations.create("three"));
    expect(e).toBeInstanceOf(JunctionError);
    expect(e).toMatchObject({
      code: "QUOTA_EXCEEDED",
      retriable: false,
      details: { quota: "stations", limit: 2, scope: "tenant", current: 2, tenant: acme },
    });
    expect(e.message).toBe(
      `tenant '${acme}' has 2 stations: the quota stations is 2 stations per tenant (set for tenant '${acme}'); raise it with: junction quota set --tenant ${acme} stations=4`,
    );
    // Another tenant, same names and more: unaffected.
    for (const n of ["one", "two", "three", "four"]) await inBeta.stations.create(n);

    const listed = await junction("quota", "list", "--tenant", acme, "-o", "json");
    expect(listed.code, listed.err).toBe(0);
    const report = JSON.parse(listed.out) as QuotaReport;
    expect(report.tenant).toBe(acme);
    expect(report.quotas.find((q) => q.name === "stations")).toMatchObject({ limit: 2, source: "tenant", current: 2 });
    expect(report.updatedBy).toBe(broker.users.admin.user);
    const betaList = JSON.parse((await junction("--tenant", beta, "quota", "list", "-o", "json")).out) as QuotaReport;
    expect(betaList.quotas.find((q) => q.name === "stations")).toMatchObject({ limit: 1000, source: "default", current: 4 });

    // Raised by the command the error named (one more is enough here).
    expect((await junction("quota", "set", "--tenant", acme, "stations=3")).code).toBe(0);
    await inAcme.stations.create("three");
    expect((await refusal(inAcme.stations.create("four"))).code).toBe("QUOTA_EXCEEDED");
    // Back to the broker's limit.
    expect((await junction("quota", "set", "--tenant", acme, "stations=default")).code).toBe(0);
    await inAcme.stations.create("four");

    // A tenant admin may read its quotas but not set them.
    const admin = await ops.users.create({ name: uniqueName("qa"), tenant: acme, grants: { admin: true } });
    const asAdmin = await broker.client({ user: admin.name, pass: admin.password! });
    expect((await asAdmin.quotas.list()).quotas.find((q) => q.name === "stations")).toMatchObject({ current: 4 });
    expect((await refusal(asAdmin.quotas.set({ stations: 100 }))).code).toBe("PERMISSION_DENIED");
    const bad = await junction("quota", "set", "--tenant", acme, "stationz=3");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown quota 'stationz' \(known: stations, /);
  });

  it("refuses every quota with QUOTA_EXCEEDED naming it, leaves nothing half done, and keeps serving a bystander tenant", async () => {
    const hog = uniqueName("hog").replace(/-/g, "").slice(0, 30);
    const calm = uniqueName("calm").replace(/-/g, "").slice(0, 30);
    const ops = await broker.client();
    await ops.tenants.create(hog);
    await ops.tenants.create(calm);
    const inHog = await broker.client({ tenant: hog });
    const inCalm = await broker.client({ tenant: calm });
    const hogApp = await ops.users.create({ name: uniqueName("hogapp"), tenant: hog, grants: { produce: ["*"] } });

    const limits = {
      stations: 2,
      groupsPerStation: 1,
      versionsPerSchema: 2,
      schemaDefinitionBytes: 2048,
      concurrentSchemaRegistrations: 1,
      partsPerMessage: 3,
      messagesPerRequest: 5,
      bytesPerRequest: 1000,
      functionMemoryMb: 64,
      connectionsPerUser: 2,
    };
    await ops.quotas.set(limits, { tenant: hog });
    // Every quota of the table is exercised below.
    expect(Object.keys(limits).sort()).toEqual((await ops.quotas.list({ tenant: hog })).quotas.map((q) => q.name).sort());

    // The bystander: a user of its own tenant producing to a station of it every 50 ms throughout.
    const calmUser = await ops.users.create({ name: uniqueName("calmapp"), tenant: calm, grants: { admin: true, produce: ["*"] } });
    const bystander = await broker.client({ user: calmUser.name, pass: calmUser.password! });
    const { waits } = await withBystander(bystander, async () => {
      // stations: the third is refused and not created.
      await inHog.stations.create("one");
      await inHog.stations.create("two");
      expectQuota(await refusal(inHog.stations.create("three")), "stations", 2, 2, hog);
      expect((await inHog.stations.list()).map((x) => x.name).sort()).toEqual(["one", "two"]);
      expect((await refusal(inHog.stations.get("three"))).code).toBe("STATION_NOT_FOUND");

      // groupsPerStation: the second group is refused; the store has one consumer.
      await inHog.groups.create("one", "g1");
      const g = await refusal(inHog.groups.create("one", "g2"));
      expectQuota(g, "groupsPerStation", 1, 1, hog);
      expect(g.details).toMatchObject({ station: "one" });
      expect((await inHog.groups.list("one")).map((x) => x.name)).toEqual(["g1"]);
      expect((await inHog.stations.get("one")).state?.consumers).toBe(1);

      // versionsPerSchema: a third version is refused; the same definition again is no new version.
      const v = (n: number) =>
        JSON.stringify({
          type: "object",
          properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, { type: "string" }])),
        });
      await inHog.schemas.create({ name: "orders", type: "json", definition: v(1), compatibility: "NONE" });
      await inHog.schemas.create({ name: "orders", type: "json", definition: v(2) });
      await inHog.schemas.create({ name: "orders", type: "json", definition: v(2) });
      const sv = await refusal(inHog.schemas.create({ name: "orders", type: "json", definition: v(3) }));
      expectQuota(sv, "versionsPerSchema", 2, 2, hog);
      expect((await inHog.schemas.versions("orders")).map((x) => x.version)).toEqual([1, 2]);

      // schemaDefinitionBytes: a 3 KiB definition is refused and nothing is registered.
      const big = JSON.stringify({ type: "object", description: "x".repeat(3000) });
      expectQuota(
        await refusal(inHog.schemas.create({ name: "big", type: "json", definition: big })),
        "schemaDefinitionBytes",
        2048,
        Buffer.byteLength(big),
        hog,
      );
      expect((await refusal(inHog.schemas.get("big"))).code).toBe("SCHEMA_NOT_FOUND");

      // concurrentSchemaRegistrations: of six Protobuf registrations sent at once, the ones that
      // arrive while another runs are refused; each refused one left no schema behind.
      const names = Array.from({ length: 6 }, (_, i) => `proto${i}`);
      const outcomes = await Promise.all(
        names.map((name) =>
          inHog.schemas
            .create({
              name,
              type: "protobuf",
              definition: `syntax = "proto3"; message M${name} { int64 id = 1; }`,
              messageType: `M${name}`,
            })
            .then(
              () => "ok" as const,
              (e: unknown) => e as JunctionError,
            ),
        ),
      );
      const refused = outcomes.filter((o): o is JunctionError => o !== "ok");
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThan(names.length);
      for (const e of refused) {
        expectQuota(e, "concurrentSchemaRegistrations", 1, 1, hog);
        expect(e.message).toContain("retry once one finishes");
      }
      const registered = new Set((await inHog.schemas.list()).map((x) => x.name));
      names.forEach((n, i) => expect(registered.has(n), n).toBe(outcomes[i] === "ok"));

      // functionMemoryMb: a 48 MiB fan-out function attached to 'one'; attaching a 32 MiB one to
      // 'two' would make 80 MiB: refused, and 'two' keeps no function.
      await inHog.functions.create({
        name: "fan",
        source: "export default (m) => Array.from({ length: Number(m.headers.n ?? 1) }, () => m)",
        memoryMb: 48,
      });
      await inHog.functions.attach("fan", "one");
      await inHog.functions.create({ name: "tag", source: "export default (m) => m", memoryMb: 32 });
      const fm = await refusal(inHog.functions.attach("tag", "two"));
      expectQuota(fm, "functionMemoryMb", 64, 48, hog);
      expect(fm.details).toMatchObject({ requested: 80 });
      expect((await inHog.stations.get("two")).functions ?? []).toEqual([]);

      const nc = await broker.raw({ user: hogApp.name, password: hogApp.password! });
      // partsPerMessage: the message that fans out into 4 parts fails alone, none of its parts
      // stored; its neighbours' 2 + 3 parts are.
      const parts = await produceRaw(nc, "one", [{ headers: { n: "2" } }, { headers: { n: "4" } }, { headers: { n: "3" } }]);
      expect(Array.isArray(parts)).toBe(true);
      const [p0, p1, p2] = parts as (ErrorBody | "ok")[];
      expect([p0, p2]).toEqual(["ok", "ok"]);
      expectQuota(p1 as ErrorBody, "partsPerMessage", 3, 4, hog);
      expect((await inHog.stations.get("one")).state?.messages).toBe(5);

      // messagesPerRequest and bytesPerRequest: the whole request is refused, nothing stored.
      const six = await produceRaw(
        nc,
        "two",
        Array.from({ length: 6 }, () => ({})),
      );
      expectQuota(six as ErrorBody, "messagesPerRequest", 5, 6, hog);
      const heavy = await produceRaw(nc, "two", [{ payload: new Uint8Array(600) }, { payload: new Uint8Array(600) }]);
      expectQuota(heavy as ErrorBody, "bytesPerRequest", 1000, 1200, hog);
      expect((await inHog.stations.get("two")).state?.messages).toBe(0);
      // At the limits exactly, the request is stored.
      expect(
        await produceRaw(
          nc,
          "two",
          Array.from({ length: 5 }, () => ({ payload: new Uint8Array(200) })),
        ),
      ).toEqual(Array.from({ length: 5 }, () => "ok"));
      expect((await inHog.stations.get("two")).state?.messages).toBe(5);

      // connectionsPerUser: the raw connection above is one; a second is admitted, a third refused.
      const as = () => connect({ servers: broker.url, user: hogApp.name, pass: hogApp.password! });
      const second = await as();
      try {
        expect((await refusal(as())).code).toBe("AUTH_FAILED");
        const why = logged.find((l) => l.msg === "connection refused" && l.reason?.includes(`user '${hogApp.name}'`));
        expect(why?.reason).toBe(
          `user '${hogApp.name}' has 2 live connections: the quota connectionsPerUser is 2 live connections per user (set for tenant '${hog}'); raise it with: junction quota set --tenant ${hog} connectionsPerUser=4`,
        );
      } finally {
        await second.close();
      }
    });
    expectServed(waits);

    // The bystander's tenant still has the broker's quotas: more stations than hog may have.
    for (const n of ["one", "two", "three"]) await inCalm.stations.create(n);
    expect((await inCalm.stations.list()).length).toBe(4);
  });

  it("refuses a user's connection over connectionsPerUser, counting its live connections on the server", async () => {
    const ops = await broker.client();
    const user = await ops.users.create({ name: uniqueName("conn"), grants: { produce: ["*"] } });
    expect((await junction("quota", "set", "connectionsPerUser=2")).code).toBe(0);
    const open: JunctionClient[] = [];
    try {
      const as = () => connect({ servers: broker.url, user: user.name, pass: user.password! });
      open.push(await as(), await as());
      const third = await refusal(as());
      expect(third).toBeInstanceOf(JunctionError);
      expect(third.code).toBe("AUTH_FAILED");
      // The log says why (the client is told only that it may not connect).
      const why = logged.find((l) => l.msg === "connection refused" && l.reason?.includes(`user '${user.name}'`));
      expect(why?.reason).toBe(
        `user '${user.name}' has 2 live connections: the quota connectionsPerUser is 2 live connections per user (set for tenant 'default'); raise it with: junction quota set connectionsPerUser=4`,
      );
      // One closes: its place frees once the server's count is read again.
      await open.pop()!.close();
      open.push(await waitFor(() => as().catch(() => undefined), 20_000, 250));
    } finally {
      for (const c of open) await c.close();
      await junction("quota", "set", "connectionsPerUser=default");
    }
  });
});
