import { describe, expect, it } from "vitest";
import type { E2eSamples } from "./e2e.js";
import { breakdown, tailFinding, type TapRecords } from "./trace.js";

/** 200 messages 1 ms apart; message 150 waits 20 ms in the store. Times in ms from 1,000. */
function fixture(): { s: E2eSamples; tap: TapRecords } {
  const n = 200;
  const f = () => new Float64Array(n);
  const s: E2eSamples = { count: n, warmup: 0, sched: f(), send: f(), reply: f(), recv: f(), seq: f() };
  const tap: TapRecords = { requests: [], publishes: [], acks: [] };
  for (let i = 0; i < n; i++) {
    const t0 = 1000 + i;
    const storeMs = i === 150 ? 20 : 0.5;
    s.sched[i] = t0;
    s.send[i] = t0 + 0.1;
    tap.requests.push([`e2e-${i}`, t0 + 0.3]);
    tap.publishes.push([`e2e-${i}`, t0 + 0.5]);
    s.seq[i] = i + 1;
    const acked = t0 + 0.5 + storeMs;
    s.recv[i] = acked + 0.4;
    s.reply[i] = acked + 0.2;
  }
  // One ack per message; message 150's seq is acked again later (a retry): the first time counts.
  for (let i = 0; i < n; i++) tap.acks.push([i + 1, 1, s.recv[i]! - 0.4]);
  tap.acks.push([151, 1, 99_999]);
  return { s, tap };
}

describe("breakdown", () => {
  it("splits each message into stages that add up to its end-to-end latency", () => {
    const { s, tap } = fixture();
    const b = breakdown("junction", s, tap);
    expect(b.traced).toBe(200);
    expect(b.untraced).toBe(0);
    expect(b.stages.map((st) => st.name)).toEqual(["sender", "producer → server", "gateway", "store", "delivery"]);
    const sumOfMeans = b.stages.reduce((a, st) => a + st.all.mean, 0);
    expect(sumOfMeans).toBeCloseTo(b.e2e.mean, 9);
    expect(b.stages.find((st) => st.name === "gateway")!.all.p50).toBeCloseTo(0.2, 9);
    expect(b.reply.all.p50).toBeCloseTo(0.2, 9);
  });

  it("finds the stage the slowest messages spend their time in", () => {
    const { s, tap } = fixture();
    const b = breakdown("junction", s, tap);
    expect(b.tailCount).toBe(2); // 1 % of 200
    expect(b.tailFromMs).toBeCloseTo(1.4, 9);
    const store = b.stages.find((st) => st.name === "store")!;
    expect(store.all.max).toBeCloseTo(20, 9);
    expect(store.tailMean).toBeGreaterThan(5);
    const finding = tailFinding(b);
    expect(finding.indexOf("store")).toBeLessThan(finding.indexOf("delivery"));
    expect(finding).toMatch(/^Junction: the slowest 1 % \(2 messages/);
  });

  it("maps a batch ack to every sequence it covers", () => {
    const { s, tap } = fixture();
    tap.acks = [[200, 200, 5000]];
    const b = breakdown("raw", s, tap);
    expect(b.traced).toBe(200);
    expect(b.stages.map((st) => st.name)).toEqual(["sender", "publisher → server", "store", "delivery"]);
    // Store time of message i is 5000 - (1000.5 + i); the nearest-rank median is message 100's.
    expect(b.stages.find((st) => st.name === "store")!.all.p50).toBeCloseTo(3899.5, 9);
  });

  it("leaves out messages the tap did not see, and counts them", () => {
    const { s, tap } = fixture();
    tap.publishes = tap.publishes.filter(([id]) => id !== "e2e-7" && id !== "e2e-8");
    const b = breakdown("junction", s, tap);
    expect(b.traced).toBe(198);
    expect(b.untraced).toBe(2);
  });

  it("leaves out the warm-up", () => {
    const { s, tap } = fixture();
    s.warmup = 100;
    const b = breakdown("junction", s, tap);
    expect(b.traced).toBe(100);
    expect(b.tailCount).toBe(1);
  });
});
