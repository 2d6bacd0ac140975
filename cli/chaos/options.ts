import { check, resolveOptions } from "../../core/protocol/index.js";
import { ChaosError, ChaosErrorCode } from "./errors.js";
import { PRESETS, findPreset } from "./presets.js";
import type { ChaosPreset } from "./types.js";

/** Options of {@link runChaos}: a preset, and what to change in it. */
export interface ChaosOptions {
  /** The scenario (`junction chaos --list`). @default "smoke" */
  preset?: string | undefined;
  /** Seed of the fault schedule (same seed, same schedule). @default 1 */
  seed?: number | undefined;
  /** Length of the workload, in ms (10 s to 30 min). @default the preset's */
  durationMs?: number | undefined;
  /** Faults to plan. @default the preset's */
  faults?: number | undefined;
  /** nats-servers: 1, or 3 (a cluster; the station gets 3 replicas). @default the preset's */
  natsServers?: 1 | 3 | undefined;
  /** fsync before ack. @default the preset's */
  fsync?: boolean | undefined;
  /** Gateway processes (1–8). @default the preset's */
  gateways?: number | undefined;
  /** Consumer member processes (1–8). @default the preset's */
  members?: number | undefined;
  /** Messages per second over all producers. @default the preset's */
  ratePerSec?: number | undefined;
  /** Where stores and logs go. @default a new folder in the OS temp folder */
  dir?: string | undefined;
  /** Keep that folder after a passing run (a failing run always keeps it). @default false */
  keepDir?: boolean | undefined;
  /** Known defects fail the run too. @default false */
  strict?: boolean | undefined;
  /** Longest wait, after the workload, for every message to be consumed or dead-lettered, in ms. @default 90000 */
  drainTimeoutMs?: number | undefined;
  /** Progress lines (faults as they happen). @default none */
  log?: ((line: string) => void) | undefined;
  /** Monotonic time in ms. @default performance.now */
  clock?: { now(): number } | undefined;
}

/** Defaults of {@link ChaosOptions} (the rest comes from the preset). */
export const DEFAULT_CHAOS_OPTIONS = Object.freeze({
  preset: "smoke",
  seed: 1,
  keepDir: false,
  strict: false,
  drainTimeoutMs: 90_000,
  log: (() => {}) as (line: string) => void,
  clock: Object.freeze({ now: () => performance.now() }) as { now(): number },
});

/** Resolved options: the preset with the changes applied. */
export interface ResolvedChaosOptions {
  readonly preset: ChaosPreset;
  readonly seed: number;
  readonly dir: string | undefined;
  readonly keepDir: boolean;
  readonly strict: boolean;
  readonly drainTimeoutMs: number;
  readonly log: (line: string) => void;
  readonly clock: { now(): number };
}

/** Validates the options and applies them to the preset; a bad value fails naming the option. */
export function resolveChaosOptions(o: ChaosOptions = {}): ResolvedChaosOptions {
  let r;
  try {
    r = resolveOptions(
      "chaos",
      { ...DEFAULT_CHAOS_OPTIONS } as typeof DEFAULT_CHAOS_OPTIONS & Omit<ChaosOptions, keyof typeof DEFAULT_CHAOS_OPTIONS>,
      o as never,
      {
        preset: check.string,
        seed: check.int(0, 2 ** 32 - 1),
        durationMs: check.int(10_000, 30 * 60_000),
        faults: check.int(0, 100),
        natsServers: check.oneOf(1, 3),
        fsync: check.bool,
        gateways: check.int(1, 8),
        members: check.int(1, 8),
        ratePerSec: check.int(1, 20_000),
        dir: check.string,
        keepDir: check.bool,
        strict: check.bool,
        drainTimeoutMs: check.int(1000, 30 * 60_000),
        log: check.fn,
        clock: check.any,
      },
    );
  } catch (err) {
    throw new ChaosError(ChaosErrorCode.InvalidOptions, (err as Error).message, {
      cause: err,
      details: { ...(err as { details?: object }).details },
    });
  }
  const base = findPreset(r.preset);
  if (!base) {
    throw new ChaosError(
      ChaosErrorCode.InvalidOptions,
      `no preset '${r.preset}'; the presets are ${PRESETS.map((p) => p.name).join(", ")} (junction chaos --list)`,
      { details: { option: "chaos.preset" } },
    );
  }
  const topology = {
    ...base.topology,
    ...(r.natsServers !== undefined ? { natsServers: r.natsServers } : {}),
    ...(r.fsync !== undefined ? { fsync: r.fsync } : {}),
    ...(r.gateways !== undefined ? { gateways: r.gateways } : {}),
    ...(r.members !== undefined ? { members: r.members } : {}),
  };
  // A tmpfs store is a single-node arrangement.
  if (topology.natsServers !== 1) topology.storeTmpfsMb = 0;
  const preset: ChaosPreset = {
    ...base,
    durationMs: r.durationMs ?? base.durationMs,
    topology,
    workload: { ...base.workload, ...(r.ratePerSec !== undefined ? { ratePerSec: r.ratePerSec } : {}) },
    schedule: { ...base.schedule, ...(r.faults !== undefined ? { count: r.faults } : {}) },
  };
  return Object.freeze({
    preset,
    seed: r.seed,
    dir: r.dir,
    keepDir: r.keepDir,
    strict: r.strict,
    drainTimeoutMs: r.drainTimeoutMs,
    log: r.log,
    clock: r.clock,
  });
}
