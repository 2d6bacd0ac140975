import { JunctionError, MAX_PARTITIONS, type GroupConfig, type StartPosition, type StationConfig } from "../protocol/index.js";

/** Station defaults. `replicas` is replaced by the gateway's default replicas. */
export const DEFAULT_STATION_CONFIG: Readonly<StationConfig> = Object.freeze({
  retention: "limits",
  maxAgeSeconds: 0,
  maxMessages: -1,
  maxBytes: -1,
  storage: "file",
  replicas: 1,
  idempotencyWindowMs: 120_000,
  maxMessageSize: 1024 * 1024,
  partitions: 1,
});

/** The largest maximum message size a station may set (NATS max_payload bounds batches). */
export const MAX_MESSAGE_SIZE_LIMIT = 8 * 1024 * 1024;

/** Consumer group defaults. */
export const DEFAULT_GROUP_CONFIG: Readonly<GroupConfig> = Object.freeze({
  maxAckTimeMs: 30_000,
  maxMsgDeliveries: 10,
  backoffMs: [] as number[],
  memberTimeoutMs: 5000,
  startPosition: { kind: "earliest" } as StartPosition,
  exclusive: false,
});

function bad(field: string, want: string, got: unknown): JunctionError {
  return new JunctionError("INVALID_ARGUMENT", `${field} must be ${want} (got ${JSON.stringify(got)})`, {
    details: { field, got },
  });
}

function int(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw bad(field, `an integer between ${min} and ${max}`, v);
  }
  return v;
}

const STATION_KEYS = new Set(Object.keys(DEFAULT_STATION_CONFIG));
const GROUP_KEYS = new Set(Object.keys(DEFAULT_GROUP_CONFIG));

function rejectUnknown(input: object, known: Set<string>, what: string): void {
  for (const k of Object.keys(input)) {
    if (!known.has(k)) throw new JunctionError("INVALID_ARGUMENT", `unknown ${what} setting '${k}'`, { details: { field: k } });
  }
}

/** Validates station settings, fills defaults and freezes the result. Errors name the setting. */
export function resolveStationConfig(
  input: Partial<StationConfig> = {},
  base: Readonly<StationConfig> = DEFAULT_STATION_CONFIG,
): Readonly<StationConfig> {
  if (typeof input !== "object" || input === null) throw bad("config", "an object", input);
  rejectUnknown(input, STATION_KEYS, "station");
  const c = { ...base, ...input };
  if (c.retention !== "limits" && c.retention !== "interest") throw bad("retention", "'limits' or 'interest'", c.retention);
  if (c.storage !== "file" && c.storage !== "memory") throw bad("storage", "'file' or 'memory'", c.storage);
  int("maxAgeSeconds", c.maxAgeSeconds, 0);
  if (c.maxMessages !== -1) int("maxMessages", c.maxMessages, 1);
  if (c.maxBytes !== -1) int("maxBytes", c.maxBytes, 1);
  int("replicas", c.replicas, 1, 5);
  int("idempotencyWindowMs", c.idempotencyWindowMs, 100, 7 * 24 * 3600 * 1000);
  int("maxMessageSize", c.maxMessageSize, 1, MAX_MESSAGE_SIZE_LIMIT);
  int("partitions", c.partitions, 1, MAX_PARTITIONS);
  return Object.freeze(c);
}

/** Settings JetStream cannot change on an existing stream. */
const IMMUTABLE: (keyof StationConfig)[] = ["storage", "retention"];

/** Throws STATION_UPDATE_REFUSED when `next` changes a setting that cannot change. */
export function assertUpdatable(station: string, prev: StationConfig, next: StationConfig): void {
  const from = prev.partitions ?? 1;
  const to = next.partitions ?? 1;
  if (to !== from && (from === 1 || to < from)) {
    // A one-partition station's groups read it whole, and shrinking would strand the messages
    // of the partitions removed; growth (from 2 up) is checked by the caller (see docs/streaming.md).
    throw new JunctionError(
      "STATION_UPDATE_REFUSED",
      from === 1
        ? `station '${station}': a station created with one partition cannot be partitioned later (1 -> ${to}): its groups read it as one ordered stream; create a new station with partitions and move producers to it once the groups have drained this one`
        : `station '${station}': partitions can only grow (${from} -> ${to}): the messages of a removed partition would be stranded; create a new station and move producers to it once the groups have drained this one`,
      { details: { field: "partitions", from, to } },
    );
  }
  for (const k of IMMUTABLE) {
    if (prev[k] !== next[k]) {
      throw new JunctionError(
        "STATION_UPDATE_REFUSED",
        `station '${station}': ${k} cannot change after creation (${String(prev[k])} -> ${String(next[k])}); create a new station instead`,
        { details: { field: k, from: prev[k], to: next[k] } },
      );
    }
  }
}

/** Whether two station configs are the same. */
export function sameStationConfig(a: StationConfig, b: StationConfig): boolean {
  return (Object.keys(DEFAULT_STATION_CONFIG) as (keyof StationConfig)[]).every((k) => a[k] === b[k]);
}

function resolveStart(v: unknown): StartPosition {
  if (typeof v !== "object" || v === null) throw bad("startPosition", "an object with 'kind'", v);
  const s = v as { kind?: unknown; seq?: unknown; count?: unknown };
  switch (s.kind) {
    case "earliest":
    case "latest":
      return { kind: s.kind };
    case "sequence":
      return { kind: "sequence", seq: int("startPosition.seq", s.seq, 1) };
    case "last":
      return { kind: "last", count: int("startPosition.count", s.count, 1) };
    default:
      throw bad("startPosition.kind", "'earliest', 'latest', 'sequence' or 'last'", s.kind);
  }
}

/** Validates consumer group settings, fills defaults and freezes the result. */
export function resolveGroupConfig(
  input: Partial<GroupConfig> = {},
  base: Readonly<GroupConfig> = DEFAULT_GROUP_CONFIG,
): Readonly<GroupConfig> {
  if (typeof input !== "object" || input === null) throw bad("config", "an object", input);
  rejectUnknown(input, GROUP_KEYS, "consumer group");
  const c = { ...base, ...input };
  int("maxAckTimeMs", c.maxAckTimeMs, 100, 24 * 3600 * 1000);
  int("maxMsgDeliveries", c.maxMsgDeliveries, 1, 10_000);
  int("memberTimeoutMs", c.memberTimeoutMs, 100, 3600 * 1000);
  if (typeof c.exclusive !== "boolean") throw bad("exclusive", "true or false", c.exclusive);
  // An exclusive member keeps its claim by pulling every quarter of memberTimeoutMs; the server's
  // pin timer has a resolution of a second in practice.
  if (c.exclusive) int("memberTimeoutMs", c.memberTimeoutMs, 1000, 3600 * 1000);
  if (!Array.isArray(c.backoffMs)) throw bad("backoffMs", "an array of milliseconds", c.backoffMs);
  c.backoffMs.forEach((b, i) => int(`backoffMs[${i}]`, b, 1, 24 * 3600 * 1000));
  if (c.backoffMs.length > 0 && c.backoffMs.length > c.maxMsgDeliveries) {
    throw bad("backoffMs", `at most maxMsgDeliveries (${c.maxMsgDeliveries}) entries`, c.backoffMs.length);
  }
  return Object.freeze({ ...c, backoffMs: [...c.backoffMs], startPosition: resolveStart(c.startPosition) });
}

/** Whether two start positions are the same. */
export function sameStartPosition(a: StartPosition, b: StartPosition): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
