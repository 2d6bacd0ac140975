/**
 * `npm run bench`: Junction's gateway against raw JetStream on the same nats-server, with fsync
 * before ack and with the lazy NATS default. Prints the method beside the numbers and writes
 * JSON into bench-results/. Flags: `--quick` (short runs), `--peers` (RabbitMQ too, if
 * installed), `--profile` (the gateway process writes a CPU profile into bench-results/profiles),
 * `--in-process` (gateway in this process), `--only 1,2,4` (scenario numbers), `--sync always|default`.
 * Not a test: nothing here asserts a timing.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { packageRoot } from "../../core/server/index.js";
import { startBenchBroker, type Sync } from "./broker.js";
import { environment, packageVersion, processCpuSeconds } from "./env.js";
import {
  createStation,
  deleteStation,
  endToEnd,
  protobufOrder,
  protobufPayload,
  PRODUCE_SETTINGS,
  sdkConsume,
  sdkConsumeHandler,
  sdkProduce,
  sdkSerial,
  type StationKind,
} from "./gateway.js";
import { jsonPayload, type Throughput } from "./load.js";
import { microTable, runMicro, type MicroResults } from "./micro.bench.js";
import { runPeers, type PeerResults } from "./rabbitmq.js";
import { runWriterBench, writerTable, type WriterResults } from "./writer.bench.js";
import {
  atomicBatches,
  atomicSerial,
  createRawStream,
  deleteRawStream,
  fill,
  jsPublish,
  jsPublishSerial,
  pipelinedPublish,
  rawConsume,
} from "./raw.js";
import { fmtInt, fmtMs, fmtRatio, summarize, table, type LatencySummary } from "./stats.js";

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    peers: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    "in-process": { type: "boolean", default: false },
    only: { type: "string" },
    sync: { type: "string" },
  },
  strict: true,
});

const quick = flags.quick === true;
const only = flags.only ? new Set(flags.only.split(",").map((s) => s.trim())) : undefined;
const want = (n: string) => !only || only.has(n) || only.has(n.replace(/[ab]$/, ""));
const syncs: Sync[] = flags.sync === "always" || flags.sync === "default" ? [flags.sync] : ["always", "default"];
const root = packageRoot() ?? process.cwd();
const outDir = join(root, "bench-results");

/** The method: every knob that shapes a number. */
const METHOD = {
  payloadBytes: 1024,
  warmupMs: quick ? 250 : 1000,
  measureMs: quick ? 800 : 5000,
  window: 1000,
  atomicBatch: 500,
  sdk: { ...PRODUCE_SETTINGS },
  consume: { messages: quick ? 10_000 : 100_000, batch: 500 },
  e2e: {
    rates: [1000, 5000],
    durationMs: quick ? 1000 : 10_000,
    producer: "SDK defaults (linger 2 ms, 1 batch in flight)",
    consumerBatch: 100,
  },
  serial: { messages: quick ? 200 : 2000 },
  microMs: quick ? 300 : 1000,
  gateway: flags["in-process"] ? "in the benchmark process" : "its own Node process",
};

/** One throughput row. */
interface Row {
  id: string;
  name: string;
  result: Throughput;
  /** CPU milliseconds per 1,000 messages (= µs per message), per process, during the measured run. */
  cpuMsPer1k?: { server?: number; gateway?: number; client?: number } | undefined;
}

/** Measures the CPU time of the broker's processes around `run`. */
async function withCpu<T extends Throughput>(
  pids: { server: number; gateway: number; client: number },
  run: () => Promise<T>,
): Promise<{ result: T; cpuMsPer1k: Row["cpuMsPer1k"] }> {
  const sample = () => ({
    server: processCpuSeconds(pids.server),
    gateway: pids.gateway === pids.client ? undefined : processCpuSeconds(pids.gateway),
    client: processCpuSeconds(pids.client),
  });
  const before = sample();
  const result = await run();
  const after = sample();
  const per = (k: "server" | "gateway" | "client") => {
    const a = after[k];
    const b = before[k];
    return a === undefined || b === undefined || result.messages === 0 ? undefined : ((a - b) * 1e6) / result.messages;
  };
  const cpu: NonNullable<Row["cpuMsPer1k"]> = {};
  for (const k of ["server", "gateway", "client"] as const) {
    const v = per(k);
    if (v !== undefined) cpu[k] = v;
  }
  return { result, cpuMsPer1k: cpu };
}

