/**
 * The advisory path survives a gateway that dies between the advisory and the dead-letter write
 * (or between the write and the advisory ack): another gateway records it, exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { DeadLetter } from "../../core/protocol/index.js";
import type { JunctionClient, Message } from "../../sdk/index.js";

const ACK_WAIT_MS = 1000;
let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker({ gateways: 0, gatewayOptions: { dls: { advisoryAckWaitMs: ACK_WAIT_MS } } });
});
afterAll(async () => {
  await broker.stop();
});

async function terminateOne(station: string): Promise<void> {
  await client.stations.create(station);
  await client.producer({ station }).send("payload-1");
  const c = await client.consumer({ station, group: "g" });
  for await (const m of c as AsyncIterable<Message>) {
    m.deadLetter("broken");
    break;
  }
}

async function advisoryBacklog(): Promise<number> {
  const ci = await (await broker.jsm()).consumers.info("JN_ADV", "jn-gateway");
  return ci.num_pending + ci.num_ack_pending;
}

describe("gateway killed on the advisory path", () => {
  for (const when of ["before the dead-letter write", "after the write, before the advisory ack"] as const) {
    it(`dies ${when}: a second gateway records the dead letter exactly once`, async () => {
      const station = uniqueName();
      let reached: (dl: DeadLetter) => void = () => {};
      const hit = new Promise<DeadLetter>((r) => (reached = r));
      let release: () => void = () => {};
      const hang = (dl: DeadLetter) => {
        if (dl.station !== station) return Promise.resolve();
        reached(dl);
        return new Promise<void>((r) => (release = r));
      };
      const hooks = when === "before the dead-letter write" ? { beforeAdvisoryWrite: hang } : { afterAdvisoryWrite: hang };
      const a = await broker.addGateway({ dls: { advisoryAckWaitMs: ACK_WAIT_MS, hooks } });
      client = await broker.client();
      const events: string[] = [];
      const listener = await broker.raw(broker.users.admin);
      const sub = listener.subscribe(`jn.events.${station}.dead-lettered`, {
        callback: (_e, m) => {
          events.push(new TextDecoder().decode(m.data));
        },
      });
      await listener.flush();
      await terminateOne(station);
      const dl = await hit;
      expect(dl.id).toBe(`terminated:${station}:1:g`);
      await a.close(); // the gateway dies with the advisory unacked
      const b = await broker.addGateway();
      const items = (await waitFor(async () => {
        const p = await client.dls.list({ station });
        return p.items.length > 0 ? p.items : undefined;
      }, 15_000)) as DeadLetter[];
      expect(items.map((d) => d.id)).toEqual([dl.id]);
      expect(items[0]).toMatchObject({ reason: "terminated", groups: ["g"], seq: 1, error: { message: "broken" } });
      // The advisory is done: acked by the second gateway, so JetStream never hands it out again;
      // and a second write of the same dead-letter id would be a duplicate of the stored one.
      await waitFor(async () => (await advisoryBacklog()) === 0, 10_000);
      expect((await client.dls.list({ station })).items).toHaveLength(1);
      expect((await client.dls.stats(station)).total).toBe(1);
      expect(events).toHaveLength(1);
      sub.unsubscribe();
      release();
      await b.close();
    }, 40_000);
  }
});
