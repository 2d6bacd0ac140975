/**
 * `junction chaos --preset keyed`, shortened to 40 s: a station of 4 partitions, 200 ordering
 * keys, three member processes; a member SIGKILLed and started again. Besides the books balancing
 * (nothing acknowledged lost, nothing stored twice, every dead letter once), per-key order must
 * hold: no key's message is handed out after a later message of the same key, except right after
 * a fault that can lose an ack (the killed member's last acks), which may repeat what it had.
 */
import { describe, expect, it } from "vitest";
import { FaultKind, renderReport, runChaos } from "../../cli/chaos/index.js";

describe("junction chaos --preset keyed", () => {
  it("kills a member of a keyed group under load; the books balance and every key stays in order", async () => {
    const lines: string[] = [];
    const r = await runChaos({ preset: "keyed", seed: 1, durationMs: 40_000, faults: 1, log: (l) => lines.push(l) });
    const report = renderReport(r);
    if (!r.passed) console.error(`${lines.join("\n")}\n${report}`);
    expect(r.workload).toMatchObject({ partitions: 4, keys: 200 });
    expect(r.faults.filter((f) => f.injectedAtMs !== undefined).map((f) => f.kind)).toContain(FaultKind.MemberKill);
    const b = r.books;
    expect(b.acked).toBeGreaterThan(1000);
    expect(b.consumed).toBeGreaterThan(1000);
    expect({
      lost: b.lost,
      storedTwice: b.storedTwice,
      dlsDoubled: b.dlsDoubled,
      dlsMissing: b.dlsMissing,
      keyOrder: b.keyOrderBroken,
    }).toEqual({
      lost: 0,
      storedTwice: 0,
      dlsDoubled: 0,
      dlsMissing: 0,
      keyOrder: 0,
    });
    expect(b.deadLetteredOnce).toBe(b.deadLetterExpected);
    expect(r.drain.complete).toBe(true);
    expect(r.passed, report).toBe(true);
  }, 300_000);
});
