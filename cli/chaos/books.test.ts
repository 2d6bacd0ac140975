import { describe, expect, it } from "vitest";
import { Books, MessageKind, backAfter } from "./books.js";

const d = (atMs: number, deliveryCount: number, member = "member-1") => ({ atMs, member, deliveryCount, seq: 1 });

describe("Books", () => {
  it("counts a clean run: every message acked, stored once, consumed once", () => {
    const b = new Books();
    for (let n = 0; n < 10; n++) {
      b.sent(`m-${n}`, MessageKind.Normal, n % 2, n * 10);
      b.acked(`m-${n}`, n * 10 + 5, false);
      b.delivered(`m-${n}`, d(n * 10 + 7, 1), true);
      b.stored(`m-${n}`, n + 1);
    }
    const s = b.summarize();
    expect(s).toMatchObject({ sent: 10, acked: 10, stored: 10, streamEntries: 10, consumed: 10, deliveries: 10, lost: 0, storedTwice: 0 });
    expect(s.endToEndMs).toEqual({ p50: 7, p99: 7, max: 7 });
  });

  it("judges per-key order by hand-out time: a step back counts unless an ack-losing fault began between", () => {
    const b = new Books();
    const keyed = (id: string, key: string, seq: number) => {
      b.sent(id, MessageKind.Normal, 0, 0, key);
      b.acked(id, 1, false);
      b.stored(id, seq);
    };
    keyed("a1", "a", 1);
    keyed("a2", "a", 2);
    keyed("b3", "b", 3);
    keyed("b4", "b", 4);
    const at = (atMs: number, seq: number) => ({ atMs, member: "member-1", deliveryCount: 1, seq });
    // Key a: 1, 2, then 1 again at 30 with a break at 25 (a member killed after its ack of 1 left), then 2: fine.
    b.delivered("a1", at(10, 1), true);
    b.delivered("a2", at(20, 2), true);
    b.delivered("a1", at(30, 1), true);
    b.delivered("a2", at(40, 2), true);
    // Key b: 4 handed out before 3, no fault between: broken; the same order with a key-less message is not judged.
    b.delivered("b4", at(12, 4), true);
    b.delivered("b3", at(14, 3), true);
    b.sent("plain", MessageKind.Normal, 0, 0);
    b.acked("plain", 1, false);
    b.stored("plain", 5);
    b.delivered("plain", at(16, 5), true);
    const s = b.summarize([25]);
    expect(s.keyOrderBroken).toBe(1);
    expect(s.examples["keyOrder"]).toEqual(["b: b3 (seq 3) after seq 4"]);
    // Without the break, key a's step back counts too.
    expect(b.summarize([]).keyOrderBroken).toBe(2);
    // A break before the later hand-out does not explain it.
    expect(b.summarize([15]).keyOrderBroken).toBe(2);
  });

  it("finds lost messages: acked but not stored, and stored but never consumed", () => {
    const b = new Books();
    b.sent("a", MessageKind.Normal, 0, 0);
    b.acked("a", 1, false);
    b.sent("b", MessageKind.Normal, 0, 0);
    b.acked("b", 1, false);
    b.stored("b", 1);
    // Not acked (failed), not stored: not lost, the producer was told.
    b.sent("c", MessageKind.Normal, 0, 0);
    b.failed("c", 1, "TIMEOUT");
    const s = b.summarize();
    expect(s).toMatchObject({ lost: 2, lostNotStored: 1, lostNotConsumed: 1, failed: 1, failedByCode: { TIMEOUT: 1 } });
    expect(s.examples["lostNotStored"]).toEqual(["a"]);
    expect(s.examples["lostNotConsumed"]).toEqual(["b"]);
  });

  it("finds messages stored twice, stored though reported failed, and entries nobody sent", () => {
    const b = new Books();
    b.sent("a", MessageKind.Normal, 0, 0);
    b.acked("a", 1, false);
    b.stored("a", 1);
    b.stored("a", 2);
    b.delivered("a", d(3, 1), true);
    b.sent("f", MessageKind.Normal, 0, 0);
    b.failed("f", 1, "STORE_FAILED");
    b.stored("f", 3);
    b.stored(undefined, 4);
    b.stored("ghost", 5);
    const s = b.summarize();
    expect(s).toMatchObject({ storedTwice: 1, storedButReportedFailed: 1, unknownEntries: 2, streamEntries: 5, lost: 0 });
  });

  it("splits extra deliveries into redeliveries (a higher count), replays (the same count) and stale copies (a lower count)", () => {
    const b = new Books();
    b.sent("r", MessageKind.Normal, 0, 0);
    b.acked("r", 1, false);
    b.stored("r", 1);
    b.delivered("r", d(2, 1), false);
    b.delivered("r", d(5000, 2), true);
    b.sent("p", MessageKind.Normal, 0, 0);
    b.acked("p", 1, false);
    b.stored("p", 2);
    b.delivered("p", d(2, 1), true);
    b.delivered("p", d(9000, 1, "member-2"), true);
    // A slow member hands out its copy (count 1) after the redelivered one (count 2) was
    // processed elsewhere; its report arrives first, the order is the handing out.
    b.sent("s", MessageKind.Normal, 0, 0);
    b.acked("s", 1, false);
    b.stored("s", 3);
    b.delivered("s", d(7000, 1, "member-2"), true);
    b.delivered("s", d(5000, 2), true);
    const s = b.summarize();
    expect(s).toMatchObject({ deliveredTwice: 3, redeliveries: 1, replays: 1, staleCopies: 1, afterProcessed: 2, consumed: 3 });
    expect(s.examples["replays"]).toEqual(["p (counts 1,1)"]);
    expect(s.examples["staleCopies"]).toEqual(["s (counts 2,1)"]);
  });

  it("expects exactly one dead letter per poison and terminate message, and none for normal ones", () => {
    const b = new Books();
    const add = (id: string, kind: MessageKind) => {
      b.sent(id, kind, 0, 0);
      b.acked(id, 1, false);
      b.stored(id, 1);
    };
    add("once", MessageKind.Poison);
    b.deadLettered("once");
    add("twice", MessageKind.Terminate);
    b.deadLettered("twice", "terminated");
    b.deadLettered("twice", "poison");
    add("none", MessageKind.Poison);
    add("normal", MessageKind.Normal);
    b.delivered("normal", d(2, 1), true);
    b.deadLettered("normal");
    b.deadLettered(undefined);
    const s = b.summarize();
    expect(s).toMatchObject({
      deadLetterExpected: 3,
      deadLetteredOnce: 1,
      dlsDoubled: 1,
      dlsMissing: 1,
      falseDeadLetters: 1,
      unknownEntries: 1,
      lost: 1,
      lostNotConsumed: 1,
    });
    expect(b.expectedDeadLetters().sort()).toEqual(["none", "once", "twice"]);
    expect(s.examples["dlsDoubled"]).toEqual(["twice (terminated, poison; deliveries none)"]);
  });

  it("tracks what the drain waits for", () => {
    const b = new Books();
    b.sent("a", MessageKind.Normal, 0, 0);
    b.sent("b", MessageKind.Normal, 0, 0);
    expect(b.unsettled()).toBe(2);
    b.acked("a", 10, false);
    b.failed("b", 12, "TIMEOUT");
    expect(b.unsettled()).toBe(0);
    expect(b.unconsumed()).toEqual(["a"]);
    expect(b.lastAckAtMs()).toBe(10);
    b.delivered("a", d(20, 1), true);
    expect(b.unconsumed()).toEqual([]);
  });

  it("measures recovery: the longest stall after a fault, on the slowest producer", () => {
    const b = new Books();
    // Producer 0 acks every 10 ms except a 4 s stall after 1,000 ms; producer 1 never stalls.
    let n = 0;
    for (let t = 0; t < 10_000; t += 10) {
      for (const p of [0, 1]) {
        const id = `m-${n++}`;
        b.sent(id, MessageKind.Normal, p, t);
        const stalled = p === 0 && t >= 1000 && t < 5000;
        b.acked(id, stalled ? 5000 : t + 2, false);
        b.delivered(id, d(stalled ? 5005 : t + 4, 1), true);
      }
    }
    const r = b.recovery(1000, 10_000);
    expect(r.produceBackMs).toBe(4000);
    // Producer 1's messages kept reaching the members: consume never stalled.
    expect(r.consumeBackMs).toBeLessThan(20);
    expect(r.worstEndToEndMs).toBe(4005);
    // Nothing happened around 7 s: back at once.
    expect(b.recovery(7001, 10_000).produceBackMs).toBeLessThan(20);
  });

  it("says produce is not back when a producer never got an ack again", () => {
    const b = new Books();
    b.sent("a", MessageKind.Normal, 0, 0);
    b.acked("a", 1, false);
    b.sent("b", MessageKind.Normal, 0, 100);
    b.failed("b", 60_000, "TIMEOUT");
    expect(b.recovery(50, 1000).produceBackMs).toBeUndefined();
  });
});

describe("backAfter", () => {
  const ticks = (from: number, to: number, every = 10) =>
    Array.from({ length: Math.ceil((to - from) / every) }, (_, i) => from + i * every);

  it("is the first progress after the fault when nothing stalls", () => {
    expect(backAfter(ticks(0, 5000), 1001, 5000)).toBe(9);
  });

  it("is the end of the longest stall, even when a message squeezes through first", () => {
    const times = [...ticks(0, 1000), 1020, ...ticks(9000, 12_000)];
    expect(backAfter(times, 1000, 12_000)).toBe(8000);
  });

  it("leaves a stall that begins just before the next fault to that fault", () => {
    const times = [...ticks(0, 1000), ...ticks(3000, 6000), ...ticks(16_000, 20_000)];
    // Fault at 1,000 (a 2 s stall), the next at 6,000 (a 10 s stall that begins at 5,990).
    expect(backAfter(times, 1000, 6000)).toBe(2000);
    expect(backAfter(times, 6000, 20_000)).toBe(10_000);
  });

  it("counts a stall that began before the fault from the fault", () => {
    expect(backAfter([0, 8000], 3000, 10_000)).toBe(5000);
    expect(backAfter([0, 1], 3000, 10_000)).toBeUndefined();
  });
});
