/** Small numeric helpers of the benchmark harness: percentiles, rates and table formatting. */

/** The q-quantile (0..1) of already sorted samples, nearest-rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Latency summary in milliseconds. */
export interface LatencySummary {
  samples: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Summarizes latency samples (milliseconds). */
export function summarize(samples: number[] | Float64Array): LatencySummary {
  const s = Float64Array.from(samples).sort();
  return {
    samples: s.length,
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    p999: quantile(s, 0.999),
    max: s.length ? s[s.length - 1]! : Number.NaN,
  };
}

/** `12345.6` → `12,346`. */
export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}

/** Milliseconds with two decimals. */
export function fmtMs(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : "–";
}

/** A ratio as `1.23×`. */
export function fmtRatio(n: number | undefined): string {
  return n !== undefined && Number.isFinite(n) ? `${n.toFixed(2)}×` : "–";
}

/** Renders rows as an aligned plain-text table (first row = header); the first `textColumns` are left-aligned. */
export function table(rows: string[][], textColumns = 1): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: string[]) => r.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const [head, ...rest] = rows;
  if (!head) return "";
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rest.map(line)].join("\n");
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
