import { describe, expect, it } from "vitest";
import { PRESETS } from "./presets.js";
import { faultUnsupported, planFaults } from "./schedule.js";
import { FaultKind, type ScheduleSpec, type TopologySpec } from "./types.js";

const single: TopologySpec = { natsServers: 1, fsync: true, gateways: 2, members: 2, storeTmpfsMb: 0 };
const cluster: TopologySpec = { ...single, natsServers: 3 };
const spec: ScheduleSpec = {
  count: 6,
  firstAtMs: 5000,
  quietTailMs: 10_000,
  minGapMs: 4000,
  faults: [
    { kind: FaultKind.GatewayKill, weight: 2, holdMs: [1000, 3000] },
    { kind: FaultKind.MemberKill, weight: 1, holdMs: [500, 2000] },
  ],
};

describe("planFaults", () => {
  it("is the same for the same seed, and differs for another", () => {
    const a = planFaults(spec, 90_000, 11, single);
    expect(planFaults(spec, 90_000, 11, single)).toEqual(a);
    expect(planFaults(spec, 90_000, 12, single).faults).not.toEqual(a.faults);
  });

  it("keeps faults inside the window, apart by their hold plus the gap, and covers every kind", () => {
    for (let seed = 0; seed < 50; seed++) {
      const { faults } = planFaults(spec, 90_000, seed, single);
      expect(faults).toHaveLength(6);
      expect(new Set(faults.slice(0, 2).map((f) => f.kind)).size).toBe(2);
      for (const [i, f] of faults.entries()) {
        expect(f.index).toBe(i + 1);
        expect(f.atMs).toBeGreaterThanOrEqual(5000);
        expect(f.atMs + f.holdMs).toBeLessThanOrEqual(90_000 - 10_000);
        const next = faults[i + 1];
        if (next) expect(f.atMs + f.holdMs + spec.minGapMs).toBeLessThanOrEqual(next.atMs);
        const s = spec.faults.find((x) => x.kind === f.kind)!;
        expect(f.holdMs).toBeGreaterThanOrEqual(s.holdMs[0]);
        expect(f.holdMs).toBeLessThanOrEqual(s.holdMs[1]);
        expect(f.pick >= 0 && f.pick < 1).toBe(true);
      }
    }
  });

  it("plans fewer faults when the run is too short, and says so", () => {
    const { faults, notes } = planFaults(spec, 25_000, 1, single);
    // 10 s of window; the shortest hold (0.5 s) plus the 4 s gap fits twice.
    expect(faults).toHaveLength(2);
    expect(notes.join()).toMatch(/4 of 6 faults left out/);
    expect(planFaults(spec, 15_000, 1, single).faults).toEqual([]);
  });

  it("leaves out fault kinds the topology cannot take, naming why", () => {
    const s: ScheduleSpec = { ...spec, faults: [...spec.faults, { kind: FaultKind.LeaderKill, weight: 5, holdMs: [1000, 2000] }] };
    const single$ = planFaults(s, 90_000, 3, single);
    expect(single$.faults.every((f) => f.kind !== FaultKind.LeaderKill)).toBe(true);
    expect(single$.notes.join()).toMatch(/leader-kill left out: needs a 3-node cluster/);
    expect(planFaults(s, 90_000, 3, cluster).faults.some((f) => f.kind === FaultKind.LeaderKill)).toBe(true);
    expect(faultUnsupported(FaultKind.DiskFull, single)).toMatch(/tmpfs/);
    expect(faultUnsupported(FaultKind.DiskFull, { ...single, storeTmpfsMb: 64 })).toBeUndefined();
    expect(faultUnsupported(FaultKind.DiskFull, { ...cluster, storeTmpfsMb: 64 })).toMatch(/single/);
  });

  it("gives every preset a schedule that holds all its fault kinds within 1-2 minutes", () => {
    for (const p of PRESETS) {
      expect(p.durationMs, p.name).toBeLessThanOrEqual(120_000);
      const { faults, notes } = planFaults(p.schedule, p.durationMs, 1, p.topology);
      expect(notes, p.name).toEqual([]);
      expect(faults.length, p.name).toBe(p.schedule.count);
      expect(new Set(faults.map((f) => f.kind)), p.name).toEqual(new Set(p.schedule.faults.map((f) => f.kind)));
    }
  });
});
