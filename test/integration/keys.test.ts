import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { partitionOf, type JunctionClient } from "../../sdk/index.js";

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

interface Event {
  kind: "got" | "acking" | "acked";
  seq: number;
  key: string;
  at: number;
  member: number;
}

/** A member process; every line it prints goes into `log`. */
interface Member {
  id: number;
  proc: ChildProcess;
  ready: Promise<void>;
}

function member(id: number, station: string, group: string, log: Event[], extra: Record<string, unknown> = {}): Member {
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
  const ready = new Promise<void>((ok, fail) => {
    proc.once("exit", (code, signal) => fail(new Error(`member exited with ${code ?? signal}`)));
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (line === "ready") return ok();
      const r = JSON.parse(line) as { got?: number; acking?: number; acked?: number; key: string; at?: number };
      const at = r.at ?? Date.now();
      if (r.got !== undefined) log.push({ kind: "got", seq: r.got, key: r.key, at, member: id });
      if (r.acking !== undefined) log.push({ kind: "acking", seq: r.acking, key: r.key, at, member: id });
      if (r.acked !== undefined) log.push({ kind: "acked", seq: r.acked, key: r.key, at, member: id });
    });
  });
  ready.catch(() => {});
  return { id, proc, ready };
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

describe("ordering keys on a partitioned station", () => {
  it("4 members, 200 keys, random work, one member SIGKILLed: per-key order, every message acked once, all keys done", async () => {
    const station = uniqueName();
    const partitions = 8;
    await client.stations.create(station, { partitions });
    const info = await client.groups.create(station, "work", { memberTimeoutMs: 2000 });
    expect(info.stats.partitions).toHaveLength(partitions);

    const log: Event[] = [];
    const members = [0, 1, 2, 3].map((i) => member(i, station, "work", log, { workMs: 30 }));
    await Promise.all(members.map((m) => m.ready));

    // 200 keys, 5 messages each, keys interleaved in a different order every round.
    const keys = Array.from({ length: 200 }, (_, i) => `customer-${i}`);
    const rounds = 5;
    const position = new Map<number, { key: string; n: number }>();
    const producer = client.producer({ station });
    for (let n = 0; n < rounds; n++) {
      const batch = shuffle([...keys]).map((key) => ({ payload: { key, n }, key }));
      const out = await producer.sendBatch(batch);
      out.forEach((o, i) => {
        if (!o.ok) throw o.error;
        position.set(o.seq, { key: batch[i]!.key, n });
      });
    }
    const total = keys.length * rounds;
    expect(position.size).toBe(total);
    // JN_DEBUG_MEMBERS=1: who holds each partition (pin/waiting/pending), twice a second.
    const dbg = setInterval(() => {
      if (!process.env["JN_DEBUG_MEMBERS"]) return;
      void client.groups
        .get(station, "work")
        .then((g) =>
          console.log(
            new Date().toISOString().slice(17, 23),
            g.stats.partitions!.map((p) => `${(p.member ?? "-").slice(-4)}/${p.waiting}/${p.pending}`).join(" "),
          ),
        );
    }, 500);

    // Kill a member that holds work, a while into the run.
    await waitFor(() => log.filter((e) => e.kind === "acked").length >= 250, 60_000);
    const busy = new Set(log.filter((e) => e.kind === "got").map((e) => e.member));
    const victim = members.find((m) => busy.has(m.id))!;
    victim.proc.kill("SIGKILL");
    const killedAt = Date.now();

    const acked = () => new Set(log.filter((e) => e.kind === "acked").map((e) => e.seq));
    const victimAcking = () => new Set(log.filter((e) => e.kind === "acking" && e.member === victim.id).map((e) => e.seq));
    await waitFor(() => {
      const a = acked();
      for (const s of victimAcking()) a.add(s);
      return a.size === total;
    }, 120_000);
    const done = await waitFor(async () => {
      const g = await client.groups.get(station, "work");
      return g.stats.pending === 0 && g.stats.unacked === 0 ? g : undefined;
    });
    expect(done.stats.partitions!.every((p) => p.pending === 0 && p.unacked === 0)).toBe(true);

    // Per key: message n is handed out only after message n-1 was being acked (the server cannot
    // deliver it before that ack), and the key's messages are handed out in order.
    const byKey = new Map<string, Event[]>();
    for (const e of log) {
      if (e.kind === "acked") continue;
      const list = byKey.get(e.key) ?? [];
      list.push(e);
      byKey.set(e.key, list);
    }
    expect(byKey.size).toBe(keys.length);
    let redeliveries = 0;
    for (const [key, events] of byKey) {
      const lastAcking = new Map<number, number>();
      for (const e of events)
        if (e.kind === "acking") lastAcking.set(position.get(e.seq)!.n, Math.min(lastAcking.get(position.get(e.seq)!.n) ?? Infinity, e.at));
      const got = events.filter((e) => e.kind === "got").sort((a, b) => a.at - b.at);
      let highest = -1;
      for (const e of got) {
        const p = position.get(e.seq)!;
        expect(p.key, `seq ${e.seq}`).toBe(key);
        // Never a later message of the key before an earlier one was being acked.
        if (p.n > 0)
          expect(lastAcking.get(p.n - 1), `${key}#${p.n} handed out before ${key}#${p.n - 1} was acked`).toBeLessThanOrEqual(e.at);
        if (p.n <= highest) redeliveries++;
        highest = Math.max(highest, p.n);
      }
      expect(highest).toBe(rounds - 1);
    }

    // Acked exactly once: no message's ack was confirmed twice.
    const confirmed = log.filter((e) => e.kind === "acked").map((e) => e.seq);
    expect(new Set(confirmed).size).toBe(confirmed.length);

    // Parallel: the partitions were spread over the members, and the survivors took the victim's.
    const handedTo = new Set(log.filter((e) => e.kind === "got").map((e) => e.member));
    expect(handedTo.size).toBeGreaterThanOrEqual(3);
    const after = new Set(log.filter((e) => e.kind === "got" && e.at > killedAt + 100).map((e) => e.member));
    expect(after.has(victim.id)).toBe(false);
    console.log(
      `keyed: ${total} messages, ${keys.length} keys, ${partitions} partitions; handed out per member ${JSON.stringify(
        [0, 1, 2, 3].map((i) => log.filter((e) => e.kind === "got" && e.member === i).length),
      )}; ${redeliveries} redeliveries after the SIGKILL; last ack ${Date.now() - killedAt} ms after it`,
    );
    clearInterval(dbg);
    for (const m of members) if (m.proc.exitCode === null) m.proc.kill("SIGKILL");
  }, 180_000);

  it("a poison message parks only its key (other keys of its partition flow); it becomes a dead letter, its key goes on, and a resend reaches its partition", async () => {
    const station = uniqueName();
    const partitions = 4;
    await client.stations.create(station, { partitions });
    const c = await client.consumer({ station, group: "g", maxMsgDeliveries: 3, memberTimeoutMs: 2000 });
    const producer = client.producer({ station });
    const bad = "poison-key";
    const badPart = partitionOf(bad, partitions);
    const first = await producer.send({ n: 0 }, { key: bad });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const others = await producer.sendBatch(keys.flatMap((key) => [0, 1, 2].map((n) => ({ payload: { n }, key }))));
    const second = await producer.send({ n: 1 }, { key: bad });
    // Every other key's messages, those sharing the poison key's partition included.
    const elsewhere = new Set(others.flatMap((o) => (o.ok ? [o.seq] : [])));
    const samePartition = others.filter((o, i) => o.ok && partitionOf(keys[Math.floor(i / 3)]!, partitions) === badPart);
    expect(samePartition.length).toBeGreaterThan(0);

    const ackedAt = new Map<number, number>();
    const badDeliveries: number[] = [];
    let resentSeen: string | undefined;
    let secondAt = 0;
    let lastBadAt = 0;
    const run = (async () => {
      for await (const m of c) {
        if (m.key === bad && m.seq === first.seq) {
          badDeliveries.push(Date.now());
          lastBadAt = Date.now();
          m.nak(400);
          continue;
        }
        if (m.key === bad && m.headers["Jn-Resent-From"]) resentSeen = m.headers["Jn-Resent-From"];
        if (m.seq === second.seq) secondAt = Date.now();
        ackedAt.set(m.seq, Date.now());
        m.ack();
      }
    })();

    // Every other key finishes — on the poison key's partition too — while it is still being retried.
    await waitFor(() => [...elsewhere].every((s) => ackedAt.has(s)), 30_000);
    const othersDoneAt = Math.max(...[...elsewhere].map((s) => ackedAt.get(s)!));
    const dl = await waitFor(async () => (await client.dls.list({ station, group: "g" })).items[0], 30_000);
    expect(othersDoneAt).toBeLessThan(lastBadAt);
    expect(badDeliveries).toHaveLength(3);
    expect(dl.reason).toBe("poison");
    expect(dl.groups).toEqual(["g"]);
    expect(dl.seq).toBe(first.seq);
    expect(dl.headers["Jn-Key"]).toBe(bad);
    expect(dl.error?.details?.["partition"]).toBe(badPart);
    // The key goes on once its poison message is a dead letter (it does not wait for a resend).
    await waitFor(() => secondAt > 0, 15_000);
    expect(secondAt).toBeGreaterThanOrEqual(lastBadAt);
    // Everything else got through too.
    for (const o of others) if (o.ok) expect(ackedAt.has(o.seq)).toBe(true);

    // A resend goes back to the group, on the partition's own consumer, with its key.
    expect(await client.dls.resend({ id: dl.id })).toEqual({ resent: 1, failed: 0 });
    await waitFor(() => resentSeen === dl.id, 15_000);
    const g = await waitFor(async () => {
      const x = await client.groups.get(station, "g");
      return x.stats.pending === 0 && x.stats.unacked === 0 ? x : undefined;
    });
    expect(g.stats.partitions).toHaveLength(partitions);
    await c.close();
    await run;
  }, 90_000);

  it("group info shows a key being retried while its later messages wait and the other keys flow", async () => {
    const station = uniqueName();
    await client.stations.create(station, { partitions: 2 });
    const c = await client.consumer({ station, group: "g", maxMsgDeliveries: 1000, memberTimeoutMs: 2000 });
    const producer = client.producer({ station });
    // Three keys on the same partition: one stuck, its later message, and another key.
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
    const stuck = keys[0]!;
    const other = keys.find((k) => k !== stuck && partitionOf(k, 2) === partitionOf(stuck, 2))!;
    const first = await producer.send({ n: 1 }, { key: stuck });
    const later = await producer.send({ n: 2 }, { key: stuck });
    const flowing = await producer.send({ n: 3 }, { key: other });
    const acked: number[] = [];
    let release = false;
    const run = (async () => {
      for await (const m of c) {
        if (m.seq === first.seq && !release) {
          m.nak(300);
          continue;
        }
        acked.push(m.seq);
        m.ack();
      }
    })();
    const info = await waitFor(async () => {
      const g = await client.groups.get(station, "g");
      return g.stats.members?.some((m) => m.retrying?.includes(stuck)) ? g : undefined;
    }, 15_000);
    expect(info.stats.members!.flatMap((m) => m.retrying ?? [])).toEqual([stuck]);
    await waitFor(() => acked.includes(flowing.seq), 10_000);
    expect(acked).not.toContain(later.seq);
    // It goes through: the key's later message follows, in order.
    release = true;
    await waitFor(() => acked.includes(later.seq), 15_000);
    expect(acked.indexOf(first.seq)).toBeLessThan(acked.indexOf(later.seq));
    await waitFor(async () => !(await client.groups.get(station, "g")).stats.members?.some((m) => m.retrying?.length), 15_000);
    await c.close();
    await run;
    await producer.close();
  }, 60_000);

  it("an onMessage handler on a keyed station: naks and acks from inside the handler keep each key in order", async () => {
    const station = uniqueName();
    await client.stations.create(station, { partitions: 2 });
    const producer = client.producer({ station });
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const sent = await producer.sendBatch(Array.from({ length: 400 }, (_, i) => ({ payload: { n: i }, key: keys[i % keys.length]! })));
    const acked: { seq: number; key: string }[] = [];
    const c = await client.consumer({
      station,
      group: "g",
      onMessage: (m) => {
        // Every message is refused once, then acked: each key's order must hold through it.
        if (m.deliveryCount === 1) m.nak();
        else {
          acked.push({ seq: m.seq, key: m.key! });
          m.ack();
        }
      },
    });
    await waitFor(() => acked.length === sent.length, 30_000);
    for (const k of keys) {
      const seqs = acked.filter((a) => a.key === k).map((a) => a.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(new Set(acked.map((a) => a.seq)).size).toBe(sent.length);
    await c.close();
    await producer.close();
  }, 60_000);

  it("a joining member gets its share and a leaving member's partitions move at once, long before the member timeout", async () => {
    const station = uniqueName();
    const partitions = 4;
    await client.stations.create(station, { partitions });
    // A minute of member timeout: a partition that moved only through the server's pin timeout
    // would stall this test for a minute; hand-overs unpin instead.
    await client.groups.create(station, "g", { memberTimeoutMs: 60_000 });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const total = 800;
    const producer = client.producer({ station });
    const sent = await producer.sendBatch(Array.from({ length: total }, (_, i) => ({ payload: { n: i }, key: keys[i % keys.length]! })));
    expect(sent.every((o) => o.ok)).toBe(true);

    const acked = new Map<number, string>();
    const lastPerKey = new Map<string, number>();
    const outOfOrder: string[] = [];
    const run = (name: string, c: Awaited<ReturnType<JunctionClient["consumer"]>>) =>
      (async () => {
        for await (const m of c) {
          await new Promise((r) => setTimeout(r, 5));
          const key = m.key!;
          if ((lastPerKey.get(key) ?? 0) > m.seq) outOfOrder.push(`${key}: ${m.seq} after ${lastPerKey.get(key)}`);
          lastPerKey.set(key, m.seq);
          m.ack();
          if (acked.has(m.seq)) outOfOrder.push(`${m.seq} acked twice`);
          acked.set(m.seq, name);
        }
      })();
    const a = await client.consumer({ station, group: "g" });
    const runA = run("a", a);
    await waitFor(() => a.partitions.length === partitions, 15_000);
    const other = await broker.client();
    const b = await other.consumer({ station, group: "g" });
    const joinedAt = Date.now();
    const runB = run("b", b);
    // b takes two partitions, a keeps two: both read.
    await waitFor(() => b.partitions.length === 2 && a.partitions.length === 2, 15_000);
    await waitFor(() => [...acked.values()].includes("b"), 15_000);
    const joinMs = Date.now() - joinedAt;
    // Group info counts both members (each waits only on its own partitions) and says who reads what.
    const info = await waitFor(async () => {
      const g = await client.groups.get(station, "g");
      return g.stats.members?.length === 2 && g.stats.members.every((m) => m.partitions.length === 2) ? g : undefined;
    }, 15_000);
    expect(info.stats.membersOnline).toBe(2);
    expect(new Set(info.stats.partitions!.map((p) => p.assignedTo))).toEqual(new Set(info.stats.members!.map((m) => m.id)));
    // a leaves: its partitions go to b at once.
    const beforeLeave = acked.size;
    expect(beforeLeave).toBeLessThan(total);
    const leftAt = Date.now();
    await a.close();
    await runA;
    await waitFor(() => b.partitions.length === partitions, 15_000);
    const leaveMs = Date.now() - leftAt;
    await waitFor(async () => (await client.groups.get(station, "g")).stats.members?.length === 1, 15_000);
    await waitFor(() => acked.size === total, 30_000);
    expect(outOfOrder).toEqual([]);
    expect([...sent].every((o) => o.ok && acked.has(o.seq))).toBe(true);
    console.log(`hand-over: joined and read in ${joinMs} ms, took the leaver's partitions in ${leaveMs} ms (member timeout 60,000 ms)`);
    await b.close();
    await runB;
    await other.close();
  }, 90_000);

  it("partitions grow on a drained station: running members read the new partitions; unread messages refuse growth unless forced", async () => {
    const station = uniqueName();
    await client.stations.create(station, { partitions: 2 });
    await client.groups.create(station, "g", { memberTimeoutMs: 2000 });
    // Members as a user allowed to consume as exactly this group: each partition's consumer is
    // granted by name at connect, so a member must renew its connection to read new partitions.
    const user = uniqueName("member");
    const made = await client.users.create({ name: user, grants: { produce: [station], consume: [`${station}:g`] } });
    const producer = client.producer({ station });
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const before = await producer.sendBatch(Array.from({ length: 40 }, (_, i) => ({ payload: { n: i }, key: keys[i]! })));
    // Unread messages: growing now would let a key's new messages overtake them.
    const refused = await client.stations.update(station, { partitions: 4 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "STATION_UPDATE_REFUSED", details: { from: 2, to: 4, unread: [{ group: "g", pending: 40 }] } });

    const seen = new Map<number, string>();
    const lastPerKey = new Map<string, number>();
    const problems: string[] = [];
    const apps = [await broker.client({ user, pass: made.password! }), await broker.client({ user, pass: made.password! })];
    const members = await Promise.all(apps.map((a) => a.consumer({ station, group: "g" })));
    const loops = members.map((m) =>
      (async () => {
        for await (const x of m) {
          const key = x.key!;
          if ((lastPerKey.get(key) ?? 0) > x.seq) problems.push(`${key}: ${x.seq} after ${lastPerKey.get(key)}`);
          lastPerKey.set(key, x.seq);
          if (seen.has(x.seq)) problems.push(`${x.seq} twice`);
          seen.set(x.seq, x.subject);
          x.ack();
        }
      })(),
    );
    await waitFor(() => before.every((o) => o.ok && seen.has(o.seq)), 20_000);
    await waitFor(async () => (await client.groups.get(station, "g")).stats.unacked === 0, 10_000);
    // Drained: it grows, every group gets the new partitions' consumers, running members read them.
    const grown = await client.stations.update(station, { partitions: 4 });
    expect(grown.config.partitions).toBe(4);
    const after = await producer.sendBatch(Array.from({ length: 200 }, (_, i) => ({ payload: { n: i }, key: keys[i % 40]! })));
    await waitFor(() => after.every((o) => o.ok && seen.has(o.seq)), 30_000);
    expect(problems).toEqual([]);
    const parts = new Set(after.map((o) => (o.ok ? seen.get(o.seq)!.split(".").pop() : "")));
    expect(parts).toEqual(new Set(["0", "1", "2", "3"]));
    const info = await client.groups.get(station, "g");
    expect(info.stats.partitions).toHaveLength(4);
    await waitFor(async () => {
      const g = await client.groups.get(station, "g");
      return g.stats.members?.length === 2 && g.stats.members.every((m) => m.partitions.length === 2);
    }, 15_000);
    for (const m of members) await m.close();
    await Promise.all(loops);
    for (const a of apps) await a.close();

    // Shrinking is refused; force grows a station with unread messages anyway.
    await expect(client.stations.update(station, { partitions: 3 })).rejects.toMatchObject({ code: "STATION_UPDATE_REFUSED" });
    await producer.send({ n: 1 }, { key: "k1" });
    const forced = await client.stations.update(station, { partitions: 6 }, { force: true });
    expect(forced.config.partitions).toBe(6);
    expect((await client.groups.get(station, "g")).stats.partitions).toHaveLength(6);
    await producer.close();
  }, 120_000);

  it("refuses bad keys, a change of partitions and exclusive groups on a partitioned station", async () => {
    const station = uniqueName();
    await client.stations.create(station, { partitions: 3 });
    const p = client.producer({ station });
    await expect(p.send("x", { key: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(p.send("x", { key: "a".repeat(300) })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(client.stations.update(station, { partitions: 2 })).rejects.toMatchObject({ code: "STATION_UPDATE_REFUSED" });
    const whole = uniqueName();
    await client.stations.create(whole);
    await expect(client.stations.update(whole, { partitions: 4 })).rejects.toMatchObject({
      code: "STATION_UPDATE_REFUSED",
      message: expect.stringMatching(/one ordered stream/) as string,
    });
    await expect(client.stations.create(uniqueName(), { partitions: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(client.groups.create(station, "ex", { exclusive: true })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    // A key is stored with the message and lands in its partition's subject.
    const r = await p.send({ a: 1 }, { key: "order-7" });
    const c = await client.consumer({ station, group: "look" });
    for await (const m of c) {
      expect(m.seq).toBe(r.seq);
      expect(m.key).toBe("order-7");
      expect(m.subject).toBe(`jn.st.${station}.part.${partitionOf("order-7", 3)}`);
      m.ack();
      break;
    }
  });
});
