/**
 * W3C Trace Context on messages: the `traceparent` and `tracestate` headers, read and written
 * without any tracing library (the SDK and the gateway turn them into OpenTelemetry contexts).
 * The names are lowercase, as W3C Trace Context for AMQP and MQTT and the NATS server use them;
 * other spellings are ordinary headers.
 */

/** The trace context a message or request carries (W3C Trace Context header values). */
export interface TraceHeaders {
  /** `00-<trace id>-<parent id>-<flags>`. */
  traceparent: string;
  /** Vendor-specific entries, passed on as they are. */
  tracestate?: string | undefined;
}

/** A parsed `traceparent`. */
export interface Traceparent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** Trace flags (bit 0: sampled). */
  flags: number;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/**
 * Parses a `traceparent` value; undefined when it is absent or not valid (W3C Trace Context
 * level 1: version 00 has exactly four fields; a later version may add fields after the
 * flags, which are ignored; version ff is invalid).
 */
export function parseTraceparent(value: string | undefined): Traceparent | undefined {
  if (value === undefined || value.length < 55) return undefined;
  if (value[2] !== "-" || value[35] !== "-" || value[52] !== "-") return undefined;
  const version = value.slice(0, 2);
  if (!HEX.test(version) || version === "ff") return undefined;
  if (version === "00" ? value.length !== 55 : value.length > 55 && value[55] !== "-") return undefined;
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** Formats a `traceparent` value (version 00). */
export function formatTraceparent(t: Traceparent): string {
  return `00-${t.traceId}-${t.spanId}-${(t.flags & 0xff).toString(16).padStart(2, "0")}`;
}

/**
 * The trace context in a header record, or undefined when it has no valid `traceparent`
 * (a `tracestate` without one means nothing, as W3C says).
 */
export function traceHeadersOf(headers: Readonly<Record<string, string>> | undefined): TraceHeaders | undefined {
  const traceparent = headers?.["traceparent"];
  if (traceparent === undefined || parseTraceparent(traceparent) === undefined) return undefined;
  const tracestate = headers!["tracestate"];
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** Whether a header name is one of the trace context headers (lowercase, as on the wire). */
export function isTraceHeader(name: string): boolean {
  return name === "traceparent" || name === "tracestate";
}
