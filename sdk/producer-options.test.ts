import { describe, expect, it } from "vitest";
import { JunctionError } from "../core/protocol/index.js";
import { DEFAULT_PRODUCER_OPTIONS, resolveProducerOptions } from "./producer.js";

describe("resolveProducerOptions", () => {
  it("takes the defaults and freezes the result", () => {
    const r = resolveProducerOptions({ station: "orders" }, "app");
    expect(r.requestTimeoutMs).toBe(DEFAULT_PRODUCER_OPTIONS.requestTimeoutMs);
    expect(r.minRequestTimeoutMs).toBe(DEFAULT_PRODUCER_OPTIONS.minRequestTimeoutMs);
    expect(r.name).toBe("app");
    expect(Object.isFrozen(r)).toBe(true);
  });

  it("a maximum reply wait below the default minimum lowers the minimum with it", () => {
    const r = resolveProducerOptions({ station: "orders", requestTimeoutMs: 500 }, "app");
    expect(r.requestTimeoutMs).toBe(500);
    expect(r.minRequestTimeoutMs).toBe(500);
    expect(Object.isFrozen(r)).toBe(true);
  });

  it("refuses an explicit minimum above an explicit maximum, naming the option", () => {
    const err = (() => {
      try {
        resolveProducerOptions({ station: "orders", requestTimeoutMs: 500, minRequestTimeoutMs: 800 }, "app");
      } catch (e) {
        return e;
      }
      return undefined;
    })() as JunctionError;
    expect(err).toBeInstanceOf(JunctionError);
    expect(err.code).toBe("INVALID_ARGUMENT");
    expect(err.details).toMatchObject({ option: "producer.minRequestTimeoutMs" });
  });

  it("still requires a station", () => {
    expect(() => resolveProducerOptions({ station: "", requestTimeoutMs: 500 }, "app")).toThrow(/producer.station/);
  });
});
