/**
 * `npm run bench`: Junction's gateway against raw JetStream on the same nats-server, with fsync
 * before ack and with the lazy NATS default; end-to-end latency and where it goes; fast ingest
 * vs atomic batches; HTTP produce beside the SDK; how cost grows (payload, stations, groups,
 * gateways, memory); keyed stations (ordering keys); RabbitMQ as a peer when installed. Prints the method beside the numbers, writes the run as JSON,
 * appends it to bench-results/history.jsonl and draws bench-results/report.html.
 *
 * `--quick` for seconds-long development runs, `--full` for every cost-growth point; see
 * plan.ts for every flag. Not a test: nothing here asserts a timing.
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../core/server/index.js";
import type { Sync } from "./broker.js";
import { environment } from "./env.js";
import { resolvePlan, type BenchPlan, type Suite } from "./plan.js";
import { fmtMs, fmtRatio, resultFiles, section, table, textTable, writeRun, type BenchRun, type Target } from "./report/index.js";
import { brokerFor, syncLabel, type BenchContext } from "./suites/common.js";
import { runFastBatch } from "./suites/fast-batch.js";
import { runHttp } from "./suites/http.js";
import { KEYED_MEMBERS, runKeyed } from "./suites/keyed.js";
import { runGatewaysGrowth, runGroupsGrowth, runPayloadGrowth, runStationsGrowth } from "./suites/growth.js";
import { runLatency } from "./suites/latency.js";
import { runMemory } from "./suites/memory.js";
import { runMicroSuite } from "./suites/micro.js";
import { runPeers } from "./suites/peers.js";
import { runThroughput } from "./suites/throughput.js";
import { startBenchBroker, type BenchBroker } from "./broker.js";

const root = packageRoot() ?? process.cwd();
const outDir = join(root, "bench-results");

function log(s = ""): void {
  process.stdout.write(s + "\n");
}

let plan: BenchPlan;
try {
  plan = resolvePlan(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}

if (plan.reportOnly) {
  const files = resultFiles(outDir);
  const run = JSON.parse(await readFile(files.latest, "utf8")) as BenchRun;
  const out = await writeRun(outDir, run, { appendHistory: false });
  log(`report: ${out.report}`);
  process.exit(0);
}

/** The commit measured, with `-dirty` when the work tree has changes; undefined outside git. */
function gitCommit(): string | undefined {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short=10", "HEAD"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return undefined;
  }
}

const started = Date.now();
const env = await environment();
const ctx: BenchContext = { plan, outDir, log, sections: [], metrics: {}, results: { rows: {}, e2e: {} } };
const want = (...names: Suite[]) => names.some((n) => plan.suites.has(n));
const failures: string[] = [];

/** Runs one suite; a failure is recorded in the report and the run goes on. */
async function attempt(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    const msg = `${name} failed: ${(e as Error).stack ?? String(e)}`;
    failures.push(`${name} failed: ${(e as Error).message}`);
    log(`\n!!! ${msg}`);
  }
}

/** Starts a broker, runs `fn` on it, stops it. */
async function withBroker(name: string, sync: Sync, fn: (b: BenchBroker) => Promise<void>): Promise<void> {
  await attempt(name, async () => {
    const b = await brokerFor(ctx, sync);
    try {
      await fn(b);
    } finally {
      await b.stop();
    }
  });
}

log(`Junction benchmark (profile ${plan.profile})`);
log(
  `machine: ${env.cores} × ${env.cpu}, ${env.memoryGiB} GiB, ${env.os}; fdatasync of 4 KiB: ${fmtMs(env.fsyncMs)} ms (median); load average at start ${env.loadAtStart.toFixed(2)}`,
);
log(`versions: node ${env.node}, nats-server ${env.natsServer}, nats.js (@nats-io/nats-core) ${env.natsJs}`);

const throughputIds: Suite[] = ["1", "2a", "2b", "2c", "2d", "2e", "3", "4", "5", "5b", "6", "7", "9"];
for (const sync of plan.syncs) {
  if (!want(...throughputIds, "latency")) break;
  await withBroker(`produce/consume/latency (${sync})`, sync, async (b) => {
    if (want(...throughputIds)) await runThroughput(ctx, b, sync);
    if (want("latency")) await runLatency(ctx, b, sync);
  });
}
if (want("fast")) await withBroker("fast batch probe", "always", (b) => runFastBatch(ctx, b));
if (want("payload")) await withBroker("payload growth", "always", (b) => runPayloadGrowth(ctx, b));
if (want("stations")) await withBroker("stations growth", "always", (b) => runStationsGrowth(ctx, b));
if (want("groups")) await withBroker("groups growth", "always", (b) => runGroupsGrowth(ctx, b));
if (want("gateways")) await withBroker("gateways growth", "always", (b) => runGatewaysGrowth(ctx, b));
if (want("memory")) await withBroker("memory", "always", (b) => runMemory(ctx, b));
if (want("keyed")) await withBroker("keyed stations", "always", (b) => runKeyed(ctx, b));
if (want("http")) {
  await attempt("http produce", async () => {
    const b = await startBenchBroker({ sync: "always", inProcess: plan.inProcess, http: true });
    try {
      await runHttp(ctx, b);
    } finally {
      await b.stop();
    }
  });
}
if (want("peers")) await attempt("peers", () => runPeers(ctx));
if (want("micro")) await attempt("micro", () => runMicroSuite(ctx));