const fmtCpu = (c: Row["cpuMsPer1k"]) =>
  c
    ? `CPU µs/msg: server ${c.server?.toFixed(1) ?? "–"}, gateway ${c.gateway?.toFixed(1) ?? "–"}, client ${c.client?.toFixed(1) ?? "–"}`
    : "";

/** Everything measured with one sync policy. */
interface ModeResults {
  sync: Sync;
  rows: Row[];
  consume: Row[];
  e2e: { rate: number; latency: LatencySummary }[];
  serial: { name: string; latency: LatencySummary }[];
  ratios: Record<string, { toScenario1?: number; toBestScenario2?: number }>;
}

function log(s = ""): void {
  process.stdout.write(s + "\n");
}

const syncLabel = (s: Sync) =>
  s === "always" ? "fsync before ack (sync_interval: always)" : "lazy fsync (NATS default, sync every 2 min)";

async function runMode(sync: Sync): Promise<ModeResults> {
  log(`\n=== ${syncLabel(sync)} ===`);
  const broker = await startBenchBroker({
    sync,
    inProcess: flags["in-process"] === true,
    profileDir: flags.profile ? join(outDir, "profiles", sync) : undefined,
  });
  const out: ModeResults = { sync, rows: [], consume: [], e2e: [], serial: [], ratios: {} };
  try {
    const nc = await broker.raw();
    const client = await broker.client("bench-producer");
    const json = jsonPayload(METHOD.payloadBytes);
    const codec = await protobufOrder();
    const proto = protobufPayload(codec, METHOD.payloadBytes);
    let rawN = 0;

    const timed = async (id: string, name: string, run: (ms: number) => Promise<Throughput>) => {
      await run(METHOD.warmupMs);
      const { result, cpuMsPer1k } = await withCpu(broker.pids, () => run(METHOD.measureMs));
      out.rows.push({ id, name, result, cpuMsPer1k });
      log(
        `  ${id.padEnd(3)} ${name.padEnd(52)} ${fmtInt(result.rate).padStart(9)} msgs/s  (${fmtInt(result.messages)} in ${result.seconds.toFixed(2)} s; ${fmtCpu(cpuMsPer1k)})`,
      );
    };
    const raw = async (id: string, name: string, run: (subject: string, ms: number) => Promise<Throughput>) => {
      const station = `raw${rawN++}`;
      const subject = await createRawStream(nc, station);
      await timed(id, name, (ms) => run(subject, ms));
      await deleteRawStream(nc, station);
    };
    const gw = async (id: string, name: string, kind: StationKind, payload: Uint8Array) => {
      const station = await createStation(client, kind);
      await timed(id, name, (ms) => sdkProduce(client, station, payload, ms));
      await deleteStation(client, station);
    };

    const w = METHOD.window;
    if (want("1")) await raw("1", `raw js.publish, window ${w}`, (s, ms) => jsPublish(nc, s, json, w, ms));
    if (want("2a")) await raw("2a", `raw pipelined publish, one inbox, window ${w}`, (s, ms) => pipelinedPublish(nc, s, json, w, ms));
    if (want("2b"))
      await raw("2b", `raw atomic batches of ${METHOD.atomicBatch}, window ${w}`, (s, ms) =>
        atomicBatches(nc, s, json, METHOD.atomicBatch, w, ms),
      );
    // Not in the targets (they name batches of 500): the SDK's batch size and depth, for reference.
    if (want("2c"))
      await raw("2c", `raw atomic batches of 1000, window 4000 (as the SDK)`, (s, ms) => atomicBatches(nc, s, json, 1000, 4000, ms));
    if (want("3")) await gw("3", "gateway produce, no schema", "none", json);
    if (want("4")) await gw("4", "gateway produce, JSON schema", "json", json);
    if (want("5")) await gw("5", "gateway produce, Protobuf schema", "protobuf", proto);
    if (want("6")) await gw("6", "gateway produce, JSON schema + identity function", "json+fn", json);

    if (want("7")) {
      const station = await createStation(client, "none");
      const n = METHOD.consume.messages;
      // One stream, read twice from the start: by a raw durable consumer and by an SDK group.
      await fill(nc, `jn.st.${station}.msg`, json, n);
      const consumer = await broker.client("bench-consumer");
      const r1 = await withCpu(broker.pids, () => rawConsume(nc, station, "raw-reader", n, METHOD.consume.batch));
      const r2 = await withCpu(broker.pids, () => sdkConsume(consumer, station, "sdk-reader", n, METHOD.consume.batch));
      const r3 = await withCpu(broker.pids, () => sdkConsumeHandler(consumer, station, "sdk-handler", n, METHOD.consume.batch));
      out.consume.push(
        { id: "7a", name: `raw JetStream pull + ack, batch ${METHOD.consume.batch}`, ...r1 },
        { id: "7b", name: `SDK consumer (async iterator) + ack, batch ${METHOD.consume.batch}`, ...r2 },
        { id: "7c", name: `SDK consumer (onMessage handler) + ack, batch ${METHOD.consume.batch}`, ...r3 },
      );
      for (const r of out.consume)
        log(
          `  ${r.id.padEnd(3)} ${r.name.padEnd(52)} ${fmtInt(r.result.rate).padStart(9)} msgs/s  (${fmtInt(r.result.messages)} in ${r.result.seconds.toFixed(2)} s; ${fmtCpu(r.cpuMsPer1k)})`,
        );
      await deleteStation(client, station);
    }

    if (want("8")) {
      const consumer = await broker.client("bench-consumer");
      for (const rate of METHOD.e2e.rates) {
        const station = await createStation(client, "json");
        const latency = summarize(await endToEnd(client, consumer, station, json, rate, METHOD.e2e.durationMs));
        out.e2e.push({ rate, latency });
        log(
          `  8   end-to-end at ${fmtInt(rate)} msgs/s (JSON schema): p50 ${fmtMs(latency.p50)} ms, p99 ${fmtMs(latency.p99)} ms, p99.9 ${fmtMs(latency.p999)} ms`,
        );
        await deleteStation(client, station);
      }
    }

    if (want("9")) {
      const n = METHOD.serial.messages;
      const station = await createStation(client, "json");
      const sdk = summarize(await sdkSerial(client, station, json, n));
      await deleteStation(client, station);
      const rawStation = `raw${rawN++}`;
      const subject = await createRawStream(nc, rawStation);
      const ref = summarize(await jsPublishSerial(nc, subject, json, n));
      const atomic = summarize(await atomicSerial(nc, subject, json, 2, n));
      await deleteRawStream(nc, rawStation);
      out.serial.push(
        { name: "gateway produce (JSON schema), one at a time", latency: sdk },
        { name: "raw js.publish, one at a time (reference)", latency: ref },
        { name: "raw atomic batch of 2, one at a time (reference)", latency: atomic },
      );
      for (const s of out.serial) log(`  9   ${s.name}: p50 ${fmtMs(s.latency.p50)} ms, p99 ${fmtMs(s.latency.p99)} ms`);
    }
  } finally {
    await broker.stop();
  }
  const s1 = out.rows.find((r) => r.id === "1")?.result.rate;
  const best2 = Math.max(...out.rows.filter((r) => r.id === "2a" || r.id === "2b").map((r) => r.result.rate));
  for (const r of [...out.rows, ...out.consume]) {
    out.ratios[r.id] = {
      ...(s1 ? { toScenario1: r.result.rate / s1 } : {}),
      ...(Number.isFinite(best2) ? { toBestScenario2: r.result.rate / best2 } : {}),
    };
  }
  return out;
}

