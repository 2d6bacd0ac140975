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

export { fmtInt, fmtMs, fmtRatio, table } from "./report/format.js";

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
