/**
 * One station's hostile produce traffic cannot stall another station: while each hostile request
 * runs, a bystander produces to another station every 50 ms and must keep being answered
 * (expectServed: generous bounds, behaviour, not a benchmark). Schema attacks are in
 * schemas-hostile.test.ts.
 */
import { headers as natsHeaders } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Headers, encodeBatch, subjects } from "../../core/protocol/index.js";
import type { JunctionClient } from "../../sdk/index.js";
import { expectServed, withBystander } from "../harness/bystander.js";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let client: JunctionClient;
const enc = new TextEncoder();
const dec = new TextDecoder();

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client({ requestTimeoutMs: 60_000 });
});
afterAll(() => broker.stop());

async function stationWith(source?: string, limits: { timeoutMs?: number; memoryMb?: number } = {}): Promise<string> {
  const station = uniqueName("hostile");
  await client.stations.create(station);
  if (source) {
    const fn = uniqueName("fn");
    await client.functions.create({ name: fn, source, ...limits });
    await client.functions.attach(fn, station);
  }
  return station;
}

/** One raw produce request of `n` tiny messages; the per-message result codes. */
async function rawProduce(station: string, n: number): Promise<string[]> {
  const nc = await broker.raw(broker.users.app);
  const h = natsHeaders();
  h.set(Headers.Batch, "1");
  const frame = encodeBatch(Array.from({ length: n }, (_, i) => ({ id: `m${i}`, headers: undefined, payload: enc.encode(`{"i":${i}}`) })));
  const r = await nc.request(subjects.produce(station), frame, { timeout: 120_000, headers: h });
  const body = JSON.parse(dec.decode(r.data)) as { ok: boolean; data: { results: ({ seq: number } | { error: { code: string } })[] } };
  return body.data.results.map((x) => ("error" in x ? x.error.code : "stored"));
}

describe("a bystander keeps being served", () => {
  it("while one request carries 100,000 messages", async () => {
    const station = await stationWith();
    const { result, waits } = await withBystander(client, () => rawProduce(station, 100_000));
    expect(result.filter((c) => c === "stored")).toHaveLength(100_000);
    expectServed(waits);
  }, 120_000);

  it("while a function busy-waits just under its timeout on every message of a batch", async () => {
    const station = await stationWith(`export default (m) => { const end = Date.now() + 180; while (Date.now() < end) {} return m; }`, {
      timeoutMs: 200,
    });
    const { result, waits } = await withBystander(client, () => rawProduce(station, 50));
    // The batch's time budget ends it: what did not finish in time fails (and goes to the DLS).
    expect(result).toHaveLength(50);
    expect(result.every((c) => c === "stored" || c === "FUNCTION_FAILED")).toBe(true);
    expectServed(waits);
  }, 120_000);

  it("while a function fans 200 messages out into 1,000 parts each", async () => {
    const station = await stationWith(`export default (m) => Array.from({ length: 1000 }, (_, i) => ({ payload: { i }, headers: {} }))`, {
      memoryMb: 128,
      timeoutMs: 5000,
    });
    const { result, waits } = await withBystander(client, () => rawProduce(station, 200));
    // Every part is stored (16 atomic batches in flight per station keep the stream's inbound
    // queue of 100,000 messages from refusing the rest), unless the function itself ran out of time.
    expect(result).toHaveLength(200);
    expect(result.filter((c) => c === "stored").length).toBeGreaterThan(0);
    expect(result.every((c) => c === "stored" || c === "FUNCTION_FAILED")).toBe(true);
    expectServed(waits);
  }, 180_000);
});
