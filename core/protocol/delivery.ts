import { JunctionError } from "./errors.js";
import { Headers } from "./subjects.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The longest a message may be delayed: 366 days. */
export const MAX_DELAY_MS = 366 * DAY_MS;
/** The shortest per-message TTL: JetStream counts TTLs in whole seconds, at least one. */
export const MIN_TTL_MS = 1000;
/** The longest per-message TTL: 10 years. */
export const MAX_TTL_MS = 3660 * DAY_MS;

/** When a produced message becomes visible and how long it stays deliverable. */
export interface DeliveryOptions {
  /** Hold the message this long before groups see it, in ms (counted from its arrival at the gateway). */
  delayMs?: number | undefined;
  /** Groups see the message from this time on (ms since the epoch, or a Date); a past time = at once. */
  deliverAt?: number | Date | undefined;
  /** Once visible, the message is deliverable this long, in ms (rounded up to whole seconds); then it is removed unacked. */
  ttlMs?: number | undefined;
}

/** Delivery settings as the gateway applies them. */
export interface Delivery {
  /** When the message becomes visible (ms since the epoch); undefined = at once. */
  visibleAtMs?: number;
  /** Its TTL once visible, in whole seconds; undefined = none. */
  ttlSeconds?: number;
}

/** The names of the produce headers that carry {@link DeliveryOptions}. */
export const DELIVERY_HEADERS: ReadonlySet<string> = new Set([Headers.DelayMs, Headers.DeliverAt, Headers.TtlMs]);

function invalid(what: string, message: string, details: Record<string, unknown>): JunctionError {
  return new JunctionError("INVALID_ARGUMENT", `${what} ${message}`, { details: { option: what, ...details } });
}

function intIn(what: string, v: unknown, min: number, max: number, limitText: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalid(what, `must be a whole number of ms; got ${String(v)}`, { value: v });
  if (v < min || v > max) throw invalid(what, `must be between ${min} and ${max} ms (${limitText}); got ${v}`, { value: v, min, max });
  return v;
}

/**
 * Checks delivery options and turns them into headers for the produce request. Throws
 * INVALID_ARGUMENT naming the option and its limit.
 */
export function deliveryHeaders(o: DeliveryOptions): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  if (o.delayMs !== undefined && o.deliverAt !== undefined) {
    throw invalid("delayMs", "and deliverAt cannot both be given", {});
  }
  if (o.delayMs !== undefined) (out ??= {})[Headers.DelayMs] = String(intIn("delayMs", o.delayMs, 0, MAX_DELAY_MS, "at most 366 days"));
  if (o.deliverAt !== undefined) {
    const at = o.deliverAt instanceof Date ? o.deliverAt.getTime() : o.deliverAt;
    if (typeof at !== "number" || !Number.isFinite(at))
      throw invalid("deliverAt", `must be a Date or ms since the epoch; got ${String(at)}`, {});
    (out ??= {})[Headers.DeliverAt] = String(Math.round(at));
  }
  if (o.ttlMs !== undefined) (out ??= {})[Headers.TtlMs] = String(intIn("ttlMs", o.ttlMs, MIN_TTL_MS, MAX_TTL_MS, "1 s to 10 years"));
  return out;
}

function headerInt(name: string, v: string): number {
  const n = /^-?\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(name, `must be a whole number; got '${v}'`, { header: name });
  return n;
}

/**
 * Reads the delivery headers of a produced message (and removes them from `headers`). `nowMs`
 * is the gateway's clock. A delay or time more than {@link MAX_DELAY_MS} ahead, or a TTL
 * outside [{@link MIN_TTL_MS}, {@link MAX_TTL_MS}], is refused with INVALID_ARGUMENT.
 */
export function takeDelivery(headers: Record<string, string> | undefined, nowMs: number): Delivery {
  const d: Delivery = {};
  if (!headers) return d;
  const delay = headers[Headers.DelayMs];
  const at = headers[Headers.DeliverAt];
  const ttl = headers[Headers.TtlMs];
  if (delay === undefined && at === undefined && ttl === undefined) return d;
  delete headers[Headers.DelayMs];
  delete headers[Headers.DeliverAt];
  delete headers[Headers.TtlMs];
  if (delay !== undefined && at !== undefined) throw invalid("delayMs", "and deliverAt cannot both be given", {});
  if (delay !== undefined) {
    const ms = intIn("delayMs", headerInt(Headers.DelayMs, delay), 0, MAX_DELAY_MS, "at most 366 days");
    if (ms > 0) d.visibleAtMs = nowMs + ms;
  }
  if (at !== undefined) {
    const ms = headerInt(Headers.DeliverAt, at);
    if (ms - nowMs > MAX_DELAY_MS) {
      throw invalid("deliverAt", `is more than 366 days ahead (${new Date(ms).toISOString()}); the limit is ${MAX_DELAY_MS} ms`, {
        value: ms,
        max: nowMs + MAX_DELAY_MS,
      });
    }
    if (ms > nowMs) d.visibleAtMs = ms;
  }
  if (ttl !== undefined) {
    const ms = intIn("ttlMs", headerInt(Headers.TtlMs, ttl), MIN_TTL_MS, MAX_TTL_MS, "1 s to 10 years");
    d.ttlSeconds = Math.ceil(ms / 1000);
  }
  return d;
}
