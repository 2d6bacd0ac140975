import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { JunctionClient } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker({ gateways: 2 });
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

describe("several gateways", () => {
  it("share the produce load through the queue group", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const p = client.producer({ station, maxBatchMessages: 10, lingerMs: 0, maxInFlight: 4 });
    const before = broker.gateways.map((g) => g.produceStats().requests);
    const out = await p.sendBatch(Array.from({ length: 2000 }, (_, i) => ({ payload: `m${i}` })));
    expect(out.every((o) => o.ok)).toBe(true);
    const after = broker.gateways.map((g, i) => g.produceStats().requests - before[i]!);
    for (const n of after) expect(n).toBeGreaterThan(0);
  });

  it("a station created through one gateway is served by every other at once", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    // Each gateway answers for it (cache miss reads KV, the watch keeps it fresh).
    for (const g of broker.gateways) {
      await waitFor(async () => (await (await g.records()).stations.get(station)) !== undefined);
    }
    const updated = await client.stations.update(station, { maxMessageSize: 10 });
    for (const g of broker.gateways) {
      const records = await g.records();
      await waitFor(() => records.stations.cached(station)?.config.maxMessageSize === 10);
    }
    const out = await client.producer({ station }).sendBatch(Array.from({ length: 20 }, () => ({ payload: "x".repeat(11) })));
    expect(updated.config.maxMessageSize).toBe(10);
    expect(out.every((o) => !o.ok && o.error.code === "PAYLOAD_TOO_LARGE")).toBe(true);
  });

  it("a quarantined function released through one gateway is released on every gateway", async () => {
    const station = uniqueName();
    const fn = uniqueName("loop");
    await client.stations.create(station);
    await client.functions.create({ name: fn, source: "export default () => { for (;;) {} }", timeoutMs: 50 });
    await client.functions.attach(fn, station);
    const quarantined = async (g: (typeof broker.gateways)[number]) =>
      Number(/^junction_functions_quarantined (\d+)$/m.exec(await g.metrics.metrics())?.[1] ?? "0");
    // Each gateway judges the function on its own: send until both have quarantined it.
    const p = client.producer({ station });
    await waitFor(
      async () => {
        await p.send({ n: 1 }).catch(() => {});
        const q = await Promise.all(broker.gateways.map(quarantined));
        return q.every((n) => n === 1);
      },
      60_000,
      10,
    );
    // One gateway answers the release; it tells the other.
    await client.functions.release(fn);
    await waitFor(async () => (await Promise.all(broker.gateways.map(quarantined))).every((n) => n === 0));
    await p.close();
  });

  it("stations and messages survive a restart of nats-server and of the gateways", async () => {
    const station = uniqueName();
    await client.stations.create(station, { maxMessages: 1000 });
    await client.producer({ station }).sendBatch(Array.from({ length: 100 }, (_, i) => ({ payload: `m${i}` })));
    for (const g of broker.gateways.splice(0)) await g.close();
    await broker.restartServer();
    await broker.addGateway();
    const c2 = await broker.client();
    const info = (await waitFor(() => c2.stations.get(station).catch(() => undefined)))!;
    expect(info.config.maxMessages).toBe(1000);
    expect(info.state?.messages).toBe(100);
    const r = await c2.producer({ station }).send("after-restart");
    expect(r.seq).toBe(101);
  });
});
