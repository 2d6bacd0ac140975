import { describe, expect, it } from "vitest";
import { assertUpdatable, resolveGroupConfig, resolveStationConfig, sameStationConfig, DEFAULT_STATION_CONFIG } from "./config.js";
import type { GroupConfig } from "../protocol/index.js";

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
    [{ partitions: 0 }, "partitions"],
    [{ partitions: 257 }, "partitions"],
  ];
  for (const [input, field] of bad) {
    it(`names the bad setting ${field}`, () => {
      expect(() => resolveStationConfig(input as object)).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", details: expect.objectContaining({ field }) as object }) as Error,
      );
    });
  }
  it("lets partitions grow from 2 up; refuses shrinking and partitioning a one-partition station, saying why", () => {
    const a = resolveStationConfig({ partitions: 4 });
    expect(() => assertUpdatable("s", a, resolveStationConfig({ partitions: 8 }))).not.toThrow();
    expect(() => assertUpdatable("s", a, resolveStationConfig({ partitions: 2 }))).toThrow(
      expect.objectContaining({ code: "STATION_UPDATE_REFUSED", message: expect.stringMatching(/can only grow/) as string }) as Error,
    );
    expect(() => assertUpdatable("s", resolveStationConfig(), resolveStationConfig({ partitions: 4 }))).toThrow(
      expect.objectContaining({ code: "STATION_UPDATE_REFUSED", message: expect.stringMatching(/one ordered stream/) as string }) as Error,
    );
    expect(() => assertUpdatable("s", a, resolveStationConfig({ partitions: 4, maxMessages: 5 }))).not.toThrow();
  });
  it("refuses changes JetStream cannot make", () => {
    const a = resolveStationConfig();
    expect(() => assertUpdatable("s", a, resolveStationConfig({ storage: "memory" }))).toThrow(/storage cannot change/);
    expect(() => assertUpdatable("s", a, resolveStationConfig({ maxBytes: 10 }))).not.toThrow();
    expect(sameStationConfig(a, resolveStationConfig())).toBe(true);
  });
});

describe("group config", () => {
  it("fills defaults and validates", () => {
    const g = resolveGroupConfig({ maxAckTimeMs: 500, backoffMs: [100, 200] });
    expect(g).toMatchObject({ maxAckTimeMs: 500, backoffMs: [100, 200], maxMsgDeliveries: 10 });
    expect(() => resolveGroupConfig({ maxMsgDeliveries: 0 })).toThrow(/maxMsgDeliveries/);
    expect(() => resolveGroupConfig({ backoffMs: [1, -5] })).toThrow(/backoffMs\[1\]/);
    expect(() => resolveGroupConfig({ startPosition: { kind: "middle" } as never })).toThrow(/startPosition.kind/);
    expect(() => resolveGroupConfig({ maxMsgDeliveries: 1, backoffMs: [1, 2] })).toThrow(/backoffMs/);
  });

  it("fills memberTimeoutMs for records written before it existed, and validates it", () => {
    const old = { maxAckTimeMs: 30_000, maxMsgDeliveries: 10, backoffMs: [], startPosition: { kind: "earliest" } } as Partial<GroupConfig>;
    expect(resolveGroupConfig(old).memberTimeoutMs).toBe(5000);
    expect(resolveGroupConfig({ memberTimeoutMs: 60_000 }).memberTimeoutMs).toBe(60_000);
    expect(() => resolveGroupConfig({ memberTimeoutMs: 10 })).toThrow(/memberTimeoutMs/);
    expect(() => resolveGroupConfig({ memberTimeoutMs: 1.5 as number })).toThrow(/memberTimeoutMs/);
  });
});
