/**
 * Several consumers on one JunctionClient (one NATS connection) must not hold each other up:
 * each member pulls on its own, and a slow or idle one takes nothing from the others. SDK 0.1
 * stalled here: joining a new group renews the client's connection (to be granted the group),
 * and messages the server was sending the other members at that moment were lost with the old
 * connection, so those members waited out the ack time for them. Now the members stop taking
 * messages before the renewal, and nothing is lost: every message is delivered exactly once, and
 * the groups' long member timeout (a minute) would show any message that had to be resent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { Consumer, JunctionClient, Message } from "../../sdk/index.js";

let broker: TestBroker;

beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker.stop();
});

const GROUPS = 3;

async function allAcked(client: JunctionClient, station: string): Promise<void> {
  const unacked = async () =>
    Promise.all(Array.from({ length: GROUPS }, async (_, k) => (await client.groups.get(station, `g${k}`)).stats.unacked));
  await waitFor(async () => (await unacked()).every((u) => u === 0), 20_000, 100).catch(async () => {
    throw new Error(`groups still have ${(await unacked()).join(", ")} unacked messages`);
  });
}
// Lost messages would come back only after these, far beyond the test's wait.
const SLOW_RESEND = { maxAckTimeMs: 120_000, memberTimeoutMs: 60_000 };

describe("consumers sharing one client", () => {
  it("each member of several groups gets every message (onMessage, members started before the messages)", async () => {
    const client = await broker.client();
    const station = uniqueName();
    await client.stations.create(station);
    const n = 3000;
    const got = Array.from({ length: GROUPS }, () => new Set<number>());
    const counts = new Set<number>();
    const consumers: Consumer[] = [];
    for (let k = 0; k < GROUPS; k++) {
      consumers.push(
        await client.consumer({
          station,
          group: `g${k}`,
          batchSize: 500,
          ...SLOW_RESEND,
          onMessage: (m) => {
            got[k]!.add(m.seq);
            counts.add(m.deliveryCount);
            m.ack();
          },
        }),
      );
    }
    const p = client.producer({ station });
    for (let i = 0; i < n; i += 500) await p.sendBatch(Array.from({ length: 500 }, (_, j) => ({ payload: { i: i + j } })));
    await waitFor(() => got.every((s) => s.size === n), 30_000, 50).catch(() => {
      throw new Error(`members got ${got.map((s) => s.size).join(", ")} of ${n} each`);
    });
    // Every ack reached the server (an ack lost with a renewed connection would leave its message
    // unacked until the member timeout).
    await allAcked(client, station);
    for (const c of consumers) await c.close();
    expect(got.map((s) => s.size)).toEqual(Array.from({ length: GROUPS }, () => n));
    expect([...counts]).toEqual([1]);
  });

  it("as an application user, with groups joined one after the other while the others read", async () => {
    const admin = await broker.client();
    const station = uniqueName();
    await admin.stations.create(station);
    const n = 3000;
    const p = admin.producer({ station });
    for (let i = 0; i < n; i += 500) await p.sendBatch(Array.from({ length: 500 }, (_, j) => ({ payload: { i: i + j } })));
    const client = await broker.client({ user: broker.users.app.user, pass: broker.users.app.password });
    const got = Array.from({ length: GROUPS }, () => new Set<number>());
    const counts = new Set<number>();
    const consumers: Consumer[] = [];
    for (let k = 0; k < GROUPS; k++) {
      // Each join renews the connection while the members before it are reading (each message
      // is acked a moment after it arrives, so reading takes a while).
      consumers.push(
        await client.consumer({
          station,
          group: `g${k}`,
          batchSize: 100,
          ...SLOW_RESEND,
          onMessage: (m) => {
            got[k]!.add(m.seq);
            counts.add(m.deliveryCount);
            setTimeout(() => m.ack(), 2);
          },
        }),
      );
    }
    await waitFor(() => got.every((s) => s.size === n), 30_000, 50).catch(() => {
      throw new Error(`members got ${got.map((s) => s.size).join(", ")} of ${n} each`);
    });
    // Every ack reached the server (an ack lost with a renewed connection would leave its message
    // unacked until the member timeout).
    await allAcked(admin, station);
    for (const c of consumers) await c.close();
    expect(got.map((s) => s.size)).toEqual(Array.from({ length: GROUPS }, () => n));
    expect([...counts]).toEqual([1]);
  });

  it("a member nobody reads from (async iterator left alone) holds up neither the other members nor itself later", async () => {
    const client = await broker.client();
    const station = uniqueName();
    await client.stations.create(station);
    const n = 600;
    await client.producer({ station }).sendBatch(Array.from({ length: n }, (_, i) => ({ payload: { i } })));
    const consumers = await Promise.all(
      Array.from({ length: GROUPS }, (_, k) => client.consumer({ station, group: `g${k}`, batchSize: 50, ...SLOW_RESEND })),
    );
    const read = async (c: Consumer): Promise<number> => {
      const seen = new Set<number>();
      for await (const m of c as AsyncIterable<Message>) {
        seen.add(m.seq);
        m.ack();
        if (seen.size >= n) break;
      }
      return seen.size;
    };
    // The first member is not read at all while the others read everything.
    const idle = consumers[0]!;
    const others = await Promise.all(consumers.slice(1).map(read));
    expect(others).toEqual(Array.from({ length: GROUPS - 1 }, () => n));
    // It took only its window meanwhile, and reads everything once it is read.
    expect(idle.held).toBeLessThanOrEqual(50);
    expect(await read(idle)).toBe(n);
  });
});
