/**
 * What a benchmark run does and for how long: one of three profiles (quick for development,
 * default, full for every cost-growth point), chosen scenarios, sync policies and peers.
 */
import { parseArgs } from "node:util";
import { BenchProfile } from "./report/index.js";
import type { Sync } from "./broker.js";

/** Durations and sizes of one profile. */
export interface ProfileSettings {
  /** Warm-up before each throughput row, ms. */
  warmupMs: number;
  /** Measured time of each throughput row, ms. */
  measureMs: number;
  /** Measured time of each cost-growth point, ms (after a warm-up of a quarter of it). */
  growthMs: number;
  consumeMessages: number;
  /** End-to-end runs: rates (msgs/s), duration of each (after a 1 s warm-up at the same rate). */
  e2e: { rates: number[]; durationMs: number; warmupMs: number };
  serialMessages: number;
  microMs: number;
  writerBatches: number;
  /** Cost growth points. */
  payloadBytes: number[];
  stations: number[];
  groups: number[];
  /** Messages each consumer group reads in the groups scenario. */
  groupMessages: number;
  /** How many of each are added to measure gateway memory per item. */
  memory: { stations: number; groups: number; schemaVersions: number; functions: number };
  /** Publishing time per RabbitMQ queue type, ms. */
  peerMs: number;
  /** Messages drained in each keyed consume row (1 ms of work each). */
  keyedMessages: number;
}

/** The three profiles. */
export const PROFILES: Readonly<Record<BenchProfile, ProfileSettings>> = Object.freeze({
  quick: {
    warmupMs: 250,
    measureMs: 800,
    growthMs: 600,
    consumeMessages: 10_000,
    e2e: { rates: [1000], durationMs: 1500, warmupMs: 300 },
    serialMessages: 200,
    microMs: 300,
    writerBatches: 100,
    payloadBytes: [100, 1024, 10_240, 102_400],
    stations: [1, 10],
    groups: [1, 10],
    groupMessages: 1000,
    memory: { stations: 10, groups: 10, schemaVersions: 5, functions: 3 },
    peerMs: 800,
    keyedMessages: 2000,
  },
  default: {
    warmupMs: 1000,
    measureMs: 5000,
    growthMs: 2000,
    consumeMessages: 100_000,
    e2e: { rates: [1000, 5000], durationMs: 10_000, warmupMs: 1000 },
    serialMessages: 2000,
    microMs: 1000,
    writerBatches: 400,
    payloadBytes: [100, 1024, 10_240, 102_400],
    stations: [1, 100],
    groups: [1, 10],
    groupMessages: 5000,
    memory: { stations: 100, groups: 100, schemaVersions: 20, functions: 10 },
    peerMs: 5000,
    keyedMessages: 12_000,
  },
  full: {
    warmupMs: 1000,
    measureMs: 5000,
    growthMs: 5000,
    consumeMessages: 100_000,
    e2e: { rates: [1000, 5000], durationMs: 20_000, warmupMs: 1000 },
    serialMessages: 2000,
    microMs: 1000,
    writerBatches: 400,
    payloadBytes: [100, 1024, 10_240, 102_400],
    stations: [1, 100, 1000],
    groups: [1, 10, 100],
    groupMessages: 5000,
    memory: { stations: 1000, groups: 200, schemaVersions: 50, functions: 20 },
    peerMs: 5000,
    keyedMessages: 20_000,
  },
});

/** Scenario and suite names `--only` accepts (core scenarios keep their numbers). */
export const SUITES = [
  "1",
  "2a",
  "2b",
  "2c",
  "2d",
  "2e",
  "3",
  "4",
  "5",
  "5b",
  "6",
  "7",
  "latency",
  "9",
  "fast",
  "payload",
  "stations",
  "groups",
  "gateways",
  "memory",
  "micro",
  "peers",
  "http",
  "keyed",
] as const;
export type Suite = (typeof SUITES)[number];

/** A resolved run plan. */
export interface BenchPlan {
  profile: BenchProfile;
  settings: ProfileSettings;
  syncs: Sync[];
  /** Scenarios and suites to run. */
  suites: ReadonlySet<Suite>;
  /** Gateway inside the benchmark process. */
  inProcess: boolean;
  /** Gateway processes write CPU profiles. */
  cpuProfile: boolean;
  /** Only render report.html again from latest.json (no measurement). */
  reportOnly: boolean;
}

const USAGE = `usage: npm run bench -- [--quick | --full] [--only <list>] [--sync always|default] [--no-peers] [--profile] [--in-process] [--report-only]
  --only    comma-separated: ${SUITES.join(", ")} (2 = 2a–2e; 8 = latency; 10 = micro)`;

/** Parses the command line into a plan; throws with the usage on a bad flag. */
export function resolvePlan(argv: string[]): BenchPlan {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: "boolean", default: false },
        full: { type: "boolean", default: false },
        "no-peers": { type: "boolean", default: false },
        // Kept for old command lines: peers run by default now.
        peers: { type: "boolean", default: false },
        profile: { type: "boolean", default: false },
        "in-process": { type: "boolean", default: false },
        "report-only": { type: "boolean", default: false },
        only: { type: "string" },
        sync: { type: "string" },
      },
      strict: true,
    }));
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.quick && values.full) throw new Error(`--quick and --full exclude each other\n${USAGE}`);
  const profile: BenchProfile = values.quick ? "quick" : values.full ? "full" : "default";
  let syncs: Sync[] = ["always", "default"];
  if (values.sync !== undefined) {
    if (values.sync !== "always" && values.sync !== "default")
      throw new Error(`--sync must be always or default, not '${values.sync}'\n${USAGE}`);
    syncs = [values.sync];
  }
  let suites = new Set<Suite>(SUITES);
  if (values.only !== undefined) {
    suites = new Set();
    for (const raw of values.only
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const aliases: Record<string, Suite[]> = { "2": ["2a", "2b", "2c", "2d", "2e"], "8": ["latency"], "10": ["micro"] };
      const names = aliases[raw] ?? [raw];
      for (const n of names) {
        if (!(SUITES as readonly string[]).includes(n)) throw new Error(`--only: unknown scenario '${raw}'\n${USAGE}`);
        suites.add(n as Suite);
      }
    }
  }
  if (values["no-peers"]) suites.delete("peers");
  return {
    profile,
    settings: PROFILES[profile],
    syncs,
    suites,
    inProcess: values["in-process"] === true,
    cpuProfile: values.profile === true,
    reportOnly: values["report-only"] === true,
  };
}
