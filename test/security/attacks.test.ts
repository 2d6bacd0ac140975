/**
 * The attacks that once got past the gateway, replayed by a hostile client that holds valid
 * credentials (an application user with rights on its own station only). Each asserts the attack
 * has no effect: nothing stored, no record changed, the schema still enforced, the broker still
 * restarts, a spy receives nothing of another user's traffic, another group cannot be read,
 * acked, terminated or deleted. Every test waits on a positive anchor (an error the server or the
 * gateway sent back, a reply, a later message) before it concludes that nothing happened.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { Buckets, subjects } from "../../core/protocol/index.js";
import { JunctionError, type JunctionClient } from "../../sdk/index.js";
import { startBroker, uniqueName, waitFor, type TestBroker, type TestUser } from "../harness/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

let broker: TestBroker;
let admin: JunctionClient;
/** A schema station the attacker must not write to except through the gateway. */
let victim: string;
/** The attacker's own station (it may produce and consume there). */
let own: string;
let attacker: TestUser;
let hostile: NatsConnection;
/** Permission errors the server sent the hostile connection. */
const violations: string[] = [];

async function storedCount(station: string): Promise<number> {
  return (await admin.stations.get(station)).state?.messages ?? 0;
}

/** Waits until the server has refused something of the hostile connection matching `re`. */
async function refused(re: RegExp): Promise<void> {
  await waitFor(() => violations.some((v) => re.test(v)), 10_000);
}

beforeAll(async () => {
  broker = await startBroker();
  admin = await broker.client();
  victim = uniqueName("victim");
  own = uniqueName("own");
  for (const s of [victim, own]) await admin.stations.create(s);
  await admin.schemas.create({
    name: "strict",
    type: "json",
    definition: JSON.stringify({ type: "object", required: ["id"], properties: { id: { type: "integer" } }, additionalProperties: false }),
  });
  await admin.schemas.attach("strict", victim);
  await admin.groups.create(victim, "billing");
  await admin.producer({ station: victim }).send({ id: 1 });
  const created = await admin.users.create({ name: "mallory", grants: { produce: [own], consume: [`${own}:*`] } });
  attacker = { user: "mallory", password: created.password! };
  hostile = await broker.raw(attacker);
  void (async () => {
    for await (const s of hostile.status()) if (s.type === "error") violations.push(String((s as { error?: unknown }).error));
  })();
}, 60_000);
afterAll(async () => {
  await broker.stop();
});

describe("replies aimed into the broker's subjects", () => {
  it("a JetStream API reply aimed at a station subject, a resend subject, KV, the DLS, advisories or events lands nowhere", async () => {
    const groupOfOwn = "g";
    await admin.groups.create(own, groupOfOwn);
    const info = `jn.js.API.CONSUMER.INFO.${subjects.stationStream(own)}.${groupOfOwn}`;
    const targets = [
      subjects.stationMsg(victim),
      subjects.stationResend(victim, "billing"),
      `$KV.${Buckets.Stations}.${victim}`,
      `$KV.${Buckets.Schemas}.strict.meta`,
      subjects.dls(victim, "poison", "billing"),
      "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.x.y",
      subjects.events(victim, "dead-lettered"),
    ];
    const before = await storedCount(victim);
    const dlsBefore = (await admin.dls.stats()).total;
    for (const reply of targets) hostile.publish(info, enc.encode(""), { reply });
    // The pull variant too: it used to copy another station's message into a schema station.
    hostile.publish(`jn.js.API.CONSUMER.MSG.NEXT.${subjects.stationStream(own)}.${groupOfOwn}`, enc.encode('{"batch":1}'), {
      reply: subjects.stationMsg(victim),
    });
    // Anchor: a request of the same connection, sent after them, is answered (the server handled them all).
    const r = await hostile.request(info, enc.encode(""), { timeout: 5000 });
    expect(JSON.parse(dec.decode(r.data))).toMatchObject({ name: groupOfOwn });
    expect(await storedCount(victim)).toBe(before);
    expect((await admin.dls.stats()).total).toBe(dlsBefore);
    // The station record and the schema are intact: an invalid message is still refused.
    expect((await admin.stations.get(victim)).schema).toMatchObject({ name: "strict" });
    await expect(admin.producer({ station: victim }).send({ id: "not-an-int", extra: 1 })).rejects.toMatchObject({
      code: "SCHEMA_VALIDATION_FAILED",
    });
  });

  it("the gateway does not act as a deputy: a reply aimed at a station or KV subject never reaches it", async () => {
    const before = await storedCount(victim);
    for (const reply of [subjects.stationMsg(victim), `$KV.${Buckets.Stations}.${victim}`]) {
      hostile.publish(subjects.apiOp("station.get"), enc.encode(JSON.stringify({ name: own })), { reply });
      hostile.publish(subjects.apiOp("ping"), enc.encode("{}"), { reply });
    }
    const pong = await hostile.request(subjects.apiOp("ping"), enc.encode("{}"), { timeout: 5000 });
    expect(JSON.parse(dec.decode(pong.data))).toEqual({ ok: true, data: { pong: true } });
    expect(await storedCount(victim)).toBe(before);
    // The broker still restarts and serves the station.
    await broker.gateways[0]!.close();
    broker.gateways.shift();
    await broker.addGateway();
    const again = await broker.client();
    await expect(again.producer({ station: victim }).send({ id: 2 })).resolves.toMatchObject({ duplicate: false });
  });

  it("a reply aimed at the produce subject of the client account comes back as a produce with no user, and is refused", async () => {
    const before = await storedCount(victim);
    hostile.publish(`jn.js.API.CONSUMER.INFO.${subjects.stationStream(own)}.g`, enc.encode(""), { reply: subjects.produce(victim) });
    const pong = await hostile.request(subjects.apiOp("ping"), enc.encode("{}"), { timeout: 5000 });
    expect(pong.data.length).toBeGreaterThan(0);
    expect(await storedCount(victim)).toBe(before);
  });
});

