/**
 * Micro-benchmark of the function path: messages per second of an identity function
 * (`export default (m) => m`) over 1 KiB JSON objects in batches of 500, and the CPU the calling
 * process spends per message (what the gateway pays on its event loop).
 *
 * - out-of-process: the runtime (worker processes), payloads given with their JSON bytes
 *   (`FnMessage.json`, what a JSON station has) or as objects, one batch at a time and with two
 *   batches in flight, and a function that changes the payload (so it is decoded and encoded);
 * - in-process, for comparison: the same sandbox in this process, called directly (no worker,
 *   no frames), payloads as JSON text or copied in as objects (structured clone, as the
 *   in-process runtime did).
 *
 * CPU is reported for the calling process (what the gateway pays; for the in-process cases it
 * includes the isolate threads) and, on Linux, for the worker processes.
 *
 * Run: `node --no-node-snapshot --import tsx functions/runtime.bench.ts [seconds per case]`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createFunctionRuntime } from "./index.js";
import type { FnMessage, FunctionSpec } from "./index.js";
import type { SandboxInput } from "./sandbox.js";

const BATCH = 500;
const SIZE = 1024;

/** The 1 KiB order the gateway benchmarks send. */
function order(): Record<string, unknown> {
  const base = {
    id: "ord-000000000001",
    ts: 1_760_000_000_000,
    customer: { name: "Ada Lovelace", email: "ada@example.com" },
    amount: 129.95,
    currency: "EUR",
    tags: ["priority", "gift", "eu"],
    note: "",
  };
  base.note = "n".repeat(SIZE - Buffer.byteLength(JSON.stringify(base)));
  return base;
}

/** One result row. */
export interface BenchRow {
  name: string;
  messagesPerSec: number;
  usPerMessage: number;
  /** CPU time of this process per message, µs (user + system). */
  callerCpuUsPerMessage: number;
  /** CPU time of the worker processes per message, µs (Linux only; undefined in-process). */
  workerCpuUsPerMessage: number | undefined;
}

/** CPU time of processes so far, µs, from /proc (Linux); undefined where it cannot be read. */
function processesCpuUs(pids: readonly number[]): number | undefined {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return undefined;
    }
    // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1e6) / CLOCK_TICKS_PER_SEC;
}

// USER_HZ, 100 on every Linux this runs on.
const CLOCK_TICKS_PER_SEC = 100;

async function measure(
  name: string,
  ms: number,
  inFlight: number,
  batch: () => Promise<number>,
  workers: () => number[] = () => [],
): Promise<BenchRow> {
  for (let i = 0; i < 5; i++) await batch();
  let messages = 0;
  const pids = workers();
  const workerCpu0 = pids.length > 0 ? processesCpuUs(pids) : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() - t0 < ms) {
      const n = await batch(); // not `messages += await …`: that reads `messages` before awaiting
      messages += n;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const workerCpu1 = workerCpu0 !== undefined ? processesCpuUs(pids) : undefined;
  return {
    name,
    messagesPerSec: (messages * 1000) / elapsed,
    usPerMessage: (elapsed * 1000) / messages,
    callerCpuUsPerMessage: (cpu.user + cpu.system) / messages,
    workerCpuUsPerMessage: workerCpu0 !== undefined && workerCpu1 !== undefined ? (workerCpu1 - workerCpu0) / messages : undefined,
  };
}

/** Runs every case for about `ms` each. */
export async function runFunctionBench(ms = 2000): Promise<BenchRow[]> {
  const source = "export default (m) => m";
  const spec: FunctionSpec = { name: "identity", version: 1, source, timeoutMs: 1000, memoryMb: 32 };
  const context = { station: "bench", inputs: {}, function: { name: "identity", version: 1 } };
  const payload = order();
  const text = JSON.stringify(payload);
  const bytes = new TextEncoder().encode(text);
  const headers = { "Jn-Producer": "bench" };
  const rows: BenchRow[] = [];

  // Out of process: the runtime, a fresh one per case.
  const distinct = Array.from({ length: BATCH }, () => JSON.parse(text) as unknown);
  const withJson = (): FnMessage[] => Array.from({ length: BATCH }, () => ({ payload, headers: { ...headers }, json: bytes }));
  const objects = (): FnMessage[] => distinct.map((p) => ({ payload: p, headers: { ...headers } }));
  const touch: FunctionSpec = { ...spec, name: "touch", source: "export default (m) => { m.payload.seen = true; return m; }" };
  const cases: [string, number, FunctionSpec, () => FnMessage[]][] = [
    ["out-of-process, JSON bytes in", 1, spec, withJson],
    ["out-of-process, JSON bytes in, 2 batches in flight", 2, spec, withJson],
    ["out-of-process, objects in", 1, spec, objects],
    ["out-of-process, JSON bytes in, function changes the payload", 1, touch, withJson],
    ["out-of-process, JSON bytes in, function changes the payload, 2 in flight", 2, touch, withJson],
  ];
  for (const [name, inFlight, fn, make] of cases) {
    const runtime = createFunctionRuntime({ poolSize: 2 });
    try {
      rows.push(
        await measure(
          name,
          ms,
          inFlight,
          async () => {
            const out = await runtime.runBatch(fn, context, make());
            if (out.length !== BATCH || !out.every((o) => o.ok)) throw new Error("the function failed");
            return out.length;
          },
          () => runtime.poolStats().workers.map((w) => w.pid),
        ),
      );
    } finally {
      await runtime.close();
    }
  }

  // In-process: one sandbox here, no worker. isolated-vm is loaded only now, so the cases above
  // measure a caller that does not load it, as the gateway does not.
  const { executeBatch } = await import("./executor.js");
  const { packPayloads, Sandbox } = await import("./sandbox.js");
  const sandbox = await Sandbox.create(spec, { maxOutputBytes: 1024 * 1024, logCap: 200 });
  const here = { sandbox: () => Promise.resolve(sandbox) };
  const limits = { timeoutMs: 1000, budgetMs: 5000 };
  const headersJson = JSON.stringify(Array.from({ length: BATCH }, () => headers));
  rows.push(
    await measure("in-process, objects copied in", ms, 1, async () => {
      const input: SandboxInput = { ...packPayloads("V".repeat(BATCH), distinct), headers: headersJson, context };
      await executeBatch(here, input, limits);
      return BATCH;
    }),
  );
  const texts = Array.from({ length: BATCH }, () => text);
  rows.push(
    await measure("in-process, JSON text in", ms, 1, async () => {
      const input: SandboxInput = { ...packPayloads("J".repeat(BATCH), texts), headers: headersJson, context };
      await executeBatch(here, input, limits);
      return BATCH;
    }),
  );
  sandbox.dispose();

  return rows;
}

/** The rows as a printable table. */
export function benchTable(rows: BenchRow[]): string {
  const head = ["identity fn, 1 KiB JSON, batches of 500", "msgs/s", "µs/msg", "caller CPU µs/msg", "worker CPU µs/msg"];
  const body = rows.map((r) => [
    r.name,
    Math.round(r.messagesPerSec).toLocaleString("en-US"),
    r.usPerMessage.toFixed(2),
    r.callerCpuUsPerMessage.toFixed(2),
    r.workerCpuUsPerMessage === undefined ? "–" : r.workerCpuUsPerMessage.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? "2");
  console.log(benchTable(await runFunctionBench(seconds * 1000)));
}
