import { describe, expect, it } from "vitest";
import { MAX_DELAY_MS, deliveryHeaders, takeDelivery } from "./delivery.js";
import { Headers } from "./subjects.js";

describe("delivery options", () => {
  it("round-trips through the produce headers and leaves none behind", () => {
    const h = { a: "1", ...deliveryHeaders({ delayMs: 1500, ttlMs: 1200 }) };
    expect(takeDelivery(h, 1_000)).toEqual({ visibleAtMs: 2_500, ttlSeconds: 2 });
    expect(h).toEqual({ a: "1" });
    expect(takeDelivery({ ...deliveryHeaders({ deliverAt: new Date(5_000) }) }, 1_000)).toEqual({ visibleAtMs: 5_000 });
    // A time in the past or no delay: visible at once.
    expect(takeDelivery({ ...deliveryHeaders({ deliverAt: 10 }) }, 1_000)).toEqual({});
    expect(takeDelivery({ ...deliveryHeaders({ delayMs: 0 }) }, 1_000)).toEqual({});
  });

  it("refuses what the store cannot honour, naming the option and the limit", () => {
    expect(() => deliveryHeaders({ delayMs: MAX_DELAY_MS + 1 })).toThrow(/366 days/);
    expect(() => deliveryHeaders({ delayMs: 1.5 })).toThrow(/whole number/);
    expect(() => deliveryHeaders({ ttlMs: 999 })).toThrow(/between 1000/);
    expect(() => deliveryHeaders({ delayMs: 1, deliverAt: 2 })).toThrow(/both/);
    expect(() => deliveryHeaders({ deliverAt: Number.NaN })).toThrow(/deliverAt/);
    expect(() => takeDelivery({ [Headers.DeliverAt]: String(MAX_DELAY_MS + 10) }, 0)).toThrow(/366 days ahead/);
    expect(() => takeDelivery({ [Headers.DelayMs]: "soon" }, 0)).toThrow(/whole number/);
    expect(() => takeDelivery({ [Headers.TtlMs]: "-4" }, 0)).toThrow(/between 1000/);
    let err: unknown;
    try {
      takeDelivery({ [Headers.TtlMs]: "1" }, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT", details: { option: "ttlMs", min: 1000 } });
  });
});
