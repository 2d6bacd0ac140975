/**
 * memphis.js produce through Junction against memphis.js publishing to a plain JetStream stream,
 * in the same run, with the same fsync policy.
 *
 * - Junction: `junction dev --memphis` (the built CLI, in a child process: nats-server + gateway);
 *   the SDK's `<station>$1.final` publish is answered by the gateway (schema, functions, store).
 * - Plain: a second nats-server (same sync policy) with a stream capturing `<station>$1.>` and a
 *   stub of Memphis's control plane (producer creation only), so the same SDK call publishes
 *   straight into JetStream — what a Memphis broker did, without any server-side check.
 *
 * Two measures each: awaited produce (`asyncProduce: false`, one message at a time: latency and
 * rate) and async produce (`asyncProduce: true`, the SDK's default: fire N, then time until the
 * stream holds all N). Not a test: nothing here asserts a timing. Plug into the runner with
 * `runMemphisBench({ quick, sync })` and `memphisTable(result)`, or run alone:
 * `npm run build && node --no-node-snapshot --import tsx test/bench/memphis.ts [--quick] [--sync always|default]`.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { connect as natsConnect } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { createMemphisInstance, type Memphis } from "memphis-dev";
import { startNatsServer } from "../../core/server/index.js";
import { connect } from "../../sdk/index.js";
import { startDevMemphis } from "../memphis/dev.js";
import { fmtInt, fmtMs, fmtRatio, summarize, table, type LatencySummary } from "./stats.js";

/** "always" = fsync before ack (Junction's default); "default" = the lazy NATS default. */
export type MemphisBenchSync = "always" | "default";

/** What one target did. */
export interface MemphisTargetResult {
  /** Awaited produce: messages a second, per-call latency, and how many calls failed. */
  awaited: { messages: number; msgsPerSec: number; latency: LatencySummary; failed: number };
  /**
   * Async produce: messages a second from the first call until the stream held them all, and how
   * many of the SDK's unawaited publishes failed (it leaves their rejections unhandled).
   */
  async: { messages: number; msgsPerSec: number; failed: number };
}

/** The results of {@link runMemphisBench}. */
export interface MemphisBenchResult {
  method: { payloadBytes: number; awaitedMessages: number; asyncMessages: number; warmupMessages: number; sync: MemphisBenchSync };
  junction: MemphisTargetResult;
  plainJetStream: MemphisTargetResult;
  /** Junction's rate over plain JetStream's (1 = as fast). */
  ratio: { awaited: number; async: number };
}

const STATION = "bench";