/** The targets of the issue, judged within this run (fsync before ack, 1 KiB). */
function judge(): Target[] {
  const fs = ctx.results.rows.always;
  const rate = (id: string) => fs?.get(id)?.result.rate;
  const out: Target[] = [];
  const ratioTarget = (target: string, a: string, b: string, min: number, also?: string) => {
    const x = rate(a);
    const y = rate(b);
    const z = also === undefined ? undefined : rate(also);
    const extra = z !== undefined && x !== undefined ? `; ${fmtRatio(x / z)} of ${also}` : "";
    if (x === undefined || y === undefined) out.push({ target, measured: "–", met: undefined });
    else out.push({ target, measured: `${fmtRatio(x / y)} (${a} ÷ ${b})${extra}`, met: x / y >= min });
  };
  ratioTarget("gateway produce, JSON schema ≥ 0.95× raw atomic batches of the same size and depth", "4", "2c", 0.95);
  ratioTarget("gateway produce, Protobuf schema ≥ 0.9× raw atomic batches", "5", "2c", 0.9);
  ratioTarget("gateway produce, Avro schema ≥ 0.9× raw atomic batches", "5b", "2c", 0.9);
  ratioTarget("gateway produce, no schema ≥ 0.98× raw atomic batches", "3", "2c", 0.98);
  ratioTarget("JSON schema + identity function ≥ 0.7× JSON schema alone", "6", "4", 0.7);
  // 7d (a raw reader in the client account, as the SDK reads) is shown beside: the account
  // boundary costs the server about as much again per message.
  ratioTarget("SDK consume (iterator) ≥ 0.98× raw pull", "7b", "7a", 0.98, "7d");
  ratioTarget("SDK consume (onMessage) ≥ 0.98× raw pull", "7c", "7a", 0.98, "7d");
  const metric = (target: string, name: string, min: number, what: string) => {
    const x = ctx.metrics[name];
    out.push(x === undefined ? { target, measured: "–", met: undefined } : { target, measured: `${fmtRatio(x)} (${what})`, met: x >= min });
  };
  metric(
    `keyed station, 1 ms of work per message: ${KEYED_MEMBERS} members ≥ 3× one member`,
    "ratio.fsync.keyed.consume_4_vs_1",
    3,
    `k${KEYED_MEMBERS} ÷ k1`,
  );
  metric("keyed station produce ≥ 0.9× unkeyed", "ratio.fsync.keyed.produce_vs_unkeyed", 0.9, "kp ÷ up");
  const e2e = ctx.results.e2e.always ?? [];
  const raw = e2e.find((e) => e.path === "raw" && e.rate === 1000);
  const jn = e2e.find((e) => e.path === "junction" && e.rate === 1000);
  out.push({
    target: "end-to-end p99 at 1,000 msgs/s ≤ 1.5× raw JetStream end-to-end p99 (p99.9 reported)",
    measured:
      raw && jn
        ? `${fmtMs(jn.p99)} ms vs raw ${fmtMs(raw.p99)} ms = ${fmtRatio(jn.p99 / raw.p99)}; p99.9 ${fmtMs(jn.p999)} vs ${fmtMs(raw.p999)} ms`
        : "–",
    met: raw && jn ? jn.p99 <= 1.5 * raw.p99 : undefined,
  });
  return out;
}

const targets = judge();
if (failures.length) {
  const s = section("failures", "Failures", ["A suite that fails is recorded here and the run goes on; its numbers are missing above."]);
  s.notes.push(...failures);
  ctx.sections.push(s);
}

log("\n=== results ===");
for (const s of ctx.sections) {
  log(`\n## ${s.title}`);
  for (const t of s.tables) log("\n" + textTable(t));
  for (const n of s.notes) log(`- ${n}`);
}
log(
  "\n" +
    table(
      [
        ["target (fsync before ack, 1 KiB)", "measured", "met"],
        ...targets.map((t) => [t.target, t.measured, t.met === undefined ? "not run" : t.met ? "yes" : "NO"]),
      ],
      2,
    ),
);

const seconds = (Date.now() - started) / 1000;
const loadAtEnd = loadavg()[0] ?? 0;
log(`\ntook ${seconds.toFixed(0)} s; load average at end ${loadAtEnd.toFixed(2)}`);

const run: BenchRun = {
  format: 1,
  startedAt: new Date(started).toISOString(),
  seconds,
  profile: plan.profile,
  commit: gitCommit(),
  machine: {
    cpu: env.cpu,
    cores: env.cores,
    memoryGiB: env.memoryGiB,
    os: env.os,
    node: env.node,
    natsServer: env.natsServer,
    natsJs: env.natsJs,
    fsyncMs: env.fsyncMs,
    loadAtStart: env.loadAtStart,
    loadAtEnd,
  },
  method: [
    `One nats-server ${env.natsServer} with file storage, started by the benchmark in a temporary folder; each suite gets a fresh one. The gateway runs in ${plan.inProcess ? "the benchmark process" : "its own Node process, as deployed"}; the SDK clients and the raw JetStream baselines (plain nats.js) run in the benchmark process, on the same machine.`,
    `Sync policies: fsync before ack (sync_interval: always, Junction's default) — every cost-growth suite uses it — and the lazy NATS default (${plan.syncs.map(syncLabel).join("; ")}).`,
    `Profile ${plan.profile}: throughput rows ${plan.settings.warmupMs} ms warm-up + ${plan.settings.measureMs} ms; end-to-end ${plan.settings.e2e.durationMs / 1000} s per rate; cost-growth points ${plan.settings.growthMs} ms. Rates move with the machine's load (load average ${env.loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end; the machine's other work runs too): compare ratios within one run, not absolute rates across runs.`,
  ],
  sections: ctx.sections,
  targets,
  metrics: ctx.metrics,
};
const written = await writeRun(outDir, run);
log(`results: ${written.json}\nreport:  ${written.report}`);
if (failures.length) process.exitCode = 1;
