import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { DeadLetter, JunctionClient, Message } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function deadLetters(station: string, n: number): Promise<DeadLetter[]> {
  return (await waitFor(async () => {
    const p = await client.dls.list({ station });
    return p.items.length >= n ? p.items : undefined;
  }, 20_000)) as DeadLetter[];
}

/** Takes `n` messages, acting on each; returns them with their arrival times. */
async function take(it: AsyncIterable<Message>, n: number, act: (m: Message) => void): Promise<{ m: Message; at: number }[]> {
  const out: { m: Message; at: number }[] = [];
  for await (const m of it) {
    out.push({ m, at: Date.now() });
    act(m);
    if (out.length >= n) break;
  }
  return out;
}

async function station(): Promise<string> {
  const s = uniqueName();
  await client.stations.create(s);
  return s;
}

describe("poison messages", () => {
  it("a never-acked message is resent after maxAckTimeMs, then lands in the DLS with its metadata", async () => {
    const st = await station();
    await client.producer({ station: st, name: "shop" }).send("never acked", { id: "m-1", headers: { trace: "t1" } });
    const c = await client.consumer({ station: st, group: "g", maxAckTimeMs: 400, maxMsgDeliveries: 2 });
    const got = await take(c, 2, () => {});
    await c.close();
    expect(got.map((x) => x.m.deliveryCount)).toEqual([1, 2]);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(350);
    const [dl] = await deadLetters(st, 1);
    expect(dl).toMatchObject({
      id: `poison:${st}:1:g`,
      station: st,
      reason: "poison",
      groups: ["g"],
      seq: 1,
      payload: b64("never acked"),
      deliveries: 2,
      producer: "shop",
      error: { code: "MAX_DELIVERIES" },
    });
    expect(dl!.headers).toMatchObject({ trace: "t1", "Nats-Msg-Id": "m-1", "Jn-Producer": "shop" });
    expect(typeof dl!.dlsSeq).toBe("number");
    const info = await client.groups.get(st, "g");
    expect(info.stats.deadLettered).toBe(1);
    const stats = await client.dls.stats(st);
    expect(stats).toMatchObject({ total: 1, byReason: { poison: 1 }, byGroup: { g: 1 }, byStation: { [st]: 1 } });
  });

  it("redeliveries follow the backoff schedule", async () => {
    const st = await station();
    await client.producer({ station: st }).send("slow");
    const c = await client.consumer({ station: st, group: "g", maxAckTimeMs: 5000, maxMsgDeliveries: 3, backoffMs: [300, 1200] });
    const got = await take(c, 3, () => {});
    await c.close();
    const gap1 = got[1]!.at - got[0]!.at;
    const gap2 = got[2]!.at - got[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(250);
    expect(gap1).toBeLessThan(1000);
    expect(gap2).toBeGreaterThanOrEqual(1100);
    expect(gap2).toBeLessThan(3000);
    const [dl] = await deadLetters(st, 1);
    expect(dl).toMatchObject({ reason: "poison", deliveries: 3 });
  });

  it("the DLS keeps the copy after the message leaves the station", async () => {
    const st = uniqueName();
    await client.stations.create(st, { maxMessages: 1 });
    await client.producer({ station: st }).send("first");
    const c = await client.consumer({ station: st, group: "g", maxAckTimeMs: 300, maxMsgDeliveries: 1 });
    await take(c, 1, () => {});
    await c.close();
    const [dl] = await deadLetters(st, 1);
    await client.producer({ station: st }).send("second"); // pushes "first" out (max 1 message)
    expect((await client.stations.get(st)).state?.firstSeq).toBe(2);
    const again = await client.dls.get(dl!.id);
    expect(again.payload).toBe(b64("first"));
  });
});

describe("deadLetter(reason)", () => {
  it("lands at once with the consumer's reason", async () => {
    const st = await station();
    await client.producer({ station: st }).send("bad");
    const c = await client.consumer({ station: st, group: "g", maxAckTimeMs: 30_000 });
    const t0 = Date.now();
    await take(c, 1, (m) => m.deadLetter("cannot parse order"));
    const [dl] = await deadLetters(st, 1);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(dl).toMatchObject({
      id: `terminated:${st}:1:g`,
      reason: "terminated",
      groups: ["g"],
      deliveries: 1,
      error: { code: "TERMINATED", message: "cannot parse order" },
    });
    expect(dl!.lastDeliveryAt).toBeTypeOf("string");
    await c.close();
  });
});

describe("resend and drop", () => {
  it("resend reaches only the failing group, which can then ack it; a second failure links to the first", async () => {
    const st = await station();
    await client.producer({ station: st }).send("order-1");
    const good = await client.consumer({ station: st, group: "good" });
    const bad = await client.consumer({ station: st, group: "bad", maxAckTimeMs: 30_000 });
    await take(good, 1, (m) => m.ack());
    await take(bad, 1, (m) => m.deadLetter("downstream down"));
    const [dl] = await deadLetters(st, 1);
    expect(await client.dls.resend({ id: dl!.id })).toEqual({ resent: 1, failed: 0 });
    // Idempotent: the entry left the DLS, so a second resend does nothing.
    expect(await client.dls.resend({ id: dl!.id })).toEqual({ resent: 0, failed: 0 });
    // (Leaving a for-await loop ends a member, so each step uses a new one.)
    const bad2 = await client.consumer({ station: st, group: "bad" });
    const [again] = await take(bad2, 1, (m) => m.deadLetter("still down"));
    expect(again!.m.text()).toBe("order-1");
    expect(again!.m.subject).toBe(`jn.st.${st}.resend.bad`);
    expect(again!.m.headers["Jn-Resent-From"]).toBe(dl!.id);
    // A resent message that fails again is a new dead letter linked to the first.
    const [second] = await deadLetters(st, 1);
    expect(second!.id).not.toBe(dl!.id);
    expect(second).toMatchObject({ resentFrom: dl!.id, reason: "terminated", groups: ["bad"], error: { message: "still down" } });
    // Resend again; this time the member acks it.
    expect(await client.dls.resend({ filter: { station: st, group: "bad" } })).toEqual({ resent: 1, failed: 0 });
    const bad3 = await client.consumer({ station: st, group: "bad" });
    const [third] = await take(bad3, 1, (m) => m.ack());
    expect(third!.m.text()).toBe("order-1");
    await Promise.all([bad.close(), bad2.close(), bad3.close()]);
    // The good group never saw it again: nobody has pulled for it since its first take, so a resend
    // to it would show as pending (resends are stored before dls.resend answers).
    const gi = await client.groups.get(st, "good");
    expect(gi.stats.pending).toBe(0);
    expect(gi.stats.unacked).toBe(0);
    expect((await client.groups.get(st, "bad")).stats).toMatchObject({ pending: 0, unacked: 0, deadLettered: 0 });
    expect((await client.dls.list({ station: st })).items).toEqual([]);
    await good.close();
  });

  it("drop removes one entry, or all matching; list filters and pages", async () => {
    const st = await station();
    await client.producer({ station: st }).sendBatch(Array.from({ length: 5 }, (_, i) => ({ payload: `m${i + 1}` })));
    const c = await client.consumer({ station: st, group: "g" });
    await take(c, 5, (m) => m.deadLetter(m.seq % 2 === 0 ? "even" : "odd"));
    await c.close();
    await deadLetters(st, 5);
    const p1 = await client.dls.list({ station: st, limit: 2 });
    expect(p1.items.map((d) => d.seq)).toEqual([1, 2]);
    const p2 = await client.dls.list({ station: st, limit: 2, cursor: p1.next! });
    expect(p2.items.map((d) => d.seq)).toEqual([3, 4]);
    const p3 = await client.dls.list({ station: st, limit: 2, cursor: p2.next! });
    expect(p3.items.map((d) => d.seq)).toEqual([5]);
    expect(p3.next).toBeUndefined();
    expect((await client.dls.list({ station: st, text: "even" })).items.map((d) => d.seq)).toEqual([2, 4]);
    expect((await client.dls.list({ station: st, group: "other" })).items).toEqual([]);
    expect((await client.dls.list({ station: st, reason: "schema" })).items).toEqual([]);
    expect((await client.dls.list({ station: st, since: new Date(Date.now() + 60_000).toISOString() })).items).toEqual([]);
    expect(await client.dls.drop({ id: `terminated:${st}:1:g` })).toEqual({ dropped: 1 });
    expect(await client.dls.drop({ id: `terminated:${st}:1:g` })).toEqual({ dropped: 0 });
    await expect(client.dls.get(`terminated:${st}:1:g`)).rejects.toMatchObject({ code: "DEAD_LETTER_NOT_FOUND" });
    expect(await client.dls.drop({ filter: { station: st, text: "even" } })).toEqual({ dropped: 2 });
    expect((await client.dls.list({ station: st })).items.map((d) => d.seq)).toEqual([3, 5]);
    expect((await client.dls.stats(st)).total).toBe(2);
  });
});

describe("events", () => {
  it("dead-lettered, resent, dropped and group-changed are published on jn.events.<station>.<kind>", async () => {
    const st = await station();
    const seen: { subject: string; body: Record<string, unknown> }[] = [];
    const rawClient = await broker.raw(broker.users.admin);
    const sub = rawClient.subscribe(`jn.events.${st}.>`, {
      callback: (_e, m) => {
        seen.push({ subject: m.subject, body: JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown> });
      },
    });
    await rawClient.flush();
    await client.producer({ station: st }).sendBatch([{ payload: "a" }, { payload: "b" }]);
    const c = await client.consumer({ station: st, group: "g" });
    await take(c, 2, (m) => m.deadLetter("no"));
    await deadLetters(st, 2);
    await client.dls.resend({ id: `terminated:${st}:1:g` });
    await client.dls.drop({ id: `terminated:${st}:2:g` });
    await client.groups.delete(st, "g");
    await waitFor(() => seen.some((e) => e.subject.endsWith(".group-changed") && e.body["change"] === "deleted"));
    sub.unsubscribe();
    const kinds = seen.map((e) => `${e.subject.split(".").pop()}:${String(e.body["change"] ?? e.body["id"] ?? e.body["count"])}`);
    expect(kinds).toEqual([
      "group-changed:created",
      `dead-lettered:terminated:${st}:1:g`,
      `dead-lettered:terminated:${st}:2:g`,
      `resent:terminated:${st}:1:g`,
      "dropped:1",
      "group-changed:deleted",
    ]);
    expect(seen[1]!.body).toMatchObject({ kind: "dead-lettered", station: st, reason: "terminated", groups: ["g"], seq: 1 });
  });
});

describe("schema and function dead letters", () => {
  it("a schema dead letter is resent through the produce path once the schema is fixed", async () => {
    const st = await station();
    const schema = uniqueName("sc");
    await client.schemas.create({
      name: schema,
      type: "json",
      compatibility: "none",
      definition: JSON.stringify({ type: "object", required: ["id"], properties: { id: { type: "integer" } } }),
    });
    await client.schemas.attach(schema, st);
    await expect(client.producer({ station: st }).send({ id: "A-7" }, { id: "o-7" })).rejects.toMatchObject({
      code: "SCHEMA_VALIDATION_FAILED",
    });
    const [dl] = await deadLetters(st, 1);
    expect(dl).toMatchObject({ reason: "schema" });
    // Resent before the fix: refused again, recorded as a new dead letter linked to the first.
    const r1 = await client.dls.resend({ id: dl!.id });
    expect(r1).toMatchObject({ resent: 0, failed: 1, errors: [{ id: dl!.id, code: "SCHEMA_VALIDATION_FAILED" }] });
    const [linked] = await deadLetters(st, 1);
    expect(linked).toMatchObject({ reason: "schema", resentFrom: dl!.id });
    expect(linked!.id).not.toBe(dl!.id);
    // Fix: a new schema version that accepts string ids.
    await client.schemas.create({
      name: schema,
      type: "json",
      compatibility: "none",
      definition: JSON.stringify({ type: "object", required: ["id"], properties: { id: { type: ["integer", "string"] } } }),
    });
    expect(await client.dls.resend({ filter: { station: st, reason: "schema" } })).toEqual({ resent: 1, failed: 0 });
    const c = await client.consumer({ station: st, group: "g" });
    const [m] = await take(c, 1, (x) => x.ack());
    expect(m!.m.json()).toEqual({ id: "A-7" });
    expect(m!.m.headers["Jn-Resent-From"]).toBe(linked!.id);
    expect((await client.dls.list({ station: st })).items).toEqual([]);
    await c.close();
  });

  it("a function dead letter is resent after a new function version, and dls.get decodes by the schema", async () => {
    const st = await station();
    const schema = uniqueName("sc");
    await client.schemas.create({ name: schema, type: "json", definition: JSON.stringify({ type: "object" }) });
    await client.schemas.attach(schema, st);
    const fn = uniqueName("fn");
    await client.functions.create({
      name: fn,
      source: "export default (m) => { const p = JSON.parse(m.payload); if (p.bad) throw new Error('no bad ones'); return m; }",
    });
    await client.functions.attach(fn, st);
    await expect(client.producer({ station: st }).send({ bad: true, n: 1 })).rejects.toMatchObject({ code: "FUNCTION_FAILED" });
    const [dl] = await deadLetters(st, 1);
    expect(dl).toMatchObject({ reason: "function" });
    expect((await client.dls.get(dl!.id)).decoded).toEqual({ bad: true, n: 1 });
    await client.functions.create({ name: fn, source: "export default (m) => m" });
    await waitFor(async () => {
      const r = await client.dls.resend({ filter: { station: st, reason: "function" } });
      return r.resent === 1 || (await client.dls.list({ station: st })).items.length === 0;
    });
    const c = await client.consumer({ station: st, group: "g" });
    const [m] = await take(c, 1, (x) => x.ack());
    expect(m!.m.json()).toEqual({ bad: true, n: 1 });
    await c.close();
  });
});

describe("consumer crash and retention", () => {
  it("a crashed member with unacked messages loses nothing: a restarted member gets them", async () => {
    const st = await station();
    await client.producer({ station: st }).sendBatch(Array.from({ length: 10 }, (_, i) => ({ payload: `m${i + 1}` })));
    const a = await client.consumer({ station: st, group: "g", maxAckTimeMs: 500, batchSize: 10 });
    await take(a, 6, (m) => (m.seq <= 3 ? m.ack() : undefined)); // 3 acked, 3 handed out and never acked
    await a.close();
    const info = await client.groups.get(st, "g");
    expect(info.stats.oldestUnackedAgeMs).toBeGreaterThan(0);
    const b = await client.consumer({ station: st, group: "g" });
    const got = await take(b, 7, (m) => m.ack());
    expect(got.map((x) => x.m.seq).sort((x, y) => x - y)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    await b.close();
    await waitFor(async () => (await client.groups.get(st, "g")).stats.unacked === 0);
    expect((await client.groups.get(st, "g")).stats).toMatchObject({ pending: 0, unacked: 0, oldestUnackedAgeMs: 0 });
  });

  it("a station's DLS cap removes its oldest entries; retention is per station", async () => {
    const st = await station();
    const r = await client.dls.retention(st, { maxEntries: 3, maxAgeSeconds: 3600 });
    expect(r).toMatchObject({ station: st, maxEntries: 3, maxAgeSeconds: 3600 });
    await client.producer({ station: st }).sendBatch(Array.from({ length: 5 }, (_, i) => ({ payload: `m${i + 1}` })));
    const c = await client.consumer({ station: st, group: "g" });
    await take(c, 5, (m) => m.deadLetter("x"));
    await c.close();
    await waitFor(async () => {
      const items = (await client.dls.list({ station: st })).items;
      return items.length === 3 && items.map((d) => d.seq).join() === "3,4,5";
    });
    const other = await station();
    expect(await client.dls.retention(other)).toMatchObject({ maxEntries: 100_000, maxAgeSeconds: 7 * 24 * 3600 });
  });
});
