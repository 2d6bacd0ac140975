/**
 * The bottom layer of core: logging, time and live events. Every other core layer may use it;
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
export type { Logger, LoggerOptions, LogLevels } from "./logger.js";
export type { Clock, ManualClock } from "./clock.js";
export type { EventPublisher, JunctionEvent } from "./events.js";
