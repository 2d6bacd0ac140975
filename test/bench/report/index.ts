/** The benchmark report: the run model, console tables, the HTML page and the history file. */
export { CellFormat, BenchProfile, MetricKind, metricKind, historyEntry, section } from "./model.js";
export { fmtInt, fmtMs, fmtRatio, formatCell, table, textTable } from "./format.js";
export { renderReport, historyCharts, escapeHtml, HISTORY_RUNS } from "./html.js";
export { loadChartLibrary, readHistory, resultFiles, writeRun } from "./files.js";
export type { Cell, Column, TableSpec, Series, ChartSpec, Section, MachineInfo, Target, BenchRun, HistoryEntry } from "./model.js";
export type { ReportAssets } from "./html.js";
