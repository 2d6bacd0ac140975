/** Station and consumer-group settings, their rules, and the KV-backed station registry. */
export {
  DEFAULT_STATION_CONFIG,
  DEFAULT_GROUP_CONFIG,
  MAX_MESSAGE_SIZE_LIMIT,
  resolveStationConfig,
  resolveGroupConfig,
  assertUpdatable,
  sameStationConfig,
  sameStartPosition,
} from "./config.js";
export { StationRegistry } from "./registry.js";
export type { StationRecord } from "./registry.js";
