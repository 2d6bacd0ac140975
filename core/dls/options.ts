import { JunctionError, type DeadLetter } from "../protocol/index.js";

/** Options of the dead-letter station (JN_DLS, the advisory listener, resend). */
export interface DlsOptions {
  /** Default time a dead letter is kept, in seconds, for stations without their own setting; 0 = until a cap removes it. @default 604800 (7 days) */
  maxAgeSeconds?: number;
  /** Default cap of dead letters per station (the oldest go first). @default 100000 */
  maxEntriesPerStation?: number;
  /** Cap of the whole DLS stream (all stations). @default 1000000 */
  maxEntries?: number;
  /** Time a gateway has to store a dead letter before its advisory goes to another gateway. @default 30000 */
  advisoryAckWaitMs?: number;
  /** Time an unhandled advisory is kept in JN_ADV, in seconds. @default 604800 (7 days) */
  advisoryMaxAgeSeconds?: number;
  /** How long a gateway caches a station's DLS retention, in ms. @default 5000 */
  retentionCacheMs?: number;
  /**
   * How often the gateway probes consumer groups that nobody pulls from and that hold unacked
   * messages, so that a message past its last delivery becomes a dead letter without waiting
   * for a member to pull again (the store fires max-deliveries only on a delivery attempt), in
   * ms; 0 = never. @default 3000
   */
  probeIntervalMs?: number;
  /** Probes per group and round (each reaches one more message of the redelivery queue). @default 8 */
  maxProbesPerGroup?: number;
  /**
   * Test hooks around the advisory path's dead-letter write (to simulate a gateway that dies
   * between the advisory and the write, or between the write and the advisory ack).
   */
  hooks?: DlsHooks;
}

/** Test hooks; never set in production. */
export interface DlsHooks {
  /** Awaited before the dead letter of an advisory is written. */
  beforeAdvisoryWrite?: (dl: DeadLetter) => Promise<void>;
  /** Awaited after the write is acknowledged, before the advisory is acked. */
  afterAdvisoryWrite?: (dl: DeadLetter) => Promise<void>;
}

/** Resolved DLS options. */
export type ResolvedDlsOptions = Readonly<Required<Omit<DlsOptions, "hooks">>> & { readonly hooks: DlsHooks };

/** The defaults of {@link DlsOptions}. */
export const DEFAULT_DLS_OPTIONS: Readonly<Required<Omit<DlsOptions, "hooks">>> = Object.freeze({
  maxAgeSeconds: 7 * 24 * 3600,
  maxEntriesPerStation: 100_000,
  maxEntries: 1_000_000,
  advisoryAckWaitMs: 30_000,
  advisoryMaxAgeSeconds: 7 * 24 * 3600,
  retentionCacheMs: 5000,
  probeIntervalMs: 3000,
  maxProbesPerGroup: 8,
});

function check(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new JunctionError("INVALID_ARGUMENT", `dls.${name} must be an integer >= ${min} (got ${String(v)})`, {
      details: { option: `dls.${name}`, value: v },
    });
  }
}

/** Validates and freezes DLS options; bad values fail at startup naming the option. */
export function resolveDlsOptions(o: DlsOptions = {}): ResolvedDlsOptions {
  const r = { ...DEFAULT_DLS_OPTIONS, ...stripUndefined(o), hooks: o.hooks ?? {} };
  check("maxAgeSeconds", r.maxAgeSeconds, 0);
  check("maxEntriesPerStation", r.maxEntriesPerStation, 1);
  check("maxEntries", r.maxEntries, 1);
  check("advisoryAckWaitMs", r.advisoryAckWaitMs, 100);
  check("advisoryMaxAgeSeconds", r.advisoryMaxAgeSeconds, 1);
  check("retentionCacheMs", r.retentionCacheMs, 0);
  check("probeIntervalMs", r.probeIntervalMs, 0);
  check("maxProbesPerGroup", r.maxProbesPerGroup, 1);
  return Object.freeze(r);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined && k !== "hooks") out[k] = o[k];
  return out;
}
