/**
 * Keyed stations (ordering keys), fsync before ack:
 *
 * - k1/k4 consume: a station with 8 partitions holding 400 keys; one consumer group; each message
 *   takes 1 ms of work (an awaited 1 ms timer, like a call to another service) before it is acked,
 *   one message at a time per member. Time from the members' start until every message is acked,
 *   with 1 member and with 4 (each its own connection), so the 4-member time includes the members
 *   finding one another and sharing the partitions out.
 * - kp/up produce: the SDK producer (as row 3) on a keyed 8-partition station (1,000 keys) and
 *   on an unkeyed 1-partition one.
 */
import type { JunctionClient } from "../../../sdk/index.js";
import type { BenchBroker } from "../broker.js";
import { deleteStation, sdkProduce } from "../gateway.js";
import { jsonPayload, type Throughput } from "../load.js";
import { CellFormat, section } from "../report/index.js";
import { PAYLOAD_BYTES } from "./throughput.js";
import { CPU_COLUMNS, cpuCells, cpuPids, rowLine, withCpu, type BenchContext, type Row } from "./common.js";

/** Partitions of the keyed station, and keys in the consume scenario. */
export const KEYED_PARTITIONS = 8;
const CONSUME_KEYS = 400;
const PRODUCE_KEYS = 1000;
/** The group's member timeout, in ms. */
const MEMBER_TIMEOUT_MS = 2000;
/** Members in the parallel consume row. */
export const KEYED_MEMBERS = 4;

let counter = 0;
const stationName = () => `bench-keyed-${process.pid.toString(36)}-${counter++}`;

/** Fills `station` with `total` messages over CONSUME_KEYS keys. */
async function fill(admin: JunctionClient, station: string, total: number): Promise<void> {
  const p = admin.producer({ station });
  const step = 2000;
  for (let i = 0; i < total; i += step) {
    const batch = Array.from({ length: Math.min(step, total - i) }, (_, k) => ({
      payload: { n: i + k },
      key: `k${(i + k) % CONSUME_KEYS}`,
    }));
    for (const o of await p.sendBatch(batch)) if (!o.ok) throw o.error;
  }
  await p.close();
}

/** `members` members of one group drain `total` messages, 1 ms of work each. */
async function drain(broker: BenchBroker, station: string, members: number, total: number): Promise<Throughput> {
  const clients: JunctionClient[] = [];
  for (let i = 0; i < members; i++) clients.push(await broker.client(`bench-keyed-member-${i}`));
  let acked = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  const consumers = await Promise.all(clients.map((c) => c.consumer({ station, group: "work" })));
  const loops = consumers.map(async (c) => {
    for await (const m of c) {
      await new Promise((r) => setTimeout(r, 1));
      m.ack();
      if (++acked === total) done();
    }
  });
  await all;
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(consumers.map((c) => c.close()));
  await Promise.all(loops);
  for (const c of clients) await c.close();
  return { messages: total, seconds, rate: total / seconds };
}

/** Runs the keyed rows on `broker` and adds their section. */
export async function runKeyed(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  const { settings } = ctx.plan;
  const total = settings.keyedMessages;
  const admin = await broker.client("bench-keyed-admin");
  const pids = cpuPids(broker);
  const rows: Row[] = [];
  const push = (row: Row) => {
    rows.push(row);
    ctx.log(rowLine(row));
  };

  ctx.log("\n=== keyed stations, fsync before ack ===");
  for (const members of [1, KEYED_MEMBERS]) {
    const station = stationName();
    await admin.stations.create(station, { partitions: KEYED_PARTITIONS });
    // The group is made first (as a deployment has it): the rows time the members, not its creation.
    await admin.groups.create(station, "work", { memberTimeoutMs: MEMBER_TIMEOUT_MS });
    await fill(admin, station, total);
    const { result, cpu } = await withCpu(pids, () => drain(broker, station, members, total));
    push({
      id: `k${members}`,
      name: `consume, 1 ms of work per message, ${members} member${members > 1 ? "s" : ""}`,
      raw: false,
      result,
      cpu,
    });
    await deleteStation(admin, station);
  }
  const payload = jsonPayload(PAYLOAD_BYTES);
  const keys = Array.from({ length: PRODUCE_KEYS }, (_, i) => `customer-${i}`);
  for (const keyed of [false, true]) {
    const station = stationName();
    await admin.stations.create(station, { partitions: keyed ? KEYED_PARTITIONS : 1 });
    const produce = (ms: number) => sdkProduce(admin, station, payload, ms, keyed ? { keys } : {});
    await produce(settings.warmupMs);
    const { result, cpu } = await withCpu(pids, () => produce(settings.measureMs));
    push({
      id: keyed ? "kp" : "up",
      name: keyed ? `produce, keyed (${PRODUCE_KEYS} keys, ${KEYED_PARTITIONS} partitions)` : "produce, unkeyed (1 partition)",
      raw: false,
      result,
      cpu,
    });
    await deleteStation(admin, station);
  }
  await admin.close();

  const rate = (id: string) => rows.find((r) => r.id === id)!.result.rate;
  const parallel = rate(`k${KEYED_MEMBERS}`) / rate("k1");
  const produce = rate("kp") / rate("up");
  ctx.metrics["ratio.fsync.keyed.consume_4_vs_1"] = parallel;
  ctx.metrics["ratio.fsync.keyed.produce_vs_unkeyed"] = produce;

  const s = section("keyed", "Keyed stations (ordering keys), fsync before ack", [
    `Consume: a station with ${KEYED_PARTITIONS} partitions holding ${total.toLocaleString("en-US")} messages of ${CONSUME_KEYS} keys; one consumer group (created beforehand) whose members handle one message at a time, each taking 1 ms of work (an awaited 1 ms timer) before its ack. The time runs from the members' start until every message is acked, so the ${KEYED_MEMBERS}-member row includes the members finding one another and sharing the partitions out. Each member is its own connection in the benchmark process.`,
    `Produce: the SDK producer as in row 3 (${PAYLOAD_BYTES}-byte JSON, no schema), ${settings.warmupMs} ms warm-up then ${settings.measureMs} ms, on a keyed station (${PRODUCE_KEYS} keys over ${KEYED_PARTITIONS} partitions) and on an unkeyed one with one partition.`,
  ]);
  s.tables.push({
    caption: `keyed stations (msgs/s); ${KEYED_MEMBERS} members ÷ 1 = ${parallel.toFixed(2)}×, keyed ÷ unkeyed produce = ${produce.toFixed(2)}×`,
    columns: [
      { label: "#" },
      { label: "scenario", format: CellFormat.Text },
      { label: "msgs/s" },
      { label: "seconds", format: CellFormat.Fixed1 },
      ...CPU_COLUMNS,
    ],
    rows: rows.map((r) => [r.id, r.name, r.result.rate, r.result.seconds, ...cpuCells(r.cpu)]),
  });
  ctx.sections.push(s);
}
