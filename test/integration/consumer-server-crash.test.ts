/**
 * Issue 14, finding 4: what a consumer group can rely on when a single nats-server is killed
 * (SIGKILL, fsync before ack). Stored messages survive; the group's delivery and ack state is
 * written by the server a little after the fact (at most ~10 times a second per consumer), so
 * what happened in the last moments before the crash is delivered again — messages delivered
 * but not yet recorded come back as first deliveries (deliveryCount 1). See docs/consumers.md.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { JunctionClient } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker({ sync: "always" });
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

describe("a single nats-server crash", () => {
  it("loses no stored message; deliveries and acks of the last moments come back", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const n = 4000;
    const res = await client.producer({ station }).sendBatch(Array.from({ length: n }, (_, i) => ({ id: `order-${i}`, payload: { i } })));
    expect(res.every((r) => r.ok)).toBe(true);
    const deliveries = new Map<number, number[]>();
    const ids = new Map<number, Set<string | undefined>>();
    let crash: Promise<void> | undefined;
    const consumer = await client.consumer({
      station,
      group: "g",
      batchSize: 50,
      onMessage: (m) => {
        const d = deliveries.get(m.seq) ?? [];
        d.push(m.deliveryCount);
        deliveries.set(m.seq, d);
        ids.set(m.seq, (ids.get(m.seq) ?? new Set()).add(m.id));
        m.ack();
        // Kill the server mid-stream, while deliveries and acks are flowing.
        if (deliveries.size === n / 4 && !crash) crash = broker.restartServer({ kill: true });
      },
    });
    await waitFor(() => crash !== undefined, 60_000);
    await crash;

    // The member carries on by itself once the server is back (its client reconnects and pulls
    // again); everything is consumed once the group has nothing pending or unacked left.
    await waitFor(
      async () => {
        if (deliveries.size < n) return false;
        const g = await client.groups.get(station, "g").catch(() => undefined);
        return g && g.stats.pending === 0 && g.stats.unacked === 0;
      },
      120_000,
      200,
    );
    await consumer.close();
    // Nothing stored is lost.
    expect([...deliveries.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    // What an application can rely on to spot a replay: the same message comes with the same
    // stream sequence and producer id on every delivery (deliveryCount may start again at 1).
    for (const [seq, set] of ids) expect([...set]).toEqual([`order-${seq - 1}`]);
    const again = [...deliveries.values()].filter((d) => d.length > 1);
    const asFirst = again.filter((d) => d.slice(1).includes(1)).length;
    console.log(`server SIGKILL: ${again.length} of ${n} messages delivered more than once, ${asFirst} of them again as a first delivery`);
  }, 180_000);
});
