import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import {
  ChaosError,
  ChaosErrorCode,
  PRESETS,
  describeSetup,
  planFaults,
  renderReport,
  renderSummary,
  resolveChaosOptions,
  runChaos,
  type ChaosOptions,
  type ChaosResult,
} from "../chaos/index.js";
import { ExitCode, intOption, table, type Io } from "../output.js";

interface ChaosFlags {
  preset: string;
  list?: boolean;
  plan?: boolean;
  seed?: string;
  duration?: string;
  faults?: string;
  natsServers?: string;
  fsync?: string;
  gateways?: string;
  members?: string;
  rate?: string;
  jsonOut?: string;
  dir?: string;
  keep?: boolean;
  strict?: boolean;
  quiet?: boolean;
}

/** `90`, `90s`, `2m` → milliseconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(v.trim());
  if (!m)
    throw new ChaosError(ChaosErrorCode.InvalidOptions, `--duration must be seconds (90, 90s) or minutes (2m) (got '${v}')`, {
      details: { option: "duration" },
    });
  return Math.round(Number(m[1]) * (m[2] === "m" ? 60_000 : 1000));
}

/** The presets a `--preset` value names: one, several (comma-separated) or `all`. */
export function presetNames(v: string): string[] {
  if (v === "all") return PRESETS.filter((p) => !p.extra).map((p) => p.name);
  return v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function optionsOf(f: ChaosFlags, preset: string, io: Io): ChaosOptions {
  const natsServers = intOption("nats-servers", f.natsServers);
  if (natsServers !== undefined && natsServers !== 1 && natsServers !== 3) {
    throw new ChaosError(ChaosErrorCode.InvalidOptions, `--nats-servers must be 1 or 3 (got ${natsServers})`, {
      details: { option: "nats-servers" },
    });
  }
  if (f.fsync !== undefined && f.fsync !== "on" && f.fsync !== "off") {
    throw new ChaosError(ChaosErrorCode.InvalidOptions, `--fsync must be on or off (got '${f.fsync}')`, { details: { option: "fsync" } });
  }
  return {
    preset,
    seed: intOption("seed", f.seed),
    durationMs: f.duration !== undefined ? parseDuration(f.duration) : undefined,
    faults: intOption("faults", f.faults),
    natsServers: natsServers as 1 | 3 | undefined,
    fsync: f.fsync === undefined ? undefined : f.fsync === "on",
    gateways: intOption("gateways", f.gateways),
    members: intOption("members", f.members),
    ratePerSec: intOption("rate", f.rate),
    dir: f.dir,
    keepDir: f.keep === true,
    strict: f.strict === true,
    log: f.quiet ? undefined : (line) => io.err(line + "\n"),
  };
}

function listPresets(io: Io): void {
  io.out(
    table(
      ["preset", "duration", "faults", "description"],
      PRESETS.map((p) => [
        p.name + (p.extra ? " (extra)" : ""),
        `${p.durationMs / 1000} s`,
        `${p.schedule.count} of ${p.schedule.faults.map((f) => f.kind).join(", ")}`,
        p.description,
      ]),
    ),
  );
}

function printPlan(io: Io, o: ChaosOptions): void {
  const r = resolveChaosOptions(o);
  const p = r.preset;
  const plan = planFaults(p.schedule, p.durationMs, r.seed, p.topology);
  io.out(`preset ${p.name}, seed ${r.seed}, ${p.durationMs / 1000} s: ${describeSetup(p)}\n`);
  io.out(
    table(
      ["#", "at", "fault", "held"],
      plan.faults.map((f) => [f.index, `+${(f.atMs / 1000).toFixed(1)} s`, f.kind, `${(f.holdMs / 1000).toFixed(1)} s`]),
    ),
  );
  for (const n of plan.notes) io.out(`note: ${n}\n`);
}

/** `junction chaos`: runs presets, prints each report (and a summary of several), exits 1 when a check fails, 2 when it cannot run. */
export function registerChaos(program: Command, io: Io): void {
  program
    .command("chaos")
    .description(
      "start a local broker (nats-servers, gateway and member processes), inject a seeded fault schedule, keep exact books per message and exit non-zero on any lost or doubled message or dead letter",
    )
    .option("--preset <names>", "preset(s), comma-separated, or all (see --list)", "smoke")
    .option("--list", "list the presets and exit")
    .option("--plan", "print the topology and the fault schedule, do not run")
    .option("--seed <n>", "seed of the fault schedule (same seed, same schedule)", "1")
    .option("--duration <time>", "length of the workload: seconds (90, 90s) or minutes (2m); default: the preset's")
    .option("--faults <n>", "faults to plan; default: the preset's")
    .option("--nats-servers <n>", "1, or 3 (a JetStream cluster, R3 station); default: the preset's")
    .option("--fsync <on|off>", "fsync before ack; default: the preset's")
    .option("--gateways <n>", "gateway processes; default: the preset's")
    .option("--members <n>", "consumer member processes; default: the preset's")
    .option("--rate <n>", "messages per second over all producers; default: the preset's")
    .option("--json-out <file>", "write every result as JSON to this file")
    .option("--dir <dir>", "folder for stores and logs (default: a new temp folder, removed after a passing run)")
    .option("--keep", "keep the folder of stores and logs after a passing run too")
    .option("--strict", "known defects fail the run too")
    .option("--quiet", "no progress lines on stderr")
    .action(async (f: ChaosFlags) => {
      try {
        await chaos(f, io);
      } catch (err) {
        if (!(err instanceof ChaosError)) throw err;
        io.err(`error ${err.code}: ${err.message}\n`);
        throw new ExitCode(2, err.message);
      }
    });
}

async function chaos(f: ChaosFlags, io: Io): Promise<void> {
  if (f.list) return listPresets(io);
  const names = presetNames(f.preset);
  if (names.length === 0) throw new ChaosError(ChaosErrorCode.InvalidOptions, "--preset names no preset");
  // Fail on a bad name or flag before starting anything.
  const all = names.map((n) => optionsOf(f, n, io));
  for (const o of all) resolveChaosOptions(o);
  if (f.plan) {
    for (const o of all) printPlan(io, o);
    return;
  }
  // Ctrl-C: exit through process.exit so the run's exit hook kills what it started.
  const onSignal = () => process.exit(130);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const results: ChaosResult[] = [];
  try {
    for (const o of all) {
      const r = await runChaos(all.length > 1 && o.dir ? { ...o, dir: `${o.dir}/${o.preset}` } : o);
      results.push(r);
      io.out(renderReport(r) + "\n");
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (results.length > 1) io.out(renderSummary(results));
  const passed = results.every((r) => r.passed);
  if (f.jsonOut) await writeFile(f.jsonOut, JSON.stringify({ passed, results }, null, 2) + "\n");
  if (!passed) throw new ExitCode(1, "chaos: a check failed");
}
