import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { GatewayMetrics, startHttp, type JunctionGateway, type MetricsSource } from "../../core/server/index.js";
import type { JunctionClient } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;
let gw: JunctionGateway;

beforeAll(async () => {
  broker = await startBroker({ gateways: 0 });
  // The metrics hold only this gateway's produce events, so it is the only gateway.
  gw = await broker.addGateway({ httpPort: -1, httpHost: "127.0.0.1", metrics: { stateCacheMs: 0 } });
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

async function get(url: string): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") };
}

/** The value of one series (`name{labels}`) in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe("gateway HTTP surface", () => {
  it("answers /healthz and /readyz, and 404 elsewhere", async () => {
    expect(gw.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${gw.httpUrl}/healthz`)).toMatchObject({ status: 200, body: "ok\n" });
    expect(await get(`${gw.httpUrl}/readyz`)).toMatchObject({ status: 200, body: "ready\n" });
    expect((await get(`${gw.httpUrl}/nope`)).status).toBe(404);
    expect((await fetch(`${gw.httpUrl}/readyz`, { method: "POST" })).status).toBe(405);
  });

  it("says not ready (503) until a gateway is bound and ready, while /healthz already answers", async () => {
    const metrics = new GatewayMetrics({ processMetrics: false });
    const http = await startHttp({ port: 0, host: "127.0.0.1", metrics });
    try {
      expect((await get(`${http.url}/readyz`)).status).toBe(503);
      expect((await get(`${http.url}/healthz`)).status).toBe(200);
      expect(sample((await get(`${http.url}/metrics`)).body, "junction_gateway_ready")).toBe(0);
      let ready = true;
      const source: MetricsSource = {
        ready: () => ready,
        produceStats: () => gw.produceStats(),
        quarantinedFunctions: () => 0,
        quotaRefusals: () => ({}),
        storage: () => ({ state: "ok", headroomBytes: undefined, outOfSpace: 0 }),
        badReplySubjects: () => 0,
        brokerState: async () => ({ groups: [], deadLetters: [] }),
      };
      metrics.bind(source);
      expect((await get(`${http.url}/readyz`)).status).toBe(200);
      expect(sample((await get(`${http.url}/metrics`)).body, "junction_gateway_ready")).toBe(1);
      ready = false;
      expect((await get(`${http.url}/readyz`)).status).toBe(503);
    } finally {
      await http.close();
    }
  });

  it("follows a real gateway: ready while it serves, not ready once closed", async () => {
    const g = await broker.addGateway({ httpPort: -1 });
    expect((await get(`${g.httpUrl}/readyz`)).status).toBe(200);
    const metrics = g.metrics;
    await g.close();
    expect(metrics.ready).toBe(false);
  });

  it("exports produce, validation, function, dead-letter and consumer-lag series after traffic", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const schema = uniqueName("sc");
    await client.schemas.create({
      name: schema,
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { n: { type: "integer" } }, required: ["n"] }),
    });
    await client.schemas.attach(schema, station);
    const fn = uniqueName("fn");
    await client.functions.create({
      name: fn,
      source: "export default (m) => { if (m.payload.n === 13) throw new Error('unlucky'); return m; }",
    });
    await client.functions.attach(fn, station);
    const producer = client.producer({ station });
    const out = await producer.sendBatch([
      ...Array.from({ length: 20 }, (_, n) => ({ payload: { n } })),
      { payload: { n: "not a number" } },
      { payload: { m: 1 } },
    ]);
    expect(out.filter((o) => o.ok)).toHaveLength(19);
    // A group that has taken 5 messages and acked 2: 3 ack pending, 14 pending.
    const consumer = await client.consumer({ station, group: "lagging", batchSize: 5, maxMessages: 5 });
    let i = 0;
    for await (const m of consumer) {
      if (i++ < 2) await m.ackAndWait();
      if (i === 5) break;
    }

    const res = await get(`${gw.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    const text = res.body;
    const s = { station };
    expect(sample(text, "junction_produce_requests_total", s)).toBeGreaterThanOrEqual(1);
    expect(sample(text, "junction_produce_messages_total", { station, result: "accepted" })).toBe(19);
    expect(sample(text, "junction_produce_messages_total", { station, result: "rejected" })).toBe(3);
    expect(sample(text, "junction_produce_latency_seconds_count", s)).toBeGreaterThanOrEqual(1);
    expect(sample(text, "junction_produce_latency_seconds_bucket", { station, le: "+Inf" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "junction_validation_failures_total", s)).toBe(2);
    expect(sample(text, "junction_function_errors_total", s)).toBe(1);
    expect(sample(text, "junction_produce_rejected_total", { station, code: "SCHEMA_VALIDATION_FAILED" })).toBe(2);
    expect(sample(text, "junction_function_latency_seconds_count", s)).toBeGreaterThanOrEqual(1);
    expect(sample(text, "junction_dead_letters_written_total", { station, reason: "schema" })).toBe(2);
    expect(sample(text, "junction_dead_letters_written_total", { station, reason: "function" })).toBe(1);
    expect(sample(text, "junction_dead_letters", { station, reason: "schema" })).toBe(2);
    expect(sample(text, "junction_dead_letters", { station, reason: "function" })).toBe(1);
    expect(sample(text, "junction_consumer_lag", { station, group: "lagging" })).toBe(17);
    expect(sample(text, "junction_consumer_pending", { station, group: "lagging" })).toBe(14);
    expect(sample(text, "junction_consumer_ack_pending", { station, group: "lagging" })).toBe(3);
    expect(sample(text, "junction_gateway_ready")).toBe(1);
    expect(text).toContain("junction_process_resident_memory_bytes");

    // A request for a station that does not exist is counted without a station label.
    await expect(client.producer({ station: uniqueName("missing"), sendTimeoutMs: 2000 }).send("x")).rejects.toThrow();
    const after = (await get(`${gw.httpUrl}/metrics`)).body;
    expect(sample(after, "junction_produce_request_errors_total", { code: "STATION_NOT_FOUND" })).toBeGreaterThanOrEqual(1);
  });

  it("exports partitions, held partitions and members online for a group on a partitioned station", async () => {
    const station = uniqueName();
    await client.stations.create(station, { partitions: 4 });
    await client.groups.create(station, "work", { memberTimeoutMs: 3000 });
    const other = await broker.client();
    const members = [await client.consumer({ station, group: "work" }), await other.consumer({ station, group: "work" })];
    const sent = await client.producer({ station }).sendBatch(Array.from({ length: 40 }, (_, i) => ({ payload: { n: i }, key: `k${i}` })));
    const acked = new Set<number>();
    const loops = members.map(async (m) => {
      for await (const x of m) {
        x.ack();
        acked.add(x.seq);
      }
    });
    await waitFor(() => sent.every((o) => o.ok && acked.has(o.seq)), 20_000);
    const text = await waitFor(async () => {
      const t = (await get(`${gw.httpUrl}/metrics`)).body;
      return sample(t, "junction_consumer_members", { station, group: "work" }) === 2 &&
        sample(t, "junction_consumer_partitions_held", { station, group: "work" }) === 4
        ? t
        : undefined;
    }, 15_000);
    expect(sample(text, "junction_consumer_partitions", { station, group: "work" })).toBe(4);
    expect(sample(text, "junction_consumer_partitions_parked", { station, group: "work" })).toBe(0);
    for (const m of members) await m.close();
    await Promise.all(loops);
    await other.close();
    // Members that said bye are not counted any more.
    await waitFor(
      async () => sample((await get(`${gw.httpUrl}/metrics`)).body, "junction_consumer_members", { station, group: "work" }) === 0,
      15_000,
    );
  });

  it("counts poison and terminated dead letters (stored with their group) in junction_dead_letters", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    await client.producer({ station }).sendBatch([{ payload: "a" }, { payload: "b" }]);
    // One message given up by the member (terminated), one nak'd past its single delivery (poison).
    const member = await client.consumer({
      station,
      group: "quitter",
      maxMsgDeliveries: 1,
      onMessage: (m) => (m.text() === "a" ? m.deadLetter("bad a") : m.nak()),
    });
    await waitFor(async () => (await client.dls.stats(station)).total === 2, 20_000);
    await member.close();
    const text = (await get(`${gw.httpUrl}/metrics`)).body;
    expect(sample(text, "junction_dead_letters", { station, reason: "terminated" })).toBe(1);
    expect(sample(text, "junction_dead_letters", { station, reason: "poison" })).toBe(1);
  });

  it("says not ready (503) while NATS is away, and ready again once it is back", async () => {
    expect((await get(`${gw.httpUrl}/readyz`)).status).toBe(200);
    await broker.server.stop();
    await waitFor(async () => (await get(`${gw.httpUrl}/readyz`)).status === 503, 10_000);
    expect((await get(`${gw.httpUrl}/healthz`)).status).toBe(200);
    // Metrics still answer, from what the gateway knows, without waiting for NATS.
    const m = await get(`${gw.httpUrl}/metrics`);
    expect(m.status).toBe(200);
    expect(sample(m.body, "junction_gateway_ready")).toBe(0);
    await broker.restartServer();
    await waitFor(async () => (await get(`${gw.httpUrl}/readyz`)).status === 200, 20_000);
  });
});
