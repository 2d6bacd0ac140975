/**
 * How cost grows: payload size, stations produced to at once, consumer groups per station, and
 * one vs two gateway processes — each against raw JetStream in the same run, with fsync before
 * ack (Junction's default).
 */
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import type { BenchBroker } from "../broker.js";
import { processCpuSeconds } from "../env.js";
import { createStation, deleteStation, PRODUCE_SETTINGS, sdkProduce, type StationKind } from "../gateway.js";
import { blobPayload, jsonPayload, runCount, runWindow, type Throughput } from "../load.js";
import { atomicBatches, createRawStream, deleteRawStream, publishAtomicBatch, ReplyInbox } from "../raw.js";
import { CellFormat, fmtInt, section, type Cell } from "../report/index.js";
import { subjects } from "../../../core/protocol/index.js";
import type { JunctionClient } from "../../../sdk/index.js";
import { headers as natsHeaders, nuid } from "@nats-io/nats-core";
import { cpuPids, fmtCpu, inParallel, withCpu, type BenchContext, type CpuPerMessage } from "./common.js";

/** Bytes a produce request may carry (the SDK's maxBatchBytes default); raw batches are cut the same way. */
const REQUEST_BYTES = 1024 * 1024;
/** Total messages in flight in the growth scenarios (as the throughput rows). */
const WINDOW = PRODUCE_SETTINGS.window;
/** Bytes in flight at most (large payloads): 8 MiB. */
const WINDOW_BYTES = 8 * 1024 * 1024;

let rawN = 0;
const rawName = (what: string) => `grow${what}${rawN++}`;

const pct = (x: number | undefined, y: number | undefined): number | null => (x !== undefined && y !== undefined && y > 0 ? x / y : null);

/** Warm-up then measurement, with CPU per message. */
async function measured(
  ctx: BenchContext,
  broker: BenchBroker,
  run: (ms: number) => Promise<Throughput>,
): Promise<{ result: Throughput; cpu: CpuPerMessage }> {
  const ms = ctx.plan.settings.growthMs;
  await run(Math.max(200, ms / 4));
  return withCpu(cpuPids(broker), () => run(ms));
}

// ---------------------------------------------------------------- payload size

