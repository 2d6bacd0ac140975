/** The peers section: each peer's rows with ratios to raw JetStream and to Junction from the same run. */
import { jsonPayload } from "../load.js";
import { peers, type PeerResult } from "../peers/index.js";
import { CellFormat, section, type Cell } from "../report/index.js";
import type { BenchContext } from "./common.js";
import { PAYLOAD_BYTES } from "./throughput.js";

/** Runs every available peer and adds the section (a line per peer that could not run). */
export async function runPeers(ctx: BenchContext): Promise<void> {
  ctx.log("\n=== peers ===");
  const s = section("peers", "Peers (1 KiB, durable, acknowledged writes)", [
    "Each peer starts its own server for the run and stops it after. Ratios are to rows of the same run with fsync before ack: peer publish ÷ raw JetStream atomic batches of 1000 × 4 (2c), peer consume ÷ the raw JetStream pull consumer (7a), Junction's gateway produce with a JSON schema (4) ÷ peer publish.",
  ]);
  const fs = ctx.results.rows.always;
  const rate = (id: string) => fs?.get(id)?.result.rate;
  const rows: Cell[][] = [];
  const results: PeerResult[] = [];
  for (const peer of peers()) {
    const why = await peer.unavailable();
    if (why !== undefined) {
      ctx.log(`  ${peer.name}: skipped: ${why}`);
      s.notes.push(`${peer.name}: skipped: ${why}`);
      continue;
    }
    try {
      const r = await peer.run({
        payload: jsonPayload(PAYLOAD_BYTES),
        publishMs: ctx.plan.settings.peerMs,
        outstanding: 1000,
        log: ctx.log,
      });
      results.push(r);
      s.method.push(...r.method.map((m) => `${r.peer} ${r.version} (${r.client}): ${m}`));
      for (const row of r.rows) {
        const div = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : null);
        rows.push([
          `${r.peer} ${row.variant}`,
          row.publish.rate,
          row.consume.rate,
          div(row.publish.rate, rate("2c")),
          div(row.consume.rate, rate("7a")),
          div(rate("4"), row.publish.rate),
          row.serverCpuPerMessage ?? null,
        ]);
        const key = `${r.peer}.${row.variant}`.toLowerCase().replace(/[^a-z0-9.]+/g, "_");
        const v = div(rate("4"), row.publish.rate);
        if (v !== null) ctx.metrics[`ratio.fsync.junction_vs.${key}`] = v;
      }
    } catch (e) {
      ctx.log(`  ${peer.name}: failed: ${(e as Error).message}`);
      s.notes.push(`${peer.name}: failed: ${(e as Error).message}`);
    }
  }
  if (rows.length) {
    const raw2c = rate("2c");
    const raw7a = rate("7a");
    const jn = rate("4");
    s.tables.push({
      caption: "peers against raw JetStream and Junction (same run)",
      columns: [
        { label: "peer", format: CellFormat.Text },
        { label: "publish msgs/s" },
        { label: "consume msgs/s" },
        { label: "publish ÷ raw 2c", format: CellFormat.Ratio },
        { label: "consume ÷ raw 7a", format: CellFormat.Ratio },
        { label: "Junction 4 ÷ publish", format: CellFormat.Ratio },
        { label: "server CPU µs/msg", format: CellFormat.Fixed1 },
      ],
      rows: [
        ...(raw2c !== undefined || raw7a !== undefined
          ? [
              [
                "raw JetStream (2c publish, 7a consume)",
                raw2c ?? null,
                raw7a ?? null,
                1,
                1,
                null,
                fs?.get("2c")?.cpu.server ?? null,
              ] as Cell[],
            ]
          : []),
        ...(jn !== undefined
          ? [
              [
                "Junction gateway, JSON schema (4)",
                jn,
                fs?.get("7b")?.result.rate ?? null,
                raw2c ? jn / raw2c : null,
                null,
                1,
                fs?.get("4")?.cpu.server ?? null,
              ] as Cell[],
            ]
          : []),
        ...rows,
      ],
    });
    s.charts.push({
      id: "peers",
      title: "Publish and consume msgs/s: raw JetStream, Junction and peers",
      kind: "bar",
      labels: ["publish", "consume"],
      yLabel: "msgs/s",
      series: [
        ...(raw2c !== undefined ? [{ label: "raw JetStream", values: [raw2c, raw7a ?? null], baseline: true }] : []),
        ...(jn !== undefined ? [{ label: "Junction", values: [jn, fs?.get("7b")?.result.rate ?? null] }] : []),
        ...results.flatMap((r) =>
          r.rows.map((row) => ({ label: `${r.peer} ${row.variant}`, values: [row.publish.rate, row.consume.rate] })),
        ),
      ],
    });
  }
  ctx.sections.push(s);
}
