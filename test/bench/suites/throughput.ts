/**
 * Scenarios 1–7 and 9 on one broker: produce through the gateway against raw JetStream (single
 * publishes, pipelined publishes, atomic batches, fast ingest batches), consume through the SDK
 * against a raw pull consumer, and one-at-a-time produce latency.
 */
import type { BenchBroker, Sync } from "../broker.js";
import {
  createStation,
  deleteStation,
  protobufOrder,
  protobufPayload,
  PRODUCE_SETTINGS,
  sdkConsume,
  sdkConsumeHandler,
  sdkProduce,
  sdkSerial,
  type StationKind,
} from "../gateway.js";
import { jsonPayload, type Throughput } from "../load.js";
import { CLIENT_JS_API_PREFIX, subjects } from "../../../core/protocol/index.js";
import {
  atomicBatches,
  consumeExisting,
  atomicSerial,
  createRawStream,
  deleteRawStream,
  fastBatches,
  fill,
  jsPublish,
  jsPublishSerial,
  pipelinedPublish,
  rawConsume,
} from "../raw.js";
import { CellFormat, section, type Cell } from "../report/index.js";
import { fmtMs, summarize, type LatencySummary } from "../stats.js";
import { cpuPids, rowLine, syncLabel, syncShort, withCpu, type BenchContext, type Row } from "./common.js";

/** Payload of the core scenarios, bytes. */
export const PAYLOAD_BYTES = 1024;
/** Messages in flight in the raw windowed scenarios. */
const WINDOW = 1000;

/** Runs the throughput scenarios on `broker` and adds their section. */
export async function runThroughput(ctx: BenchContext, broker: BenchBroker, sync: Sync): Promise<void> {
  const { settings, suites } = ctx.plan;
  const want = (id: string) => suites.has(id as never);
  const rows = new Map<string, Row>();
  ctx.results.rows[sync] = rows;
  const nc = await broker.raw();
  const client = await broker.client("bench-producer");
  const json = jsonPayload(PAYLOAD_BYTES);
  const codec = await protobufOrder();
  const proto = protobufPayload(codec, PAYLOAD_BYTES);
  let rawN = 0;
  const pids = cpuPids(broker);

  const timed = async (id: string, name: string, raw: boolean, run: (ms: number) => Promise<Throughput>) => {
    await run(settings.warmupMs);
    const { result, cpu } = await withCpu(pids, () => run(settings.measureMs));
    const row: Row = { id, name, raw, result, cpu };
    rows.set(id, row);
    ctx.log(rowLine(row));
  };
  const raw = async (id: string, name: string, run: (subject: string, ms: number) => Promise<Throughput>, fast = false) => {
    const station = `raw${rawN++}`;
    const subject = await createRawStream(nc, station, { fastBatches: fast });
    await timed(id, name, true, (ms) => run(subject, ms));
    await deleteRawStream(nc, station);
  };
  const gw = async (id: string, name: string, kind: StationKind, payload: Uint8Array) => {
    const station = await createStation(client, kind);
    await timed(id, name, false, (ms) => sdkProduce(client, station, payload, ms));
    await deleteStation(client, station);
  };

  ctx.log(`\n=== produce and consume, ${syncLabel(sync)} ===`);
  if (want("1")) await raw("1", `raw js.publish, window ${WINDOW}`, (s, ms) => jsPublish(nc, s, json, WINDOW, ms));
  if (want("2a"))
    await raw("2a", `raw pipelined publish, one inbox, window ${WINDOW}`, (s, ms) => pipelinedPublish(nc, s, json, WINDOW, ms));
  if (want("2b")) await raw("2b", `raw atomic batches of 500, 2 in flight`, (s, ms) => atomicBatches(nc, s, json, 500, 1000, ms));
  if (want("2c"))
    await raw("2c", `raw atomic batches of 1000, 4 in flight (as the gateway)`, (s, ms) => atomicBatches(nc, s, json, 1000, 4000, ms));
  if (want("2d")) await raw("2d", `raw fast ingest batches of 500, 2 open`, (s, ms) => fastBatches(nc, s, json, 500, 2, ms), true);
  if (want("2e")) await raw("2e", `raw fast ingest batches of 1000, 4 open`, (s, ms) => fastBatches(nc, s, json, 1000, 4, ms), true);
  if (want("3")) await gw("3", "gateway produce, no schema", "none", json);
  if (want("4")) await gw("4", "gateway produce, JSON schema", "json", json);
  if (want("5")) await gw("5", "gateway produce, Protobuf schema", "protobuf", proto);
  if (want("6")) await gw("6", "gateway produce, JSON schema + identity function", "json+fn", json);

  if (want("7")) {
    const station = await createStation(client, "none");
    const n = settings.consumeMessages;
    const batch = 500;
    // One stream, read from the start three times: a raw durable consumer and two SDK groups.
    await fill(nc, `jn.st.${station}.msg`, json, n);
    const consumer = await broker.client("bench-consumer");
    // Warm both readers up (the first consumer on a connection pays ~0.3 s of one-time setup).
    await rawConsume(nc, station, "raw-warm", Math.min(1000, n), batch);
    await sdkConsume(consumer, station, "sdk-warm", Math.min(1000, n), batch);
    const add = (id: string, name: string, raw: boolean, r: { result: Throughput; cpu: Row["cpu"] }) => {
      const row: Row = { id, name, raw, ...r };
      rows.set(id, row);
      ctx.log(rowLine(row));
    };
    add("7a", `raw JetStream pull + ack, batch ${batch}`, true, await withCpu(pids, () => rawConsume(nc, station, "raw-reader", n, batch)));
    // The same plain nats.js reader, but as a client reaches the broker: from its own account,
    // through the JetStream API import, on a group's consumer. The SDK's fair baseline.
    await client.groups.create(station, "raw-client-warm");
    await client.groups.create(station, "raw-client");
    const clientNc = await broker.rawClientAccount();
    await consumeExisting(clientNc, subjects.stationStream(station), "raw-client-warm", Math.min(1000, n), batch, CLIENT_JS_API_PREFIX);
    add(
      "7d",
      `raw pull + ack, client account (JS API import), batch ${batch}`,
      true,
      await withCpu(pids, () => consumeExisting(clientNc, subjects.stationStream(station), "raw-client", n, batch, CLIENT_JS_API_PREFIX)),
    );
    add(
      "7b",
      `SDK consumer (async iterator) + ack, batch ${batch}`,
      false,
      await withCpu(pids, () => sdkConsume(consumer, station, "sdk-reader", n, batch)),
    );
    add(
      "7c",
      `SDK consumer (onMessage handler) + ack, batch ${batch}`,
      false,
      await withCpu(pids, () => sdkConsumeHandler(consumer, station, "sdk-handler", n, batch)),
    );
    await deleteStation(client, station);
  }

  const serial: { name: string; latency: LatencySummary }[] = [];
  if (want("9")) {
    const n = settings.serialMessages;
    const station = await createStation(client, "json");
    serial.push({ name: "gateway produce (JSON schema), one at a time", latency: summarize(await sdkSerial(client, station, json, n)) });
    await deleteStation(client, station);
    const rawStation = `raw${rawN++}`;
    const subject = await createRawStream(nc, rawStation);
    serial.push({ name: "raw js.publish, one at a time", latency: summarize(await jsPublishSerial(nc, subject, json, n)) });
    serial.push({ name: "raw atomic batch of 2, one at a time", latency: summarize(await atomicSerial(nc, subject, json, 2, n)) });
    await deleteRawStream(nc, rawStation);
    for (const s of serial) ctx.log(`  9    ${s.name}: p50 ${fmtMs(s.latency.p50)} ms, p99 ${fmtMs(s.latency.p99)} ms`);
  }

  addSection(ctx, sync, rows, serial);
}

