/**
 * End-to-end latency: raw JetStream (publish + pull consumer) beside Junction (SDK producer →
 * gateway → SDK consumer group) at the same rates in the same run, then both again with the
 * stage tap, to split each message's latency into where it was spent.
 */
import type { BenchBroker, Sync } from "../broker.js";
import { endToEndLatencies, junctionEndToEnd, rawEndToEnd, type E2eSamples, type EndToEndOptions } from "../e2e.js";
import { createStation, deleteStation } from "../gateway.js";
import { jsonPayload } from "../load.js";
import { createRawStream, deleteRawStream } from "../raw.js";
import { CellFormat, section, type Cell, type Section } from "../report/index.js";
import { fmtMs, summarize, type LatencySummary } from "../stats.js";
import { breakdown, startTap, tailFinding, type Breakdown } from "../trace.js";
import { subjects } from "../../../core/protocol/index.js";
import type { ProducerOptions } from "../../../sdk/index.js";
import { syncLabel, syncShort, type BenchContext } from "./common.js";
import { PAYLOAD_BYTES } from "./throughput.js";

interface LatencyRow {
  path: "raw" | "junction";
  label: string;
  rate: number;
  latency: LatencySummary;
}

let rawN = 0;

/** Runs the end-to-end scenarios on `broker` and adds their section. */
export async function runLatency(ctx: BenchContext, broker: BenchBroker, sync: Sync): Promise<void> {
  const { e2e } = ctx.plan.settings;
  const short = syncShort(sync);
  const nc = await broker.raw("bench-e2e-raw");
  const producer = await broker.client("bench-e2e-producer");
  const consumer = await broker.client("bench-e2e-consumer");
  const payload = jsonPayload(PAYLOAD_BYTES);
  const opts = (rate: number): EndToEndOptions => ({ rate, durationMs: e2e.durationMs, warmupMs: e2e.warmupMs });

  const runRaw = async (rate: number, traced: boolean) => {
    const station = `rawe2e${rawN++}`;
    await createRawStream(nc, station);
    const tap = traced ? await startTap(tapConfig(broker, station, false)) : undefined;
    try {
      const s = await rawEndToEnd(nc, station, payload, opts(rate));
      return { s, trace: tap ? breakdown("raw", s, await tap.stop()) : undefined };
    } finally {
      await deleteRawStream(nc, station);
    }
  };
  const runJunction = async (rate: number, traced: boolean, producerOptions: Partial<ProducerOptions> = {}) => {
    const station = await createStation(producer, "json");
    const tap = traced ? await startTap(tapConfig(broker, station, true)) : undefined;
    try {
      const s = await junctionEndToEnd(producer, consumer, station, payload, { ...opts(rate), producer: producerOptions });
      return { s, trace: tap ? breakdown("junction", s, await tap.stop()) : undefined };
    } finally {
      await deleteStation(producer, station);
    }
  };

  ctx.log(`\n=== end-to-end latency, ${syncLabel(sync)} ===`);
  const rows: LatencyRow[] = [];
  const add = (path: "raw" | "junction", label: string, rate: number, s: E2eSamples) => {
    const latency = summarize(endToEndLatencies(s));
    rows.push({ path, label, rate, latency });
    ctx.log(
      `  ${label.padEnd(52)} at ${rate.toLocaleString("en-US")}/s: p50 ${fmtMs(latency.p50)} ms, p99 ${fmtMs(latency.p99)} ms, p99.9 ${fmtMs(latency.p999)} ms, max ${fmtMs(latency.max)} ms`,
    );
    (ctx.results.e2e[sync] ??= []).push({ rate, path, p50: latency.p50, p99: latency.p99, p999: latency.p999 });
  };
  for (const rate of e2e.rates) {
    add("raw", "raw JetStream: publish + pull consumer", rate, (await runRaw(rate, false)).s);
    add("junction", "Junction: SDK producer → gateway → SDK consumer", rate, (await runJunction(rate, false)).s);
  }
  const first = e2e.rates[0]!;
  // What the producer's one batch in flight costs: the same run with four.
  add("junction", "Junction, producer maxInFlight 4", first, (await runJunction(first, false, { maxInFlight: 4 })).s);

  // The traced runs: the tap is a process of its own, so these are separate from the rows above.
  const rawTrace = (await runRaw(first, true)).trace!;
  const jnTrace = (await runJunction(first, true)).trace!;
  for (const b of [rawTrace, jnTrace]) ctx.log(`  trace: ${tailFinding(b)}`);

  ctx.sections.push(latencySection(ctx, sync, rows, first, [rawTrace, jnTrace]));
  const p = (path: "raw" | "junction", label?: string) =>
    rows.find((r) => r.path === path && r.rate === first && (label === undefined || r.label === label))?.latency;
  const raw = p("raw");
  const jn = p("junction", "Junction: SDK producer → gateway → SDK consumer");
  if (raw && jn) {
    ctx.metrics[`latency.${short}.e2e${first}.raw.p99`] = raw.p99;
    ctx.metrics[`latency.${short}.e2e${first}.junction.p50`] = jn.p50;
    ctx.metrics[`latency.${short}.e2e${first}.junction.p99`] = jn.p99;
    ctx.metrics[`latency.${short}.e2e${first}.junction.p999`] = jn.p999;
  }
}

function tapConfig(broker: BenchBroker, station: string, junction: boolean) {
  return {
    servers: broker.url,
    user: broker.secrets.gateway.user,
    pass: broker.secrets.gateway.password,
    produceSubject: junction ? subjects.produce(station) : undefined,
    streamSubject: subjects.stationMsg(station),
    stream: subjects.stationStream(station),
  };
}

