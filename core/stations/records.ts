import { nameProblem, type GroupConfig, type StationConfig } from "../protocol/index.js";
import { resolveGroupConfig, resolveStationConfig } from "./config.js";

/** A station's metadata record (KV bucket `jn_stations`, key = station name). */
export interface StationRecord {
  name: string;
  config: StationConfig;
  createdAt: string;
  /** Attached schema (set by the schema handlers). */
  schema?: { name: string; version: number | "latest"; allowUnknownFields?: boolean | undefined } | undefined;
  /** Function pipeline (set by the function handlers), in order. */
  functions?: { name: string; version: number | "latest"; inputs: Record<string, string> }[] | undefined;
}

/** A consumer group's record (KV bucket `jn_groups`, key `<station>.<group>`). */
export interface GroupRecord {
  station: string;
  name: string;
  config: GroupConfig;
  createdAt: string;
}

/** The key of a group record. */
export function groupKey(station: string, group: string): string {
  return `${station}.${group}`;
}

/** Why a stored record is unusable. */
export class InvalidRecordError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(`metadata record '${key}' is invalid: ${message}`);
    this.name = "InvalidRecordError";
    this.key = key;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function version(v: unknown): boolean {
  return v === "latest" || (typeof v === "number" && Number.isInteger(v) && v >= 1);
}

/**
 * Checks a station record read from the store (metadata is untrusted input: anything that can
 * write the bucket could have put anything there). Returns the record, or throws
 * {@link InvalidRecordError} saying what is wrong.
 */
export function parseStationRecord(key: string, v: unknown): StationRecord {
  const bad = (m: string) => new InvalidRecordError(key, m);
  if (!isObject(v)) throw bad("not an object");
  if (v["name"] !== key || nameProblem(v["name"]) !== undefined) throw bad("its name does not match its key or the naming rule");
  if (typeof v["createdAt"] !== "string") throw bad("createdAt is not a string");
  let config: StationConfig;
  try {
    if (!isObject(v["config"])) throw new Error("config is not an object");
    config = resolveStationConfig(v["config"] as Partial<StationConfig>);
  } catch (err) {
    throw bad(`config: ${(err as Error).message}`);
  }
  const rec: StationRecord = { name: key, config, createdAt: v["createdAt"] };
  const s = v["schema"];
  if (s !== undefined && s !== null) {
    if (!isObject(s) || nameProblem(s["name"]) !== undefined || !version(s["version"])) throw bad("schema attachment is malformed");
    if (s["allowUnknownFields"] !== undefined && typeof s["allowUnknownFields"] !== "boolean")
      throw bad("schema.allowUnknownFields is not a boolean");
    rec.schema = {
      name: s["name"] as string,
      version: s["version"] as number | "latest",
      ...(s["allowUnknownFields"] === true ? { allowUnknownFields: true } : {}),
    };
  }
  const f = v["functions"];
  if (f !== undefined && f !== null) {
    if (!Array.isArray(f)) throw bad("functions is not a list");
    rec.functions = f.map((x: unknown, i) => {
      if (!isObject(x) || nameProblem(x["name"]) !== undefined || !version(x["version"])) throw bad(`functions[${i}] is malformed`);
      const inputs = x["inputs"] ?? {};
      if (!isObject(inputs) || Object.values(inputs).some((y) => typeof y !== "string"))
        throw bad(`functions[${i}].inputs is not a string map`);
      return { name: x["name"] as string, version: x["version"] as number | "latest", inputs: inputs as Record<string, string> };
    });
  }
  return rec;
}

/** Checks a group record read from the store (see {@link parseStationRecord}). */
export function parseGroupRecord(key: string, v: unknown): GroupRecord {
  const bad = (m: string) => new InvalidRecordError(key, m);
  if (!isObject(v)) throw bad("not an object");
  const station = v["station"];
  const name = v["name"];
  if (nameProblem(station) !== undefined || nameProblem(name) !== undefined || key !== groupKey(station as string, name as string)) {
    throw bad("its station and name do not match its key or the naming rule");
  }
  if (typeof v["createdAt"] !== "string") throw bad("createdAt is not a string");
  let config: GroupConfig;
  try {
    if (!isObject(v["config"])) throw new Error("config is not an object");
    config = resolveGroupConfig(v["config"] as Partial<GroupConfig>);
  } catch (err) {
    throw bad(`config: ${(err as Error).message}`);
  }
  return { station: station as string, name: name as string, config, createdAt: v["createdAt"] };
}
