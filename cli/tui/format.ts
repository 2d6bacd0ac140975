/**
 * Pure text helpers for the TUI: sizes, ages, rates, sparklines, columns, payloads and a line diff.
 * No React, no SDK: every screen formats through these so the tests can pin the output.
 */

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A duration in ms → "850ms", "12s", "3m04s", "2h05m", "3d4h". */
export function formatAge(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** Messages per second → "0/s", "12/s", "3.4k/s". */
export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return "–";
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k/s`;
  if (perSecond > 0 && perSecond < 10) return `${perSecond.toFixed(1)}/s`;
  return `${Math.round(perSecond)}/s`;
}

/** A count, or "–" when unknown. */
export function formatCount(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? "–" : String(n);
}

const BARS = "▁▂▃▄▅▆▇█";

/** The last `width` values as a sparkline scaled to their maximum (all-zero → flat baseline). */
export function sparkline(values: readonly number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(0, ...v);
  const line = v
    .map((x) => (max <= 0 ? BARS[0]! : BARS[Math.min(BARS.length - 1, Math.round((Math.max(0, x) / max) * (BARS.length - 1)))]!))
    .join("");
  return line.padStart(width, " ");
}

/** Cuts `s` to `width` characters, marking the cut with "…". */
export function truncate(s: string, width: number): string {
  if (width <= 0) return "";
  if (s.length <= width) return s;
  return width === 1 ? "…" : s.slice(0, width - 1) + "…";
}

/** One column of a text table. */
export interface Column {
  title: string;
  width: number;
  align?: "left" | "right";
}

/** Lays out cells into fixed-width columns separated by two spaces. */
export function row(columns: readonly Column[], cells: readonly string[]): string {
  return columns
    .map((c, i) => {
      const cell = truncate(cells[i] ?? "", c.width);
      return c.align === "right" ? cell.padStart(c.width) : cell.padEnd(c.width);
    })
    .join("  ")
    .trimEnd();
}

/** The header line of a table. */
export function headerRow(columns: readonly Column[]): string {
  return row(
    columns,
    columns.map((c) => c.title),
  );
}

/**
 * Gives the flexible column (`flex`) whatever width the terminal leaves after the others
 * (at least `min`).
 */
export function fitColumns(columns: readonly Column[], total: number, flex: number, min = 8): Column[] {
  const fixed = columns.reduce((n, c, i) => (i === flex ? n : n + c.width + 2), 0);
  return columns.map((c, i) => (i === flex ? { ...c, width: Math.max(min, total - fixed - 2) } : c));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Pretty-prints a payload: JSON indented, UTF-8 text as is, anything else as hex. */
export function prettyPayload(bytes: Uint8Array): { text: string; kind: "json" | "text" | "binary" } {
  let s: string;
  try {
    s = utf8.decode(bytes);
  } catch {
    return { text: hexDump(bytes), kind: "binary" };
  }
  try {
    return { text: JSON.stringify(JSON.parse(s), null, 2), kind: "json" };
  } catch {
    return { text: s, kind: "text" };
  }
}

/** A decoded value (from a schema) pretty-printed. */
export function prettyValue(v: unknown): string {
  return typeof v === "string" ? v : (JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2) ?? String(v));
}

/** The first 256 bytes as hex, 16 per line. */
export function hexDump(bytes: Uint8Array, max = 256): string {
  const lines: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, max); i += 16) {
    lines.push(
      Array.from(bytes.slice(i, Math.min(i + 16, max)))
        .map((b) => b.toString(16).padStart(2, "0"))
        .join(" "),
    );
  }
  if (bytes.length > max) lines.push(`… ${bytes.length - max} more bytes`);
  return lines.join("\n");
}

/** Base64 → bytes. */
export function fromBase64(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, "base64"));
}

/** One line of a diff: kept (" "), added ("+") or removed ("-"). */
export interface DiffLine {
  op: " " | "+" | "-";
  text: string;
}

/** A line diff (longest common subsequence) from `a` to `b`. */
export function diffLines(a: string, b: string): DiffLine[] {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  // LCS lengths of suffixes; definitions are small (schemas are capped), so O(n·m) is fine.
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: " ", text: x[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push({ op: "-", text: x[i++]! });
    } else {
      out.push({ op: "+", text: y[j++]! });
    }
  }
  while (i < n) out.push({ op: "-", text: x[i++]! });
  while (j < m) out.push({ op: "+", text: y[j++]! });
  return out;
}

/** Keeps the window of `height` items around `cursor` in view. */
export function visibleWindow<T>(items: readonly T[], cursor: number, height: number): { items: T[]; offset: number } {
  if (height <= 0) return { items: [], offset: 0 };
  if (items.length <= height) return { items: [...items], offset: 0 };
  const offset = Math.min(Math.max(0, cursor - Math.floor(height / 2)), items.length - height);
  return { items: items.slice(offset, offset + height), offset };
}

/** A column that may be dropped when the terminal is narrow (lowest `priority` goes first). */
export interface OptionalColumn extends Column {
  key: string;
  /** Higher stays longer; 0 = never dropped. @default 0 */
  priority?: number;
}

/**
 * Picks the columns that fit in `total` characters, dropping the lowest priorities first, and
 * gives the column named `flex` the rest of the width.
 */
export function fitResponsive<C extends OptionalColumn>(columns: readonly C[], total: number, flex: string, flexMin = 8): C[] {
  let cols = [...columns];
  const need = (cs: readonly C[]) => cs.reduce((n, c) => n + (c.key === flex ? flexMin : c.width) + 2, -2);
  while (need(cols) > total) {
    const droppable = cols.filter((c) => (c.priority ?? 0) > 0);
    if (droppable.length === 0) break;
    const lowest = droppable.reduce((a, b) => ((b.priority ?? 0) < (a.priority ?? 0) ? b : a));
    cols = cols.filter((c) => c !== lowest);
  }
  const used = cols.reduce((n, c) => (c.key === flex ? n : n + c.width + 2), 0);
  return cols.map((c) => (c.key === flex ? { ...c, width: Math.max(flexMin, Math.min(40, total - used)) } : c));
}
