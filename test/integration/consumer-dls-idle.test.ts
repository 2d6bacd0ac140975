/**
 * Issue 14, finding 6: a message that used up its deliveries becomes a dead letter even when no
 * member pulls any more. The store fires max-deliveries only on a delivery attempt; the gateway
 * probes idle groups (a pull for at most 1 byte) so it does, without handing anything out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, type JsMsg } from "@nats-io/jetstream";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { CLIENT_JS_API_PREFIX } from "../../core/protocol/index.js";
import type { JunctionClient, Message } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  // The gateways' default probing (every 3 s).
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

/** A hand-written member (no SDK): it pulls one message at a time and leaves when told. */
async function rawMember(station: string, group: string) {
  const nc = await broker.raw(broker.users.app);
  const c = await jetstream(nc, { apiPrefix: CLIENT_JS_API_PREFIX }).consumers.get(`JN_ST_${station}`, group);
  return {
    next: async (): Promise<JsMsg> => {
      const m = await c.next({ expires: 5000 });
      if (!m) throw new Error("no message");
      return m;
    },
    leave: () => nc.close(),
  };
}

describe("a group with no members", () => {
  it("dead-letters a message given back at its last delivery, and leaves everything else as it was", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    await client.groups.create(station, "g", { maxAckTimeMs: 60_000, maxMsgDeliveries: 2 });
    const p = client.producer({ station });
    await p.send("poison");
    await p.send("unlucky");
    const member = await rawMember(station, "g");
    // "poison" is given back twice (its last delivery), "unlucky" once; then the member leaves
    // without pulling again. The redelivery queue now holds "unlucky" (which may be delivered
    // once more) ahead of "poison" (which may not).
    const a1 = await member.next();
    const b1 = await member.next();
    expect([a1.seq, b1.seq]).toEqual([1, 2]);
    a1.nak();
    const a2 = await member.next();
    expect([a2.seq, a2.info.deliveryCount]).toEqual([1, 2]);
    b1.nak();
    a2.nak();
    await member.leave();
    await p.send("fresh");

    const [dl] = await waitFor(async () => {
      const items = (await client.dls.list({ station })).items;
      return items.length > 0 ? items : undefined;
    }, 30_000);
    expect(dl).toMatchObject({ id: `poison:${station}:1:g`, reason: "poison", deliveries: 2, groups: ["g"] });

    // A member that comes back gets the rest as if nobody had looked: "unlucky" on its second
    // delivery, "fresh" on its first, and "poison" never again.
    const c = await client.consumer({ station, group: "g" });
    const got: { seq: number; deliveryCount: number }[] = [];
    for await (const m of c as AsyncIterable<Message>) {
      got.push({ seq: m.seq, deliveryCount: m.deliveryCount });
      m.ack();
      if (got.length >= 2) break;
    }
    expect(got.sort((x, y) => x.seq - y.seq)).toEqual([
      { seq: 2, deliveryCount: 2 },
      { seq: 3, deliveryCount: 1 },
    ]);
    const g = await waitFor(async () => {
      const info = await client.groups.get(station, "g");
      return info.stats.unacked === 0 ? info : undefined;
    });
    expect(g.stats).toMatchObject({ pending: 0, deadLettered: 1 });
  });

  it("dead-letters a message whose last delivery ran out of time after its member crashed", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    await client.groups.create(station, "g", { maxAckTimeMs: 1000, maxMsgDeliveries: 2 });
    await client.producer({ station }).send("slow poison");
    const member = await rawMember(station, "g");
    const m1 = await member.next();
    const m2 = await member.next(); // resent after the 1 s ack time
    const lastDeliveryAt = Date.now();
    expect([m1.info.deliveryCount, m2.info.deliveryCount]).toEqual([1, 2]);
    await member.leave(); // without an answer: the store's ack time runs out with nobody pulling
    const [dl] = await waitFor(
      async () => {
        const items = (await client.dls.list({ station })).items;
        return items.length > 0 ? items : undefined;
      },
      30_000,
      100,
    );
    expect(dl).toMatchObject({ id: `poison:${station}:1:g`, reason: "poison", deliveries: 2 });
    // Without probing it would never come (nobody pulls); with it, about the ack time plus one
    // probe interval (3 s) — the bound is loose for a busy machine.
    const tookMs = Date.now() - lastDeliveryAt;
    console.log(`dead letter of a group without members: ${tookMs} ms after its last delivery (ack time 1000 ms)`);
    expect(tookMs).toBeLessThan(25_000);
  });
});
