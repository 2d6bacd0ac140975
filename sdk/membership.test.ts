import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_MEMBERS, Membership, assignPartitions, type PresenceBus } from "./membership.js";
import type { RawMessage } from "./transport.js";

const enc = new TextEncoder();
const SUBJECT = "jn.members.JN_ST_orders.work";

/** A bus that delivers every publish to every subscriber of the subject, synchronously. */
class Bus implements PresenceBus {
  readonly subs = new Map<string, Set<(m: RawMessage) => void>>();
  published = 0;
  publish(subject: string, data: Uint8Array): void {
    this.published++;
    for (const s of [...(this.subs.get(subject) ?? [])]) s({ subject, data });
  }
  subscribe(subject: string, on: (m: RawMessage) => void): () => void {
    const set = this.subs.get(subject) ?? new Set();
    set.add(on);
    this.subs.set(subject, set);
    return () => set.delete(on);
  }
  raw(body: unknown): void {
    this.publish(SUBJECT, enc.encode(typeof body === "string" ? body : JSON.stringify(body)));
  }
}

let clock = 0;
const now = () => clock;

function member(bus: Bus, id: string, partitions = 8) {
  const owned: { now: number[] } = { now: [] };
  const m = new Membership(bus, { subject: SUBJECT, id, partitions, heartbeatMs: 100, expiryMs: 1000, settleMs: 50, now }, (o) => {
    owned.now = [...o].sort((a, b) => a - b);
  });
  return { m, owned };
}

/** The clock moves `ms` in heartbeats of 100 ms, each with its tick. */
function ticks(m: Membership, ms: number): void {
  for (let t = 0; t < ms; t += 100) {
    clock += 100;
    m.tick();
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  clock = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe("assignPartitions", () => {
  it("gives every partition to exactly one member, evenly, whatever order the members are listed in", () => {
    for (const [n, p] of [
      [1, 8],
      [3, 8],
      [4, 8],
      [5, 3],
      [8, 8],
      [7, 256],
    ] as const) {
      const ids = Array.from({ length: n }, (_, i) => `m${(i * 7919) % 101}`);
      const shares = ids.map((id) => assignPartitions([...ids].reverse(), p, id));
      expect(shares.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: p }, (_, i) => i));
      const sizes = shares.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      // Another member's view (its own id listed once or twice) gives the same answer.
      expect(assignPartitions(ids, p, ids[0]!)).toEqual(assignPartitions([ids[0]!, ...ids], p, ids[0]!));
    }
  });
});

