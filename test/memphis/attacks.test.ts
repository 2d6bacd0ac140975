/**
 * The attacks of test/security/attacks.test.ts, replayed by a Memphis user: `mallory`, listed as a
 * Memphis user, with rights on its own station only, connected as the SDK connects
 * (`mallory$1`) with a raw NATS client that sends whatever it likes. Each test waits on a
 * positive anchor (an error the server sent back, an answer, a later message) before it concludes
 * that nothing happened.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { createMemphisInstance, type Memphis, type Message } from "memphis-dev";
import { subjects } from "../../core/protocol/index.js";
import { waitFor } from "../harness/index.js";
import { password, startMemphisBroker, type MemphisBroker } from "./broker.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

let broker: MemphisBroker;
/** The Memphis operator (like Memphis's root), through the unmodified SDK. */
let root: Memphis;
let hostile: NatsConnection;
const violations: string[] = [];
const victim = "victim";
const own = "own";

async function stored(station: string): Promise<number> {
  return (await broker.admin.stations.get(station)).state?.messages ?? 0;
}
async function refused(re: RegExp): Promise<void> {
  await waitFor(() => violations.some((v) => re.test(v)), 10_000);
}
const json = (v: unknown) => enc.encode(JSON.stringify(v));
const answer = async (subject: string, body: unknown) => dec.decode((await hostile.request(subject, json(body), { timeout: 5000 })).data);

beforeAll(async () => {
  broker = await startMemphisBroker(
    [
      { name: "memphis", password: password(), grants: { produce: [], consume: [], admin: true } },
      { name: "mallory", password: password(), grants: { produce: [own], consume: [`${own}:*`], admin: false } },
      { name: "app", password: password(), grants: { produce: ["*"], consume: ["*:*"], admin: false } },
      { name: "eve", password: password(), grants: { produce: ["*"], consume: [], admin: false }, tenant: "acme" },
    ],
    ["memphis", "mallory", "eve"],
    ["acme"],
  );
  const admin = broker.admin;
  for (const s of [victim, own]) await admin.stations.create(s);
  await admin.schemas.create({
    name: "strict",
    type: "json",
    definition: JSON.stringify({ type: "object", required: ["id"], properties: { id: { type: "integer" } } }),
  });
  await admin.schemas.attach("strict", victim);
  await admin.groups.create(victim, "billing", { maxAckTimeMs: 60_000 });
  await admin.groups.create(own, "g");
  await admin.producer({ station: victim }).send({ id: 1 });
  root = createMemphisInstance();
  await root.connect({
    host: broker.host,
    port: broker.port,
    username: "memphis",
    password: broker.users["memphis"]!.password,
    suppressLogs: true,
  });
  hostile = await natsConnect({ servers: broker.url, user: "mallory$1", pass: broker.users["mallory"]!.password });
  void (async () => {
    for await (const s of hostile.status()) if (s.type === "error") violations.push(String((s as { error?: unknown }).error));
  })();
}, 120_000);
afterAll(async () => {
  await hostile?.close().catch(() => {});
  await root?.close().catch(() => {});
  await broker?.stop();
});

describe("logging in through the Memphis login", () => {
  it("admits only listed users of the default tenant, with their password (or it as the connection token)", async () => {
    const try_ = (o: Parameters<typeof natsConnect>[0]) =>
      natsConnect({ servers: broker.url, reconnect: false, ...o }).then(
        async (nc) => {
          await nc.close();
          return "connected";
        },
        (e: unknown) => String(e),
      );
    // `app` is a Junction user, not a Memphis one.
    expect(await try_({ user: "app$1", pass: broker.users["app"]!.password })).toMatch(/Authorization/i);
    expect(await try_({ user: "mallory$1", pass: "wrong password" })).toMatch(/Authorization/i);
    // `eve` is listed but belongs to tenant acme: the Memphis account is the default tenant's.
    expect(await try_({ user: "eve$1", pass: broker.users["eve"]!.password })).toMatch(/Authorization/i);
    expect(await try_({ token: broker.users["mallory"]!.password, name: "c0ffee::mallory" })).toBe("connected");
    expect(await try_({ token: "wrong password", name: "c0ffee::mallory" })).toMatch(/Authorization/i);
  });
});

