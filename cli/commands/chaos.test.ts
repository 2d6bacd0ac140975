import { describe, expect, it } from "vitest";
import { buildProgram } from "../program.js";
import { PRESETS } from "../chaos/index.js";
import { parseDuration, presetNames } from "./chaos.js";
import type { Io } from "../output.js";

function io(): Io & { stdout: string; stderr: string } {
  const o = { stdout: "", stderr: "", isTTY: false, out: (s: string) => void (o.stdout += s), err: (s: string) => void (o.stderr += s) };
  return o;
}

describe("junction chaos (without running anything)", () => {
  it("parses durations and preset lists", () => {
    expect(parseDuration("90")).toBe(90_000);
    expect(parseDuration("45s")).toBe(45_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(() => parseDuration("soon")).toThrow(/--duration/);
    expect(presetNames("smoke, nats-kill")).toEqual(["smoke", "nats-kill"]);
    expect(presetNames("all")).toEqual(PRESETS.filter((p) => !p.extra).map((p) => p.name));
  });

  it("--list prints every preset", async () => {
    const o = io();
    await buildProgram(o).parseAsync(["node", "junction", "chaos", "--list"]);
    for (const p of PRESETS) expect(o.stdout).toContain(p.name);
  });

  it("--plan prints the schedule of a seed, the same every time", async () => {
    const a = io();
    await buildProgram(a).parseAsync(["node", "junction", "chaos", "--preset", "cluster-leader", "--seed", "7", "--plan"]);
    expect(a.stdout).toMatch(/preset cluster-leader, seed 7/);
    expect(a.stdout).toMatch(/leader-kill/);
    const b = io();
    await buildProgram(b).parseAsync(["node", "junction", "chaos", "--preset", "cluster-leader", "--seed", "7", "--plan"]);
    expect(b.stdout).toBe(a.stdout);
  });

  it("refuses a bad flag before starting anything, with its code", async () => {
    const o = io();
    await expect(buildProgram(o).parseAsync(["node", "junction", "chaos", "--preset", "nope", "--plan"])).rejects.toMatchObject({
      exitCode: 2,
    });
    expect(o.stderr).toMatch(/error CHAOS_INVALID_OPTIONS: no preset 'nope'/);
    const f = io();
    await expect(buildProgram(f).parseAsync(["node", "junction", "chaos", "--fsync", "maybe"])).rejects.toMatchObject({ exitCode: 2 });
    expect(f.stderr).toMatch(/--fsync must be on or off/);
  });
});
