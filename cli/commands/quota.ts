import type { Command } from "commander";
import { JunctionError, type QuotaEntry, type QuotaReport } from "../../core/protocol/index.js";
import { QUOTAS, parseQuotaPairs } from "../../core/quotas/index.js";
import { withClient } from "../connection.js";
import { outputFormat, render, table, withOutput, type Io, type OutputOpts } from "../output.js";
import { watch, watchIntervalMs, withWatch, type WatchOpts } from "../watch.js";

/** A quota's usage as the table shows it: `180 (90%) on orders`, or `-` when not counted. */
function usedText(q: QuotaEntry): string {
  if (q.current === undefined) return "-";
  const pct = q.limit > 0 ? ` (${Math.round((q.current / q.limit) * 100)}%)` : "";
  return `${q.current}${pct}${q.at !== undefined ? ` on ${q.at}` : ""}`;
}

/** The quotas of a tenant for people: one row per quota. */
export function quotaText(r: QuotaReport, only?: readonly string[]): string {
  const rows = r.quotas.filter((q) => !only || only.includes(q.name));
  const head = `quotas of tenant ${r.tenant}${r.updatedAt ? ` (overrides set by ${r.updatedBy ?? "?"} at ${r.updatedAt})` : ""}\n`;
  return (
    head +
    table(
      ["QUOTA", "LIMIT", "SOURCE", "USED", "PER"],
      rows.map((q) => [q.name, q.limit, q.source, usedText(q), q.per]),
    )
  );
}

/** `junction quota list|set`. */
export function registerQuota(program: Command, io: Io): void {
  const q = program
    .command("quota")
    .description(
      "quotas: what a tenant may create and send (stations, groups per station, schema versions and sizes, fan-out parts, request size, function memory, connections per user); the global --tenant picks the tenant (operators)",
    );
  withWatch(
    withOutput(
      q
        .command("list")
        .description(
          "the effective quotas of your tenant (--tenant T: of tenant T, an operator's right), where each comes from (default, broker, tenant) and, for admins, how much is used",
        ),
    ),
  ).action(async (o: OutputOpts & WatchOpts, cmd: Command) => {
    const format = outputFormat(o);
    const intervalMs = o.watch ? watchIntervalMs(o) : 0;
    await withClient(io, cmd, async (c) => {
      const snapshot = async () => {
        const r = await c.quotas.list();
        return render(format, r, () => quotaText(r));
      };
      if (o.watch) await watch(io, { intervalMs, title: "junction quota list" }, snapshot);
      else io.out(await snapshot());
    });
  });
  withOutput(
    q
      .command("set <name=value...>")
      .description(
        `set a tenant's quotas (an operator's right; --tenant T for tenant T): name=value, or name=default to use the broker's again. Quotas: ${Object.keys(QUOTAS).join(", ")}`,
      ),
  ).action(async (pairs: string[], o: OutputOpts, cmd: Command) => {
    const format = outputFormat(o);
    const limits = parseQuotaPairs(pairs, "junction quota set");
    if (Object.keys(limits).length === 0) {
      throw new JunctionError("INVALID_ARGUMENT", "junction quota set needs at least one name=value", {
        details: { option: "name=value" },
      });
    }
    await withClient(io, cmd, async (c) => {
      const r = await c.quotas.set(limits);
      io.out(render(format, r, () => quotaText(r, r.changed)));
    });
  });
}
