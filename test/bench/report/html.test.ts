import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { runInNewContext } from "node:vm";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadChartLibrary, readHistory, writeRun } from "./files.js";
import { historyCharts, renderReport } from "./html.js";
import { CellFormat, section, type BenchRun, type HistoryEntry } from "./model.js";

function fixtureRun(): BenchRun {
  const produce = section("produce-fsync", "Produce, fsync before ack", ["1 KiB JSON orders, 5 s per row."]);
  produce.tables.push({
    caption: "throughput",
    columns: [{ label: "#" }, { label: "scenario" }, { label: "msgs/s" }, { label: "÷ raw", format: CellFormat.Ratio }],
    rows: [
      ["2c", "raw atomic batches of 1000", 70_000, 1],
      ["4", "gateway produce, JSON schema <b>&</b> </script>", 52_500, 0.75],
    ],
  });
  produce.charts.push({
    id: "produce-fsync-rates",
    title: "msgs/s per scenario",
    kind: "bar",
    labels: ["2c", "4"],
    series: [
      { label: "raw", values: [70_000, null], baseline: true },
      { label: "Junction", values: [null, 52_500] },
    ],
    yLabel: "msgs/s",
  });
  const latency = section("latency", "End-to-end latency");
  latency.tables.push({
    caption: "at 1,000 msgs/s",
    columns: [{ label: "path" }, { label: "p50 ms", format: CellFormat.Ms }, { label: "p99 ms", format: CellFormat.Ms }],
    rows: [
      ["raw JetStream", 0.9, 2.5],
      ["Junction", 1.8, 4.1],
    ],
  });
  latency.notes.push("RabbitMQ: skipped (not installed)");
  return {
    format: 1,
    startedAt: "2026-01-02T03:04:05.000Z",
    seconds: 123,
    profile: "default",
    commit: "abcdef1234",
    machine: {
      cpu: "Test CPU",
      cores: 2,
      memoryGiB: 8,
      os: "Linux 6.1",
      node: "v24.0.0",
      natsServer: "2.15.1",
      natsJs: "3.4.0",
      fsyncMs: 0.2,
      loadAtStart: 1,
      loadAtEnd: 2,
    },
    method: ["One nats-server, file storage."],
    sections: [produce, latency],
    targets: [{ target: "JSON ≥ 0.95× raw", measured: "0.75×", met: false }],
    metrics: { "ratio.produce.json": 0.75, "latency.e2e.p99": 4.1, "rate.produce.json": 52_500 },
  };
}

const history: HistoryEntry[] = [
  { startedAt: "2026-01-01T00:00:00.000Z", profile: "quick", metrics: { "ratio.produce.json": 0.1 } },
  { startedAt: "2026-01-01T10:00:00.000Z", profile: "default", metrics: { "ratio.produce.json": 0.8, "latency.e2e.p99": 5 } },
  { startedAt: "2026-01-02T03:04:05.000Z", profile: "default", commit: "abcdef1234", metrics: fixtureRun().metrics },
];

