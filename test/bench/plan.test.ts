import { describe, expect, it } from "vitest";
import { PROFILES, resolvePlan, SUITES } from "./plan.js";

describe("resolvePlan", () => {
  it("runs everything, both sync policies, the default profile when given nothing", () => {
    const p = resolvePlan([]);
    expect(p.profile).toBe("default");
    expect(p.settings).toBe(PROFILES.default);
    expect(p.syncs).toEqual(["always", "default"]);
    expect([...p.suites].sort()).toEqual([...SUITES].sort());
    expect(p.reportOnly).toBe(false);
  });

  it("takes profiles, one sync policy, and scenario lists with aliases", () => {
    const p = resolvePlan(["--quick", "--sync", "always", "--only", "2, 4,8,10"]);
    expect(p.profile).toBe("quick");
    expect(p.syncs).toEqual(["always"]);
    expect([...p.suites].sort()).toEqual(["2a", "2b", "2c", "2d", "2e", "4", "latency", "micro"].sort());
    expect(resolvePlan(["--full"]).settings.stations).toContain(1000);
    expect(resolvePlan(["--no-peers"]).suites.has("peers")).toBe(false);
  });

  it("refuses bad flags, naming them and printing the usage", () => {
    expect(() => resolvePlan(["--quick", "--full"])).toThrow(/--quick and --full exclude each other[\s\S]*usage:/);
    expect(() => resolvePlan(["--sync", "sometimes"])).toThrow(/--sync must be always or default, not 'sometimes'/);
    expect(() => resolvePlan(["--only", "4,zz"])).toThrow(/--only: unknown scenario 'zz'/);
    expect(() => resolvePlan(["--fast"])).toThrow(/usage:/);
  });
});
