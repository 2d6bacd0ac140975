/**
 * Micro-benchmark of the gateway's store writer: the CPU one atomic batch of 500 messages costs
 * the gateway to publish (headers, framing, socket writes), against the same batch built with
 * nats.js's MsgHdrs (what the writer did before). Publishes to a subject no stream listens on, so
 * the server only forwards nothing and the numbers are the client side alone.
 * Run: `node --no-node-snapshot --import tsx test/bench/writer.bench.ts`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { headers as natsHeaders, nuid, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { NatsStoreWriter } from "../../core/nats/batch.js";
import type { StoreMessage } from "../../core/nats/index.js";
import { startNatsServer } from "../../core/server/index.js";
import { jsonPayload } from "./load.js";
import { table } from "./stats.js";

/** What {@link runWriterBench} measured: microseconds of CPU per message. */
export interface WriterResults {
  batch: number;
  /** StoreWriter.publishAtomic as it is now. */
  writerUsPerMessage: number;
  /** The same batch through nats.js MsgHdrs (set per header). */
  natsHeadersUsPerMessage: number;
}

function natsHeadersBatch(nc: NatsConnection, subject: string, msgs: readonly StoreMessage[]): void {
  const batchId = nuid.next();
  msgs.forEach((m, i) => {
    const h = natsHeaders();
    if (m.headers) for (const k in m.headers) h.set(k, m.headers[k]!);
    if (m.id) h.set("Nats-Msg-Id", m.id);
    h.set("Nats-Batch-Id", batchId);
    h.set("Nats-Batch-Sequence", String(i + 1));
    if (i === msgs.length - 1) h.set("Nats-Batch-Commit", "1");
    nc.publish(subject, m.payload, { headers: h });
  });
}

async function cpuPerMessage(nc: NatsConnection, batches: number, msgs: StoreMessage[], publish: () => void): Promise<number> {
  for (let i = 0; i < 20; i++) publish();
  await nc.flush();
  const c0 = process.cpuUsage();
  for (let i = 0; i < batches; i++) {
    publish();
    // Let the socket drain now and then, as the gateway does between requests.
    if (i % 4 === 3) await nc.flush();
  }
  await nc.flush();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / (batches * msgs.length);
}

/** Runs the writer micro-benchmark against a throwaway nats-server. */
export async function runWriterBench(batches = 400): Promise<WriterResults> {
  const dir = await mkdtemp(join(tmpdir(), "junction-bench-writer-"));
  const server = await startNatsServer({ dir });
  const nc = await connect({ servers: server.url });
  try {
    const payload = jsonPayload(1024);
    const batch = 500;
    let n = 0;
    const msgs = (): StoreMessage[] =>
      Array.from({ length: batch }, () => ({
        id: `bench-producer-${(n++).toString(36)}`,
        headers: { "Jn-Producer": "bench-producer", "Jn-Schema": "order@1" },
        payload,
      }));
    const writer = new NatsStoreWriter(nc, 60_000);
    const a = msgs();
    const writerUs = await cpuPerMessage(nc, batches, a, () => void writer.publishAtomic("bench.nowhere", a));
    const natsUs = await cpuPerMessage(nc, batches, a, () => natsHeadersBatch(nc, "bench.nowhere", a));
    writer.close();
    return { batch, writerUsPerMessage: writerUs, natsHeadersUsPerMessage: natsUs };
  } finally {
    await nc.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The writer results as a printable table. */
export function writerTable(r: WriterResults): string {
  return table([
    [`gateway store writer: one atomic batch of ${r.batch} (1 KiB, 3 headers + batch headers)`, "CPU µs/msg"],
    ["StoreWriter.publishAtomic (header bytes built directly)", r.writerUsPerMessage.toFixed(2)],
    ["the same batch with nats.js MsgHdrs (the writer before)", r.natsHeadersUsPerMessage.toFixed(2)],
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(writerTable(await runWriterBench()));
}
