import { describe, expect, it } from "vitest";
import { JunctionError, QuotaSource } from "../protocol/index.js";
import { quotaExceeded, raiseCommand, storeLimitReached } from "./exceeded.js";
import { DEFAULT_QUOTAS, QUOTAS, QUOTA_NAMES, parseQuotaPairs, resolveQuotaLimits } from "./limits.js";

const fails = (fn: () => unknown): JunctionError => {
  try {
    fn();
  } catch (err) {
    return err as JunctionError;
  }
  throw new Error("did not throw");
};

describe("the quota table", () => {
  it("has a default within its range for every quota, and says what it counts and protects", () => {
    expect(QUOTA_NAMES.length).toBe(10);
    for (const n of QUOTA_NAMES) {
      const q = QUOTAS[n];
      expect(q.default, n).toBeGreaterThanOrEqual(q.min);
      expect(q.default, n).toBeLessThanOrEqual(q.max);
      expect(q.per.length, n).toBeGreaterThan(5);
      expect(q.protects.length, n).toBeGreaterThan(5);
      expect(DEFAULT_QUOTAS[n]).toBe(q.default);
    }
    // A message's parts are stored as one atomic batch, which holds at most 1,000 messages.
    expect(QUOTAS.partsPerMessage.max).toBe(1000);
  });
});

describe("resolveQuotaLimits", () => {
  it("fills defaults, remembers which the broker set, and freezes", () => {
    const r = resolveQuotaLimits({ stations: 20, connectionsPerUser: undefined });
    expect(r.limits.stations).toBe(20);
    expect(r.limits.groupsPerStation).toBe(DEFAULT_QUOTAS.groupsPerStation);
    expect([...r.set]).toEqual(["stations"]);
    expect(Object.isFrozen(r.limits)).toBe(true);
    expect(resolveQuotaLimits(undefined).set.size).toBe(0);
  });

  it("fails naming the option for an unknown quota or a bad value", () => {
    expect(fails(() => resolveQuotaLimits({ statons: 3 } as never))).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "unknown gateway.quotas option 'statons'",
    });
    const e = fails(() => resolveQuotaLimits({ partsPerMessage: 5000 }));
    expect(e.message).toBe("gateway.quotas.partsPerMessage must be an integer from 1 to 1000 (got 5000)");
    expect(e.details).toMatchObject({ option: "gateway.quotas.partsPerMessage" });
    expect(fails(() => resolveQuotaLimits({ stations: 1.5 })).message).toMatch(/gateway\.quotas\.stations must be an integer/);
  });
});

describe("parseQuotaPairs", () => {
  it("reads name=value (underscores allowed) and default or null as 'remove the override'", () => {
    expect(
      parseQuotaPairs(["stations=200", " groupsPerStation = 1_000 ", "versionsPerSchema=default", "functionMemoryMb=null"], "x"),
    ).toEqual({
      stations: 200,
      groupsPerStation: 1000,
      versionsPerSchema: null,
      functionMemoryMb: null,
    });
  });

  it("names the source, the pair and the known quotas on a bad pair", () => {
    expect(fails(() => parseQuotaPairs(["stations"], "--quotas")).message).toBe(
      "--quotas: 'stations' must look like name=value (for example stations=200)",
    );
    expect(fails(() => parseQuotaPairs(["nope=1"], "--quotas")).message).toMatch(
      /^--quotas: unknown quota 'nope' \(known: stations, groupsPerStation, /,
    );
    expect(fails(() => parseQuotaPairs(["stations=-1"], "q")).message).toBe(
      "q: quota stations must be an integer from 0 to 1000000 (got '-1')",
    );
    expect(fails(() => parseQuotaPairs(["stations=1e3"], "q")).code).toBe("INVALID_ARGUMENT");
  });
});

describe("QUOTA_EXCEEDED", () => {
  it("names the quota, its limit, its scope and the command that raises it", () => {
    const e = quotaExceeded({
      quota: "stations",
      limit: 200,
      source: QuotaSource.Tenant,
      tenant: "acme",
      current: 200,
      what: "tenant 'acme' has 200 stations",
    });
    expect(e).toBeInstanceOf(JunctionError);
    expect(e.code).toBe("QUOTA_EXCEEDED");
    expect(e.retriable).toBe(false);
    expect(e.message).toBe(
      "tenant 'acme' has 200 stations: the quota stations is 200 stations per tenant (set for tenant 'acme'); raise it with: junction quota set --tenant acme stations=400",
    );
    expect(e.details).toEqual({ quota: "stations", limit: 200, scope: "tenant", current: 200, tenant: "acme" });
  });

  it("says broker for a default or broker limit, leaves --tenant out for the default tenant, and covers what was needed", () => {
    const d = quotaExceeded({
      quota: "functionMemoryMb",
      limit: 512,
      source: QuotaSource.Default,
      tenant: "default",
      current: 500,
      needed: 1500,
      what: "x",
    });
    expect(d.message).toContain("(the broker's default); raise it with: junction quota set functionMemoryMb=1500");
    expect(d.details).toMatchObject({ scope: "broker" });
    const b = quotaExceeded({ quota: "partsPerMessage", limit: 1000, source: QuotaSource.Broker, tenant: "t", current: 1200, what: "x" });
    expect(b.message).toContain("(set for every tenant by the broker); it cannot be raised above 1000");
    expect(raiseCommand("acme", "stations", 5)).toBe("junction quota set --tenant acme stations=5");
  });

  it("for a store limit: names the server setting, says quota set cannot help, keeps the cause", () => {
    const cause = Object.assign(new Error("maximum consumers limit reached"), { code: 10026 });
    const e = storeLimitReached({ limit: "max_consumers", what: "group g", setting: "max_consumers", cause });
    expect(e).toMatchObject({ code: "QUOTA_EXCEEDED", retriable: false, details: { quota: "max_consumers", scope: "store" } });
    expect(e.cause).toBe(cause);
    expect(e.message).toContain("junction quota set cannot");
  });
});
