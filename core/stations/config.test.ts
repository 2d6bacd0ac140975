import { describe, expect, it } from "vitest";
import { assertUpdatable, resolveGroupConfig, resolveStationConfig, sameStationConfig, DEFAULT_STATION_CONFIG } from "./config.js";
import { stationStreamConfig, groupConsumerConfig } from "../nats/streams.js";

describe("station config", () => {
  it("fills defaults and freezes", () => {
    const c = resolveStationConfig({ maxMessages: 10 });
    expect(c).toEqual({ ...DEFAULT_STATION_CONFIG, maxMessages: 10 });
    expect(Object.isFrozen(c)).toBe(true);
  });
  const bad: [object, string][] = [
    [{ retention: "forever" }, "retention"],
    [{ storage: "disk" }, "storage"],
    [{ maxAgeSeconds: -1 }, "maxAgeSeconds"],
    [{ maxMessages: 0 }, "maxMessages"],
    [{ maxBytes: 1.5 }, "maxBytes"],
    [{ replicas: 6 }, "replicas"],
    [{ idempotencyWindowMs: 10 }, "idempotencyWindowMs"],
    [{ maxMessageSize: 0 }, "maxMessageSize"],
    [{ maxMessageSize: 9 * 1024 * 1024 }, "maxMessageSize"],
    [{ colour: "red" }, "colour"],
  ];
  for (const [input, field] of bad) {
    it(`names the bad setting ${field}`, () => {
      expect(() => resolveStationConfig(input as object)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", details: expect.objectContaining({ field }) as object }) as Error,
      );
    });
  }
  it("refuses changes JetStream cannot make", () => {
    const a = resolveStationConfig();
    expect(() => assertUpdatable("s", a, resolveStationConfig({ storage: "memory" }))).toThrow(/storage cannot change/);
    expect(() => assertUpdatable("s", a, resolveStationConfig({ maxBytes: 10 }))).not.toThrow();
    expect(sameStationConfig(a, resolveStationConfig())).toBe(true);
  });
  it("converts milliseconds and seconds to nanoseconds only in the JetStream config", () => {
    const s = stationStreamConfig("orders", resolveStationConfig({ maxAgeSeconds: 60, idempotencyWindowMs: 1500, retention: "interest" }));
    expect(s).toMatchObject({
      name: "JN_ST_orders",
      subjects: ["jn.st.orders.>"],
      max_age: 60e9,
      duplicate_window: 1.5e9,
      retention: "interest",
      allow_atomic: true,
    });
  });
});

describe("group config", () => {
  it("fills defaults, validates and maps to a multi-filter pull consumer", () => {
    const g = resolveGroupConfig({ maxAckTimeMs: 500, backoffMs: [100, 200] });
    const c = groupConsumerConfig("orders", "billing", g);
    expect(c).toMatchObject({
      durable_name: "billing",
      ack_wait: 500e6,
      max_deliver: 10,
      backoff: [100e6, 200e6],
      filter_subjects: ["jn.st.orders.msg", "jn.st.orders.resend.billing"],
      deliver_policy: "all",
    });
    expect(groupConsumerConfig("o", "g", resolveGroupConfig({ startPosition: { kind: "sequence", seq: 5 } }))).toMatchObject({
      deliver_policy: "by_start_sequence",
      opt_start_seq: 5,
    });
    expect(() => resolveGroupConfig({ maxMsgDeliveries: 0 })).toThrow(/maxMsgDeliveries/);
    expect(() => resolveGroupConfig({ backoffMs: [1, -5] })).toThrow(/backoffMs\[1\]/);
    expect(() => resolveGroupConfig({ startPosition: { kind: "middle" } as never })).toThrow(/startPosition.kind/);
    expect(() => resolveGroupConfig({ maxMsgDeliveries: 1, backoffMs: [1, 2] })).toThrow(/backoffMs/);
  });
});