describe("no way past the gateway", () => {
  it("cannot publish to station, produce, admin API, KV, JetStream stream API or system subjects", async () => {
    const before = await stored(victim);
    for (const s of [
      subjects.stationMsg(victim),
      subjects.produce(victim),
      subjects.apiOp("station.delete"),
      "$KV.jn_users.mallory",
      `$JS.API.STREAM.INFO.${subjects.stationStream(victim)}`,
      `$JS.API.STREAM.MSG.GET.${subjects.stationStream(victim)}`,
      `$JS.API.STREAM.PURGE.${subjects.stationStream(victim)}`,
      `$JS.API.CONSUMER.CREATE.${subjects.stationStream(own)}.x`,
      `$JS.API.CONSUMER.DELETE.${subjects.stationStream(victim)}.billing`,
      "$SYS.REQ.SERVER.PING.CONNZ",
    ]) {
      hostile.publish(s, enc.encode('{"id":9}'));
    }
    await refused(/Publish to "\$SYS\.REQ/);
    for (const re of [
      /"jn\.st\./,
      /"jn\.produce\./,
      /"jn\.api\./,
      /"\$KV\./,
      /STREAM\.INFO/,
      /STREAM\.MSG\.GET/,
      /STREAM\.PURGE/,
      /CONSUMER\.CREATE/,
      /CONSUMER\.DELETE/,
    ]) {
      expect(violations.join("\n")).toMatch(re);
    }
    expect(await stored(victim)).toBe(before);
  });

  it("cannot pull another station's group, nor the advisories' (not even the Memphis operator)", async () => {
    hostile.publish(`$JS.API.CONSUMER.MSG.NEXT.${subjects.stationStream(victim)}.billing`, json({ batch: 10 }));
    await refused(/Publish to "\$JS\.API\.CONSUMER\.MSG\.NEXT\.JN_ST_victim/);
    hostile.publish("$JS.API.CONSUMER.MSG.NEXT.JN_ADV.jn-gateway", json({ batch: 10 }));
    await refused(/Publish to "\$JS\.API\.CONSUMER\.MSG\.NEXT\.JN_ADV/);
    const op = await natsConnect({ servers: broker.url, user: "memphis$1", pass: broker.users["memphis"]!.password });
    const opErrors: string[] = [];
    void (async () => {
      for await (const s of op.status()) if (s.type === "error") opErrors.push(String((s as { error?: unknown }).error));
    })();
    op.publish("$JS.API.CONSUMER.MSG.NEXT.JN_ADV.jn-gateway", json({ batch: 10 }));
    op.publish("$JS.API.CONSUMER.MSG.NEXT.JN_DLS.x", json({ batch: 10 }));
    await waitFor(() => opErrors.some((e) => /JN_DLS/.test(e)), 10_000);
    expect(opErrors.join("\n")).toMatch(/JN_ADV/);
    await op.close();
    expect((await broker.admin.groups.get(victim, "billing")).stats.pending).toBeGreaterThan(0);
  });

  it("cannot produce to, consume from, inspect, detach or delete a station it has no grant on", async () => {
    const before = await stored(victim);
    const pub = JSON.parse(dec.decode((await hostile.request(`${victim}$1.final`, enc.encode('{"id":5}'), { timeout: 5000 })).data)) as {
      error?: { code: number; description: string };
    };
    expect(pub.error).toMatchObject({ code: 403, description: expect.stringMatching(/may not produce to station 'victim'/) });
    const info = JSON.parse(await answer(`$JS.API.CONSUMER.INFO.${victim}$1.billing`, {})) as { error?: { code: number } };
    expect(info.error?.code).toBe(403);
    expect(
      await answer("$memphis_consumer_creations", {
        name: "m",
        station_name: victim,
        consumers_group: "billing",
        start_consume_from_sequence: 1,
        last_messages: -1,
        req_version: 4,
      }),
    ).toMatch(/user 'mallory' may not (see station|consume as group 'billing' of station) 'victim'/);
    expect(await answer("$memphis_station_destructions", { station_name: victim })).toMatch(/mallory.*may not administer/);
    expect(await answer("$memphis_schema_detachments", { station_name: victim })).toMatch(/may not administer/);
    expect(
      JSON.parse(
        await answer("$memphis_producer_creations", { name: "p", station_name: victim, producer_type: "application", req_version: 4 }),
      ),
    ).toMatchObject({
      error: expect.stringMatching(/may not produce to station 'victim'/),
    });
    expect(await broker.admin.stations.get(victim)).toMatchObject({ schema: { name: "strict" } });
    expect(await stored(victim)).toBe(before);
  });

  it("a forged Nats-Request-Info header does not make it the operator", async () => {
    const h = natsHeaders();
    h.set("Nats-Request-Info", JSON.stringify({ acc: "MEMPHIS", user: "memphis" }));
    const r = await hostile.request("$memphis_station_destructions", json({ station_name: victim }), { headers: h, timeout: 5000 });
    expect(dec.decode(r.data)).toMatch(/user 'mallory' may not administer/);
    expect(await broker.admin.stations.get(victim)).toMatchObject({ name: victim });
  });

  it("a publish that asks no answer stores nothing; one whose answer is aimed into the broker is answered in the Memphis account", async () => {
    const before = await stored(own);
    const victimBefore = await stored(victim);
    hostile.publish(`${own}$1.final`, enc.encode("dropped: no reply"));
    // Through the import the gateway sees an `_R_.` reply; the answer lands in the Memphis account.
    hostile.publish(`${own}$1.final`, enc.encode("stored: its answer goes to the Memphis account"), { reply: subjects.stationMsg(victim) });
    const ok = JSON.parse(dec.decode((await hostile.request(`${own}$1.final`, enc.encode("stored"), { timeout: 5000 })).data)) as {
      seq: number;
    };
    expect(ok).toMatchObject({ stream: `${own}$1`, duplicate: false });
    expect(await stored(own)).toBe(before + 2);
    expect(await stored(victim)).toBe(victimBefore);
    const seen: string[] = [];
    const c = await broker.admin.consumer({
      station: own,
      group: "inspect",
      startPosition: { kind: "sequence", seq: before + 1 },
      maxMessages: 2,
    });
    for await (const m of c) {
      seen.push(m.text());
      m.ack();
    }
    expect(seen).toEqual(["stored: its answer goes to the Memphis account", "stored"]);
  });
});

describe("replies aimed into the broker", () => {
  it("JetStream's and the gateway's replies aimed at a station, KV or the DLS land in the Memphis account, not in the broker", async () => {
    const before = await stored(victim);
    const stream = subjects.stationStream(own);
    for (const reply of [subjects.stationMsg(victim), "$KV.jn_stations.victim", subjects.dls(victim, "poison", "billing")]) {
      hostile.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.g`, json({ batch: 1, no_wait: true }), { reply });
      hostile.publish(`$JS.API.CONSUMER.INFO.${own}$1.g`, enc.encode(""), { reply });
      hostile.publish("$JS.API.INFO", enc.encode(""), { reply });
      hostile.publish("$memphis_station_creations", json({ name: victim }), { reply });
    }
    // Anchor: an answer to a request sent after all of them.
    expect(JSON.parse(await answer("$JS.API.INFO", {}))).toMatchObject({ type: "io.nats.jetstream.api.v1.account_info_response" });
    expect(await stored(victim)).toBe(before);
    expect((await broker.admin.dls.stats()).total).toBe(0);
  });
});

describe("another user's traffic and groups", () => {
  it("a spy sees nothing of another Memphis user's or a Junction client's traffic, whatever it subscribes to", async () => {
    const spied: string[] = [];
    // nats-server counts `>` as covered by the allowed `*`: the deny list filters what it gets.
    for (const s of ["*", "*.*", "_INBOX.>", ">", "$JS.ACK.>", "*.final", "$memphis_station_creations"])
      hostile.subscribe(s, {
        callback: (e, m) => {
          if (!e) spied.push(m.subject);
        },
      });
    await refused(/Subscription to "\$JS\.ACK\.>"/);
    await refused(/Subscription to "\*\.final"/);
    await refused(/Subscription to "\$memphis_station_creations"/);
    // The operator works through the SDK; a Junction client works in its own account.
    await root.station({ name: "spied" });
    const p = await root.producer({ stationName: "spied", producerName: "p" });
    await p.produce({ message: Buffer.from("secret"), asyncProduce: false });
    const c = await root.consumer({ stationName: "spied", consumerName: "s1", consumerGroup: "readers" });
    for (const m of await waitFor(async () => {
      const got = await c.fetch({ batchSize: 1 });
      return got.length > 0 ? got : undefined;
    }, 20_000))
      m.ack();
    await broker.admin.producer({ station: victim }).send({ id: 7 });
    // Anchor: a push mallory may see (the schema update of a station it creates nothing on).
    await broker.admin.schemas.attach("strict", "spied");
    await waitFor(() => spied.includes("$memphis_schema_updates_spied"), 10_000);
    // Only the pushes every Memphis user gets: nothing of the operator's requests, replies,
    // produce, pulls or acks (it has an account of its own), nor of the Junction client's.
    expect(spied.filter((s) => !s.startsWith("$memphis_schema_updates_") && s !== "$memphis_sdk_clients_updates")).toEqual([]);
  });

  it("cannot terminate another group's message, nor forge its dead-letter reason", async () => {
    await root.station({ name: "ledger" });
    const p = await root.producer({ stationName: "ledger", producerName: "p" });
    await p.produce({ message: Buffer.from("entry"), asyncProduce: false });
    const c = await root.consumer({ stationName: "ledger", consumerName: "l1", consumerGroup: "books", maxAckTimeMs: 60_000 });
    const [msg] = await waitFor(async () => {
      const got = await c.fetch({ batchSize: 1 });
      return got.length > 0 ? got : undefined;
    }, 20_000);
    const ackSubject = (msg as unknown as { message: { reply: string } }).message.reply;
    expect(ackSubject).toMatch(/^\$JS\.ACK\.JN_ST_ledger\.books\./);
    // mallory terminates it (refused by the gateway), and forges a reason for it.
    hostile.publish(ackSubject, enc.encode("+TERM"));
    hostile.publish(
      "$memphis_nacked_dls",
      json({ station_name: "ledger", cg_name: "books", seq: msg!.getSequenceNumber(), error: "forged" }),
    );
    expect(JSON.parse(await answer("$JS.API.INFO", {}))).toMatchObject({ type: expect.any(String) });
    // The message is still the group's: its own member dead-letters it, with its own reason.
    (msg as Message).deadLetter("the ledger refuses it");
    const [dl] = await waitFor(async () => {
      const page = await broker.admin.dls.list({ station: "ledger" });
      return page.items.length > 0 ? page.items : undefined;
    }, 20_000);
    expect(dl).toMatchObject({ reason: "terminated", groups: ["books"], error: { message: "the ledger refuses it" } });
  });

  it("a reported client-side schema refusal is recorded only when the station's schema refuses it too", async () => {
    await broker.admin.schemas.attach("strict", own);
    const report = (data: string) =>
      hostile.publish(
        "$memphis_schemaverse_dls",
        json({
          station_name: own,
          producer: { name: "p", connection_id: "x" },
          message: { data: Buffer.from(data).toString("hex"), headers: {} },
          validation_error: "x",
        }),
      );
    report('{"id":1}'); // valid: not recorded
    report('{"id":"one"}'); // invalid: recorded
    const reportVictim = json({
      station_name: victim,
      producer: { name: "p" },
      message: { data: Buffer.from('{"id":"v"}').toString("hex"), headers: {} },
    });
    hostile.publish("$memphis_schemaverse_dls", reportVictim); // no grant: not recorded
    const list = await waitFor(async () => {
      const page = await broker.admin.dls.list({ station: own, reason: "schema" });
      return page.items.length > 0 ? page.items : undefined;
    }, 20_000);
    await waitFor(() => broker.gateway.memphis!.stats.schemaverseReports >= 3, 10_000);
    expect(list.map((d) => Buffer.from(d.payload, "base64").toString())).toEqual(['{"id":"one"}']);
    expect((await broker.admin.dls.list({ station: victim })).items).toEqual([]);
  });
});