function addSection(ctx: BenchContext, sync: Sync, rows: Map<string, Row>, serial: { name: string; latency: LatencySummary }[]): void {
  const short = syncShort(sync);
  const s = section(`throughput-${short}`, `Produce and consume, 1 KiB, ${syncLabel(sync)}`, [
    `Every stream has a station's settings (file storage, de-duplication window 2 min) and every message a unique Nats-Msg-Id, raw ones too. Each row: ${ctx.plan.settings.warmupMs} ms warm-up, then ${ctx.plan.settings.measureMs} ms keeping the window full; the rate counts acknowledged messages from the first send to the last ack. Any failed send aborts the run.`,
    `Gateway rows: the SDK producer with batches of up to ${PRODUCE_SETTINGS.maxBatchMessages}, ${PRODUCE_SETTINGS.maxInFlight} batches in flight, ${PRODUCE_SETTINGS.window} sends outstanding; the gateway stores each request as one atomic batch. The raw row of the same size and depth (2c) is the baseline of the targets.`,
    `2d/2e: nats-server 2.14's fast ingest batches (nats.js startFastIngest, flow control as the server sets it) on a stream that allows them, same sizes and depth as 2b/2c.`,
    `Consume: ${ctx.plan.settings.consumeMessages.toLocaleString("en-US")} messages stored first, then read from the start by a raw durable pull consumer and by two SDK consumer group members (one per group; the group is created first, the time runs from starting the member to the last message), each message acked on arrival; one short read of each kind beforehand warms the connections up. 7d is the raw reader again, but connected as a client user from the client account, reading a group's consumer through the JetStream API import (jn.js.API), as the SDK does: the SDK's overhead is 7b/7c ÷ 7d, the account boundary's 7d ÷ 7a.`,
    "CPU µs/msg: user + system CPU time of nats-server, the gateway process(es) and the benchmark process (clients) during the measured run, from /proc, per message. Steadier than the rate on a shared machine.",
  ]);
  const rate = (id: string) => rows.get(id)?.result.rate;
  const ratio = (a: string, b: string) => {
    const x = rate(a);
    const y = rate(b);
    return x !== undefined && y !== undefined ? x / y : null;
  };
  const produce = [...rows.values()].filter((r) => !r.id.startsWith("7"));
  const consume = [...rows.values()].filter((r) => r.id.startsWith("7"));
  const cpuCells = (r: Row): Cell[] => [r.cpu.server ?? null, r.raw ? null : (r.cpu.gateway ?? null), r.cpu.client ?? null];
  if (produce.length) {
    s.tables.push({
      caption: "produce (msgs/s; ratios to raw atomic batches of 500 and of 1000 × 4, the gateway's size and depth)",
      columns: [
        { label: "#" },
        { label: "scenario", format: CellFormat.Text },
        { label: "msgs/s" },
        { label: "÷ 2b", format: CellFormat.Ratio },
        { label: "÷ 2c", format: CellFormat.Ratio },
        { label: "CPU µs/msg server", format: CellFormat.Fixed1 },
        { label: "gateway", format: CellFormat.Fixed1 },
        { label: "client", format: CellFormat.Fixed1 },
      ],
      rows: produce.map((r) => [r.id, r.name, r.result.rate, ratio(r.id, "2b"), ratio(r.id, "2c"), ...cpuCells(r)]),
    });
    s.charts.push({
      id: `produce-${short}`,
      title: `Produce msgs/s, ${short === "fsync" ? "fsync before ack" : "lazy fsync"} (grey: raw JetStream)`,
      kind: "bar",
      horizontal: true,
      labels: produce.map((r) => `${r.id} ${r.name}`),
      series: [
        { label: "raw JetStream", values: produce.map((r) => (r.raw ? r.result.rate : null)), baseline: true, stack: "a" },
        { label: "Junction", values: produce.map((r) => (r.raw ? null : r.result.rate)), stack: "a" },
      ],
      yLabel: "msgs/s",
    });
  }
  if (consume.length) {
    s.tables.push({
      caption:
        "consume (msgs/s; ratios to the raw pull consumer in the broker's account, 7a, and in the client account through the JS API import, 7d)",
      columns: [
        { label: "#" },
        { label: "scenario", format: CellFormat.Text },
        { label: "msgs/s" },
        { label: "÷ 7a", format: CellFormat.Ratio },
        { label: "÷ 7d", format: CellFormat.Ratio },
        { label: "CPU µs/msg server", format: CellFormat.Fixed1 },
        { label: "client", format: CellFormat.Fixed1 },
      ],
      rows: consume.map((r) => [
        r.id,
        r.name,
        r.result.rate,
        ratio(r.id, "7a"),
        ratio(r.id, "7d"),
        r.cpu.server ?? null,
        r.cpu.client ?? null,
      ]),
    });
    s.charts.push({
      id: `consume-${short}`,
      title: `Consume msgs/s, ${short === "fsync" ? "fsync before ack" : "lazy fsync"}`,
      kind: "bar",
      horizontal: true,
      labels: consume.map((r) => `${r.id} ${r.name}`),
      series: [
        { label: "raw JetStream", values: consume.map((r) => (r.raw ? r.result.rate : null)), baseline: true, stack: "a" },
        { label: "Junction SDK", values: consume.map((r) => (r.raw ? null : r.result.rate)), stack: "a" },
      ],
      yLabel: "msgs/s",
    });
  }
  if (serial.length) {
    s.tables.push({
      caption: `produce latency, one message at a time awaiting each ack (${ctx.plan.settings.serialMessages.toLocaleString("en-US")} messages)`,
      columns: [
        { label: "9", format: CellFormat.Text },
        { label: "p50 ms", format: CellFormat.Ms },
        { label: "p99 ms", format: CellFormat.Ms },
        { label: "samples" },
      ],
      rows: serial.map((x) => [x.name, x.latency.p50, x.latency.p99, x.latency.samples]),
    });
  }
  ctx.sections.push(s);
  const metric = (name: string, v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isFinite(v)) ctx.metrics[name] = v;
  };
  metric(`ratio.${short}.produce.none`, ratio("3", "2c"));
  metric(`ratio.${short}.produce.json`, ratio("4", "2c"));
  metric(`ratio.${short}.produce.protobuf`, ratio("5", "2c"));
  metric(`ratio.${short}.function`, ratio("6", "4"));
  metric(`ratio.${short}.consume.iterator`, ratio("7b", "7a"));
  metric(`ratio.${short}.consume.handler`, ratio("7c", "7a"));
  metric(`ratio.${short}.consume.iterator_vs_client_account`, ratio("7b", "7d"));
  metric(`ratio.${short}.consume.client_account`, ratio("7d", "7a"));
  metric(`ratio.${short}.fast_vs_atomic`, ratio("2e", "2c"));
  metric(`rate.${short}.raw.atomic1000`, rate("2c"));
  metric(`rate.${short}.produce.json`, rate("4"));
  metric(`rate.${short}.consume.raw`, rate("7a"));
}
