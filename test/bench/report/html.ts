/**
 * The HTML report: one self-contained page (the charting library is inlined, so it works offline
 * and from a file), with the machine, the method, every table, charts, and the run history as
 * lines over runs so that a regression shows as a line going down.
 */
import { columnFormat, formatCell } from "./format.js";
import {
  CellFormat,
  MetricKind,
  metricKind,
  type BenchRun,
  type ChartSpec,
  type HistoryEntry,
  type Section,
  type TableSpec,
  type Target,
} from "./model.js";

/** What {@link renderReport} needs besides the data. */
export interface ReportAssets {
  /** The charting library (Chart.js UMD build), inlined into the page. */
  chartLibrary: string;
}

/** Most runs drawn in the history charts (the latest ones). */
export const HISTORY_RUNS = 50;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON that is safe inside a <script> element (no `</script>`, no HTML comment openers). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** Library source that cannot close its <script> element early. */
function scriptSource(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1");
}

const METRIC_TITLES: Record<MetricKind, { title: string; yLabel: string }> = {
  [MetricKind.Ratio]: { title: "Ratios to raw JetStream (same run) over runs: higher is better", yLabel: "× raw" },
  [MetricKind.Latency]: { title: "Latency over runs: lower is better", yLabel: "ms" },
  [MetricKind.Rate]: { title: "Throughput over runs (absolute: depends on the machine's load)", yLabel: "msgs/s" },
};

/** Short label of a run on the history x axis. */
function runLabel(e: HistoryEntry): string {
  const d = e.startedAt.slice(0, 16).replace("T", " ");
  return e.commit ? `${d} ${e.commit.slice(0, 7)}` : d;
}

/**
 * History charts: one per metric kind, a line per metric, over the runs of the same profile
 * as this one (a quick run's numbers are not comparable to a full run's).
 */
export function historyCharts(run: BenchRun, history: readonly HistoryEntry[]): ChartSpec[] {
  const runs = history.filter((e) => e.profile === run.profile).slice(-HISTORY_RUNS);
  if (runs.length === 0) return [];
  const labels = runs.map(runLabel);
  const out: ChartSpec[] = [];
  for (const kind of Object.values(MetricKind)) {
    const names = [...new Set(runs.flatMap((e) => Object.keys(e.metrics)))].filter((n) => metricKind(n) === kind).sort();
    if (names.length === 0) continue;
    out.push({
      id: `history-${kind}`,
      title: METRIC_TITLES[kind].title,
      kind: "line",
      labels,
      series: names.map((n) => ({ label: n.slice(kind.length + 1), values: runs.map((e) => e.metrics[n] ?? null) })),
      xLabel: "run",
      yLabel: METRIC_TITLES[kind].yLabel,
      logY: kind === MetricKind.Rate,
    });
  }
  return out;
}

function renderTable(t: TableSpec): string {
  const head = t.columns
    .map((c, i) => `<th class="${columnFormat(t.columns, i) === CellFormat.Text ? "t" : "n"}">${escapeHtml(c.label)}</th>`)
    .join("");
  const body = t.rows
    .map(
      (r) =>
        `<tr>${r
          .map((v, i) => {
            const f = columnFormat(t.columns, i);
            return `<td class="${f === CellFormat.Text ? "t" : "n"}">${escapeHtml(formatCell(v, f))}</td>`;
          })
          .join("")}</tr>`,
    )
    .join("\n");
  return `<table><caption>${escapeHtml(t.caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function renderChart(c: ChartSpec): string {
  return `<figure class="chart"><figcaption>${escapeHtml(c.title)}</figcaption><div class="canvas"><canvas id="chart-${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div></figure>`;
}

function renderSection(s: Section): string {
  const method = s.method.length
    ? `<div class="method"><h3>Method</h3>${s.method.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n")}</div>`
    : "";
  const notes = s.notes.length ? `<ul class="notes">${s.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>` : "";
  return `<section id="${escapeHtml(s.id)}"><h2>${escapeHtml(s.title)}</h2>
${method}
${notes}
<div class="charts">${s.charts.map(renderChart).join("\n")}</div>
${s.tables.map(renderTable).join("\n")}
</section>`;
}

function renderTargets(targets: readonly Target[]): string {
  if (targets.length === 0) return "";
  const rows = targets
    .map((t) => {
      const [cls, text] = t.met === undefined ? ["skip", "not run"] : t.met ? ["yes", "yes"] : ["no", "no"];
      return `<tr><td class="t">${escapeHtml(t.target)}</td><td class="t">${escapeHtml(t.measured)}</td><td class="t ${cls}">${text}</td></tr>`;
    })
    .join("\n");
  return `<section id="targets"><h2>Targets</h2><table><thead><tr><th class="t">target</th><th class="t">measured (this run)</th><th class="t">met</th></tr></thead><tbody>\n${rows}\n</tbody></table></section>`;
}