/** One target of the issue, judged against this run. */
interface Target {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function judge(modes: ModeResults[], peers: PeerResults | undefined): Target[] {
  const rate = (m: ModeResults | undefined, id: string) =>
    m?.rows.find((r) => r.id === id)?.result.rate ?? m?.consume.find((r) => r.id === id)?.result.rate;
  const fs = modes.find((m) => m.sync === "always");
  const lazy = modes.find((m) => m.sync === "default");
  const out: Target[] = [];
  const add = (target: string, parts: [number | undefined, number | undefined, number, string][]) => {
    const known = parts.every(([a, b]) => a !== undefined && b !== undefined);
    const measured = parts
      .map(([a, b, , label]) => (a !== undefined && b !== undefined ? `${fmtRatio(a / b)} ${label}` : `– ${label}`))
      .join(", ");
    out.push({ target, measured, met: known ? parts.every(([a, b, min]) => a! / b! >= min) : undefined });
  };
  const best2 = (m: ModeResults | undefined) => {
    const v = Math.max(rate(m, "2a") ?? Number.NaN, rate(m, "2b") ?? Number.NaN);
    return Number.isFinite(v) ? v : undefined;
  };
  add("produce, JSON schema ≥ 10× scenario 1 and ≥ 0.8× atomic batches", [
    [rate(fs, "4"), rate(fs, "1"), 10, "of 1"],
    [rate(fs, "4"), rate(fs, "2b"), 0.8, "of 2b"],
  ]);
  add("produce, JSON schema, lazy fsync ≥ 2.5× scenario 1 and ≥ 0.7× best of 2", [
    [rate(lazy, "4"), rate(lazy, "1"), 2.5, "of 1"],
    [rate(lazy, "4"), best2(lazy), 0.7, "of best 2"],
  ]);
  add("produce, no schema ≥ 0.9× atomic batches", [[rate(fs, "3"), rate(fs, "2b"), 0.9, "of 2b"]]);
  add("produce, JSON schema + identity function ≥ 0.6× JSON schema", [[rate(fs, "6"), rate(fs, "4"), 0.6, "of 4"]]);
  add("SDK consume ≥ 0.9× raw pull consume (iterator)", [[rate(fs, "7b"), rate(fs, "7a"), 0.9, "of 7a"]]);
  add("SDK consume ≥ 0.9× raw pull consume (onMessage)", [[rate(fs, "7c"), rate(fs, "7a"), 0.9, "of 7a"]]);
  const p99 = fs?.e2e.find((e) => e.rate === 1000)?.latency.p99;
  out.push({
    target: "end-to-end p99 at 1,000 msgs/s ≤ 5 ms",
    measured: p99 === undefined ? "–" : `${fmtMs(p99)} ms`,
    met: p99 === undefined ? undefined : p99 <= 5,
  });
  const quorum = peers?.rows.find((r) => r.queue === "quorum")?.publish.rate;
  add("produce, JSON schema ≥ 2× RabbitMQ quorum queue publish", [[rate(fs, "4"), quorum, 2, "of RabbitMQ quorum"]]);
  return out;
}

function printMode(m: ModeResults): void {
  const rows = [["#", `throughput, ${syncLabel(m.sync)}`, "msgs/s", "÷ s1", "÷ best s2", "CPU µs/msg: server", "gateway", "client"]];
  const us = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(1));
  for (const r of [...m.rows, ...m.consume]) {
    const q = m.ratios[r.id];
    const isConsume = r.id.startsWith("7");
    const c = r.cpuMsPer1k;
    rows.push([
      r.id,
      r.name,
      fmtInt(r.result.rate),
      isConsume ? "" : fmtRatio(q?.toScenario1),
      isConsume ? "" : fmtRatio(q?.toBestScenario2),
      us(c?.server),
      r.id >= "3" && r.id < "7" ? us(c?.gateway) : "",
      us(c?.client),
    ]);
  }
  log(table(rows, 2));
  if (m.e2e.length || m.serial.length) {
    const lat = [["latency (ms)", "p50", "p99", "p99.9", "samples"]];
    for (const e of m.e2e)
      lat.push([
        `8 end-to-end at ${fmtInt(e.rate)} msgs/s`,
        fmtMs(e.latency.p50),
        fmtMs(e.latency.p99),
        fmtMs(e.latency.p999),
        fmtInt(e.latency.samples),
      ]);
    for (const s of m.serial) lat.push([`9 ${s.name}`, fmtMs(s.latency.p50), fmtMs(s.latency.p99), "", fmtInt(s.latency.samples)]);
    log(table(lat));
  }
}

