/** Fixture data for the TUI tests (stations, groups, dead letters, schemas, functions). */
import type { DeadLetter, FunctionInfo, GroupInfo, SchemaInfo, StationInfo } from "../../sdk/index.js";

export const tick = (ms = 80) => new Promise((r) => setTimeout(r, ms));

export function station(name: string, o: Partial<StationInfo> = {}): StationInfo {
  return {
    name,
    createdAt: "2025-01-01T00:00:00.000Z",
    config: {
      retention: "limits",
      maxAgeSeconds: 0,
      maxMessages: -1,
      maxBytes: -1,
      storage: "file",
      replicas: 1,
      idempotencyWindowMs: 120000,
      maxMessageSize: 1048576,
    },
    state: { messages: 10, bytes: 2048, firstSeq: 1, lastSeq: 10, consumers: 1 },
    ...o,
  };
}

export function group(
  stationName: string,
  name: string,
  stats: Partial<GroupInfo["stats"]> & { deadLettered?: number; oldestUnackedAgeMs?: number } = {},
): GroupInfo {
  return {
    station: stationName,
    name,
    config: { maxAckTimeMs: 30000, maxMsgDeliveries: 10, backoffMs: [], startPosition: { kind: "earliest" } },
    stats: { pending: 0, unacked: 0, redelivered: 0, membersOnline: 1, deliveredSeq: 0, ackFloorSeq: 0, ...stats },
  };
}

export function deadLetter(id: string, o: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    station: "orders",
    reason: "poison",
    groups: ["billing"],
    seq: 7,
    payload: Buffer.from(JSON.stringify({ id: 7, total: 12.5 })).toString("base64"),
    headers: { "Jn-Producer": "shop" },
    error: { code: "MAX_DELIVERIES", message: "delivered 2 times without an ack" },
    deliveries: 2,
    firstDeliveryAt: "2025-01-01T00:00:01.000Z",
    lastDeliveryAt: "2025-01-01T00:00:02.000Z",
    createdAt: "2025-01-01T00:00:03.000Z",
    ...o,
  };
}

export function schema(name: string, o: Partial<SchemaInfo> = {}): SchemaInfo {
  return {
    name,
    type: "json",
    compatibility: "backward",
    latest: 2,
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-02T00:00:00.000Z",
    usedBy: ["orders"],
    ...o,
  };
}

export function fn(name: string, o: Partial<FunctionInfo> = {}): FunctionInfo {
  return {
    name,
    latest: 1,
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    usedBy: [],
    stats: { calls: 0, errors: 0 },
    ...o,
  };
}

export const KEY = { down: "\u001b[B", up: "\u001b[A", enter: "\r", esc: "\u001b", tab: "\t", backspace: "\u007f" } as const;
