/**
 * HTTP produce (batched) beside the SDK producer: the same station kind (no schema), payload
 * (1 KiB JSON) and broker (fsync before ack), the gateway serving HTTP on loopback.
 */
import type { BenchBroker } from "../broker.js";
import { createStation, deleteStation, PRODUCE_SETTINGS, sdkProduce } from "../gateway.js";
import { httpProduce, type HttpTarget } from "../http.js";
import { jsonPayload, type Throughput } from "../load.js";
import { CellFormat, section } from "../report/index.js";
import { PAYLOAD_BYTES } from "./throughput.js";
import { CPU_COLUMNS, cpuCells, cpuPids, rowLine, withCpu, type BenchContext, type Row } from "./common.js";

/** Messages per HTTP request, and requests in flight. */
const HTTP_BATCHES = [100, 1000] as const;
const HTTP_IN_FLIGHT = 4;

/** Runs the SDK and HTTP produce rows on `broker` (started with `http`) and adds their section. */
export async function runHttp(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  if (!broker.httpUrl) throw new Error("the http suite needs a broker started with http: true");
  const { settings } = ctx.plan;
  const client = await broker.client("bench-http-sdk");
  const payload = jsonPayload(PAYLOAD_BYTES);
  const target: HttpTarget = { baseUrl: broker.httpUrl, user: broker.users.app.user, password: broker.users.app.password };
  const pids = cpuPids(broker);
  const rows: Row[] = [];
  const timed = async (id: string, name: string, run: (station: string, ms: number) => Promise<Throughput>) => {
    const station = await createStation(client, "none");
    await run(station, settings.warmupMs);
    const { result, cpu } = await withCpu(pids, () => run(station, settings.measureMs));
    await deleteStation(client, station);
    const row: Row = { id, name, raw: false, result, cpu };
    rows.push(row);
    ctx.log(rowLine(row));
  };

  ctx.log("\n=== HTTP produce beside the SDK, fsync before ack ===");
  await timed("h0", "SDK producer, no schema (as row 3)", (s, ms) => sdkProduce(client, s, payload, ms));
  for (const batch of HTTP_BATCHES) {
    await timed(`h${batch}`, `HTTP produce, ${batch} messages a request, ${HTTP_IN_FLIGHT} in flight`, (s, ms) =>
      httpProduce(target, s, payload, ms, { batch, inFlight: HTTP_IN_FLIGHT }),
    );
  }

  const sdk = rows[0]!.result.rate;
  for (const r of rows.slice(1)) ctx.metrics[`ratio.fsync.http.${r.id.slice(1)}_vs_sdk`] = r.result.rate / sdk;
  const s = section("http", "HTTP produce beside the SDK, 1 KiB, fsync before ack", [
    `One broker, the gateway serving HTTP on loopback (basic auth as the app user, credentials cached after the first request). Each row: a new station without schema, ${settings.warmupMs} ms warm-up, then ${settings.measureMs} ms; the rate counts messages the store acknowledged.`,
    `SDK: the producer with batches of up to ${PRODUCE_SETTINGS.maxBatchMessages}, ${PRODUCE_SETTINGS.maxInFlight} in flight (row 3 of the produce sections). HTTP: POST /v1/stations/<s>/messages with {messages:[{payload}…]} of N messages, ${HTTP_IN_FLIGHT} requests in flight on keep-alive connections (node:http), one body built once; every result checked. Each request is one atomic batch in the store.`,
    "CPU µs/msg: user + system CPU time of nats-server, the gateway and the benchmark process during the measured run, per message.",
  ]);
  s.tables.push({
    caption: "produce (msgs/s; ratio to the SDK row)",
    columns: [
      { label: "#" },
      { label: "scenario", format: CellFormat.Text },
      { label: "msgs/s" },
      { label: "÷ SDK", format: CellFormat.Ratio },
      ...CPU_COLUMNS,
    ],
    rows: rows.map((r) => [r.id, r.name, r.result.rate, r.result.rate / sdk, ...cpuCells(r.cpu)]),
  });
  s.charts.push({
    id: "http-produce",
    title: "HTTP produce beside the SDK (msgs/s, fsync before ack)",
    kind: "bar",
    horizontal: true,
    labels: rows.map((r) => `${r.id} ${r.name}`),
    series: [{ label: "msgs/s", values: rows.map((r) => r.result.rate) }],
    yLabel: "msgs/s",
  });
  ctx.sections.push(s);
}
