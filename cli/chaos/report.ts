/** The run's table (for people) and the summary of several runs (for docs/operations.md). */
import { unrecovered } from "./checks.js";
import type { ChaosPreset, ChaosResult, FaultRecord } from "./types.js";

/** `1.2 s`, `850 ms`, or `—` when unknown. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

const num = (n: number) => n.toLocaleString("en-US");

/** Aligned columns, two spaces apart. */
function columns(rows: string[][], indent = "  "): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return (
    rows
      .map(
        (r) =>
          indent +
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join("  ")
            .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** One line describing a topology and workload. */
export function describeSetup(p: Pick<ChaosPreset, "topology" | "workload">): string {
  const t = p.topology;
  const w = p.workload;
  const nats = t.natsServers === 1 ? "1 nats-server" : `${t.natsServers}-node nats cluster (R${t.natsServers} station)`;
  const parts = [
    `${nats}, ${t.fsync ? "fsync before ack" : "lazy fsync"}${t.storeTmpfsMb > 0 ? `, store on a ${t.storeTmpfsMb} MiB tmpfs` : ""}`,
    `${t.gateways} gateway${t.gateways === 1 ? "" : "s"}, ${t.members} member${t.members === 1 ? "" : "s"}`,
    `${w.ratePerSec} msgs/s from ${w.producers} producer${w.producers === 1 ? "" : "s"}`,
  ];
  if (w.poisonEvery > 0) parts.push(`every ${w.poisonEvery}th poison`);
  if (w.terminateEvery > 0) parts.push(`every ${w.terminateEvery}th dead-lettered by its member`);
  if (w.keys > 0) parts.push(`${w.keys} ordering keys over ${w.partitions} partition${w.partitions === 1 ? "" : "s"}`);
  parts.push(`ack time ${formatMs(w.maxAckTimeMs)}, ${w.maxMsgDeliveries} deliveries, batch ${w.batchSize}`);
  return parts.join("; ");
}

function faultRows(faults: readonly FaultRecord[]): string[][] {
  const rows = [["#", "at", "fault", "target", "held", "produce back", "consume back", "worst e2e", "notes"]];
  for (const f of faults) {
    const notes = f.skipped ? [`skipped: ${f.skipped}`, ...f.notes] : f.notes;
    rows.push([
      String(f.index),
      `+${formatMs(f.injectedAtMs ?? f.atMs)}`,
      f.kind,
      f.target || "—",
      f.skipped ? "—" : formatMs(f.healedAtMs !== undefined && f.injectedAtMs !== undefined ? f.healedAtMs - f.injectedAtMs : undefined),
      f.skipped ? "—" : formatMs(f.produceBackMs),
      f.skipped ? "—" : formatMs(f.consumeBackMs),
      f.skipped ? "—" : formatMs(f.worstEndToEndMs),
      notes.join("; "),
    ]);
  }
  return rows;
}

/** The full report of one run. */
export function renderReport(r: ChaosResult): string {
  const b = r.books;
  const out: string[] = [];
  out.push(`junction chaos: preset ${r.preset}, seed ${r.seed}, ${formatMs(r.durationMs)} of workload (${formatMs(r.wallMs)} in all)\n`);
  out.push(`  ${describeSetup(r)}\n`);
  if (r.topology.natsServerVersion) out.push(`  nats-server ${r.topology.natsServerVersion}\n`);
  for (const n of [...r.planNotes, ...r.notes]) out.push(`  note: ${n}\n`);
  out.push("\nfaults\n");
  out.push(r.faults.length ? columns(faultRows(r.faults)) : "  (none)\n");
  const failed = Object.entries(b.failedByCode)
    .map(([c, n]) => `${c} ${num(n)}`)
    .join(", ");
  out.push("\nbooks\n");
  out.push(
    columns([
      [
        "sent",
        num(b.sent),
        "acked",
        num(b.acked),
        "failed",
        `${num(b.failed)}${failed ? ` (${failed})` : ""}`,
        "unsettled",
        num(b.unsettled),
      ],
      [
        "stored",
        num(b.stored),
        "stream entries",
        num(b.streamEntries),
        "stored twice",
        num(b.storedTwice),
        "stored but reported failed",
        num(b.storedButReportedFailed),
      ],
      [
        "consumed",
        num(b.consumed),
        "delivered twice",
        num(b.deliveredTwice),
        "redeliveries",
        num(b.redeliveries),
        "replays / stale copies",
        `${num(b.replays)} / ${num(b.staleCopies)}`,
      ],
      [
        "dead letters due",
        num(b.deadLetterExpected),
        "exactly once",
        num(b.deadLetteredOnce),
        "missing",
        num(b.dlsMissing),
        "doubled",
        num(b.dlsDoubled),
      ],
      [
        "lost",
        num(b.lost),
        "not stored",
        num(b.lostNotStored),
        "not consumed",
        num(b.lostNotConsumed),
        "false dead letters",
        num(b.falseDeadLetters),
      ],
      [
        "duplicate acks",
        num(b.duplicateAcks),
        "after processing",
        num(b.afterProcessed),
        "end-to-end p50/p99/max",
        b.endToEndMs ? `${formatMs(b.endToEndMs.p50)} / ${formatMs(b.endToEndMs.p99)} / ${formatMs(b.endToEndMs.max)}` : "—",
        "unknown entries",
        num(b.unknownEntries),
      ],
      ...(r.workload.keys > 0 ? [["key order broken", num(b.keyOrderBroken)]] : []),
    ]),
  );
  for (const [code, first] of Object.entries(b.firstErrors)) out.push(`  first ${code}: ${first}\n`);
  out.push(
    `  drain after the workload: ${formatMs(r.drain.ms)}${r.drain.complete ? "" : " (timed out: something was never consumed or dead-lettered)"}\n`,
  );
  const ex = Object.entries(b.examples).filter(([, ids]) => ids.length > 0);
  if (ex.length) {
    out.push("\nexamples\n");
    for (const [what, ids] of ex) out.push(`  ${what}: ${ids.join(", ")}\n`);
  }
  out.push("\nchecks\n");
  out.push(columns(r.checks.map((c) => [c.name, num(c.value), c.status === "ok" ? "ok" : c.status.toUpperCase(), c.note ?? ""])));
  out.push(`\nresult: ${r.passed ? "PASS" : "FAIL"}${r.dir ? ` (logs and stores kept in ${r.dir})` : ""}\n`);
  return out.join("");
}

/** The largest defined value, or undefined. */
const maxOf = (xs: (number | undefined)[]) =>
  xs.reduce<number | undefined>((m, x) => (x === undefined ? m : Math.max(m ?? 0, x)), undefined);

/** A Markdown table with one row per run (what docs/operations.md publishes). */
export function renderSummary(results: readonly ChaosResult[]): string {
  const head = [
    "preset",
    "seed",
    "faults",
    "acked",
    "failed",
    "stored twice",
    "stored but reported failed",
    "consumed",
    "redelivered",
    "replayed / stale",
    "dead letters (exactly once / due)",
    "false dead letters",
    "lost",
    "produce back (max)",
    "consume back (max)",
    "result",
  ];
  const rows = results.map((r) => {
    const b = r.books;
    const injected = r.faults.filter((f) => f.skipped === undefined);
    const bad = unrecovered(r.faults).length;
    return [
      r.preset,
      String(r.seed),
      `${injected.length}${injected.length < r.faults.length ? ` (+${r.faults.length - injected.length} skipped)` : ""}`,
      num(b.acked),
      num(b.failed),
      num(b.storedTwice),
      num(b.storedButReportedFailed),
      num(b.consumed),
      num(b.redeliveries),
      `${num(b.replays)} / ${num(b.staleCopies)}`,
      `${num(b.deadLetteredOnce)} / ${num(b.deadLetterExpected)}`,
      num(b.falseDeadLetters),
      num(b.lost),
      formatMs(maxOf(injected.map((f) => f.produceBackMs))) + (bad ? ` (${bad} not recovered)` : ""),
      formatMs(maxOf(injected.map((f) => f.consumeBackMs))),
      r.passed ? (r.checks.some((c) => c.status === "known") ? "pass (known defects)" : "pass") : "FAIL",
    ];
  });
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n") + "\n";
}