const started = Date.now();
const env = await environment();
log("Junction benchmark" + (quick ? " (--quick)" : ""));
log(
  `machine: ${env.cores} × ${env.cpu}, ${env.memoryGiB} GiB, Linux ${env.kernel}; fdatasync of 4 KiB: ${fmtMs(env.fsyncMs)} ms (median); load average at start ${env.loadAtStart.toFixed(2)}`,
);
log(`versions: node ${env.node}, nats-server ${env.natsServer}, nats.js (@nats-io/nats-core) ${env.natsJs}`);
log(
  `method: ${METHOD.payloadBytes}-byte JSON order (Protobuf: the same order encoded to ${METHOD.payloadBytes} bytes), file storage, one nats-server, ` +
    `gateway in ${METHOD.gateway}; every message has a unique Nats-Msg-Id; warm-up ${METHOD.warmupMs} ms then ${METHOD.measureMs} ms per throughput row; ` +
    `raw window ${METHOD.window} messages in flight; SDK producer: batches of ≤ ${PRODUCE_SETTINGS.maxBatchMessages}, linger ${PRODUCE_SETTINGS.lingerMs} ms, ` +
    `${PRODUCE_SETTINGS.maxInFlight} batches in flight, ${PRODUCE_SETTINGS.window} unacknowledged sends; consume ${fmtInt(METHOD.consume.messages)} messages.`,
);