describe("Membership", () => {
  it("members joining at once learn of one another within the settle time and share the partitions out", () => {
    const bus = new Bus();
    const ms = ["a", "b", "c", "d"].map((id) => member(bus, id));
    for (const x of ms) x.m.start();
    expect(ms.every((x) => x.owned.now.length === 0)).toBe(true); // nothing taken before settling
    vi.advanceTimersByTime(50);
    expect(ms.map((x) => x.owned.now)).toEqual([
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ]);
    expect(ms[0]!.m.members).toEqual(["a", "b", "c", "d"]);
  });

  it("a newcomer is answered at once; a member saying bye is dropped at once; a silent one after the expiry", () => {
    const bus = new Bus();
    const a = member(bus, "a");
    a.m.start();
    vi.advanceTimersByTime(50);
    expect(a.owned.now).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const b = member(bus, "b");
    b.m.start();
    // a answered b's hello, so b knows a before it settles, and a gave up half at once.
    expect(a.owned.now).toEqual([0, 2, 4, 6]);
    vi.advanceTimersByTime(50);
    expect(b.owned.now).toEqual([1, 3, 5, 7]);
    b.m.stop();
    expect(a.owned.now).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // A member that goes silent (crashed: no beat, no bye) is dropped once not heard for the
    // expiry, not before.
    bus.raw({ id: "c", kind: "beat" });
    expect(a.owned.now).toEqual([0, 2, 4, 6]);
    ticks(a.m, 1000);
    expect(a.owned.now).toEqual([0, 2, 4, 6]);
    clock += 1;
    a.m.tick();
    expect(a.owned.now).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(a.m.members).toEqual(["a"]);
  });

  it("back from a stall of its own process, a member does not declare the others gone on that tick", () => {
    const bus = new Bus();
    const a = member(bus, "a");
    a.m.start();
    vi.advanceTimersByTime(50);
    bus.raw({ id: "b", kind: "beat" });
    expect(a.owned.now).toEqual([0, 2, 4, 6]);
    // The process was stalled for 5 s: b's heartbeats of that time are still queued.
    clock += 5000;
    a.m.tick();
    expect(a.owned.now).toEqual([0, 2, 4, 6]);
    bus.raw({ id: "b", kind: "beat" });
    clock += 100;
    a.m.tick();
    expect(a.owned.now).toEqual([0, 2, 4, 6]);
    // Silent for real (its last beat 100 ms ago): gone once the expiry (1 s) has passed.
    ticks(a.m, 800);
    expect(a.owned.now).toEqual([0, 2, 4, 6]);
    ticks(a.m, 200);
    expect(a.owned.now).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("ignores garbage, its own id and oversized ids; a flood of ids stays bounded; hellos are not answered one by one", () => {
    const bus = new Bus();
    const a = member(bus, "a");
    a.m.start();
    vi.advanceTimersByTime(50);
    for (const junk of ["not json", "null", "42", JSON.stringify({ id: 7, kind: "beat" }), JSON.stringify({ id: "x", kind: "shout" })])
      bus.raw(junk);
    bus.raw({ id: "a", kind: "bye" });
    bus.raw({ id: "x".repeat(65), kind: "beat" });
    expect(a.m.members).toEqual(["a"]);
    expect(a.owned.now).toHaveLength(8);
    // Each new id is answered once; past the bound new ids are ignored, and a known id saying
    // hello again and again is answered at most once while the clock stands still.
    let before = bus.published;
    for (let i = 0; i < MAX_MEMBERS + 100; i++) bus.raw({ id: `h${i}`, kind: "hello" });
    // (plus one beat each time its own share changed: at most once per partition here)
    const answers = bus.published - before - (MAX_MEMBERS + 100);
    expect(answers).toBeGreaterThanOrEqual(MAX_MEMBERS);
    expect(answers).toBeLessThanOrEqual(MAX_MEMBERS + 8);
    expect(a.m.members).toHaveLength(MAX_MEMBERS + 1);
    before = bus.published;
    for (let i = 0; i < 1000; i++) bus.raw({ id: "h1", kind: "hello" });
    expect(bus.published - before - 1000).toBeLessThanOrEqual(1);
  });

  it("a member that does not listen (one-partition station) only announces itself: hello, beats, bye, and nobody's heartbeats", () => {
    const bus = new Bus();
    const heard: string[] = [];
    bus.subscribe(SUBJECT, (msg) => heard.push((JSON.parse(new TextDecoder().decode(msg.data)) as { kind: string }).kind));
    const changes: number[][] = [];
    const m = new Membership(
      bus,
      { subject: SUBJECT, id: "solo", partitions: 0, heartbeatMs: 100, expiryMs: 1000, settleMs: 50, now, listen: false },
      (o) => changes.push([...o]),
    );
    m.start();
    expect(bus.subs.get(SUBJECT)?.size).toBe(1); // only the test's own subscription
    const other = member(bus, "other");
    other.m.start(); // its hello is not answered by the silent member
    expect(heard.filter((k) => k === "beat")).toHaveLength(0);
    ticks(m, 300);
    m.stop();
    m.stop();
    expect(heard.filter((k) => k === "hello")).toHaveLength(2);
    expect(heard.filter((k) => k === "beat")).toHaveLength(3);
    expect(heard.filter((k) => k === "bye")).toHaveLength(1);
    expect(changes).toEqual([]);
    other.m.stop();
  });
});
