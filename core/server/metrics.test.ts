import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { manualClock } from "../support/index.js";
import { GatewayMetrics, type BrokerState } from "./metrics.js";

function bound(state: BrokerState, quotaRefusals: Record<string, number> = {}): GatewayMetrics {
  const m = new GatewayMetrics({ processMetrics: false, clock: manualClock() });
  m.bind({
    ready: () => true,
    produceStats: () => ({ requests: 0, messages: 0, stored: 0, duplicates: 0, rejected: 0, fallbacks: 0, badInput: 0 }),
    badReplySubjects: () => 0,
    quarantinedFunctions: () => 0,
    quotaRefusals: () => quotaRefusals,
    storage: () => ({ state: "ok", headroomBytes: undefined, outOfSpace: 0 }),
    brokerState: () => Promise.resolve(state),
  });
  return m;
}

describe("gateway metrics: JetStream sync per server", () => {
  it("exports 1 for a server that fsyncs before acking and 0 for one that syncs on a timer", async () => {
    const text = await bound({
      groups: [],
      deadLetters: [],
      servers: [
        { server: "n1", syncAlways: true },
        { server: "n2", syncAlways: false },
      ],
    }).metrics();
    expect(text).toContain("# TYPE junction_jetstream_sync_always gauge");
    expect(text).toContain('junction_jetstream_sync_always{server="n1"} 1');
    expect(text).toContain('junction_jetstream_sync_always{server="n2"} 0');
  });

  it("exports no series when the setting is unknown (no system account)", async () => {
    const text = await bound({ groups: [], deadLetters: [] }).metrics();
    expect(text).toContain("# TYPE junction_jetstream_sync_always gauge");
    expect(text).not.toMatch(/^junction_jetstream_sync_always\{/m);
  });
});

describe("gateway metrics: quota refusals", () => {
  it("exports a series per quota that refused something", async () => {
    const text = await bound({ groups: [], deadLetters: [] }, { stations: 2, messagesPerRequest: 0, store: 1 }).metrics();
    expect(text).toContain("# TYPE junction_quota_refusals_total counter");
    expect(text).toContain('junction_quota_refusals_total{quota="stations"} 2');
    expect(text).toContain('junction_quota_refusals_total{quota="store"} 1');
    expect(text).not.toContain('quota="messagesPerRequest"');
  });
});

describe("gateway metrics: documented", () => {
  it("every metric the gateway exports is in docs/operations.md", () => {
    const doc = readFileSync(new URL("../../docs/operations.md", import.meta.url), "utf8");
    const names = bound({ groups: [], deadLetters: [] })
      .registry.getMetricsAsArray()
      .map((m) => m.name);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });
});

describe("gateway metrics: partitions", () => {
  it("exports partitions, held, parked and retrying keys for partitioned groups only, members for every group", async () => {
    const text = await bound({
      groups: [
        {
          station: "orders",
          group: "billing",
          pending: 5,
          ackPending: 2,
          redelivered: 1,
          members: 3,
          partitions: { total: 8, held: 6, parked: 1, retrying: 2 },
        },
        { station: "orders", group: "audit", pending: 0, ackPending: 0, redelivered: 0, members: 2 },
      ],
      deadLetters: [],
    }).metrics();
    expect(text).toContain('junction_consumer_partitions{station="orders",group="billing"} 8');
    expect(text).toContain('junction_consumer_partitions_held{station="orders",group="billing"} 6');
    expect(text).toContain('junction_consumer_partitions_parked{station="orders",group="billing"} 1');
    expect(text).toContain('junction_consumer_members{station="orders",group="billing"} 3');
    expect(text).toContain('junction_consumer_keys_retrying{station="orders",group="billing"} 2');
    expect(text).not.toContain('junction_consumer_partitions{station="orders",group="audit"}');
    expect(text).toContain('junction_consumer_members{station="orders",group="audit"} 2');
    expect(text).toContain('junction_consumer_lag{station="orders",group="billing"} 7');
  });
});