const modes: ModeResults[] = [];
const anyBrokerScenario = ["1", "2a", "2b", "2c", "3", "4", "5", "6", "7", "8", "9"].some(want);
if (anyBrokerScenario) for (const sync of syncs) modes.push(await runMode(sync));

let micro: MicroResults | undefined;
let writer: WriterResults | undefined;
if (want("10")) {
  log("\n=== micro ===");
  micro = await runMicro(METHOD.payloadBytes, METHOD.microMs);
  writer = await runWriterBench(quick ? 100 : 400);
}

let peers: PeerResults | undefined;
if (flags.peers) {
  log("\n=== peers ===");
  peers = await runPeers({ payload: jsonPayload(METHOD.payloadBytes), publishMs: METHOD.measureMs, outstanding: 1000, log });
}

log("\n=== results ===");
for (const m of modes) {
  log("");
  printMode(m);
}
if (micro) log("\n" + microTable(micro));
if (writer) log("\n" + writerTable(writer));
if (peers?.rows.length) {
  const rows = [
    [
      `RabbitMQ ${peers.version} (amqplib ${packageVersion("amqplib")}), persistent, confirms, ${fmtInt(peers.outstanding)} outstanding`,
      "publish msgs/s",
      "consume msgs/s",
    ],
  ];
  for (const r of peers.rows) rows.push([`${r.queue} queue`, fmtInt(r.publish.rate), fmtInt(r.consume.rate)]);
  log("\n" + table(rows));
}
const targets = judge(modes, peers);
log(
  "\n" +
    table(
      [
        ["target", "measured", "met"],
        ...targets.map((t) => [t.target, t.measured, t.met === undefined ? "not run" : t.met ? "yes" : "NO"]),
      ],
      2,
    ),
);
const seconds = (Date.now() - started) / 1000;
log(`\ntook ${seconds.toFixed(0)} s; load average at end ${(loadavg()[0] ?? 0).toFixed(2)}`);

await mkdir(outDir, { recursive: true });
const stamp = new Date(started).toISOString().replace(/[:.]/g, "-");
const report = {
  startedAt: new Date(started).toISOString(),
  seconds,
  quick,
  flags,
  environment: { ...env, loadAtEnd: loadavg()[0] ?? 0 },
  method: METHOD,
  modes,
  micro,
  writer,
  peers,
  targets,
};
const file = join(outDir, `bench-${stamp}${quick ? "-quick" : ""}.json`);
await writeFile(file, JSON.stringify(report, null, 2) + "\n");
await writeFile(join(outDir, "latest.json"), JSON.stringify(report, null, 2) + "\n");
log(`results: bench-results/${file.slice(outDir.length + 1)}`);
