/**
 * The bottom layer of core: logging, time, live events and tracing (OpenTelemetry API). Every other core layer may use it;
 * it uses only the protocol.
 */
export {
  createLogger,
  silentLogger,
  LogLevel,
  LogFormat,
  LOG_LEVEL_SPEC_PATTERN,
  DEFAULT_LOGGER_OPTIONS,
  resolveLoggerOptions,
  parseLogLevels,
  levelOf,
  prettyLine,
} from "./logger.js";
export { redactSecrets, redactString, isSecretKey, REDACTED, SECRET_KEY_FRAGMENTS } from "./redact.js";
export { systemClock, isoNow, manualClock } from "./clock.js";
export { createEventPublisher, noEvents } from "./events.js";
export {
  Tracing,
  gatewayTracing,
  GATEWAY_TRACER_NAME,
  ROOT_TRACE_CONTEXT,
  MESSAGING_SYSTEM,
  MAX_SPAN_LINKS,
  TraceAttr,
  SpanKind,
  spanContextOf,
  contextOf,
  remoteContext,
  contextOfHeaders,
  linkTo,
  traceHeadersOfSpan,
  withSpan,
  activeContext,
  endSpan,
  linkMessages,
  stationAttributes,
  startSpan,
  scopeIn,
  spanOf,
  messageFailed,
} from "./tracing.js";
export type { Logger, LoggerOptions, LogLevels } from "./logger.js";
export type { Clock, ManualClock } from "./clock.js";
export type { EventPublisher, JunctionEvent } from "./events.js";
export type { TraceContext, TraceScope, Span, SpanContext, SpanLink, Tracer, TracerProvider } from "./tracing.js";