/** Payload sizes: raw atomic batches vs the gateway without and with a JSON schema. */
export async function runPayloadGrowth(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  ctx.log("\n=== cost growth: payload size (fsync) ===");
  const nc = await broker.raw("bench-growth-payload");
  const client = await broker.client("bench-growth-payload");
  const rows: Cell[][] = [];
  const chart: { size: number; raw?: number; none?: number; json?: number }[] = [];
  for (const size of ctx.plan.settings.payloadBytes) {
    const payload = blobPayload(size);
    // The SDK cuts requests at 1 MiB; raw batches get the same count. Large payloads keep
    // 8 MiB in flight rather than 8,000 messages.
    const batch = Math.max(1, Math.min(1000, Math.floor((REQUEST_BYTES - 1024) / (size + 64))));
    const inflightBatches = Math.max(2, Math.min(8, Math.floor(WINDOW_BYTES / (batch * size))));
    const window = Math.min(WINDOW, batch * inflightBatches);
    const station = rawName("p");
    const subject = await createRawStream(nc, station);
    const raw = await measured(ctx, broker, (ms) => atomicBatches(nc, subject, payload, batch, window, ms));
    await deleteRawStream(nc, station);
    const gw = async (kind: StationKind) => {
      const st = await createStation(client, kind);
      try {
        return await measured(ctx, broker, (ms) => sdkProduce(client, st, payload, ms, { window, maxInFlight: inflightBatches }));
      } finally {
        await deleteStation(client, st);
      }
    };
    const none = await gw("none");
    const json = await gw("blob");
    const mb = (t: Throughput) => (t.rate * size) / 1e6;
    ctx.log(
      `  ${fmtBytes(size).padEnd(8)} batch ${String(batch).padStart(4)} × ${inflightBatches}: raw ${fmtInt(raw.result.rate)}/s, no schema ${fmtInt(none.result.rate)}/s, JSON ${fmtInt(json.result.rate)}/s (${fmtCpu(json.cpu)})`,
    );
    rows.push([
      fmtBytes(size),
      `${batch} × ${inflightBatches}`,
      raw.result.rate,
      mb(raw.result),
      none.result.rate,
      pct(none.result.rate, raw.result.rate),
      json.result.rate,
      mb(json.result),
      pct(json.result.rate, raw.result.rate),
      raw.cpu.server ?? null,
      json.cpu.server ?? null,
      json.cpu.gateway ?? null,
    ]);
    chart.push({ size, raw: raw.result.rate, none: none.result.rate, json: json.result.rate });
    const r = pct(json.result.rate, raw.result.rate);
    if (r !== null) ctx.metrics[`ratio.fsync.payload.${size}.json`] = r;
  }
  const s = section("growth-payload", "Cost growth: payload size (fsync before ack)", [
    `Payload: a JSON object {id, note} padded to the size. Raw: atomic batches of as many messages as fit in 1 MiB (the SDK's request limit), up to 1,000, with as many batches in flight as keep 8 MiB (at most ${WINDOW.toLocaleString("en-US")} messages) in flight. Junction: the SDK producer with the same window and batches in flight, to a station without a schema and to one with a JSON schema (id: string ≤ 64, note: string). ${ctx.plan.settings.growthMs} ms per point after a warm-up of a quarter of that.`,
    "Note that requests of at most 8 messages are stored by the gateway message by message (smallBatchMessages), not as one atomic batch: at 100 KiB a 1 MiB request holds about 10.",
  ]);
  s.tables.push({
    caption: "throughput by payload size",
    columns: [
      { label: "payload", format: CellFormat.Text },
      { label: "batch × in flight", format: CellFormat.Text },
      { label: "raw msgs/s" },
      { label: "raw MB/s", format: CellFormat.Fixed1 },
      { label: "no schema msgs/s" },
      { label: "÷ raw", format: CellFormat.Ratio },
      { label: "JSON msgs/s" },
      { label: "JSON MB/s", format: CellFormat.Fixed1 },
      { label: "÷ raw", format: CellFormat.Ratio },
      { label: "server CPU µs/msg raw", format: CellFormat.Fixed1 },
      { label: "JSON", format: CellFormat.Fixed1 },
      { label: "gateway CPU µs/msg JSON", format: CellFormat.Fixed1 },
    ],
    rows,
  });
  const labels = chart.map((c) => fmtBytes(c.size));
  s.charts.push(
    {
      id: "growth-payload-rate",
      title: "msgs/s by payload size (log scale)",
      kind: "line",
      labels,
      xLabel: "payload",
      yLabel: "msgs/s",
      logY: true,
      series: [
        { label: "raw atomic batches", values: chart.map((c) => c.raw ?? null), baseline: true },
        { label: "Junction, no schema", values: chart.map((c) => c.none ?? null) },
        { label: "Junction, JSON schema", values: chart.map((c) => c.json ?? null) },
      ],
    },
    {
      id: "growth-payload-mb",
      title: "MB/s by payload size",
      kind: "line",
      labels,
      xLabel: "payload",
      yLabel: "MB/s",
      series: [
        { label: "raw atomic batches", values: chart.map((c) => ((c.raw ?? Number.NaN) * c.size) / 1e6), baseline: true },
        { label: "Junction, no schema", values: chart.map((c) => ((c.none ?? Number.NaN) * c.size) / 1e6) },
        { label: "Junction, JSON schema", values: chart.map((c) => ((c.json ?? Number.NaN) * c.size) / 1e6) },
      ],
    },
  );
  ctx.sections.push(s);
}

