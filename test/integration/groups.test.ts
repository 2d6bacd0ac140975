import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { JunctionError, type JunctionClient, type Message } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

async function take(it: AsyncIterable<Message>, n: number, act: (m: Message) => void = (m) => m.ack()): Promise<Message[]> {
  const out: Message[] = [];
  for await (const m of it) {
    out.push(m);
    act(m);
    if (out.length >= n) break;
  }
  return out;
}

async function seeded(n: number): Promise<string> {
  const station = uniqueName();
  await client.stations.create(station);
  const r = await client.producer({ station }).sendBatch(Array.from({ length: n }, (_, i) => ({ payload: `m${i + 1}` })));
  expect(r.every((x) => x.ok)).toBe(true);
  return station;
}

describe("start positions", () => {
  it("earliest, latest, from a sequence and the last N", async () => {
    const station = await seeded(10);
    const early = await client.consumer({ station, group: "early", startPosition: { kind: "earliest" } });
    expect((await take(early, 1))[0]!.text()).toBe("m1");
    const seq = await client.consumer({ station, group: "fromseq", startPosition: { kind: "sequence", seq: 7 } });
    expect((await take(seq, 1))[0]!.seq).toBe(7);
    const last = await client.consumer({ station, group: "last3", startPosition: { kind: "last", count: 3 } });
    expect((await take(last, 3)).map((m) => m.seq)).toEqual([8, 9, 10]);
    const late = await client.consumer({ station, group: "late", startPosition: { kind: "latest" } });
    await client.producer({ station }).send("m11");
    expect((await take(late, 1))[0]!.text()).toBe("m11");
    await Promise.all([early.close(), seq.close(), last.close(), late.close()]);
  });

  it("a conflicting start position for an existing group is GROUP_CONFLICT", async () => {
    const station = await seeded(1);
    await client.groups.create(station, "g", { startPosition: { kind: "earliest" } });
    const err = await client.groups.create(station, "g", { startPosition: { kind: "latest" } }).catch((e: unknown) => e as JunctionError);
    expect(err).toMatchObject({ code: "GROUP_CONFLICT" });
    // Same position, or none given: fine.
    await expect(client.groups.create(station, "g", { startPosition: { kind: "earliest" } })).resolves.toMatchObject({ created: false });
    await expect(client.groups.create(station, "g")).resolves.toMatchObject({ created: false });
  });
});

