/** Number formatting shared by the console tables and the HTML report. */
import { CellFormat, type Cell, type Column, type TableSpec } from "./model.js";

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

/** The format of column `i`: given, else text for the first column and integers for the rest. */
export function columnFormat(columns: readonly Column[], i: number): CellFormat {
  return columns[i]?.format ?? (i === 0 ? CellFormat.Text : CellFormat.Int);
}

/** One cell as text. */
export function formatCell(v: Cell, format: CellFormat): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "–";
  switch (format) {
    case CellFormat.Int:
      return fmtInt(v);
    case CellFormat.Ratio:
      return fmtRatio(v);
    case CellFormat.Ms:
      return fmtMs(v);
    case CellFormat.Fixed1:
      return v.toFixed(1);
    case CellFormat.Fixed2:
      return v.toFixed(2);
    case CellFormat.Text:
      return String(v);
  }
}

/**
 * Renders rows as an aligned plain-text table (first row = header). Left-aligned: the first
 * `left` columns, or the columns whose flag is true.
 */
export function table(rows: string[][], left: number | readonly boolean[] = 1): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const isLeft = (i: number) => (typeof left === "number" ? i < left : left[i] === true);
  const line = (r: string[]) =>
    r
      .map((c, i) => (isLeft(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const [head, ...rest] = rows;
  if (!head) return "";
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rest.map(line)].join("\n");
}

/** A table spec as aligned plain text (its caption above). */
export function textTable(t: TableSpec): string {
  const left = t.columns.map((_, i) => columnFormat(t.columns, i) === CellFormat.Text);
  const rows = [t.columns.map((c) => c.label), ...t.rows.map((r) => r.map((v, i) => formatCell(v, columnFormat(t.columns, i))))];
  return `${t.caption}\n${table(rows, left)}`;
}