describe("renderReport", () => {
  let lib: string;
  let html: string;
  beforeAll(async () => {
    lib = await loadChartLibrary();
    html = renderReport(fixtureRun(), history, { chartLibrary: lib });
  });

  it("shows every section, table row, note, the machine and the targets", () => {
    for (const s of fixtureRun().sections) {
      expect(html).toContain(`<section id="${s.id}">`);
      expect(html).toContain(s.title);
    }
    expect(html).toContain("raw atomic batches of 1000");
    expect(html).toContain("70,000");
    expect(html).toContain("0.75×");
    expect(html).toContain("RabbitMQ: skipped (not installed)");
    expect(html).toContain("2 × Test CPU");
    expect(html).toContain("nats-server");
    expect(html).toContain("JSON ≥ 0.95× raw");
    expect(html).toContain("One nats-server, file storage.");
  });

  it("escapes text so a name cannot inject markup or end a script", () => {
    expect(html).toContain("gateway produce, JSON schema &lt;b&gt;&amp;&lt;/b&gt; &lt;/script&gt;");
    expect(html).not.toContain("<b>&</b>");
  });

  it("inlines the charting library and loads nothing from elsewhere", () => {
    expect(lib.length).toBeGreaterThan(50_000);
    expect(lib.includes("Chart.js v4")).toBe(true);
    // Booleans, not matchers on the page: a failure would print 200 KB of library.
    expect(html.includes(`<script>${lib}</script>`)).toBe(true);
    const page = html.replace(lib, "");
    expect(page).not.toMatch(/\ssrc=/i);
    expect(page).not.toMatch(/<link\b/i);
    expect(page).not.toMatch(/url\(/i);
    expect(page).not.toMatch(/@import/i);
    // The library's licence banner names its home page; outside it, no address at all.
    expect(page).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    // Inside it, no code that fetches or loads: only comments and the SVG namespace name addresses.
    expect(/\bfetch\(|XMLHttpRequest|importScripts|\.src\s*=/.test(lib)).toBe(false);
  });

  it("embeds the chart data, history included, as JSON the page can read", () => {
    const m = /<script type="application\/json" id="bench-data">([^<]*)<\/script>/.exec(html);
    expect(m).not.toBeNull();
    const data = JSON.parse(m![1]!) as { charts: { id: string; series: { label: string; values: (number | null)[] }[] }[] };
    const ids = data.charts.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(["produce-fsync-rates", "history-ratio", "history-latency", "history-rate"]));
    for (const id of ids) expect(html).toContain(`<canvas id="chart-${id}"`);
    const ratio = data.charts.find((c) => c.id === "history-ratio")!;
    expect(ratio.series).toEqual([{ label: "produce.json", values: [0.8, 0.75] }]);
  });
});

describe("the page's drawing code", () => {
  it("builds one chart per spec from the embedded data, raw baselines in grey, stacks and log axes as asked", () => {
    const run = fixtureRun();
    run.sections[0]!.charts.push({
      id: "stacked",
      title: "stacked",
      kind: "bar",
      labels: ["a"],
      series: [
        { label: "x", values: [1], stack: "s" },
        { label: "y", values: [2], stack: "s" },
      ],
      yLabel: "ms",
      logY: true,
      horizontal: true,
    });
    // The library is replaced by a stand-in that records what the page asks it to draw.
    const html = renderReport(run, history, { chartLibrary: "/* stand-in */" });
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    const data = /<script type="application\/json" id="bench-data">([^<]*)<\/script>/.exec(html)![1]!;
    const drawn: { el: { id: string }; config: any }[] = [];
    const sandbox = {
      document: {
        getElementById: (id: string) => (id === "bench-data" ? { textContent: data } : html.includes(`id="${id}"`) ? { id } : null),
      },
      Chart: Object.assign(
        function (this: unknown, el: { id: string }, config: unknown) {
          drawn.push({ el, config });
        },
        { defaults: { font: {} } },
      ),
    };
    for (const js of scripts) runInNewContext(js, sandbox);
    const ids = drawn.map((d) => d.el.id);
    expect(ids).toEqual(expect.arrayContaining(["chart-produce-fsync-rates", "chart-stacked", "chart-history-ratio"]));
    const rates = drawn.find((d) => d.el.id === "chart-produce-fsync-rates")!.config;
    expect(rates.type).toBe("bar");
    expect(rates.data.datasets.map((d: { label: string }) => d.label)).toEqual(["raw", "Junction"]);
    expect(rates.data.datasets[0].backgroundColor).toBe("#9e9e9e");
    expect(rates.data.datasets[1].backgroundColor).not.toBe("#9e9e9e");
    const stacked = drawn.find((d) => d.el.id === "chart-stacked")!.config;
    expect(stacked.options.indexAxis).toBe("y");
    expect(stacked.options.scales.x.type).toBe("logarithmic");
    expect(stacked.options.scales.x.stacked).toBe(true);
    expect(stacked.data.datasets.map((d: { stack: string }) => d.stack)).toEqual(["s", "s"]);
  });
});

describe("historyCharts", () => {
  it("draws only runs of the same profile, a line per metric, gaps as null", () => {
    const charts = historyCharts(fixtureRun(), history);
    const latency = charts.find((c) => c.id === "history-latency")!;
    expect(latency.labels).toHaveLength(2);
    expect(latency.labels[1]).toContain("abcdef1");
    expect(latency.series).toEqual([{ label: "e2e.p99", values: [5, 4.1] }]);
    const rate = charts.find((c) => c.id === "history-rate")!;
    expect(rate.series[0]!.values).toEqual([null, 52_500]);
  });

  it("has nothing to draw without runs of the profile", () => {
    expect(historyCharts({ ...fixtureRun(), profile: "full" }, history)).toEqual([]);
  });
});

describe("history file and writeRun", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "junction-report-test-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("skips unreadable lines and reads a missing file as empty", async () => {
    expect(await readHistory(join(dir, "missing.jsonl"))).toEqual([]);
    const f = join(dir, "h.jsonl");
    await writeFile(f, `${JSON.stringify(history[0])}\nnot json\n{"x":1}\n\n${JSON.stringify(history[1])}\n`);
    expect(await readHistory(f)).toEqual([history[0], history[1]]);
  });

  it("appends one history line per run and writes the report and the JSON", async () => {
    const out = join(dir, "results");
    const run = fixtureRun();
    await writeRun(out, run);
    await writeRun(out, { ...run, startedAt: "2026-01-03T00:00:00.000Z", metrics: { "ratio.produce.json": 0.9 } });
    const lines = (await readFile(join(out, "history.jsonl"), "utf8")).trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as HistoryEntry).metrics["ratio.produce.json"])).toEqual([0.75, 0.9]);
    const html = await readFile(join(out, "report.html"), "utf8");
    expect(html).toContain("Produce, fsync before ack");
    expect(JSON.parse(await readFile(join(out, "latest.json"), "utf8"))).toMatchObject({ startedAt: "2026-01-03T00:00:00.000Z" });
  });
});
