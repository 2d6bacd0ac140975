/** What every suite shares: the run context, throughput rows, CPU accounting and logging. */
import { join } from "node:path";
import { startBenchBroker, type BenchBroker, type Sync } from "../broker.js";
import { processCpuSeconds } from "../env.js";
import type { Throughput } from "../load.js";
import type { BenchPlan } from "../plan.js";
import { CellFormat, fmtInt, type Cell, type Column, type Section } from "../report/index.js";

/** CPU time per message, µs, per process kind (gateway = all gateway processes together). */
export interface CpuPerMessage {
  server?: number;
  gateway?: number;
  client?: number;
}

/** One measured throughput row. */
export interface Row {
  id: string;
  name: string;
  /** Raw baselines are drawn grey; Junction's rows in colour. */
  raw: boolean;
  result: Throughput;
  cpu: CpuPerMessage;
}

/** Results that later suites and the targets read. */
export interface RunResults {
  /** Produce and consume rows per sync policy, by id. */
  rows: Partial<Record<Sync, Map<string, Row>>>;
  /** End-to-end p50/p99/p99.9 at each rate, per sync policy and path. */
  e2e: Partial<Record<Sync, { rate: number; path: "raw" | "junction"; p50: number; p99: number; p999: number }[]>>;
}

/** The context every suite runs in. */
export interface BenchContext {
  plan: BenchPlan;
  outDir: string;
  log(line?: string): void;
  /** Sections of the report, in order. */
  sections: Section[];
  /** Headline metrics for the history (see report/model.ts for the naming). */
  metrics: Record<string, number>;
  results: RunResults;
}

/** The label of a sync policy. */
export const syncLabel = (s: Sync): string =>
  s === "always" ? "fsync before ack (sync_interval: always)" : "lazy fsync (NATS default, sync every 2 min)";

/** Short label of a sync policy (ids, metric names). */
export const syncShort = (s: Sync): string => (s === "always" ? "fsync" : "lazy");

/** Starts a broker for a suite (gateway profile files go under bench-results/profiles/<sync>). */
export function brokerFor(ctx: BenchContext, sync: Sync): Promise<BenchBroker> {
  return startBenchBroker({
    sync,
    inProcess: ctx.plan.inProcess,
    profileDir: ctx.plan.cpuProfile ? join(ctx.outDir, "profiles", sync) : undefined,
  });
}

/** The processes whose CPU is counted. */
export interface CpuPids {
  server: number;
  gateways: readonly number[];
  client: number;
}

/** The CPU pids of a broker now (every gateway it runs). */
export function cpuPids(b: BenchBroker): CpuPids {
  return { server: b.pids.server, gateways: b.gateways.map((g) => g.pid), client: process.pid };
}

/** A rows table's trailing columns: CPU µs per message of server, gateway and client. */
export const CPU_COLUMNS: readonly Column[] = [
  { label: "CPU µs/msg server", format: CellFormat.Fixed1 },
  { label: "gateway", format: CellFormat.Fixed1 },
  { label: "client", format: CellFormat.Fixed1 },
];

/** The cells of {@link CPU_COLUMNS} for one row. */
export function cpuCells(cpu: CpuPerMessage): Cell[] {
  return [cpu.server ?? null, cpu.gateway ?? null, cpu.client ?? null];
}

/** Runs `run` and reports the CPU time each process kind spent per acknowledged message. */
export async function withCpu<T extends Throughput>(pids: CpuPids, run: () => Promise<T>): Promise<{ result: T; cpu: CpuPerMessage }> {
  // An in-process gateway shares this process's CPU: it is counted as the client's.
  const gws = pids.gateways.filter((p) => p !== pids.client);
  const sample = () => ({
    server: processCpuSeconds(pids.server),
    gateway: gws.length
      ? gws.reduce<number | undefined>((s, p) => (s === undefined ? undefined : addDefined(s, processCpuSeconds(p))), 0)
      : undefined,
    client: processCpuSeconds(pids.client),
  });
  const before = sample();
  const result = await run();
  const after = sample();
  const cpu: CpuPerMessage = {};
  for (const k of ["server", "gateway", "client"] as const) {
    const a = after[k];
    const b = before[k];
    if (a !== undefined && b !== undefined && result.messages > 0) cpu[k] = ((a - b) * 1e6) / result.messages;
  }
  return { result, cpu };
}

function addDefined(a: number, b: number | undefined): number | undefined {
  return b === undefined ? undefined : a + b;
}

/** CPU per message as text. */
export function fmtCpu(c: CpuPerMessage): string {
  const f = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(1));
  return `CPU µs/msg: server ${f(c.server)}, gateway ${f(c.gateway)}, client ${f(c.client)}`;
}

/** The console line of a throughput row. */
export function rowLine(r: Row): string {
  return `  ${r.id.padEnd(4)} ${r.name.padEnd(56)} ${fmtInt(r.result.rate).padStart(9)} msgs/s  (${fmtInt(r.result.messages)} in ${r.result.seconds.toFixed(2)} s; ${fmtCpu(r.cpu)})`;
}

/** Runs `n` async jobs with at most `concurrency` at once (admin calls in bulk). */
export async function inParallel(n: number, concurrency: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}
