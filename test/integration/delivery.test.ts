import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { JunctionError, type JunctionClient, type Message } from "../../sdk/index.js";
import { stationStreamConfig } from "../../core/nats/streams.js";
import { MAX_DELAY_MS, defaultScope } from "../../core/protocol/index.js";
import { resolveStationConfig } from "../../core/stations/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

/** The first `n` messages of a fresh member, acked, each with the time it arrived. */
async function receive(station: string, group: string, n: number): Promise<{ m: Message; at: number }[]> {
  const c = await client.consumer({ station, group });
  const out: { m: Message; at: number }[] = [];
  for await (const m of c) {
    out.push({ m, at: Date.now() });
    m.ack();
    if (out.length >= n) break;
  }
  await c.close();
  return out;
}

async function streamMessages(station: string): Promise<number> {
  const jsm = await broker.jsm();
  return (await jsm.streams.info(defaultScope.stationStream(station))).state.messages;
}

describe("delayed delivery", () => {
  it("a delayed message is stored at once and reaches the group at its time, after messages sent later", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const p = client.producer({ station });
    const deliverAt = Date.now() + 1500;
    const delayed = await p.send("later", { deliverAt });
    expect(delayed.seq).toBeGreaterThan(0);
    // The ack means stored: the schedule is in the stream before its time, shown as waiting.
    expect(await streamMessages(station)).toBe(1);
    expect((await client.stations.get(station)).state).toMatchObject({ messages: 1, delayed: 1 });
    await p.send("now");
    const got = await receive(station, "g", 2);
    expect(got.map((x) => x.m.text())).toEqual(["now", "later"]);
    expect(got[1]!.at).toBeGreaterThanOrEqual(deliverAt - 1);
    // The schedule itself is gone once its copy is stored; nothing else is waiting for the group.
    await waitFor(async () => (await streamMessages(station)) === 2);
    expect((await client.stations.get(station)).state?.delayed).toBe(0);
    const info = await client.groups.get(station, "g");
    expect(info.stats.pending).toBe(0);
    expect(info.stats.unacked).toBe(0);
  });

  it("delayMs: not delivered before the delay", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const sentAt = Date.now();
    await client.producer({ station }).send({ a: 1 }, { delayMs: 800, headers: { kind: "x" } });
    const [got] = await receive(station, "g", 1);
    expect(got!.at - sentAt).toBeGreaterThanOrEqual(800);
    expect(got!.m.json()).toEqual({ a: 1 });
    expect(got!.m.headers["kind"]).toBe("x");
  });

  it("a batch of delayed messages (one atomic batch) arrives whole, beside undelayed ones", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const items = Array.from({ length: 40 }, (_, i) => ({ payload: `d${i}`, ...(i % 2 === 0 ? { delayMs: 600 } : { ttlMs: 60_000 }) }));
    const sentAt = Date.now();
    const r = await client.producer({ station }).sendBatch(items);
    expect(r.every((x) => x.ok)).toBe(true);
    const got = await receive(station, "g", 40);
    const delayed = got.filter((x) => Number(x.m.text().slice(1)) % 2 === 0);
    expect(delayed).toHaveLength(20);
    for (const x of delayed) expect(x.at - sentAt).toBeGreaterThanOrEqual(600);
    // Each keeps its place among the delayed ones: they become visible in the order sent.
    expect(delayed.map((x) => x.m.text())).toEqual(items.filter((_, i) => i % 2 === 0).map((x) => x.payload));
  });

  it("a delayed message is delivered after a nats-server restart", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const deliverAt = Date.now() + 2500;
    await client.producer({ station }).send("survives", { deliverAt });
    await broker.restartServer();
    const jsm = await broker.jsm();
    await waitFor(async () => (await jsm.streams.info(defaultScope.stationStream(station)).catch(() => undefined))?.state.messages === 1);
    // The gateway is back (it answers) before a member joins.
    const c2 = await waitFor(() => broker.client().catch(() => undefined), 30_000);
    await waitFor(() => c2.stations.get(station).catch(() => undefined), 30_000);
    await waitFor(() => client.stations.get(station).catch(() => undefined), 30_000);
    const c = await c2.consumer({ station, group: "after-restart" });
    for await (const m of c) {
      expect(m.text()).toBe("survives");
      expect(Date.now()).toBeGreaterThanOrEqual(deliverAt - 1);
      m.ack();
      break;
    }
    await c.close();
  });

  it("absurd delays are refused with INVALID_ARGUMENT naming the limit", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const p = client.producer({ station });
    const tooLong = await p.send("x", { delayMs: MAX_DELAY_MS + 1 }).catch((e: unknown) => e as JunctionError);
    expect(tooLong).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((tooLong as JunctionError).message).toContain("366 days");
    // deliverAt is checked by the gateway (its clock is the reference).
    const far = await p.send("x", { deliverAt: Date.now() + 2 * MAX_DELAY_MS }).catch((e: unknown) => e as JunctionError);
    expect(far).toMatchObject({ code: "INVALID_ARGUMENT", details: { option: "deliverAt" } });
    await expect(p.send("x", { delayMs: -5 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(p.send("x", { delayMs: 10, deliverAt: Date.now() })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    // A station that would remove the message before its time refuses the delay.
    const short = uniqueName();
    await client.stations.create(short, { maxAgeSeconds: 600 });
    const aged = await client
      .producer({ station: short })
      .send("x", { delayMs: 700_000 })
      .catch((e: unknown) => e as JunctionError);
    expect(aged).toMatchObject({ code: "INVALID_ARGUMENT", details: { maxMs: 599_999 } });
    const interest = uniqueName();
    await client.stations.create(interest, { retention: "interest" });
    await expect(client.producer({ station: interest }).send("x", { delayMs: 1000 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { retention: "interest" },
    });
    // Nothing was stored by the refused sends.
    expect(await streamMessages(station)).toBe(0);
  });

  it("a station created before delayed delivery is migrated on update and then takes delays", async () => {
    const station = uniqueName();
    const jsm = await broker.jsm();
    // The stream as an older gateway made it: no TTLs, no schedules.
    const old = stationStreamConfig(defaultScope, station, resolveStationConfig()) as Record<string, unknown>;
    delete old["allow_msg_ttl"];
    delete old["allow_msg_schedules"];
    await jsm.streams.add(old as never);
    await client.stations.create(station);
    const cfg = (await jsm.streams.info(defaultScope.stationStream(station))).config as unknown as Record<string, unknown>;
    expect(cfg["allow_msg_schedules"]).toBe(true);
    expect(cfg["allow_msg_ttl"]).toBe(true);
    await client.producer({ station }).send("late", { delayMs: 300 });
    const [got] = await receive(station, "g", 1);
    expect(got!.m.text()).toBe("late");
  });
});

describe("per-message TTL", () => {
  it("an expired message is removed and never delivered; others stay", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const p = client.producer({ station });
    await p.send("short", { ttlMs: 1000 });
    await p.send("kept");
    await waitFor(async () => (await streamMessages(station)) === 1);
    const [got] = await receive(station, "g", 1);
    expect(got!.m.text()).toBe("kept");
  });

  it("a delayed message's TTL counts from when it becomes visible", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    await client.producer({ station }).send("brief", { delayMs: 1500, ttlMs: 1000 });
    // The schedule (1) is replaced by its copy, which then expires.
    await waitFor(async () => {
      const jsm = await broker.jsm();
      const si = await jsm.streams.info(defaultScope.stationStream(station));
      return si.state.messages === 0 && si.state.last_seq === 2;
    });
  });

  it("a TTL out of range is refused with INVALID_ARGUMENT", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const p = client.producer({ station });
    await expect(p.send("x", { ttlMs: 500 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", details: { option: "ttlMs", min: 1000 } });
    await expect(p.send("x", { ttlMs: 1e15 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", details: { option: "ttlMs" } });
  });
});
