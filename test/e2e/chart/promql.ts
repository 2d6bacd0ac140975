/**
 * What the chart's dashboard and alert rules ask Prometheus for: their PromQL parsed with
 * Prometheus's own grammar (@prometheus-io/lezer-promql), and the metric names the gateway
 * really exports, read from a /metrics scrape.
 */
import { parser } from "@prometheus-io/lezer-promql";

/** The metric and label names one PromQL expression refers to, and its syntax errors. */
export interface PromqlRefs {
  metrics: string[];
  /** Label names in matchers (`{station=~"…"}`) and in `by`/`without`/`on`/`ignoring` lists. */
  labels: string[];
  /** Text of each part the grammar could not parse (empty: the expression is valid). */
  errors: string[];
}

/** Grafana's range variables, replaced by a duration so the expression parses as PromQL. */
const GRAFANA_RANGES = /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

/** Parses a PromQL expression (Grafana's `$__rate_interval` and friends allowed). */
export function promqlRefs(expr: string): PromqlRefs {
  const text = expr.replace(GRAFANA_RANGES, "5m");
  const tree = parser.parse(text);
  const metrics = new Set<string>();
  const labels = new Set<string>();
  const errors: string[] = [];
  tree.iterate({
    enter(n) {
      if (n.type.isError) errors.push(`${JSON.stringify(text.slice(Math.max(0, n.from - 20), n.to + 20))} at ${n.from}`);
      else if (n.name === "Identifier" && n.node.parent?.name === "VectorSelector") metrics.add(text.slice(n.from, n.to));
      else if (n.name === "LabelName") labels.add(text.slice(n.from, n.to));
    },
  });
  return { metrics: [...metrics].sort(), labels: [...labels].sort(), errors };
}

/** A Grafana template variable query: `label_values(<selector>, <label>)` → the selector and label. */
export function labelValuesQuery(query: string): { selector: string; label: string } | undefined {
  const m = /^\s*label_values\(\s*(.+)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(query);
  return m ? { selector: m[1]!, label: m[2]! } : undefined;
}

/** One scrape of /metrics: the metric families declared, and the label names seen per series name. */
export interface Scrape {
  /** Every series name the exposition can hold: each family, plus `_bucket`/`_sum`/`_count` of histograms and summaries. */
  names: Set<string>;
  /** Series name → label names seen on its samples (only series with samples). */
  labelsOf: Map<string, Set<string>>;
}

/** Parses the Prometheus text exposition format. */
export function parseExposition(text: string): Scrape {
  const names = new Set<string>();
  const labelsOf = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      names.add(name);
      if (kind === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
      if (kind === "summary") for (const s of ["_sum", "_count"]) names.add(name + s);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const set = labelsOf.get(sample[1]!) ?? new Set<string>();
    for (const m of (sample[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(m[1]!);
    labelsOf.set(sample[1]!, set);
  }
  return { names, labelsOf };
}

/** Walks a Grafana dashboard: every query of every panel (rows included) and of every template variable. */
export function dashboardQueries(dashboard: unknown): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const d = dashboard as {
    panels?: Panel[];
    templating?: { list?: { name: string; query?: string | { query?: string } }[] };
  };
  type Panel = { title?: string; targets?: { expr?: string; refId?: string }[]; panels?: Panel[] };
  const walk = (panels: Panel[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}" ${t.refId ?? ""}`, expr: t.expr });
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    if (q === undefined) continue;
    const lv = labelValuesQuery(q);
    if (lv) out.push({ where: `variable $${v.name}`, expr: lv.selector });
  }
  return out;
}
