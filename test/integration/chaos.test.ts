/**
 * `junction chaos`, preset smoke (30 s of workload): a real nats-server, two gateway processes
 * and two member processes under a steady produce; a gateway and a member are SIGKILLed and
 * started again. The books must balance: nothing acknowledged lost, nothing stored twice,
 * every poison and dead-lettered-on-purpose message in the DLS exactly once. No timing is
 * asserted (the machine may be loaded): only that produce and consume came back after each fault.
 */
import { describe, expect, it } from "vitest";
import { FaultKind, renderReport, runChaos } from "../../cli/chaos/index.js";

describe("junction chaos --preset smoke", () => {
  it("kills a gateway and a member under load; the books balance", async () => {
    const lines: string[] = [];
    const r = await runChaos({ preset: "smoke", seed: 1, log: (l) => lines.push(l) });
    const report = renderReport(r);
    if (!r.passed) console.error(`${lines.join("\n")}\n${report}`);
    expect(r.faults.map((f) => f.kind).sort()).toEqual([FaultKind.GatewayKill, FaultKind.MemberKill]);
    for (const f of r.faults) {
      expect(f.injectedAtMs, `fault ${f.index}`).toBeDefined();
      expect(f.healedAtMs, `fault ${f.index}`).toBeDefined();
      expect(f.produceBackMs, `produce after fault ${f.index}`).toBeDefined();
      expect(f.consumeBackMs, `consume after fault ${f.index}`).toBeDefined();
    }
    const b = r.books;
    expect(b.acked).toBeGreaterThan(1000);
    expect(b.unsettled).toBe(0);
    expect({
      lost: b.lost,
      storedTwice: b.storedTwice,
      dlsDoubled: b.dlsDoubled,
      dlsMissing: b.dlsMissing,
      unknown: b.unknownEntries,
    }).toEqual({
      lost: 0,
      storedTwice: 0,
      dlsDoubled: 0,
      dlsMissing: 0,
      unknown: 0,
    });
    expect(b.deadLetterExpected).toBeGreaterThan(0);
    expect(b.deadLetteredOnce).toBe(b.deadLetterExpected);
    expect(b.stored).toBe(b.acked + b.storedButReportedFailed);
    expect(r.drain.complete).toBe(true);
    expect(r.passed, report).toBe(true);
  }, 300_000);
});
