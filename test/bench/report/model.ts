/**
 * The shape of one benchmark run as the report sees it: sections of method text, tables and
 * charts, plus headline metrics that are appended to the run history. Everything a page or a
 * console table shows comes from this data, so a run can be rendered again from its JSON.
 */

/** A cell: text as is, a number formatted by its column, or empty. */
export type Cell = string | number | null;

/** How a numeric column is shown. */
export const CellFormat = {
  /** 12,346 */
  Int: "int",
  /** 1.23× */
  Ratio: "ratio",
  /** 1.23 (milliseconds) */
  Ms: "ms",
  /** 12.3 (CPU µs per message, MB/s, KiB) */
  Fixed1: "fixed1",
  /** 1.23 */
  Fixed2: "fixed2",
  /** text, left-aligned */
  Text: "text",
} as const;
export type CellFormat = (typeof CellFormat)[keyof typeof CellFormat];

/** One table column. */
export interface Column {
  label: string;
  /** @default "text" for the first column, "int" for the others */
  format?: CellFormat;
}

/** A table of a section. */
export interface TableSpec {
  caption: string;
  columns: Column[];
  rows: Cell[][];
}

/** One line or one set of bars of a chart. */
export interface Series {
  label: string;
  /** One value per label of the chart; null = not measured. */
  values: (number | null)[];
  /** Raw baselines are drawn in grey so Junction's own numbers stand out. */
  baseline?: boolean;
  /** Stack group: series with the same stack are stacked (bar charts). */
  stack?: string;
}

/** A chart of a section, rendered by the inlined charting library. */
export interface ChartSpec {
  id: string;
  title: string;
  kind: "bar" | "line";
  /** The x axis: scenario names, sizes, counts or run dates. */
  labels: string[];
  series: Series[];
  xLabel?: string;
  yLabel: string;
  /** A logarithmic y axis (rates across sizes that differ by orders of magnitude). */
  logY?: boolean;
  /** Horizontal bars (long scenario names). */
  horizontal?: boolean;
}

/** A part of the report: what was measured, how, and what came out. */
export interface Section {
  id: string;
  title: string;
  /** How it was measured, one paragraph per entry. */
  method: string[];
  tables: TableSpec[];
  charts: ChartSpec[];
  /** Findings and skips (e.g. "RabbitMQ: skipped, not installed"), one line each. */
  notes: string[];
}

/** The machine and versions a run was measured on. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  natsServer: string;
  natsJs: string;
  /** Median 4 KiB write + fdatasync in the temp folder, ms. */
  fsyncMs: number;
  loadAtStart: number;
  loadAtEnd: number;
}

/** One target of the issue, judged within the run. */
export interface Target {
  target: string;
  measured: string;
  /** undefined: not run. */
  met: boolean | undefined;
}

/** A whole run. */
export interface BenchRun {
  /** Format version of this record. */
  format: 1;
  startedAt: string;
  seconds: number;
  /** quick (seconds, development), default, or full (every growth point). */
  profile: BenchProfile;
  /** The git commit measured, when known. */
  commit?: string | undefined;
  machine: MachineInfo;
  /** Method items that hold for the whole run. */
  method: string[];
  sections: Section[];
  targets: Target[];
  /** Headline numbers, appended to the history (names are stable across runs). */
  metrics: Record<string, number>;
}

/** How long and how wide a run is. */
export const BenchProfile = { Quick: "quick", Default: "default", Full: "full" } as const;
export type BenchProfile = (typeof BenchProfile)[keyof typeof BenchProfile];

/** One line of bench-results/history.jsonl. */
export interface HistoryEntry {
  startedAt: string;
  profile: BenchProfile;
  commit?: string | undefined;
  loadAtStart?: number | undefined;
  metrics: Record<string, number>;
}

/** What a metric name's prefix says about its unit (history charts group by it). */
export const MetricKind = {
  /** `ratio.*`: × of a raw baseline in the same run (higher is better). */
  Ratio: "ratio",
  /** `rate.*`: msgs/s. */
  Rate: "rate",
  /** `latency.*`: ms (lower is better). */
  Latency: "latency",
} as const;
export type MetricKind = (typeof MetricKind)[keyof typeof MetricKind];

/** The kind of a metric from its name, or undefined for names outside the convention. */
export function metricKind(name: string): MetricKind | undefined {
  const prefix = name.slice(0, name.indexOf("."));
  return (Object.values(MetricKind) as string[]).includes(prefix) ? (prefix as MetricKind) : undefined;
}

/** The history entry of a run. */
export function historyEntry(run: BenchRun): HistoryEntry {
  return { startedAt: run.startedAt, profile: run.profile, commit: run.commit, loadAtStart: run.machine.loadAtStart, metrics: run.metrics };
}

/** A section with nothing in it yet. */
export function section(id: string, title: string, method: string[] = []): Section {
  return { id, title, method, tables: [], charts: [], notes: [] };
}
