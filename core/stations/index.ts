/** Station and consumer-group settings, their rules, their records and the KV-backed registries. */
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
export { parseStationRecord, parseGroupRecord, groupKey, InvalidRecordError } from "./records.js";
export { StationRegistry, GroupStore } from "./registry.js";
export type { StationRecord, GroupRecord } from "./records.js";
export type { InvalidRecordHandler } from "./registry.js";