function fmtBytes(n: number): string {
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000} kB`;
  return `${n} B`;
}

// ---------------------------------------------------------------- stations

/** The gateway's default: requests of at most this many messages are stored message by message. */
const SMALL_BATCH = 8;

/**
 * Raw writes to several streams at once, `perStream` messages in flight on each, stored the way
 * the gateway would store them: atomic batches of half the share, 2 in flight, or — when that
 * is at most 8 messages — pipelined single publishes (an atomic batch that small costs the
 * server more than it saves).
 */
async function rawManyStreams(
  nc: NatsConnection,
  streamSubjects: string[],
  payload: Uint8Array,
  perStream: number,
  ms: number,
): Promise<Throughput> {
  const batch = Math.max(1, Math.min(1000, Math.floor(perStream / 2)));
  const inbox = new ReplyInbox(nc);
  const prefix = nuid.next();
  let n = 0;
  const ids = () => `${prefix}-${(n++).toString(36)}`;
  const payloads = new Array<Uint8Array>(batch).fill(payload);
  const single = (subject: string) => {
    const { reply, done } = inbox.expect();
    const h = natsHeaders();
    h.set("Nats-Msg-Id", ids());
    nc.publish(subject, payload, { reply, headers: h });
    return done;
  };
  const t0 = performance.now();
  const results = await Promise.all(
    streamSubjects.map((subject) =>
      batch <= SMALL_BATCH
        ? runWindow({ window: perStream, durationMs: ms, unit: 1, issue: () => single(subject) })
        : runWindow({ window: batch * 2, durationMs: ms, unit: batch, issue: () => publishAtomicBatch(nc, inbox, subject, payloads, ids) }),
    ),
  );
  const messages = results.reduce((a, r) => a + r.messages, 0);
  const seconds = (performance.now() - t0) / 1000;
  return { messages, seconds, rate: messages / seconds };
}

/** The SDK producing to several stations at once, `perStation` sends outstanding on each. */
async function sdkManyStations(
  client: JunctionClient,
  stations: string[],
  payload: Uint8Array,
  perStation: number,
  ms: number,
): Promise<Throughput> {
  const t0 = performance.now();
  const results = await Promise.all(
    stations.map((st) => sdkProduce(client, st, payload, ms, { window: perStation, maxInFlight: perStation >= 8 ? 2 : 1 })),
  );
  const messages = results.reduce((a, r) => a + r.messages, 0);
  const seconds = (performance.now() - t0) / 1000;
  return { messages, seconds, rate: messages / seconds };
}

/** 1, 100, 1,000 stations produced to at once, the same total window spread over them. */
export async function runStationsGrowth(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  ctx.log("\n=== cost growth: stations produced to at once (fsync) ===");
  const nc = await broker.raw("bench-growth-stations");
  const client = await broker.client("bench-growth-stations");
  const payload = jsonPayload(1024);
  const rows: Cell[][] = [];
  const points: { n: number; raw: number; jn: number }[] = [];
  for (const n of ctx.plan.settings.stations) {
    const perStream = Math.max(2, Math.floor(WINDOW / n));
    const rawStations = Array.from({ length: n }, () => rawName("s"));
    await inParallel(n, 8, (i) => createRawStream(nc, rawStations[i]!));
    const raw = await measured(ctx, broker, (ms) =>
      rawManyStreams(
        nc,
        rawStations.map((s) => subjects.stationMsg(s)),
        payload,
        perStream,
        ms,
      ),
    );
    await inParallel(n, 8, (i) => deleteRawStream(nc, rawStations[i]!));
    const t0 = performance.now();
    const stations: string[] = new Array<string>(n);
    await inParallel(n, 8, async (i) => void (stations[i] = await createStation(client, "json")));
    const createMs = (performance.now() - t0) / n;
    const jn = await measured(ctx, broker, (ms) => sdkManyStations(client, stations, payload, perStream, ms));
    await inParallel(n, 8, (i) => deleteStation(client, stations[i]!));
    ctx.log(
      `  ${String(n).padStart(5)} stations, ${perStream} in flight each: raw ${fmtInt(raw.result.rate)}/s, Junction (JSON) ${fmtInt(jn.result.rate)}/s (${fmtCpu(jn.cpu)}); create ${createMs.toFixed(1)} ms/station`,
    );
    rows.push([
      n,
      perStream,
      raw.result.rate,
      jn.result.rate,
      pct(jn.result.rate, raw.result.rate),
      raw.cpu.server ?? null,
      jn.cpu.server ?? null,
      jn.cpu.gateway ?? null,
      jn.cpu.client ?? null,
      createMs,
    ]);
    points.push({ n, raw: raw.result.rate, jn: jn.result.rate });
    const r = pct(jn.result.rate, raw.result.rate);
    if (r !== null) ctx.metrics[`ratio.fsync.stations.${n}`] = r;
  }
  const s = section("growth-stations", "Cost growth: stations produced to at once (fsync before ack)", [
    `N stations (JSON schema) or N raw streams, written to at once, with the same ${WINDOW.toLocaleString("en-US")} messages in flight in total, spread evenly. Raw: per stream, atomic batches of half its share, 2 in flight, or pipelined single publishes when that would be at most ${SMALL_BATCH} messages (as the gateway stores small requests). Junction: one SDK client with one producer per station, each with its share of sends outstanding (2 batches in flight where the share is at least 8, else 1). 1 KiB JSON orders; ${ctx.plan.settings.growthMs} ms per point after a warm-up.`,
    "With many stations each station's share is small, so requests carry few messages; requests of at most 8 are stored message by message (one fsync each) by the gateway, and the raw row does the same.",
  ]);
  s.tables.push({
    caption: "throughput by number of stations",
    columns: [
      { label: "stations" },
      { label: "in flight per station" },
      { label: "raw msgs/s" },
      { label: "Junction msgs/s" },
      { label: "÷ raw", format: CellFormat.Ratio },
      { label: "server CPU µs/msg raw", format: CellFormat.Fixed1 },
      { label: "Junction", format: CellFormat.Fixed1 },
      { label: "gateway CPU µs/msg", format: CellFormat.Fixed1 },
      { label: "client CPU µs/msg", format: CellFormat.Fixed1 },
      { label: "create ms/station", format: CellFormat.Fixed1 },
    ],
    rows,
  });
  s.charts.push({
    id: "growth-stations",
    title: "msgs/s by stations produced to at once",
    kind: "line",
    labels: points.map((p) => String(p.n)),
    xLabel: "stations",
    yLabel: "msgs/s",
    series: [
      { label: "raw JetStream", values: points.map((p) => p.raw), baseline: true },
      { label: "Junction (JSON schema)", values: points.map((p) => p.jn) },
    ],
  });
  ctx.sections.push(s);
}

// ---------------------------------------------------------------- consumer groups

/** Produces `count` messages through raw atomic batches of up to 1,000, 4 in flight. */
function rawProduceCount(nc: NatsConnection, subject: string, payload: Uint8Array, count: number): Promise<Throughput> {
  const inbox = new ReplyInbox(nc);
  const prefix = nuid.next();
  let n = 0;
  const ids = () => `${prefix}-${(n++).toString(36)}`;
  return runCount({
    count,
    window: 4000,
    unit: 1000,
    issue: (k) => publishAtomicBatch(nc, inbox, subject, new Array<Uint8Array>(k).fill(payload), ids),
  });
}

/** Produces `count` messages through the SDK producer (throughput settings). */
async function sdkProduceCount(client: JunctionClient, station: string, payload: Uint8Array, count: number): Promise<Throughput> {
  const producer = client.producer({
    station,
    maxBatchMessages: PRODUCE_SETTINGS.maxBatchMessages,
    lingerMs: PRODUCE_SETTINGS.lingerMs,
    maxInFlight: PRODUCE_SETTINGS.maxInFlight,
  });
  try {
    return await runCount({ count, window: PRODUCE_SETTINGS.window, issue: () => producer.send(payload) });
  } finally {
    await producer.close();
  }
}

/** Waits until `deliveries()` reaches `expected`, or fails after `timeoutMs`. */
async function deliveredAll(done: Promise<void>, timeoutMs: number, what: () => string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs)));
  const outcome = await Promise.race([done, t]);
  clearTimeout(timer);
  if (outcome === "timeout") throw new Error(`groups: ${what()} after ${timeoutMs / 1000} s`);
}

interface FanOut {
  produce: Throughput;
  /** Deliveries (groups × messages) per second, from the first send to the last delivery. */
  deliveriesPerSec: number;
  serverCpuPerDelivery: number | undefined;
}

/** 1, 10, 100 consumer groups on one station, all reading live while messages are produced. */
export async function runGroupsGrowth(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  ctx.log("\n=== cost growth: consumer groups per station (fsync) ===");
  const nc = await broker.raw("bench-growth-groups");
  const client = await broker.client("bench-growth-groups-producer");
  const payload = jsonPayload(1024);
  const m = ctx.plan.settings.groupMessages;
  const rows: Cell[][] = [];
  const points: { g: number; raw: number; jn: number }[] = [];
  const jsm = await jetstreamManager(nc);
  for (const g of ctx.plan.settings.groups) {
    // Raw: g durable pull consumers on one stream.
    const rawStation = rawName("g");
    const subject = await createRawStream(nc, rawStation);
    const stream = subjects.stationStream(rawStation);
    let rawGot = 0;
    let rawFinish!: () => void;
    const rawDone = new Promise<void>((r) => (rawFinish = r));
    const iters = [];
    for (let k = 0; k < g; k++) {
      await jsm.consumers.add(stream, {
        durable_name: `g${k}`,
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: 10_000,
        filter_subjects: [subject],
      });
      const c = await jetstream(nc).consumers.get(stream, `g${k}`);
      iters.push(
        await c.consume({
          max_messages: 500,
          callback: (msg: JsMsg) => {
            msg.ack();
            if (++rawGot === g * m) rawFinish();
          },
        }),
      );
    }
    const raw = await fanOut(
      broker,
      g * m,
      () => rawProduceCount(nc, subject, payload, m),
      rawDone,
      () => `raw received ${rawGot} of ${g * m}`,
    );
    for (const it of iters) await it.close();
    await deleteRawStream(nc, rawStation);

    // Junction: g consumer groups, one SDK member each (onMessage, ack on arrival).
    const station = await createStation(client, "none");
    let got = 0;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const consumers = [];
    const memberClients: JunctionClient[] = [];
    for (let k = 0; k < g; k++) {
      // One client per member, as separate applications would have: members sharing one
      // client stall (the k-th of G got only 1/(G−k) of its messages in 10 s, SDK 0.1).
      const memberClient = await broker.client(`bench-growth-groups-member-${k}`);
      memberClients.push(memberClient);
      consumers.push(
        await memberClient.consumer({
          station,
          group: `g${k}`,
          batchSize: 500,
          onMessage: (msg) => {
            msg.ack();
            if (++got === g * m) finish();
          },
        }),
      );
    }
    const jn = await fanOut(
      broker,
      g * m,
      () => sdkProduceCount(client, station, payload, m),
      done,
      () => `Junction received ${got} of ${g * m}`,
    );
    for (const c of consumers) await c.close();
    for (const c of memberClients) await c.close();
    await deleteStation(client, station);

    ctx.log(
      `  ${String(g).padStart(4)} groups × ${fmtInt(m)} msgs: raw produce ${fmtInt(raw.produce.rate)}/s, ${fmtInt(raw.deliveriesPerSec)} deliveries/s; Junction produce ${fmtInt(jn.produce.rate)}/s, ${fmtInt(jn.deliveriesPerSec)} deliveries/s`,
    );
    rows.push([
      g,
      raw.produce.rate,
      raw.deliveriesPerSec,
      jn.produce.rate,
      jn.deliveriesPerSec,
      pct(jn.deliveriesPerSec, raw.deliveriesPerSec),
      raw.serverCpuPerDelivery ?? null,
      jn.serverCpuPerDelivery ?? null,
    ]);
    points.push({ g, raw: raw.deliveriesPerSec, jn: jn.deliveriesPerSec });
    const r = pct(jn.deliveriesPerSec, raw.deliveriesPerSec);
    if (r !== null) ctx.metrics[`ratio.fsync.groups.${g}`] = r;
  }
  const s = section("growth-groups", "Cost growth: consumer groups per station (fsync before ack)", [
    `G consumer groups on one station, each with one member reading live (SDK onMessage, batchSize 500, one SDK client per member; raw: durable pull consumers with consume(), 500 per pull), every message acked on arrival; then ${fmtInt(m)} 1 KiB messages are produced as fast as possible (raw atomic batches of 1,000 × 4 / the SDK producer with the throughput settings, no schema). Deliveries/s = G × messages over the time from the first send to the last delivery; server CPU per delivery over the same time.`,
  ]);
  s.tables.push({
    caption: "fan-out by number of consumer groups",
    columns: [
      { label: "groups" },
      { label: "raw produce msgs/s" },
      { label: "raw deliveries/s" },
      { label: "Junction produce msgs/s" },
      { label: "Junction deliveries/s" },
      { label: "deliveries ÷ raw", format: CellFormat.Ratio },
      { label: "server CPU µs/delivery raw", format: CellFormat.Fixed1 },
      { label: "Junction", format: CellFormat.Fixed1 },
    ],
    rows,
  });
  s.charts.push({
    id: "growth-groups",
    title: "deliveries/s by consumer groups per station",
    kind: "line",
    labels: points.map((p) => String(p.g)),
    xLabel: "groups",
    yLabel: "deliveries/s",
    series: [
      { label: "raw JetStream", values: points.map((p) => p.raw), baseline: true },
      { label: "Junction", values: points.map((p) => p.jn) },
    ],
  });
  ctx.sections.push(s);
}

async function fanOut(
  broker: BenchBroker,
  deliveries: number,
  produce: () => Promise<Throughput>,
  done: Promise<void>,
  what: () => string,
): Promise<FanOut> {
  const c0 = processCpuSeconds(broker.pids.server);
  const t0 = performance.now();
  const p = await produce();
  await deliveredAll(done, 120_000, what);
  const seconds = (performance.now() - t0) / 1000;
  const c1 = processCpuSeconds(broker.pids.server);
  return {
    produce: p,
    deliveriesPerSec: deliveries / seconds,
    serverCpuPerDelivery: c0 !== undefined && c1 !== undefined ? ((c1 - c0) * 1e6) / deliveries : undefined,
  };
}

// ---------------------------------------------------------------- gateways

/** One vs two gateway processes: rate and CPU per message of every process. */
export async function runGatewaysGrowth(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  ctx.log("\n=== cost growth: gateway processes (fsync) ===");
  const client = await broker.client("bench-growth-gateways");
  const payload = jsonPayload(1024);
  const rows: Cell[][] = [];
  const cpuBars: { label: string; server: number; gateways: number[]; client: number }[] = [];
  for (const count of [1, 2]) {
    while (broker.gateways.length < count) await broker.addGateway();
    const station = await createStation(client, "json");
    const run = (ms: number) => sdkProduce(client, station, payload, ms);
    await run(Math.max(200, ctx.plan.settings.growthMs / 4));
    const pids = broker.gateways.map((g) => g.pid);
    const before = [broker.pids.server, ...pids, process.pid].map((p) => processCpuSeconds(p));
    const r = await run(ctx.plan.settings.growthMs);
    const after = [broker.pids.server, ...pids, process.pid].map((p) => processCpuSeconds(p));
    await deleteStation(client, station);
    const per = after.map((a, i) => (a !== undefined && before[i] !== undefined ? ((a - before[i]!) * 1e6) / r.messages : Number.NaN));
    const server = per[0]!;
    const gws = per.slice(1, 1 + pids.length);
    const cl = per[per.length - 1]!;
    const gwTotal = gws.reduce((a, b) => a + b, 0);
    ctx.log(
      `  ${count} gateway process${count > 1 ? "es" : ""}: ${fmtInt(r.rate)} msgs/s; CPU µs/msg server ${server.toFixed(1)}, gateways ${gws.map((x) => x.toFixed(1)).join(" + ")}, client ${cl.toFixed(1)}`,
    );
    rows.push([count, r.rate, server, gwTotal, gws.map((x) => x.toFixed(1)).join(" + "), cl, server + gwTotal + cl]);
    cpuBars.push({ label: `${count} gateway${count > 1 ? "s" : ""}`, server, gateways: gws, client: cl });
    if (count === 2) ctx.metrics["rate.fsync.gateways.2"] = r.rate;
  }
  const s = section("growth-gateways", "Cost growth: one vs two gateway processes (fsync before ack)", [
    `The throughput scenario 4 (SDK producer, JSON schema, 1 KiB) against one gateway process, then with a second gateway process in the same queue group (requests are spread by NATS). ${ctx.plan.settings.growthMs} ms each. On a 2-core machine a second gateway cannot add cores: what matters is the CPU per message of each process, which shows whether two gateways cost more in total than one.`,
  ]);
  s.tables.push({
    caption: "gateway processes",
    columns: [
      { label: "gateways" },
      { label: "msgs/s" },
      { label: "CPU µs/msg server", format: CellFormat.Fixed1 },
      { label: "gateways total", format: CellFormat.Fixed1 },
      { label: "per gateway", format: CellFormat.Text },
      { label: "client", format: CellFormat.Fixed1 },
      { label: "all processes", format: CellFormat.Fixed1 },
    ],
    rows,
  });
  const maxGw = Math.max(...cpuBars.map((b) => b.gateways.length));
  s.charts.push({
    id: "growth-gateways",
    title: "CPU µs per message by process (stacked)",
    kind: "bar",
    labels: cpuBars.map((b) => b.label),
    yLabel: "CPU µs/msg",
    series: [
      { label: "nats-server", values: cpuBars.map((b) => b.server), stack: "cpu", baseline: true },
      ...Array.from({ length: maxGw }, (_, i) => ({
        label: `gateway ${i + 1}`,
        values: cpuBars.map((b) => b.gateways[i] ?? null),
        stack: "cpu",
      })),
      { label: "benchmark client", values: cpuBars.map((b) => b.client), stack: "cpu" },
    ],
  });
  ctx.sections.push(s);
}
