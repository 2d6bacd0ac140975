import { describe, expect, it } from "vitest";
import { ChaosError } from "./errors.js";
import { DEFAULT_CHAOS_OPTIONS, resolveChaosOptions } from "./options.js";
import { PRESETS, findPreset } from "./presets.js";

describe("resolveChaosOptions", () => {
  it("takes the smoke preset and seed 1 by default, frozen", () => {
    const o = resolveChaosOptions();
    expect(o.preset.name).toBe(DEFAULT_CHAOS_OPTIONS.preset);
    expect(o.seed).toBe(1);
    expect(Object.isFrozen(o)).toBe(true);
  });

  it("applies changes to a copy of the preset", () => {
    const o = resolveChaosOptions({ preset: "nats-kill", durationMs: 20_000, gateways: 3, fsync: false, ratePerSec: 50, faults: 1 });
    expect(o.preset).toMatchObject({ name: "nats-kill", durationMs: 20_000 });
    expect(o.preset.topology).toMatchObject({ gateways: 3, fsync: false });
    expect(o.preset.workload.ratePerSec).toBe(50);
    expect(o.preset.schedule.count).toBe(1);
    expect(findPreset("nats-kill")!.topology.gateways).toBe(2);
    // A cluster has no tmpfs store.
    expect(resolveChaosOptions({ preset: "disk-full", natsServers: 3 }).preset.topology.storeTmpfsMb).toBe(0);
  });

  it("fails naming the option, and lists the presets for an unknown one", () => {
    const bad = (o: Parameters<typeof resolveChaosOptions>[0]) => {
      try {
        resolveChaosOptions(o);
      } catch (err) {
        return err as ChaosError;
      }
      throw new Error("no error");
    };
    expect(bad({ durationMs: 500 })).toMatchObject({ code: "CHAOS_INVALID_OPTIONS", message: /chaos\.durationMs/, retriable: false });
    expect(bad({ gateways: 0 }).message).toMatch(/chaos\.gateways/);
    expect(bad({ natsServers: 2 as 1 }).message).toMatch(/chaos\.natsServers must be one of 1, 3/);
    expect(bad({ preset: "nope" }).message).toMatch(new RegExp(`no preset 'nope'; the presets are ${PRESETS[0]!.name}`));
    expect(bad({ nope: 1 } as never).message).toMatch(/unknown chaos option 'nope'/);
  });
});

describe("PRESETS", () => {
  it("have unique names, 1-2 minutes (the CI one at most 60 s), and nothing to relax the fatal checks", () => {
    expect(new Set(PRESETS.map((p) => p.name)).size).toBe(PRESETS.length);
    for (const p of PRESETS) expect(p.durationMs).toBeLessThanOrEqual(120_000);
    expect(findPreset("smoke")!.durationMs).toBeLessThanOrEqual(60_000);
    for (const p of PRESETS)
      for (const k of ["lost", "stored-twice", "dls-doubled", "unknown-entries"]) expect(p.expect).not.toHaveProperty(k);
  });
});
