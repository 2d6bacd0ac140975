import { describe, expect, it } from "vitest";
import { consumerRequest, describeRefusal, jsStatus, publishAnswer, stationRequest } from "./mapping.js";

describe("station requests", () => {
  it("maps Memphis retention types, storage, replicas and the de-duplication window", () => {
    expect(
      stationRequest({ name: "Orders", retention_type: "message_age_sec", retention_value: 600, storage_type: "memory", replicas: 2 }),
    ).toMatchObject({
      station: "orders",
      config: { maxAgeSeconds: 600, storage: "memory", replicas: 3, idempotencyWindowMs: 120_000 },
    });
    expect(stationRequest({ name: "a", retention_type: "messages", retention_value: 10 })).toMatchObject({ config: { maxMessages: 10 } });
    expect(stationRequest({ name: "a", retention_type: "bytes", retention_value: 4096 })).toMatchObject({ config: { maxBytes: 4096 } });
    expect(stationRequest({ name: "a", retention_type: "ack_based" })).toMatchObject({ config: { retention: "interest" } });
    // No value: one hour, as in Memphis; at most 5 replicas; at least 100 ms of de-duplication.
    expect(
      stationRequest({ name: "a", retention_type: "messages", retention_value: 0, replicas: 9, idempotency_window_in_ms: 5 }),
    ).toMatchObject({
      config: { maxAgeSeconds: 3600, replicas: 5, idempotencyWindowMs: 100 },
    });
  });

  it("refuses what Memphis refused, in its words, and names what Junction cannot carry", () => {
    expect(stationRequest({ name: "a", retention_type: "forever" })).toEqual({
      problem: "retention type can be one of the following message_age_sec/messages/bytes/ack_based",
    });
    expect(stationRequest({ name: "a", storage_type: "tape" })).toEqual({
      problem: "storage type can be one of the following file/memory",
    });
    expect(stationRequest({ name: "a", idempotency_window_in_ms: 90_000_000 })).toEqual({
      problem: "idempotency window can not exceed 24 hours",
    });
    expect(stationRequest({ name: "a", retention_value: 10, idempotency_window_in_ms: 20_000 })).toEqual({
      problem: "idempotency window cannot be greater than the station retention",
    });
    expect(stationRequest({ name: "_a" })).toEqual({ problem: "station name can not start or end with non alphanumeric character" });
    expect(stationRequest({ name: "eu.orders" })).toMatchObject({
      problem: expect.stringMatching(/not supported by Junction.*instead of '\.'/),
    });
    expect(stationRequest({ name: "a", partitions_number: 0 })).toEqual({
      problem: "you are using an old SDK, make sure to update your SDK",
    });
  });

  it("notes what Junction does differently and carries the schema to attach", () => {
    const r = stationRequest({ name: "a", partitions_number: 3, dls_station: "a-dls", tiered_storage_enabled: true, schema_name: "Order" });
    expect(r).toMatchObject({ schema: "order" });
    expect("notes" in r && r.notes.join("\n")).toMatch(/3 partitions[\s\S]*tiered storage[\s\S]*a-dls/);
  });
});

describe("consumer requests", () => {
  const base = { name: "C1", station_name: "orders", start_consume_from_sequence: 1, last_messages: -1 };
  it("names the group after consumers_group, else the consumer, and maps its settings as Memphis did", () => {
    expect(consumerRequest({ ...base, consumers_group: "Billing", max_ack_time_ms: 5000, max_msg_deliveries: 2 })).toEqual({
      station: "orders",
      group: "billing",
      config: { maxAckTimeMs: 5000, memberTimeoutMs: 5000, maxMsgDeliveries: 2, startPosition: { kind: "earliest" } },
    });
    expect(consumerRequest({ ...base, max_ack_time_ms: 0, max_msg_deliveries: 50 })).toMatchObject({
      group: "c1",
      config: { maxAckTimeMs: 30_000, memberTimeoutMs: 30_000, maxMsgDeliveries: 10 },
    });
  });

  it("maps start positions: last N, new only, a sequence, the first", () => {
    const start = (o: object) => (consumerRequest({ ...base, ...o }) as { config: { startPosition: unknown } }).config.startPosition;
    expect(start({ last_messages: 5 })).toEqual({ kind: "last", count: 5 });
    expect(start({ last_messages: 0 })).toEqual({ kind: "latest" });
    expect(start({ start_consume_from_sequence: 42 })).toEqual({ kind: "sequence", seq: 42 });
    expect(start({})).toEqual({ kind: "earliest" });
  });

  it("refuses bad positions and the group name 'final'", () => {
    expect(consumerRequest({ ...base, start_consume_from_sequence: 0 })).toEqual({
      problem: "startConsumeFromSequence has to be a positive number",
    });
    expect(consumerRequest({ ...base, last_messages: -2 })).toEqual({ problem: "min value for LastMessages is -1" });
    expect(consumerRequest({ ...base, start_consume_from_sequence: 3, last_messages: 2 })).toMatchObject({
      problem: expect.stringMatching(/can't contain both/),
    });
    expect(consumerRequest({ ...base, consumers_group: "final" })).toEqual({ problem: "consumer group name 'final' is reserved" });
  });
});

describe("produce answers", () => {
  it("answers a stored message with a JetStream PubAck naming the stream the SDK published to", () => {
    expect(publishAnswer("orders$1", { seq: 7, duplicate: false })).toEqual({ stream: "orders$1", seq: 7, duplicate: false });
    expect(publishAnswer("orders$1", { seq: 3, duplicate: true })).toEqual({ stream: "orders$1", seq: 3, duplicate: true });
  });

  it("answers a refusal with a JetStream-shaped error, never Junction's reply shape", () => {
    const a = publishAnswer("orders$1", {
      error: {
        code: "SCHEMA_VALIDATION_FAILED",
        message: "message 0 does not match",
        details: {
          issues: [
            { path: "/total", message: "must be >= 0" },
            { path: "", message: "must have required property 'id'" },
          ],
        },
      },
    });
    expect(a).toEqual({
      error: {
        code: 400,
        description: "Schema validation has failed: /total must be >= 0, / must have required property 'id'",
        junction_code: "SCHEMA_VALIDATION_FAILED",
      },
    });
    expect(a).not.toHaveProperty("ok");
  });

  it("uses the status the SDK reacts to: 503 for a missing station, 500 when a retry can help", () => {
    expect(jsStatus("STATION_NOT_FOUND")).toBe(503);
    expect(jsStatus("PERMISSION_DENIED")).toBe(403);
    expect(jsStatus("STORE_TIMEOUT")).toBe(500);
    expect(jsStatus("FUNCTION_FAILED")).toBe(400);
    expect(describeRefusal({ code: "FUNCTION_FAILED", message: "function 'x' threw" })).toBe("function 'x' threw");
  });
});
