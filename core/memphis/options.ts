import { check, nameProblem, resolveOptions, type Filled } from "../protocol/index.js";

/** Options of Memphis compatibility (`junction dev --memphis`, `junction gateway --memphis`). */
export interface MemphisOptions {
  /**
   * The Junction users that may connect with a Memphis SDK (as `<user>$<accountId>` with their
   * password, or with their password as the connection token), users of the default tenant. Each
   * gets a NATS account of its own (`MEMPHIS_<user>`), which the server config must have: list
   * the same users there (`junction nats-config --memphis <users>`).
   * @default ["memphis"]
   */
  users?: readonly string[] | undefined;
  /**
   * How long an acknowledgement that terminates a message (`+TERM`, what `deadLetter(reason)`
   * sends) waits for the reason the SDK sends right after it, in ms; then it goes on without one.
   * @default 2000
   */
  termReasonWaitMs?: number | undefined;
  /**
   * Most produce requests of one producer to one station gathered into one gateway request (they
   * arrive in the same event-loop turn; order is kept). 1 = one request each. @default 1000
   */
  maxProduceBatch?: number | undefined;
  /** Time a forwarded consumer-info request or acknowledgement may take, in ms. @default 5000 */
  jetstreamTimeoutMs?: number | undefined;
  /**
   * Settings of stations a Memphis producer or consumer creates by naming a station that does
   * not exist (Memphis's defaults: 1 hour of messages on disk, 2 minutes of de-duplication).
   * @default { maxAgeSeconds: 3600, storage: "file", idempotencyWindowMs: 120000 }
   */
  autoStation?: { maxAgeSeconds?: number; storage?: "file" | "memory"; idempotencyWindowMs?: number } | undefined;
}

/** Resolved {@link MemphisOptions}. */
export type ResolvedMemphisOptions = Filled<MemphisOptions> & {
  readonly autoStation: Readonly<{ maxAgeSeconds: number; storage: "file" | "memory"; idempotencyWindowMs: number }>;
};

/** The defaults of {@link MemphisOptions}. */
export const DEFAULT_MEMPHIS_OPTIONS: ResolvedMemphisOptions = Object.freeze({
  users: Object.freeze(["memphis"]),
  termReasonWaitMs: 2000,
  maxProduceBatch: 1000,
  jetstreamTimeoutMs: 5000,
  autoStation: Object.freeze({ maxAgeSeconds: 3600, storage: "file" as const, idempotencyWindowMs: 120_000 }),
});

const users = (v: unknown): string | undefined =>
  Array.isArray(v) && v.length > 0 && v.every((u) => nameProblem(u) === undefined) ? undefined : "a non-empty list of user names";

const autoStation = (v: unknown): string | undefined => {
  if (typeof v !== "object" || v === null) return "an object";
  const a = v as Record<string, unknown>;
  for (const k of Object.keys(a)) if (!["maxAgeSeconds", "storage", "idempotencyWindowMs"].includes(k)) return `no '${k}' setting`;
  if (check.int(0)(a["maxAgeSeconds"]) !== undefined) return "{ maxAgeSeconds: an integer >= 0, … }";
  if (check.oneOf("file", "memory")(a["storage"]) !== undefined) return "{ storage: 'file' or 'memory', … }";
  if (check.int(100, 86_400_000)(a["idempotencyWindowMs"]) !== undefined) return "{ idempotencyWindowMs: 100 to 86400000, … }";
  return undefined;
};

/** Validates and freezes Memphis options; a bad value fails naming `memphis.<option>`. */
export function resolveMemphisOptions(o: MemphisOptions = {}): ResolvedMemphisOptions {
  const merged = { ...o, autoStation: { ...DEFAULT_MEMPHIS_OPTIONS.autoStation, ...o.autoStation } };
  const r = resolveOptions("memphis", DEFAULT_MEMPHIS_OPTIONS, merged, {
    users,
    termReasonWaitMs: check.int(0, 60_000),
    maxProduceBatch: check.int(1, 100_000),
    jetstreamTimeoutMs: check.int(100, 120_000),
    autoStation,
  });
  return Object.freeze({ ...r, users: Object.freeze([...r.users]), autoStation: Object.freeze({ ...r.autoStation }) });
}
