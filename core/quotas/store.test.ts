import { describe, expect, it } from "vitest";
import { MemoryBucket } from "../../test/fakes/memory-backend.js";
import { manualClock } from "../support/index.js";
import { resolveQuotaLimits } from "./limits.js";
import { QuotaStore, parseQuotaRecord } from "./store.js";

const rec = (tenant: string, limits: Record<string, unknown>) => ({
  tenant,
  limits,
  updatedAt: "2026-01-01T00:00:00.000Z",
  updatedBy: "ops",
});

describe("quota records", () => {
  it("are validated on read: a bad value or a key that is not its tenant makes the record invalid; unknown names are ignored", () => {
    expect(parseQuotaRecord("acme", rec("acme", { stations: 5, futureQuota: 3 }))).toEqual({
      tenant: "acme",
      limits: { stations: 5 },
      updatedAt: "2026-01-01T00:00:00.000Z",
      updatedBy: "ops",
    });
    expect(parseQuotaRecord("default", rec("default", {}))).toMatchObject({ tenant: "default" });
    expect(parseQuotaRecord("acme", rec("acme", { stations: -1 }))).toBeUndefined();
    expect(parseQuotaRecord("acme", rec("acme", { stations: "5" }))).toBeUndefined();
    expect(parseQuotaRecord("acme", rec("other", {}))).toBeUndefined();
    expect(parseQuotaRecord("a.b", rec("a.b", {}))).toBeUndefined();
    expect(parseQuotaRecord("acme", { tenant: "acme", limits: [] })).toBeUndefined();
    expect(parseQuotaRecord("acme", null)).toBeUndefined();
  });
});

describe("QuotaStore", () => {
  it("layers a tenant's overrides over the broker's limits over the defaults, and follows changes", async () => {
    const bucket = new MemoryBucket<unknown>();
    await bucket.put("acme", rec("acme", { stations: 7 }));
    const invalid: string[] = [];
    const store = new QuotaStore({
      bucket,
      broker: resolveQuotaLimits({ groupsPerStation: 9 }),
      clock: manualClock(),
      onInvalid: (k) => invalid.push(k),
    });
    await store.start();
    expect(store.limit("acme", "stations")).toEqual({ limit: 7, source: "tenant" });
    expect(store.limit("acme", "groupsPerStation")).toEqual({ limit: 9, source: "broker" });
    expect(store.limit("acme", "versionsPerSchema")).toEqual({ limit: 100, source: "default" });
    expect(store.limit("beta", "stations")).toEqual({ limit: 1000, source: "default" });
    // Another gateway writes: the watch brings it.
    await bucket.put("beta", rec("beta", { stations: 3 }));
    expect(store.limit("beta", "stations")).toEqual({ limit: 3, source: "tenant" });
    // A bad record is ignored (the broker's limits apply) and reported.
    bucket.putRaw("beta", "{not json");
    expect(store.limit("beta", "stations").source).toBe("default");
    expect(invalid).toEqual(["beta"]);
    store.close();
  });

  it("sets and removes overrides (null), forgets a tenant, and repairs an invalid record", async () => {
    const bucket = new MemoryBucket<unknown>();
    const store = new QuotaStore({ bucket, broker: resolveQuotaLimits({}), clock: manualClock(1000) });
    await store.start();
    bucket.putRaw("acme", "{not json");
    const r = await store.set("acme", { stations: 5, connectionsPerUser: 2 }, "ops");
    expect(r).toMatchObject({ tenant: "acme", limits: { stations: 5, connectionsPerUser: 2 }, updatedBy: "ops" });
    expect((await bucket.get("acme"))?.value).toEqual(r);
    await store.set("acme", { stations: null }, "ops2");
    expect(store.record("acme")).toMatchObject({ limits: { connectionsPerUser: 2 }, updatedBy: "ops2" });
    expect(store.limit("acme", "stations").source).toBe("default");
    // The last override removed: no record left.
    expect(await store.set("acme", { connectionsPerUser: null }, "ops")).toBeUndefined();
    expect(await bucket.keys()).toEqual([]);
    await store.set("acme", { stations: 1 }, "ops");
    await store.forget("acme");
    expect(store.record("acme")).toBeUndefined();
    expect(await bucket.get("acme")).toBeUndefined();
    store.close();
  });
});