async function waitUntil(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs both produce measures with one connected SDK; `stored()` says how many messages the stream holds. */
async function measure(
  m: Memphis,
  stored: () => Promise<number>,
  o: { payload: Buffer; awaited: number; async: number; warmup: number },
): Promise<MemphisTargetResult> {
  const p = await m.producer({ stationName: STATION, producerName: "bench" });
  // The SDK does not await an async publish: one that times out is an unhandled rejection.
  let failed = 0;
  const onRejection = (err: unknown) => {
    failed++;
    if (failed === 1) console.error(`an async publish failed: ${String(err)}`);
  };
  process.on("unhandledRejection", onRejection);
  try {
    for (let i = 0; i < o.warmup; i++) await p.produce({ message: o.payload, asyncProduce: false });
    const lat: number[] = [];
    let awaitedFailed = 0;
    let t0 = performance.now();
    for (let i = 0; i < o.awaited; i++) {
      const t = performance.now();
      await p.produce({ message: o.payload, asyncProduce: false }).catch(() => void awaitedFailed++);
      lat.push(performance.now() - t);
    }
    const awaitedMs = performance.now() - t0;
    const before = await stored();
    failed = 0;
    t0 = performance.now();
    for (let i = 0; i < o.async; i++) await p.produce({ message: o.payload, asyncProduce: true });
    await waitUntil(async () => (await stored()) + failed >= before + o.async, 120_000);
    const asyncMs = performance.now() - t0;
    await p.destroy();
    return {
      awaited: {
        messages: o.awaited,
        msgsPerSec: ((o.awaited - awaitedFailed) * 1000) / awaitedMs,
        latency: summarize(lat),
        failed: awaitedFailed,
      },
      async: { messages: o.async, msgsPerSec: ((o.async - failed) * 1000) / asyncMs, failed },
    };
  } finally {
    // Late answers of publishes that timed out still reject: give them a moment to be counted.
    await new Promise((r) => setTimeout(r, 200));
    process.off("unhandledRejection", onRejection);
  }
}

/** Memphis's control plane, as far as producing needs it (for the plain baseline). */
function stubControlPlane(nc: Awaited<ReturnType<typeof natsConnect>>): void {
  const enc = new TextEncoder();
  const noSchema = {
    schema_name: "",
    active_version: { version_number: 0, descriptor: "", schema_content: "", message_struct_name: "" },
    type: "",
  };
  nc.subscribe("$memphis_producer_creations", {
    callback: (_e, msg) => {
      msg.respond(
        enc.encode(
          JSON.stringify({
            schema_update: noSchema,
            partitions_update: { partitions_list: [1] },
            schemaverse_to_dls: false,
            send_notification: false,
            station_version: 2,
            station_partitions_first_functions: {},
            error: "",
          }),
        ),
      );
    },
  });
  nc.subscribe("$memphis_producer_destructions", {
    callback: (_e, msg) => {
      msg.respond(enc.encode(""));
    },
  });
}

/** Runs the Memphis produce benchmark (a few seconds with `quick`). */
export async function runMemphisBench(o: { quick?: boolean; sync?: MemphisBenchSync } = {}): Promise<MemphisBenchResult> {
  const sync = o.sync ?? "always";
  const method = {
    payloadBytes: 1024,
    awaitedMessages: o.quick ? 500 : 3000,
    // Small enough that a store fsyncing every message drains it within the SDK's 5 s publish timeout.
    asyncMessages: o.quick ? 5000 : 20_000,
    warmupMessages: o.quick ? 100 : 500,
    sync,
  };
  const payload = Buffer.from(JSON.stringify({ pad: "x".repeat(method.payloadBytes - 10) }).slice(0, method.payloadBytes));
  const sizes = { payload, awaited: method.awaitedMessages, async: method.asyncMessages, warmup: method.warmupMessages };

  // Junction: junction dev --memphis.
  const dev = await startDevMemphis({ sync: sync === "always" });
  let junction: MemphisTargetResult;
  try {
    const m = createMemphisInstance();
    await m.connect({ ...dev.memphis, suppressLogs: true });
    await m.station({ name: STATION, retentionValue: 3600 });
    const admin = await connect({ servers: dev.url, user: dev.admin.user, pass: dev.admin.password });
    junction = await measure(m, async () => (await admin.stations.get(STATION)).state?.messages ?? 0, sizes);
    await admin.close();
    await m.close();
  } finally {
    await dev.stop();
  }

  // Plain JetStream: the same SDK call into a stream that captures the subject.
  const dir = await mkdtemp(join(tmpdir(), "junction-bench-memphis-"));
  const server = await startNatsServer({ dir, sync });
  let plainJetStream: MemphisTargetResult;
  try {
    const nc = await natsConnect({ servers: server.url });
    const jsm: JetStreamManager = await jetstreamManager(nc);
    await jsm.streams.add({ name: `${STATION}$1`, subjects: [`${STATION}$1.>`], duplicate_window: 120_000_000_000 });
    stubControlPlane(nc);
    await nc.flush();
    const url = new URL(server.url);
    const m = createMemphisInstance();
    await m.connect({ host: url.hostname, port: server.port, username: "bench", password: "any", suppressLogs: true });
    plainJetStream = await measure(m, async () => (await jsm.streams.info(`${STATION}$1`)).state.messages, sizes);
    await m.close();
    await nc.close();
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return {
    method,
    junction,
    plainJetStream,
    ratio: {
      awaited: junction.awaited.msgsPerSec / plainJetStream.awaited.msgsPerSec,
      async: junction.async.msgsPerSec / plainJetStream.async.msgsPerSec,
    },
  };
}

/** The results as a table, with the method. */
export function memphisTable(r: MemphisBenchResult): string {
  const m = r.method;
  const rows = [
    ["memphis.js produce", "Junction msgs/s", "plain JetStream msgs/s", "ratio", "Junction p50/p99 ms", "plain p50/p99 ms", "failed"],
    [
      `awaited (${fmtInt(m.awaitedMessages)} × 1 message)`,
      fmtInt(r.junction.awaited.msgsPerSec),
      fmtInt(r.plainJetStream.awaited.msgsPerSec),
      fmtRatio(r.ratio.awaited),
      `${fmtMs(r.junction.awaited.latency.p50)} / ${fmtMs(r.junction.awaited.latency.p99)}`,
      `${fmtMs(r.plainJetStream.awaited.latency.p50)} / ${fmtMs(r.plainJetStream.awaited.latency.p99)}`,
      `${r.junction.awaited.failed} / ${r.plainJetStream.awaited.failed}`,
    ],
    [
      `async (${fmtInt(m.asyncMessages)}, until stored)`,
      fmtInt(r.junction.async.msgsPerSec),
      fmtInt(r.plainJetStream.async.msgsPerSec),
      fmtRatio(r.ratio.async),
      "-",
      "-",
      `${r.junction.async.failed} / ${r.plainJetStream.async.failed}`,
    ],
  ];
  return (
    `memphis.js ${"1.3.2"} produce, ${m.payloadBytes} B payloads, ${m.sync === "always" ? "fsync before ack" : "lazy fsync"}; ` +
    `${fmtInt(m.warmupMessages)} warm-up messages each; Junction = junction dev --memphis (gateway enforces schema/functions), ` +
    `plain = the same SDK call into a JetStream stream on its own nats-server\n` +
    table(rows)
  );
}

// Run alone: print the table and write bench-results/memphis-<time>.json.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, sync: { type: "string" } }, strict: true });
  const sync = values.sync === "default" ? "default" : "always";
  const r = await runMemphisBench({ quick: values.quick === true, sync });
  console.log(memphisTable(r));
  const out = resolve(import.meta.dirname, "../../bench-results");
  await mkdir(out, { recursive: true });
  const file = join(out, `memphis-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, JSON.stringify(r, null, 2) + "\n");
  console.log(`written ${file}`);
}
