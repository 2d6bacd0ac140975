import { JunctionError } from "../protocol/index.js";

/** A server version, `major.minor.patch`. */
export type Version = readonly [number, number, number];

/**
 * What Junction uses from nats-server, and the first version that has it. A server older than
 * any of these is refused at startup, naming the version and the features it lacks.
 */
export const SERVER_FEATURES = {
  "multi-filter consumers (one consumer group reads new messages and its own resends)": "2.10.0",
  "per-message TTL (Nats-TTL, dead-letter retention)": "2.11.0",
  "reason on terminated-message advisories": "2.11.0",
  "atomic batch publish (one fsync per produce batch)": "2.12.0",
  "message schedules (delayed delivery)": "2.12.0",
} as const;

/** Parses `v2.12.1`, `2.12.1-beta` and the like; undefined when there is no version in it. */
export function parseVersion(text: string): Version | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The features a server of this version lacks. */
export function missingFeatures(version: string): string[] {
  const v = parseVersion(version);
  if (!v) return Object.keys(SERVER_FEATURES);
  return Object.entries(SERVER_FEATURES)
    .filter(([, min]) => compareVersions(v, parseVersion(min)!) < 0)
    .map(([name, min]) => `${name} (needs ${min})`);
}

/** The oldest server Junction runs on: the highest version in {@link SERVER_FEATURES}. */
export const MIN_SERVER_VERSION: string = Object.values(SERVER_FEATURES).reduce((a, b) =>
  compareVersions(parseVersion(a)!, parseVersion(b)!) >= 0 ? a : b,
);

/** Throws UNSUPPORTED_SERVER naming the version and what it lacks. */
export function assertServerVersion(version: string, where: string): void {
  const missing = missingFeatures(version);
  if (missing.length === 0) return;
  throw new JunctionError(
    "UNSUPPORTED_SERVER",
    `${where} runs nats-server ${version}; Junction needs >= ${MIN_SERVER_VERSION}. Missing: ${missing.join("; ")}`,
    { details: { version, minimum: MIN_SERVER_VERSION, missing } },
  );
}