function renderMachine(run: BenchRun): string {
  const m = run.machine;
  const rows: [string, string][] = [
    ["CPU", `${m.cores} × ${m.cpu}`],
    ["memory", `${m.memoryGiB} GiB`],
    ["OS", m.os],
    ["Node.js", m.node],
    ["nats-server", m.natsServer],
    ["nats.js (@nats-io/nats-core)", m.natsJs],
    ["4 KiB write + fdatasync (median)", `${m.fsyncMs.toFixed(2)} ms`],
    ["load average (1 min) at start → end", `${m.loadAtStart.toFixed(2)} → ${m.loadAtEnd.toFixed(2)}`],
  ];
  return `<table class="machine"><tbody>${rows.map(([k, v]) => `<tr><th class="t">${escapeHtml(k)}</th><td class="t">${escapeHtml(v)}</td></tr>`).join("")}</tbody></table>`;
}

/** The drawing code: builds a Chart.js chart per spec from the embedded data. */
const DRAW = `
(function () {
  var data = JSON.parse(document.getElementById("bench-data").textContent);
  if (typeof Chart === "undefined") return;
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f"];
  var greys = ["#9e9e9e", "#bdbdbd", "#757575", "#e0e0e0"];
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 12;
  data.charts.forEach(function (c) {
    var el = document.getElementById("chart-" + c.id);
    if (!el) return;
    var n = 0, g = 0;
    var datasets = c.series.map(function (s) {
      var color = s.baseline ? greys[g++ % greys.length] : palette[n++ % palette.length];
      var d = { label: s.label, data: s.values, backgroundColor: color, borderColor: color, spanGaps: true, pointRadius: 3 };
      if (s.stack) d.stack = s.stack;
      return d;
    });
    var stacked = c.series.some(function (s) { return !!s.stack; });
    var valueAxis = { type: c.logY ? "logarithmic" : "linear", title: { display: true, text: c.yLabel }, stacked: stacked, beginAtZero: !c.logY };
    var labelAxis = { title: { display: !!c.xLabel, text: c.xLabel || "" }, stacked: stacked };
    var horizontal = !!c.horizontal;
    new Chart(el, {
      type: c.kind,
      data: { labels: c.labels, datasets: datasets },
      options: {
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { position: "bottom" } },
        scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis }
      }
    });
  });
})();
`;

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 4rem; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; } h3 { font-size: 1rem; margin: 0.8rem 0 0.3rem; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8rem 0 1.2rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
.n { text-align: right; white-space: nowrap; } .t { text-align: left; }
.yes { color: #1b7f2a; font-weight: 600; } .no { color: #b3261e; font-weight: 600; } .skip { color: #777; }
.method { background: #fafafa; border-left: 3px solid #ccc; padding: 0.1rem 0.9rem; margin: 0.5rem 0; }
.method p { margin: 0.4rem 0; }
.notes li { margin: 0.2rem 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.chart { flex: 1 1 520px; margin: 0; } .chart figcaption { font-weight: 600; margin-bottom: 0.3rem; }
.canvas { position: relative; height: 320px; }
nav ul { columns: 2; } 
`;

/** Renders a run (and the history of runs before it) as a self-contained HTML page. */
export function renderReport(run: BenchRun, history: readonly HistoryEntry[], assets: ReportAssets): string {
  const hist = historyCharts(run, history);
  const historySection: Section = {
    id: "history",
    title: "History",
    method: [
      `Each run appends its headline numbers to bench-results/history.jsonl. The charts show the last ${HISTORY_RUNS} runs of the same profile (${run.profile}); ratios are taken within one run, so they compare across runs even when the machine's load differs, absolute rates do not.`,
    ],
    tables: [],
    charts: hist,
    notes: hist.length === 0 ? ["No earlier runs of this profile yet."] : [],
  };
  const sections = [...run.sections, historySection];
  const charts = sections.flatMap((s) => s.charts);
  const when = run.startedAt.replace("T", " ").slice(0, 19);
  const nav = `<nav><ul>${[{ id: "targets", title: "Targets" }, ...sections]
    .map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`)
    .join("")}</ul></nav>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Junction benchmark, ${escapeHtml(when)} UTC</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Junction benchmark</h1>
<p class="sub">${escapeHtml(when)} UTC · profile ${escapeHtml(run.profile)}${run.commit ? ` · commit ${escapeHtml(run.commit)}` : ""} · took ${Math.round(run.seconds)} s</p>
<h2 id="machine">Machine</h2>
${renderMachine(run)}
<div class="method"><h3>Method (whole run)</h3>${run.method.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n")}</div>
${nav}
${renderTargets(run.targets)}
${sections.map(renderSection).join("\n")}
<script type="application/json" id="bench-data">${scriptJson({ charts })}</script>
<script>${scriptSource(assets.chartLibrary)}</script>
<script>${DRAW}</script>
</body>
</html>
`;
}
