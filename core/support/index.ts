/**
 * The bottom layer of core: logging, time and live events. Every other core layer may use it;
 * it uses only the protocol.
 */
export { createLogger, silentLogger, LogLevel } from "./logger.js";
export { systemClock, isoNow, manualClock } from "./clock.js";
export { createEventPublisher, noEvents } from "./events.js";
export type { Logger } from "./logger.js";
export type { Clock, ManualClock } from "./clock.js";
export type { EventPublisher, JunctionEvent } from "./events.js";
