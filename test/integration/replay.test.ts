import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCli, type CliResult } from "../harness/cli.js";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { type JunctionClient, type Message } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;
let junction: (...args: string[]) => Promise<CliResult>;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
  junction = await adminCli(broker);
});
afterAll(async () => {
  await broker.stop();
});

/** A member that runs in the background, acking everything and recording the sequences it saw. */
async function member(station: string, group: string, o: { startPosition?: { kind: "latest" } } = {}) {
  const seen: number[] = [];
  const c = await client.consumer({
    station,
    group,
    ...o,
    onMessage: (m: Message) => {
      seen.push(m.seq);
      m.ack();
    },
  });
  return { seen, close: () => c.close() };
}

async function seeded(n: number): Promise<string> {
  const station = uniqueName();
  await client.stations.create(station);
  const r = await client.producer({ station }).sendBatch(Array.from({ length: n }, (_, i) => ({ payload: `m${i + 1}` })));
  expect(r.every((x) => x.ok)).toBe(true);
  return station;
}

describe("group reset (replay)", () => {
  it("a running member re-reads from a sequence, then skips to the latest", async () => {
    const station = await seeded(10);
    const m = await member(station, "g");
    await waitFor(() => m.seen.length === 10);
    const r = await client.groups.reset(station, "g", { seq: 4 });
    expect(r.resetSeq).toBe(4);
    await waitFor(() => m.seen.length === 17);
    expect(m.seen.slice(10)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    // Past the end: nothing is pending; new messages still arrive.
    const l = await client.groups.reset(station, "g", { latest: true });
    expect(l.resetSeq).toBe(11);
    expect(l.stats.pending).toBe(0);
    await client.producer({ station }).send("m11");
    await waitFor(() => m.seen.length === 18);
    expect(m.seen[17]).toBe(11);
    await m.close();
  });

  it("to a time: from the first message stored at or after it", async () => {
    const station = await seeded(3);
    await new Promise((r) => setTimeout(r, 50));
    const mark = new Date();
    await new Promise((r) => setTimeout(r, 50));
    await client.producer({ station }).sendBatch([{ payload: "m4" }, { payload: "m5" }]);
    const m = await member(station, "g");
    await waitFor(() => m.seen.length === 5);
    const r = await client.groups.reset(station, "g", { time: mark });
    expect(r.resetSeq).toBe(4);
    await waitFor(() => m.seen.length === 7);
    expect(m.seen.slice(5)).toEqual([4, 5]);
    await m.close();
  });

  it("a group that started at the latest message can still be rewound to the beginning", async () => {
    const station = await seeded(3);
    const m = await member(station, "late", { startPosition: { kind: "latest" } });
    await client.producer({ station }).send("m4");
    await waitFor(() => m.seen.length === 1);
    expect(m.seen).toEqual([4]);
    await client.groups.reset(station, "late", { seq: 1 });
    await waitFor(() => m.seen.length === 5);
    expect(m.seen.slice(1)).toEqual([1, 2, 3, 4]);
    await m.close();
  });

  it("a group whose creation was cut short (left paused) is made again from its start", async () => {
    const station = await seeded(3);
    const jsm = await broker.jsm();
    const stream = `JN_ST_${station}`;
    // What a gateway that died between creating and resuming the consumer leaves behind.
    await jsm.consumers.add(stream, {
      durable_name: "late",
      ack_policy: "explicit",
      deliver_policy: "all",
      pause_until: new Date(Date.now() + 3_600_000).toISOString(),
    } as never);
    const m = await member(station, "late", { startPosition: { kind: "latest" } });
    await client.producer({ station }).send("m4");
    await waitFor(() => m.seen.length === 1);
    expect(m.seen).toEqual([4]);
    await m.close();
  });

  it("is checked like the other group operations", async () => {
    const station = await seeded(1);
    await client.groups.create(station, "g");
    await expect(client.groups.reset(station, "nope", { latest: true })).rejects.toMatchObject({ code: "GROUP_NOT_FOUND" });
    await expect(client.groups.reset(station, "g", { seq: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(client.groups.reset(station, "g", { time: "yesterday" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const user = uniqueName("other");
    await client.users.create({
      name: user,
      password: "a-long-enough-password",
      grants: { produce: [], consume: [`${station}:h`], admin: false },
    });
    const other = await broker.client({ user, pass: "a-long-enough-password" });
    await expect(other.groups.reset(station, "g", { latest: true })).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
  });

  it("junction group reset --to-seq | --to-time | --to-latest", async () => {
    const station = await seeded(5);
    const m = await member(station, "g");
    await waitFor(() => m.seen.length === 5);
    const bySeq = await junction("group", "reset", station, "g", "--to-seq", "5");
    expect(bySeq).toMatchObject({ code: 0 });
    expect(bySeq.out).toContain("now reads from seq 5");
    await waitFor(() => m.seen.length === 6);
    const latest = await junction("group", "reset", station, "g", "--to-latest", "--json");
    expect(JSON.parse(latest.out)).toMatchObject({ resetSeq: 6, stats: { pending: 0 } });
    const byTime = await junction("group", "reset", station, "g", "--to-time", new Date(0).toISOString());
    expect(byTime.code).toBe(0);
    await waitFor(() => m.seen.length === 11);
    expect((await junction("group", "reset", station, "g")).code).not.toBe(0);
    expect((await junction("group", "reset", station, "g", "--to-seq", "1", "--to-latest")).err).toContain("exactly one");
    await m.close();
  });
});
