import { describe, expect, it } from "vitest";
import { resolveGroupConfig, resolveStationConfig } from "../stations/index.js";
import { defaultScope, scopeOf } from "../protocol/index.js";
import { groupConsumerConfig, stationStreamConfig } from "./streams.js";

describe("JetStream config of stations and groups", () => {
  it("converts milliseconds and seconds to nanoseconds only in the JetStream config", () => {
    const s = stationStreamConfig(
      defaultScope,
      "orders",
      resolveStationConfig({ maxAgeSeconds: 60, idempotencyWindowMs: 1500, retention: "interest" }),
    );
    expect(s).toMatchObject({
      name: "JN_ST_orders",
      subjects: ["jn.st.orders.>"],
      max_age: 60e9,
      duplicate_window: 1.5e9,
      retention: "interest",
      allow_atomic: true,
    });
  });

  it("scopes a tenant's stream by name and subjects", () => {
    const s = stationStreamConfig(scopeOf("acme"), "orders", resolveStationConfig());
    expect(s).toMatchObject({ name: "JN_T_acme_ST_orders", subjects: ["jn.t.acme.st.orders.>"] });
  });

  it("maps a group to a multi-filter pull consumer", () => {
    const g = resolveGroupConfig({ maxAckTimeMs: 500, backoffMs: [100, 200] });
    const c = groupConsumerConfig(defaultScope, "orders", "billing", g);
    expect(c).toMatchObject({
      durable_name: "billing",
      ack_wait: 500e6,
      max_deliver: 10,
      filter_subjects: ["jn.st.orders.msg", "jn.st.orders.resend.billing"],
      deliver_policy: "all",
    });
    // Backoff is the members' deadline; a JetStream backoff would replace the lease.
    expect(c.backoff).toBeUndefined();
  });

  it("makes the member timeout the ack wait (the lease) unless the ack time is shorter", () => {
    expect(groupConsumerConfig(defaultScope, "o", "g", resolveGroupConfig({ maxAckTimeMs: 60_000 })).ack_wait).toBe(5000e6);
    expect(groupConsumerConfig(defaultScope, "o", "g", resolveGroupConfig({ memberTimeoutMs: 2000 })).ack_wait).toBe(2000e6);
    expect(groupConsumerConfig(defaultScope, "o", "g", resolveGroupConfig({ maxAckTimeMs: 400 })).ack_wait).toBe(400e6);
  });

  it("still maps start positions", () => {
    expect(groupConsumerConfig(defaultScope, "o", "g", resolveGroupConfig({ startPosition: { kind: "sequence", seq: 5 } }))).toMatchObject({
      deliver_policy: "by_start_sequence",
      opt_start_seq: 5,
    });
  });
});
