import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";
import type { JunctionClient, Message } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client({ name: "it-producer" });
});
afterAll(async () => {
  await broker.stop();
});

async function collect(it: AsyncIterable<Message>, n: number, onMsg?: (m: Message) => void): Promise<Message[]> {
  const out: Message[] = [];
  if (n === 0) return out;
  for await (const m of it) {
    out.push(m);
    onMsg?.(m);
    m.ack();
    if (out.length >= n) break;
  }
  return out;
}

describe("produce and consume", () => {
  it("delivers 10,000 auto-batched messages exactly once and in order to one consumer", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const producer = client.producer({ station });
    const n = 10_000;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => producer.send({ i })));
    // Store order equals send order: sequences are 1..n in send order.
    expect(results.map((r) => r.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(results.every((r) => !r.duplicate)).toBe(true);
    const consumer = await client.consumer({ station, group: "g1", batchSize: 500 });
    const got = await collect(consumer, n);
    await consumer.close();
    expect(got.map((m) => m.json<{ i: number }>().i)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(new Set(got.map((m) => m.seq)).size).toBe(n);
    expect(got[0]!.producer).toBe("it-producer");
    expect(got[0]!.deliveryCount).toBe(1);
    expect(got[0]!.timestamp.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it("gives every message to each of two groups", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const producer = client.producer({ station });
    await producer.sendBatch(Array.from({ length: 300 }, (_, i) => ({ payload: `m${i}` })));
    const a = await client.consumer({ station, group: "a" });
    const b = await client.consumer({ station, group: "b" });
    const [ga, gb] = await Promise.all([collect(a, 300), collect(b, 300)]);
    await Promise.all([a.close(), b.close()]);
    expect(ga.map((m) => m.text())).toEqual(Array.from({ length: 300 }, (_, i) => `m${i}`));
    expect(gb.map((m) => m.text())).toEqual(ga.map((m) => m.text()));
  });

  it("splits messages among three members of one group without loss", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const n = 3000;
    const members = await Promise.all([0, 1, 2].map(() => client.consumer({ station, group: "workers", batchSize: 10 })));
    const seen: number[][] = [[], [], []];
    let total = 0;
    let resolveAll: () => void = () => {};
    const all = new Promise<void>((r) => (resolveAll = r));
    const loops = members.map(async (m, k) => {
      for await (const msg of m) {
        seen[k]!.push(msg.json<{ i: number }>().i);
        msg.ack();
        if (++total >= n) resolveAll();
      }
    });
    const producer = client.producer({ station });
    const res = await producer.sendBatch(Array.from({ length: n }, (_, i) => ({ payload: { i } })));
    expect(res.every((r) => r.ok)).toBe(true);
    await all;
    await Promise.all(members.map((m) => m.close()));
    await Promise.all(loops);
    const union = seen.flat().sort((x, y) => x - y);
    expect(union).toEqual(Array.from({ length: n }, (_, i) => i));
    // Each member got a share.
    for (const s of seen) expect(s.length).toBeGreaterThan(0);
  });

  it("stores a retried batch once: the same ids are reported as duplicates", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const producer = client.producer({ station });
    const items = Array.from({ length: 50 }, (_, i) => ({ payload: `x${i}`, id: `fixed-${i}` }));
    const first = await producer.sendBatch(items);
    const again = await producer.sendBatch(items);
    expect(first.every((r) => r.ok && !r.duplicate)).toBe(true);
    expect(again.every((r) => r.ok && r.duplicate)).toBe(true);
    expect(again.map((r) => (r.ok ? r.seq : -1))).toEqual(first.map((r) => (r.ok ? r.seq : -1)));
    // A batch mixing stored and new ids: the duplicates are reported, the new ones stored.
    const mixed = await producer.sendBatch([...items.slice(0, 5), { payload: "new", id: "fresh-1" }]);
    expect(mixed.slice(0, 5).every((r) => r.ok && r.duplicate)).toBe(true);
    expect(mixed[5]).toMatchObject({ ok: true, duplicate: false, seq: 51 });
    const info = await client.stations.get(station);
    expect(info.state?.messages).toBe(51);
  });
});
