/** Where the report's files live and how they are read and written. */
import { createRequire } from "node:module";
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { renderReport } from "./html.js";
import { historyEntry, type BenchRun, type HistoryEntry } from "./model.js";

const require = createRequire(import.meta.url);

/** The Chart.js UMD build (a devDependency), inlined into the page so it works offline. */
export async function loadChartLibrary(): Promise<string> {
  // The package's exports map lists no UMD file: find it beside the main entry (dist/).
  return readFile(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"), "utf8");
}

/**
 * Reads bench-results/history.jsonl; a line that is not a history entry (a hand edit, a
 * truncated write) is skipped, not fatal: the report is still worth having.
 */
export async function readHistory(file: string): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: HistoryEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as HistoryEntry;
      if (typeof e.startedAt === "string" && typeof e.metrics === "object" && e.metrics !== null) out.push(e);
    } catch {
      /* skipped: see above */
    }
  }
  return out;
}

/** Files of one output folder. */
export function resultFiles(outDir: string): { history: string; report: string; latest: string } {
  return { history: join(outDir, "history.jsonl"), report: join(outDir, "report.html"), latest: join(outDir, "latest.json") };
}

/**
 * Writes a finished run: its JSON (stamped and latest.json), one history line, and report.html
 * drawn from the run and the whole history. Returns the paths written.
 */
export async function writeRun(
  outDir: string,
  run: BenchRun,
  o: { appendHistory?: boolean } = {},
): Promise<{ json: string; report: string }> {
  await mkdir(outDir, { recursive: true });
  const files = resultFiles(outDir);
  const stamp = run.startedAt.replace(/[:.]/g, "-");
  const json = join(outDir, `bench-${stamp}-${run.profile}.json`);
  const body = JSON.stringify(run, null, 2) + "\n";
  await writeFile(json, body);
  await writeFile(files.latest, body);
  if (o.appendHistory !== false) await appendFile(files.history, JSON.stringify(historyEntry(run)) + "\n");
  const html = renderReport(run, await readHistory(files.history), { chartLibrary: await loadChartLibrary() });
  await writeFile(files.report, html);
  return { json, report: files.report };
}
