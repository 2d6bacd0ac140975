import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { JunctionClient } from "../../sdk/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CHILD = resolve(import.meta.dirname, "streaming-member.child.ts");

let broker: TestBroker;
let client: JunctionClient;
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await broker.stop();
});

/** A member process: what it was handed (in order) and when it was first handed something. */
interface Member {
  proc: ChildProcess;
  got: number[];
  acked: number[];
  firstAt: number;
  ready: Promise<void>;
}

function member(station: string, group: string, extra: Record<string, unknown> = {}): Member {
  const proc = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", CHILD], {
    cwd: ROOT,
    env: {
      ...process.env,
      JN_MEMBER: JSON.stringify({
        url: broker.url,
        user: broker.users.app.user,
        pass: broker.users.app.password,
        station,
        group,
        ...extra,
      }),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(proc);
  const m: Member = { proc, got: [], acked: [], firstAt: 0, ready: Promise.resolve() };
  m.ready = new Promise((ok, fail) => {
    proc.once("exit", (code) => fail(new Error(`member exited with ${code}`)));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (line === "ready") return ok();
      const r = JSON.parse(line) as { got?: number; acked?: number };
      if (process.env["JN_DEBUG_MEMBERS"]) console.log(`${proc.pid} ${line}`);
      if (r.got !== undefined) {
        if (m.got.length === 0) m.firstAt = Date.now();
        m.got.push(r.got);
      }
      if (r.acked !== undefined) m.acked.push(r.acked);
    });
  });
  return m;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe("exclusive consumer group", () => {
  it("one member receives everything; another takes over, in order, when it is SIGKILLed", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const info = await client.groups.create(station, "ex", { exclusive: true, memberTimeoutMs: 2000 });
    expect(info.config.exclusive).toBe(true);
    const p = client.producer({ station });
    const send = (a: number, b: number) => p.sendBatch(range(a, b).map((n) => ({ payload: `m${n}` })));

    const a = member(station, "ex");
    await a.ready;
    await send(1, 30);
    await waitFor(() => a.got.length >= 30);
    const b = member(station, "ex");
    await b.ready;
    await send(31, 60);
    await waitFor(() => a.acked.length >= 60);
    // The group shows that a member is active.
    expect((await client.groups.get(station, "ex")).stats.activeMemberSince).toMatch(/^\d{4}-/);
    // While the first member lives, the second gets nothing, and the first got all in order.
    expect(b.got).toEqual([]);
    expect(a.got).toEqual(range(1, 60));

    await send(61, 65);
    await waitFor(() => a.got.length >= 61);
    a.proc.kill("SIGKILL");
    const killedAt = Date.now();
    await send(66, 90);
    await waitFor(() => b.got.includes(90), 30_000);
    const failoverMs = b.firstAt - killedAt;
    console.log(`exclusive failover: first message to the second member ${failoverMs} ms after SIGKILL (memberTimeoutMs 2000)`);
    // The second member starts where the first left off (what it held unacked comes again, first)
    // and keeps stream order: the first member had everything before, the second everything after.
    const firstB = b.got[0]!;
    expect(a.got).toEqual(range(1, a.got.length));
    expect(firstB).toBeLessThanOrEqual(a.got.length + 1);
    expect(firstB).toBeGreaterThan(Math.max(...a.acked));
    expect(b.got).toEqual(range(firstB, 90));
    const done = await waitFor(async () => {
      const g = await client.groups.get(station, "ex");
      return g.stats.pending === 0 && g.stats.unacked === 0 && g.stats.ackFloorSeq === 90 ? g : undefined;
    });
    expect(done.stats.ackFloorSeq).toBe(90);
    b.proc.kill("SIGKILL");
  });

  it("keeps stream order through a nak: the nak'd message comes back before later ones", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const n = 2000;
    await client.producer({ station }).sendBatch(range(1, n).map((i) => ({ payload: `m${i}` })));
    const c = await client.consumer({ station, group: "ex", exclusive: true, memberTimeoutMs: 2000 });
    const seen: number[] = [];
    let nakked = false;
    const t0 = performance.now();
    for await (const m of c) {
      seen.push(m.seq);
      if (m.seq === 3 && !nakked) {
        nakked = true;
        m.nak();
        continue;
      }
      m.ack();
      if (seen.length === n + 1) break;
    }
    console.log(`exclusive member: ${Math.round((n / (performance.now() - t0)) * 1000)} msgs/s (one message out at a time)`);
    expect(seen.slice(0, 5)).toEqual([1, 2, 3, 3, 4]);
    expect(seen.slice(4)).toEqual(range(4, n));
    await c.close();
  });

  it("exclusive is fixed at creation", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    await client.groups.create(station, "g");
    await expect(client.groups.create(station, "g", { exclusive: true })).rejects.toMatchObject({ code: "GROUP_CONFLICT" });
    await expect(client.groups.create(station, "h", { exclusive: true, memberTimeoutMs: 200 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