describe("subjects outside the client's rights", () => {
  it("cannot publish to station, KV, DLS, JetStream stream API or system subjects", async () => {
    hostile.publish(subjects.stationMsg(victim), enc.encode('{"id":9}'));
    await refused(/Publish to "jn\.st\./);
    for (const s of [
      `$KV.${Buckets.Stations}.${victim}`,
      "jn.dls.x.poison",
      `$JS.API.STREAM.PURGE.${subjects.stationStream(victim)}`,
      "$SYS.REQ.SERVER.PING.CONNZ",
    ]) {
      hostile.publish(s, enc.encode("{}"));
    }
    await refused(/Publish to "\$SYS\.REQ/);
    expect(violations.join("\n")).toMatch(/Publish to "\$KV\./);
    expect(violations.join("\n")).toMatch(/Publish to "\$JS\.API\.STREAM\.PURGE/);
    // The client account's own JetStream API is not the broker's: it says so.
    const js = await hostile
      .request(`$JS.API.STREAM.INFO.${subjects.stationStream(victim)}`, enc.encode(""), { timeout: 5000 })
      .catch((e: unknown) => e);
    expect(String(js instanceof Error ? js.message : dec.decode((js as { data: Uint8Array }).data))).toMatch(
      /not enabled|Permissions|no responders/i,
    );
  });

  it("a forged Nats-Request-Info header does not make the attacker an admin", async () => {
    const h = natsHeaders();
    h.set("Nats-Request-Info", JSON.stringify({ acc: "CLIENTS", user: "admin" }));
    const r = await hostile.request(subjects.apiOp("station.delete"), enc.encode(JSON.stringify({ name: victim })), {
      headers: h,
      timeout: 5000,
    });
    expect(JSON.parse(dec.decode(r.data))).toMatchObject({
      ok: false,
      error: { code: "PERMISSION_DENIED", message: /user 'mallory' may not administer/ },
    });
    expect(await admin.stations.get(victim)).toMatchObject({ name: victim });
  });
});

describe("another user's traffic and groups", () => {
  it("a spy receives nothing of another user's replies, messages or acks", async () => {
    const spied: string[] = [];
    for (const s of ["_INBOX.>", "_INBOX_admin.>", ">", "$JS.ACK.>"])
      hostile.subscribe(s, {
        callback: (e, m) => {
          if (!e) spied.push(m.subject);
        },
      });
    await refused(/Subscription to "\$JS\.ACK\.>"/);
    // The admin works: admin replies, a produce reply, a pull and its ack.
    await admin.stations.list();
    await admin.producer({ station: victim }).send({ id: 3 });
    const c = await admin.consumer({ station: victim, group: "spied", maxMessages: 1 });
    for await (const m of c) {
      await m.ackAndWait();
      break;
    }
    // Anchor: the spy's own request is answered after all of that.
    await hostile.request(subjects.apiOp("ping"), enc.encode("{}"), { timeout: 5000 });
    expect(spied).toEqual([]);
    for (const s of ["_INBOX.>", "_INBOX_admin.>", ">"]) expect(violations.join("\n")).toContain(`Subscription to "${s}"`);
  });

  it("cannot pull, ack, terminate, inspect or delete another station's group", async () => {
    const stream = subjects.stationStream(victim);
    hostile.publish(`jn.js.API.CONSUMER.MSG.NEXT.${stream}.billing`, enc.encode('{"batch":10}'));
    await refused(/Publish to "jn\.js\.API\.CONSUMER\.MSG\.NEXT\./);
    hostile.publish(`$JS.ACK.${stream}.billing.1.1.1.1.0`, enc.encode("+TERM"));
    await refused(/Publish to "\$JS\.ACK\./);
    const c = await broker.client({ user: attacker.user, pass: attacker.password });
    await expect(c.groups.delete(victim, "billing")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(c.groups.get(victim, "billing")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(c.consumer({ station: victim, group: "billing" })).rejects.toBeInstanceOf(JunctionError);
    // Its station list shows only its own station.
    expect((await c.stations.list()).map((s) => s.name)).toEqual([own]);
    // The group is untouched: its message is still there for it.
    expect((await admin.groups.get(victim, "billing")).stats.pending).toBeGreaterThan(0);
  });

  it("cannot unpin, join or listen to another station's partitioned group", async () => {
    const keyed = uniqueName("keyed");
    await admin.stations.create(keyed, { partitions: 2 });
    await admin.groups.create(keyed, "billing");
    const stream = subjects.stationStream(keyed);
    hostile.publish(`jn.js.API.CONSUMER.UNPIN.${stream}.billing-P0`, enc.encode('{"group":"jn"}'));
    await refused(/Publish to "jn\.js\.API\.CONSUMER\.UNPIN\./);
    hostile.publish(`jn.members.${stream}.billing`, enc.encode('{"id":"mallory","kind":"hello"}'));
    await refused(/Publish to "jn\.members\./);
    hostile.subscribe(`jn.members.${stream}.billing`);
    await refused(/Subscription to "jn\.members\./);
    // The server's own unpin subject is not reachable from the client account either: no answer.
    await expect(
      hostile.request(`$JS.API.CONSUMER.UNPIN.${stream}.billing-P0`, enc.encode('{"group":"jn"}'), { timeout: 2000 }),
    ).rejects.toThrow();
  });
});