function latencySection(ctx: BenchContext, sync: Sync, rows: LatencyRow[], tracedRate: number, traces: Breakdown[]): Section {
  const short = syncShort(sync);
  const { e2e } = ctx.plan.settings;
  const s = section(`latency-${short}`, `End-to-end latency, ${syncLabel(sync)}`, [
    `Messages (1 KiB JSON orders, a JSON schema on the Junction station) are sent at a fixed rate for ${e2e.durationMs / 1000} s after a ${e2e.warmupMs / 1000} s warm-up at the same rate; every millisecond tick sends the messages that are due. Latency runs from each message's due time to its arrival at the consumer, so a sender that falls behind is counted.`,
    "Raw JetStream: each message published as it is due (core publish with a reply subject on one shared inbox, with its Nats-Msg-Id, not waiting for earlier acks) and read by a durable pull consumer (consume(), 100 per pull, explicit ack on arrival). Junction: the SDK producer with its defaults (linger 0, one batch in flight) and an SDK consumer group member (batchSize 100, iterator, ack on arrival). Same process, same sender loop, same clock.",
    `Stage split (at ${tracedRate.toLocaleString("en-US")} msgs/s, separate runs): a tap process subscribed in the broker's account stamps the produce request, the publish to the stream (the gateway's or the raw publisher's) and the store ack (JetStream's reply) as the server forwards them; the sender stamps due, handed-over and reply times, the consumer the arrival. Times are wall-clock (performance.timeOrigin + now()) on one machine. A message's stage times add up to its end-to-end latency; the tail is the slowest 1 % of messages.`,
  ]);
  const raw1 = rows.find((r) => r.path === "raw" && r.rate === tracedRate)?.latency;
  s.tables.push({
    caption: "end-to-end latency (ms)",
    columns: [
      { label: "path", format: CellFormat.Text },
      { label: "msgs/s" },
      { label: "p50", format: CellFormat.Ms },
      { label: "p99", format: CellFormat.Ms },
      { label: "p99.9", format: CellFormat.Ms },
      { label: "max", format: CellFormat.Ms },
      { label: "p99 ÷ raw p99", format: CellFormat.Ratio },
      { label: "samples" },
    ],
    rows: rows.map((r) => {
      const rawSame = rows.find((x) => x.path === "raw" && x.rate === r.rate)?.latency;
      return [
        r.label,
        r.rate,
        r.latency.p50,
        r.latency.p99,
        r.latency.p999,
        r.latency.max,
        rawSame ? r.latency.p99 / rawSame.p99 : null,
        r.latency.samples,
      ];
    }),
  });
  const at = rows.filter((r) => r.rate === tracedRate);
  s.charts.push({
    id: `latency-${short}`,
    title: `End-to-end latency percentiles at ${tracedRate.toLocaleString("en-US")} msgs/s (ms)`,
    kind: "bar",
    labels: ["p50", "p99", "p99.9"],
    series: at.map((r) => ({ label: r.label, values: [r.latency.p50, r.latency.p99, r.latency.p999], baseline: r.path === "raw" })),
    yLabel: "ms",
  });
  // The stage split: percentiles per stage, and mean per stage for all vs the tail.
  const stageRows: Cell[][] = [];
  for (const b of traces) {
    const label = b.path === "junction" ? "Junction" : "raw";
    for (const st of [...b.stages, b.reply]) {
      stageRows.push([label, st.name, st.all.mean, st.all.p50, st.all.p99, st.all.p999, st.tailMean, st.meaning]);
    }
    stageRows.push([
      label,
      "end to end",
      b.e2e.mean,
      b.e2e.p50,
      b.e2e.p99,
      b.e2e.p999,
      null,
      `${b.traced} traced, ${b.untraced} missed by the tap`,
    ]);
  }
  s.tables.push({
    caption: `where the time goes at ${tracedRate.toLocaleString("en-US")} msgs/s (ms; "tail mean" = mean over the slowest 1 % end to end)`,
    columns: [
      { label: "path", format: CellFormat.Text },
      { label: "stage", format: CellFormat.Text },
      { label: "mean", format: CellFormat.Ms },
      { label: "p50", format: CellFormat.Ms },
      { label: "p99", format: CellFormat.Ms },
      { label: "p99.9", format: CellFormat.Ms },
      { label: "tail mean", format: CellFormat.Ms },
      { label: "from → to", format: CellFormat.Text },
    ],
    rows: stageRows,
  });
  const stageNames = [...new Set(traces.flatMap((b) => b.stages.map((st) => st.name)))];
  const bars = traces.flatMap((b) => {
    const label = b.path === "junction" ? "Junction" : "raw";
    return [
      { label: `${label}, all`, b, tail: false },
      { label: `${label}, slowest 1 %`, b, tail: true },
    ];
  });
  s.charts.push({
    id: `stages-${short}`,
    title: "Mean time per stage: all messages vs the slowest 1 % (ms, stacked = end to end)",
    kind: "bar",
    labels: bars.map((x) => x.label),
    series: stageNames.map((name) => ({
      label: name,
      stack: "stages",
      values: bars.map((x) => {
        const st = x.b.stages.find((y) => y.name === name);
        return st ? (x.tail ? st.tailMean : st.all.mean) : null;
      }),
    })),
    yLabel: "ms",
  });
  for (const b of traces) s.notes.push(tailFinding(b));
  if (raw1)
    s.notes.push(
      `Raw JetStream end-to-end at ${tracedRate.toLocaleString("en-US")} msgs/s: p99 ${fmtMs(raw1.p99)} ms; the target is Junction's p99 ≤ 1.5× that.`,
    );
  return s;
}
