/**
 * Keyed stations, two questions, in seconds (not a test: nothing here asserts a timing):
 *
 * 1. Parallel consumption: a station with 8 partitions holding 400 keys × N/400 messages; one
 *    consumer group; each message takes 1 ms of work (an awaited 1 ms timer, like a call to
 *    another service) before it is acked. Time from the first member's start until every message
 *    is acked, with 1 member and with 4 members (each its own connection, in this process). The
 *    4-member time includes the members spreading the partitions among themselves.
 * 2. Produce: messages/s through the gateway (auto-batching producer, 200-byte payloads, fsync
 *    before ack), unkeyed on a 1-partition station vs keyed (1,000 keys) on an 8-partition one.
 *
 * Run: npm exec -- node --no-node-snapshot --import tsx test/bench/keyed.ts [messages]  (default 8000)
 */
import { randomBytes } from "node:crypto";
import type { JunctionClient } from "../../sdk/index.js";
import { startBenchBroker } from "./broker.js";

const total = Number(process.argv[2] ?? 8000);
const PARTITIONS = 8;
const KEYS = 400;

const uniqueName = () => `keyed-${randomBytes(4).toString("hex")}`;
const broker = await startBenchBroker({ sync: "always" });
const admin = await broker.client("keyed-admin");
let members = 0;
const app = () => broker.client(`keyed-member-${members++}`);

async function fill(station: string): Promise<void> {
  const p = admin.producer({ station });
  const step = 2000;
  for (let i = 0; i < total; i += step) {
    const batch = Array.from({ length: Math.min(step, total - i) }, (_, k) => ({ payload: { n: i + k }, key: `k${(i + k) % KEYS}` }));
    for (const o of await p.sendBatch(batch)) if (!o.ok) throw o.error;
  }
}

async function consume(station: string, members: number): Promise<number> {
  const clients: JunctionClient[] = [];
  for (let i = 0; i < members; i++) clients.push(await app());
  let acked = 0;
  const t0 = performance.now();
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const consumers = await Promise.all(clients.map((c) => c.consumer({ station, group: "work", memberTimeoutMs: 2000 })));
  const loops = consumers.map(async (c) => {
    for await (const m of c) {
      await new Promise((r) => setTimeout(r, 1));
      m.ack();
      if (++acked === total) done();
    }
  });
  await all;
  const ms = performance.now() - t0;
  await Promise.all(consumers.map((c) => c.close()));
  await Promise.all(loops);
  for (const c of clients) await c.close();
  return ms;
}

async function produce(keyed: boolean): Promise<number> {
  const station = uniqueName();
  await admin.stations.create(station, { partitions: keyed ? PARTITIONS : 1 });
  const p = admin.producer({ station });
  const pad = "x".repeat(180);
  const n = total * 4;
  const t0 = performance.now();
  const step = 5000;
  for (let i = 0; i < n; i += step) {
    const batch = Array.from({ length: Math.min(step, n - i) }, (_, k) => ({
      payload: { n: i + k, pad },
      ...(keyed ? { key: `customer-${(i + k) % 1000}` } : {}),
    }));
    for (const o of await p.sendBatch(batch)) if (!o.ok) throw o.error;
  }
  return (n / (performance.now() - t0)) * 1000;
}

try {
  const rows: string[] = [];
  for (const members of [1, 4]) {
    const station = uniqueName();
    await admin.stations.create(station, { partitions: PARTITIONS });
    await fill(station);
    const ms = await consume(station, members);
    rows.push(`consume  ${members} member(s)  ${total} msgs  ${Math.round(ms)} ms  ${Math.round((total / ms) * 1000)} msgs/s`);
    console.log(rows[rows.length - 1]);
  }
  const unkeyed = await produce(false);
  const keyed = await produce(true);
  rows.push(
    `produce  unkeyed (1 partition) ${Math.round(unkeyed)} msgs/s  keyed (${PARTITIONS} partitions) ${Math.round(keyed)} msgs/s  ratio ${(keyed / unkeyed).toFixed(2)}`,
  );
  console.log(rows[rows.length - 1]);
} finally {
  await broker.stop();
}
