/**
 * The unmodified memphis.js SDK (memphis-dev 1.3.2 from npm) against `junction dev --memphis`:
 * connect, stations, idempotent produce, a consumer group acking everything once, nack and delay, a poison
 * message that becomes a Junction dead letter and comes back with `junction dls resend`,
 * `deadLetter(reason)`, and a JSON schema enforced by the server.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemphisInstance, type Memphis, type Message } from "memphis-dev";
import { waitFor } from "../harness/index.js";
import { startDevMemphis, type DevMemphis } from "./dev.js";

let dev: DevMemphis;
let m: Memphis;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  dev = await startDevMemphis();
  m = createMemphisInstance();
  await m.connect({ ...dev.memphis, suppressLogs: true });
  closers.push(() => m.close());
});
afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  await dev?.stop();
});

/** `junction <args> --json`, parsed. */
async function json<T>(...args: string[]): Promise<T> {
  const r = await dev.junction(...args, "--json");
  if (r.code !== 0) throw new Error(`junction ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface DeadLetterView {
  id: string;
  station: string;
  reason: string;
  groups: string[];
  deliveries?: number;
  payload: string;
  error?: { code: string; message: string };
}
const deadLetters = (station: string) => json<{ items: DeadLetterView[] }>("dls", "list", "--station", station).then((p) => p.items);
const groupInfo = (station: string, group: string) =>
  json<{ stats: { pending: number; unacked: number; redelivered: number; ackFloorSeq: number } }>("group", "info", station, group);
const text = (b64: string) => Buffer.from(b64, "base64").toString();

describe("memphis.js against junction dev --memphis", () => {
  it("connects with the credentials junction dev --memphis wrote", () => {
    expect(dev.memphis).toMatchObject({ username: "memphis", accountId: 1 });
    expect(m.isConnected()).toBe(true);
  });

  it("creates a station twice (the second time is a no-op, as in Memphis)", async () => {
    await m.station({ name: "orders" });
    await m.station({ name: "orders" });
    const info = await json<{ name: string; config: { maxAgeSeconds: number; idempotencyWindowMs: number } }>("station", "info", "orders");
    expect(info).toMatchObject({ name: "orders", config: { maxAgeSeconds: 3600, idempotencyWindowMs: 120_000 } });
  });

  it("produces 100 messages with msgId, and 5 again with used ids that are not stored twice", async () => {
    const p = await m.producer({ stationName: "orders", producerName: "checkout" });
    for (let i = 0; i < 100; i++) {
      await p.produce({ message: Buffer.from(JSON.stringify({ n: i })), msgId: `order-${i}`, asyncProduce: false });
    }
    for (let i = 0; i < 5; i++) {
      await p.produce({ message: Buffer.from(JSON.stringify({ n: i, again: true })), msgId: `order-${i}`, asyncProduce: false });
    }
    const info = await json<{ state: { messages: number; lastSeq: number } }>("station", "info", "orders");
    expect(info.state).toMatchObject({ messages: 100, lastSeq: 100 });
  });

  it("consumes with a group and acks every message exactly once", async () => {
    const c = await m.consumer({
      stationName: "orders",
      consumerName: "biller-1",
      consumerGroup: "billing",
      pullIntervalMs: 100,
      batchSize: 50,
    });
    const seen = new Map<number, number>();
    c.on("message", (msg: Message) => {
      const n = (JSON.parse(msg.getData().toString()) as { n: number }).n;
      seen.set(n, (seen.get(n) ?? 0) + 1);
      msg.ack();
    });
    c.on("error", () => {});
    await waitFor(() => seen.size === 100, 60_000);
    // Every ack reached JetStream: nothing pending, nothing unacked, nothing delivered twice.
    await waitFor(async () => {
      const g = await groupInfo("orders", "billing");
      return g.stats.ackFloorSeq === 100 && g.stats.unacked === 0 && g.stats.pending === 0;
    }, 30_000);
    expect((await groupInfo("orders", "billing")).stats.redelivered).toBe(0);
    expect([...seen.values()].every((k) => k === 1)).toBe(true);
    await c.destroy();
  });

  it("answers a consumer's destroy only once what was produced before reached it (20 rounds: produce 10, destroy at once)", async () => {
    // memphis.js hands a fetched batch to `on("message")` only when the batch is complete, and asks
    // for the consumer info right before it pulls: the destroy waits for that pull and the acks.
    let missed = 0;
    for (let r = 0; r < 20; r++) {
      let handled = 0;
      const p = await m.producer({ stationName: `drain-${r}`, producerName: "p" });
      const c = await m.consumer({ stationName: `drain-${r}`, consumerName: "c", consumerGroup: "g" });
      c.on("message", (msg: Message) => {
        handled++;
        msg.ack();
      });
      c.on("error", () => {});
      for (let i = 0; i < 10; i++) await p.produce({ message: Buffer.from(`m${i}`) });
      await p.destroy();
      await c.destroy();
      if (handled !== 10) missed++;
    }
    expect(missed).toBe(0);
  });

  it("delivers a never-acked message twice (maxMsgDeliveries 2), dead-letters it, and junction dls resend brings it back", async () => {
    const p = await m.producer({ stationName: "payments", producerName: "gateway" });
    await p.produce({ message: Buffer.from('{"amount":-1}'), msgId: "pay-1", asyncProduce: false });
    let deliveries = 0;
    let ackedResend = false;
    const c = await m.consumer({
      stationName: "payments",
      consumerName: "ledger-1",
      consumerGroup: "ledger",
      maxAckTimeMs: 1000,
      maxMsgDeliveries: 2,
      pullIntervalMs: 100,
    });
    c.on("message", (msg: Message) => {
      deliveries++;
      // The first two deliveries are never acked; the resent one is.
      if (deliveries > 2) {
        msg.ack();
        ackedResend = true;
      }
    });
    c.on("error", () => {});
    const [dl] = await waitFor(async () => {
      const list = await deadLetters("payments");
      return list.length > 0 ? list : undefined;
    }, 60_000);
    expect(dl).toMatchObject({ station: "payments", reason: "poison", groups: ["ledger"], deliveries: 2 });
    expect(text(dl!.payload)).toBe('{"amount":-1}');
    expect(deliveries).toBe(2);

    const r = await dev.junction("dls", "resend", dl!.id);
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => ackedResend, 30_000);
    expect(deliveries).toBe(3);
    await waitFor(async () => (await groupInfo("payments", "ledger")).stats.unacked === 0, 30_000);
    await c.destroy();
  });

  it("redelivers after nack() at once (long before maxAckTimeMs) and after delay(ms) no sooner than asked", async () => {
    const p = await m.producer({ stationName: "refunds", producerName: "support" });
    await p.produce({ message: Buffer.from('{"refund":1}'), msgId: "refund-1", asyncProduce: false });
    const DELAY_MS = 1000;
    const at: number[] = [];
    const c = await m.consumer({
      stationName: "refunds",
      consumerName: "refunder-1",
      consumerGroup: "refunder",
      // Only a nack or a delay can bring the message back within the test's waits.
      maxAckTimeMs: 120_000,
      // The SDK's default is 2: the third delivery would not happen.
      maxMsgDeliveries: 5,
      pullIntervalMs: 100,
    });
    c.on("message", (msg: Message) => {
      at.push(Date.now());
      if (at.length === 1) msg.nack();
      else if (at.length === 2) msg.delay(DELAY_MS);
      else msg.ack();
    });
    c.on("error", () => {});
    await waitFor(() => at.length >= 3, 60_000);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(DELAY_MS - 50);
    await waitFor(async () => {
      const g = await groupInfo("refunds", "refunder");
      return g.stats.ackFloorSeq === 1 && g.stats.unacked === 0;
    }, 30_000);
    expect(at).toHaveLength(3);
    expect(await deadLetters("refunds")).toEqual([]);
    await c.destroy();
  });

  it("records the reason of message.deadLetter(reason)", async () => {
    const p = await m.producer({ stationName: "invoices", producerName: "erp" });
    await p.produce({ message: Buffer.from("not json"), asyncProduce: false });
    const c = await m.consumer({ stationName: "invoices", consumerName: "parser-1", consumerGroup: "parser", pullIntervalMs: 100 });
    c.on("message", (msg: Message) => msg.deadLetter("cannot parse the invoice"));
    c.on("error", () => {});
    const [dl] = await waitFor(async () => {
      const list = await deadLetters("invoices");
      return list.length > 0 ? list : undefined;
    }, 60_000);
    expect(dl).toMatchObject({
      reason: "terminated",
      groups: ["parser"],
      error: { code: "TERMINATED", message: "cannot parse the invoice" },
    });
    expect(text(dl!.payload)).toBe("not json");
    await c.destroy();
  });

  it("refuses an invalid message against an attached JSON schema on the server, and the refusal lands in the DLS", async () => {
    const schemaFile = join(dev.dir, "order.json");
    await writeFile(
      schemaFile,
      JSON.stringify({
        type: "object",
        properties: { id: { type: "integer" }, total: { type: "number", minimum: 0 } },
        required: ["id", "total"],
      }),
    );
    await m.createSchema({ schemaName: "order", schemaType: "json", schemaFilePath: schemaFile });
    await m.station({ name: "shipments", schemaName: "order" });
    const p = await m.producer({ stationName: "shipments", producerName: "warehouse" });
    await p.produce({ message: Buffer.from('{"id":1,"total":9.5}'), asyncProduce: false });

    // The SDK was sent the schema and refuses locally first (as against Memphis), then reports it.
    await expect(p.produce({ message: Buffer.from('{"id":"x"}'), msgId: "ship-local", asyncProduce: false })).rejects.toThrow(
      /Schema validation has failed/,
    );
    // The server enforces it for whatever gets past the SDK: the SDK's own JetStream publish,
    // which its producer uses, without the SDK's local check.
    const h = m.headers();
    h.headers.set("$memphis_producedBy", "warehouse");
    h.headers.set("msg-id", "ship-server");
    await expect(
      m.brokerConnection.publish("shipments$1.final", Buffer.from('{"id":2,"total":-3}'), { headers: h.headers }),
    ).rejects.toThrow(/schema validation has failed: \/total must be >= 0/i);

    const list = await waitFor(async () => {
      const l = await deadLetters("shipments");
      return l.length >= 2 ? l : undefined;
    }, 30_000);
    expect(list.every((d) => d.reason === "schema" && d.error?.code === "SCHEMA_VALIDATION_FAILED")).toBe(true);
    expect(list.map((d) => text(d.payload)).sort()).toEqual(['{"id":"x"}', '{"id":2,"total":-3}']);
    expect((await json<{ state: { messages: number } }>("station", "info", "shipments")).state.messages).toBe(1);
  });
});