describe("ack, nak, term", () => {
  it("a nak'd message comes back with a higher delivery count; a nak with delay waits", async () => {
    const station = await seeded(1);
    const c = await client.consumer({ station, group: "g" });
    const seen: Message[] = [];
    const t0 = Date.now();
    for await (const m of c) {
      seen.push(m);
      if (seen.length === 1) m.nak();
      else if (seen.length === 2) m.nak(400);
      else {
        m.ack();
        break;
      }
    }
    expect(seen.map((m) => m.deliveryCount)).toEqual([1, 2, 3]);
    expect(seen[2]!.redelivered).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    await c.close();
  });

  it("an unacked message is resent after maxAckTimeMs to another member", async () => {
    const station = await seeded(1);
    const a = await client.consumer({ station, group: "g", maxAckTimeMs: 500 });
    const first = await take(a, 1, () => {});
    await a.close(); // crashed without acking
    const b = await client.consumer({ station, group: "g" });
    const again = await take(b, 1);
    expect(again[0]!.seq).toBe(first[0]!.seq);
    expect(again[0]!.deliveryCount).toBe(2);
    await b.close();
    const info = await client.groups.get(station, "g");
    expect(info.stats.unacked).toBe(0);
    expect(info.stats.pending).toBe(0);
  });

  it("term() gives up: the message is not delivered again", async () => {
    const station = await seeded(2);
    const c = await client.consumer({ station, group: "g", maxAckTimeMs: 300 });
    const got = await take(c, 2, (m) => (m.seq === 1 ? m.term("bad data") : m.ack()));
    expect(got.map((m) => m.seq)).toEqual([1, 2]);
    // Terminated counts as done for JetStream: the ack floor passes it and nothing is left to redeliver.
    const info = await waitFor(async () => {
      const g = await client.groups.get(station, "g");
      return g.stats.ackFloorSeq === 2 ? g : undefined;
    });
    expect(info.stats).toMatchObject({ unacked: 0, pending: 0, redelivered: 0 });
    await c.close();
  });

  it("updating ack time and deliveries applies to the live group; inProgress extends the deadline", async () => {
    const station = await seeded(1);
    await client.groups.create(station, "g", { maxAckTimeMs: 10_000, maxMsgDeliveries: 5 });
    const upd = await client.groups.create(station, "g", { maxAckTimeMs: 1500, maxMsgDeliveries: 3, backoffMs: [1500, 3000] });
    expect(upd.config).toMatchObject({ maxAckTimeMs: 1500, maxMsgDeliveries: 3, backoffMs: [1500, 3000] });
    const c = await client.consumer({ station, group: "g" });
    let n = 0;
    for await (const m of c) {
      n++;
      // Keep it alive past the ack time (4 × 500 ms > 1,500 ms), then ack: no redelivery happens.
      // (Each keep-alive leaves a full second of slack for a busy machine.)
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 500));
        m.inProgress();
      }
      await m.ackAndWait();
      break;
    }
    expect(n).toBe(1);
    const info = await client.groups.get(station, "g");
    expect(info.stats.redelivered).toBe(0);
    expect(info.stats.unacked).toBe(0);
    expect((await client.groups.list(station)).map((g) => g.name)).toEqual(["g"]);
    await c.close();
    await client.groups.delete(station, "g");
    expect(await client.groups.get(station, "g").catch((e: unknown) => (e as JunctionError).code)).toBe("GROUP_NOT_FOUND");
  });
});

describe("onMessage handler", () => {
  it("hands every message to the handler; a throwing handler gets the message resent; the consumer cannot also be iterated", async () => {
    const station = await seeded(50);
    const seen: number[] = [];
    let thrown = false;
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const c = await client.consumer({
      station,
      group: "h",
      onMessage: (m) => {
        if (m.seq === 7 && !thrown) {
          thrown = true;
          throw new Error("handler failed once");
        }
        seen.push(m.seq);
        m.ack();
        if (new Set(seen).size === 50) resolveAll();
      },
    });
    expect(() => c[Symbol.asyncIterator]()).toThrow(/cannot also be iterated/);
    await all;
    await c.close();
    expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(thrown).toBe(true);
    const info = await client.groups.get(station, "h");
    expect(info.stats.unacked).toBe(0);
  });
});

describe("members online", () => {
  it("a busy member of a one-partition group is counted (it announces itself, no request waits) and gone when it closes", async () => {
    const station = await seeded(3);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let handed = 0;
    const c = await client.consumer({
      station,
      group: "busy",
      batchSize: 1,
      onMessage: async (m) => {
        handed++;
        await held;
        m.ack();
      },
    });
    await waitFor(() => handed === 1);
    // The member's one slot is taken: it has no pull request waiting, yet it is online.
    const busy = await waitFor(async () => {
      const g = await client.groups.get(station, "busy");
      return g.stats.unacked === 1 && g.stats.members?.length === 1 ? g : undefined;
    });
    expect(busy.stats.membersOnline).toBe(1);
    expect(busy.stats.members![0]!.partitions).toEqual([]);
    release();
    await waitFor(async () => (await client.groups.get(station, "busy")).stats.ackFloorSeq === 3);
    await c.close();
    // It said bye: gone at once, not one member timeout later.
    await waitFor(async () => {
      const g = await client.groups.get(station, "busy");
      return g.stats.membersOnline === 0 && g.stats.members === undefined;
    });
  });
});
