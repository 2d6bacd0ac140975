/**
 * nats-server 2.14's fast ingest batches against the atomic batches the gateway uses: the
 * throughput rows (2b–2e, measured in the throughput suite under both sync policies) side by
 * side, and a probe of the semantics the gateway depends on, run on a live server.
 */
import type { BenchBroker, Sync } from "../broker.js";
import { probeFastBatch, type FastBatchProbe } from "../raw.js";
import { CellFormat, section, type Cell } from "../report/index.js";
import { syncShort, type BenchContext } from "./common.js";

/** Probes fast batch semantics on `broker` (fsync) and adds the comparison section. */
export async function runFastBatch(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  ctx.log("\n=== fast ingest batches vs atomic batches ===");
  const nc = await broker.raw("bench-fast-probe");
  const probe = await probeFastBatch(nc, "fastprobe");
  ctx.log(
    `  probe: fast batch of ${probe.sent} with 1 stored id: ack count ${probe.ackCount}, duplicate flag ${probe.ackDuplicateFlag}, stored ${probe.stored}, contiguous ${probe.contiguous}; atomic: error ${probe.atomic.errCode ?? "none"}, stored ${probe.atomic.stored}`,
  );
  ctx.sections.push(fastBatchSection(ctx, probe));
}

function fastBatchSection(ctx: BenchContext, probe: FastBatchProbe) {
  const s = section("fast-batch", "Fast ingest batches (nats-server 2.14) vs atomic batches", [
    "Throughput: rows 2b–2e of the produce sections: the same 1 KiB messages with unique Nats-Msg-Ids, batches of 500 (2 in flight) and 1000 (4 in flight), atomic (Nats-Batch-* headers, commit on the last) or fast ingest (nats.js startFastIngest: the reply subject carries the batch and flow control, the server acks every N messages and the last). Fast ingest needs allow_batched on the stream; station streams do not set it.",
    `Semantics probe (live server, fsync): a fast batch of ${probe.sent} messages whose third repeats an id stored before, while a second publisher stores a message between the batch's messages (another gateway replica would); then the same ${probe.sent} ids as one atomic batch.`,
    "Reading of the server (nats-server source, server/jetstream_batching.go and server/stream.go, processJetStreamFastBatchMsg): a fast batch message goes through the normal store path as it arrives (with sync_interval: always each write is synced on its own); a duplicate is skipped and only counted; the final ack carries the last stored sequence and the batch's message count; a gap or error ends the batch with what was stored so far.",
  ]);
  const rows: Cell[][] = [];
  const syncs: Sync[] = ["always", "default"];
  for (const sync of syncs) {
    const r = ctx.results.rows[sync];
    if (!r) continue;
    const rate = (id: string) => r.get(id)?.result.rate;
    for (const [atomic, fast, shape] of [
      ["2b", "2d", "500 × 2"],
      ["2c", "2e", "1000 × 4"],
    ] as const) {
      const a = rate(atomic);
      const f = rate(fast);
      if (a === undefined && f === undefined) continue;
      rows.push([
        syncShort(sync) === "fsync" ? "fsync before ack" : "lazy fsync",
        shape,
        a ?? null,
        f ?? null,
        a !== undefined && f !== undefined ? f / a : null,
        r.get(atomic)?.cpu.server ?? null,
        r.get(fast)?.cpu.server ?? null,
      ]);
    }
  }
  if (rows.length) {
    s.tables.push({
      caption: "raw throughput, same sizes and depth (msgs/s)",
      columns: [
        { label: "sync", format: CellFormat.Text },
        { label: "batch × in flight", format: CellFormat.Text },
        { label: "atomic" },
        { label: "fast ingest" },
        { label: "fast ÷ atomic", format: CellFormat.Ratio },
        { label: "server CPU µs/msg atomic", format: CellFormat.Fixed1 },
        { label: "fast", format: CellFormat.Fixed1 },
      ],
      rows,
    });
    s.charts.push({
      id: "fast-batch",
      title: "Atomic vs fast ingest batches (msgs/s)",
      kind: "bar",
      labels: rows.map((r) => `${r[0]}, ${r[1]}`),
      series: [
        { label: "atomic batch", values: rows.map((r) => r[2] as number | null) },
        { label: "fast ingest batch", values: rows.map((r) => r[3] as number | null) },
      ],
      yLabel: "msgs/s",
    });
  }
  const yes = (b: boolean) => (b ? "yes" : "no");
  s.tables.push({
    caption: "what the gateway needs, and what each batch kind gives (probe results in brackets)",
    columns: [
      { label: "guarantee", format: CellFormat.Text },
      { label: "atomic batch (today)", format: CellFormat.Text },
      { label: "fast ingest batch", format: CellFormat.Text },
    ],
    rows: [
      [
        "stored = acknowledged",
        "yes: one commit ack after the whole batch is stored",
        "yes for what the acks cover: flow acks and the final ack follow persistence (gap mode fail)",
      ],
      [
        "fsync before ack",
        "yes, one sync for the whole batch at commit",
        "yes, but one sync per message (each goes through the normal store path): see the fsync rows",
      ],
      [
        "de-duplication by Nats-Msg-Id, reported per message",
        `yes: a batch holding a stored id is refused whole (error ${probe.atomic.errCode ?? "?"}, ${probe.atomic.stored} stored) and the gateway stores its messages one by one, so each duplicate is reported`,
        `de-duplicated but not reported: the duplicate is skipped and the ack only counts (sent ${probe.sent}, ack count ${probe.ackCount}, duplicate flag ${yes(probe.ackDuplicateFlag)}, stored ${probe.stored})`,
      ],
      [
        "a sequence number per message (the produce reply)",
        "yes: a batch is stored contiguously, message i has seq − count + 1 + i",
        `no: other writers interleave and skipped duplicates shift it (contiguous: ${yes(probe.contiguous)}); only the last sequence is acked`,
      ],
      [
        "all-or-nothing for a message's fan-out parts",
        "yes",
        "no: messages are stored as they arrive; an error or an abandoned batch leaves a stored prefix",
      ],
    ],
  });
  const fs = ctx.results.rows.always;
  const lazy = ctx.results.rows.default;
  const ratio = (m: typeof fs, f: string, a: string) => {
    const x = m?.get(f)?.result.rate;
    const y = m?.get(a)?.result.rate;
    return x !== undefined && y !== undefined ? (x / y).toFixed(2) : "–";
  };
  s.notes.push(
    `Fast ingest ÷ atomic, batches of 1000: ${ratio(fs, "2e", "2c")}× with fsync before ack, ${ratio(lazy, "2e", "2c")}× with lazy fsync.`,
    "Verdict: fast ingest keeps stored = acknowledged and fsync before ack, but not per-message duplicate results, per-message sequence numbers or all-or-nothing fan-out, and with fsync before ack it syncs every message. The gateway keeps atomic batches; fast ingest could only serve a lazy-fsync station whose producers accept one result per batch.",
  );
  return s;
}
