import type { Command } from "commander";
import { JunctionError, type DoctorCheckResult, type DoctorReport } from "../../core/protocol/index.js";
import { withClient } from "../connection.js";
import { ExitCode, intOption, print, withOutput, type Io, type OutputOpts } from "../output.js";

/** How long the gateway watches for new dead letters when `--window-ms` is not given. */
const DEFAULT_WINDOW_MS = 2000;
/** The longest window the gateway accepts, in ms. */
const MAX_WINDOW_MS = 30_000;

const LABEL: Record<DoctorCheckResult["status"], string> = { ok: "ok", warn: "WARN", fail: "FAIL" };

/** The report for people: one line per check, then what it found and how to fix it. */
export function doctorText(r: DoctorReport): string {
  const { fail, warn } = r.counts;
  const head =
    fail + warn === 0
      ? "everything looks fine"
      : [fail ? `${fail} failed` : "", warn ? `${warn} ${warn === 1 ? "warning" : "warnings"}` : ""].filter(Boolean).join(", ");
  const width = Math.max(...r.checks.map((c) => c.id.length));
  const lines = [
    `junction doctor: ${head} (${r.checks.length} ${r.checks.length === 1 ? "check" : "checks"} by gateway ${r.gateway} at ${r.checkedAt})`,
    "",
  ];
  for (const c of r.checks) {
    lines.push(`${LABEL[c.status].padEnd(4)}  ${c.id.padEnd(width)}  ${c.message}`);
    const indent = " ".repeat(6 + width + 2);
    for (const item of c.items ?? []) lines.push(`${indent}- ${item}`);
    if (c.fix && c.status !== "ok") lines.push(`${indent}fix: ${c.fix}`);
  }
  return lines.join("\n") + "\n";
}

/** `junction doctor`: checks a running broker and says what is wrong and how to fix it. */
export function registerDoctor(program: Command, io: Io): void {
  withOutput(
    program
      .command("doctor")
      .description(
        "check a running broker (an operator's command): server version and features, fsync, invalid metadata, orphan streams, stations without a stream, idle groups with a backlog, dead letters growing; exits 1 when a check fails",
      )
      .option("--window-ms <n>", `how long to watch for new dead letters, in ms (default ${DEFAULT_WINDOW_MS}, at most ${MAX_WINDOW_MS})`)
      .option("--timeout-ms <n>", "give up waiting for the report after this long (default: the window plus 30 s)"),
  ).action(async (o: OutputOpts & { windowMs?: string; timeoutMs?: string }, cmd: Command) => {
    const windowMs = intOption("window-ms", o.windowMs) ?? DEFAULT_WINDOW_MS;
    if (windowMs < 0 || windowMs > MAX_WINDOW_MS) {
      throw new JunctionError("INVALID_ARGUMENT", `--window-ms must be between 0 and ${MAX_WINDOW_MS} (got ${windowMs})`, {
        details: { option: "window-ms" },
      });
    }
    const timeoutMs = intOption("timeout-ms", o.timeoutMs) ?? windowMs + 30_000;
    await withClient(io, cmd, async (c) => {
      const report = await c.request<DoctorReport>("doctor.run", { windowMs }, timeoutMs);
      print(io, o, report, () => doctorText(report));
      if (!report.ok) throw new ExitCode(1);
    });
  });
}
