/**
 * Issue 14, finding 1: a member takes what it asked for. A slow but healthy member holds at most
 * its batch size and sees no message resent or dead-lettered; a SIGKILLed member's messages reach
 * another member one member timeout later, long before the ack time.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { JunctionClient, Message } from "../../sdk/index.js";

const CHILD = resolve(import.meta.dirname, "consumer-member.child.ts");
const ROOT = resolve(import.meta.dirname, "../..");

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a slow but healthy member", () => {
  it("holds at most its batch size and has nothing resent or dead-lettered, however long messages wait", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const n = 30;
    await client.producer({ station }).sendBatch(Array.from({ length: n }, (_, i) => ({ payload: { i } })));
    // 10 held, 300 ms each: the last of a batch waits ~2.7 s in the member, longer than the
    // group's 2 s ack time. The ack time runs from hand-out, and the wait is leased.
    const consumer = await client.consumer({ station, group: "slow", batchSize: 10, maxAckTimeMs: 2000, maxMsgDeliveries: 2 });
    const jsm = await broker.jsm();
    const seen: { i: number; deliveryCount: number }[] = [];
    let mostHeld = 0;
    let mostUnacked = 0;
    for await (const m of consumer) {
      mostHeld = Math.max(mostHeld, consumer.held);
      mostUnacked = Math.max(mostUnacked, (await jsm.consumers.info(`JN_ST_${station}`, "slow")).num_ack_pending);
      seen.push({ i: m.json<{ i: number }>().i, deliveryCount: m.deliveryCount });
      await sleep(300);
      m.ack();
      if (seen.length >= n) break;
    }
    expect(seen.map((x) => x.i)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(seen.every((x) => x.deliveryCount === 1)).toBe(true);
    expect(mostHeld).toBeLessThanOrEqual(10);
    // The server may count a settled message for an instant longer: it takes acks and pull
    // requests from separate queues, so a pull sent after an ack can be served before it.
    expect(mostUnacked).toBeLessThanOrEqual(20);
    const info = await waitFor(async () => {
      const g = await client.groups.get(station, "slow");
      return g.stats.unacked === 0 ? g : undefined;
    });
    expect(info.stats).toMatchObject({ redelivered: 0, deadLettered: 0, pending: 0 });
    expect((await client.dls.list({ station })).items).toEqual([]);
  });
});

describe("a crashed member", () => {
  it("loses its messages to another member one member timeout later, long before the ack time", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    // An ack time of two minutes: without leases the other member would wait that long.
    await client.groups.create(station, "g", { maxAckTimeMs: 120_000, memberTimeoutMs: 3000 });
    await client.producer({ station }).sendBatch(Array.from({ length: 20 }, (_, i) => ({ payload: { i } })));
    const u = broker.users.admin;
    const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", CHILD], {
      cwd: ROOT,
      env: {
        ...process.env,
        JN_CHILD_MEMBER: JSON.stringify({
          servers: broker.url,
          user: u.user,
          pass: u.password,
          consumer: { station, group: "g", batchSize: 5 },
        }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    const childGot: number[] = [];
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (l) => {
      const x = JSON.parse(l) as { seq?: number };
      if (x.seq !== undefined) childGot.push(x.seq);
    });
    try {
      // The child takes the first messages (its window is 5) and never acks.
      await waitFor(() => childGot.length >= 1, 45_000).catch((err: unknown) => {
        throw new Error(`the member process did not start: ${String(err)}\n${stderr}`);
      });
      const group = await waitFor(async () => {
        const g = await client.groups.get(station, "g");
        return g.stats.unacked === 5 ? g : undefined;
      });
      expect(group.stats.unacked).toBe(5);
      const killedAt = Date.now();
      child.kill("SIGKILL");
      await exited;
      // Another member gets the rest at once, and the crashed member's five one member timeout later.
      const other = await client.consumer({ station, group: "g", batchSize: 20 });
      const got = new Map<number, { at: number; deliveryCount: number }>();
      for await (const m of other as AsyncIterable<Message>) {
        got.set(m.seq, { at: Date.now() - killedAt, deliveryCount: m.deliveryCount });
        m.ack();
        if (got.size >= 20) break;
      }
      const crashed = [...new Set(childGot)];
      expect(crashed).toHaveLength(5);
      for (const seq of crashed) {
        const g = got.get(seq)!;
        expect(g.deliveryCount).toBe(2);
        // Well before the two-minute ack time (the member timeout is 3 s; generous for a busy machine).
        expect(g.at).toBeLessThan(30_000);
      }
      for (const [seq, g] of got) if (!crashed.includes(seq)) expect(g.deliveryCount).toBe(1);
      const back = Math.max(...crashed.map((seq) => got.get(seq)!.at));
      console.log(
        `a SIGKILLed member's messages reached another member ${back} ms after the kill (member timeout 3000 ms, ack time 120000 ms)`,
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
