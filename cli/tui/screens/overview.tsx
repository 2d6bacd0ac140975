/** Overview: every station with its traffic, backlog and dead letters, worst problems first. */
import { Box, useInput } from "ink";
import type { ReactNode } from "react";
import { ErrorLine, FilterLine, Pane, SelectList } from "../components/ui.js";
import { fitResponsive, formatBytes, formatCount, formatRate, headerRow, row, sparkline, type OptionalColumn } from "../format.js";
import { useCursor, useFilter } from "../hooks/keys.js";
import { sortStations, type StationRow } from "../model.js";
import { healthHue, healthMark, useHue } from "../theme.js";
import { Text } from "../theme.js";

/** Props of {@link OverviewScreen}. */
export interface OverviewProps {
  rows: readonly StationRow[];
  error?: unknown;
  loading?: boolean;
  width: number;
  height: number;
  /** Whether this screen gets the keys. @default true */
  active?: boolean;
  onOpen?: (station: string) => void;
  onDeadLetters?: (station: string) => void;
}

const COLUMNS: OptionalColumn[] = [
  { key: "name", title: "STATION", width: 16 },
  { key: "messages", title: "MSGS", width: 8, align: "right" },
  { key: "bytes", title: "BYTES", width: 9, align: "right", priority: 3 },
  { key: "in", title: "IN", width: 7, align: "right", priority: 6 },
  { key: "spark", title: "IN RATE", width: 12, priority: 2 },
  { key: "out", title: "OUT", width: 7, align: "right", priority: 5 },
  { key: "groups", title: "GROUPS", width: 6, align: "right", priority: 4 },
  { key: "unacked", title: "UNACKED", width: 7, align: "right" },
  { key: "dead", title: "DEAD", width: 5, align: "right" },
  { key: "schema", title: "SCHEMA", width: 14, priority: 1 },
  { key: "functions", title: "FUNCTIONS", width: 16, priority: 0.5 },
];

function cells(cols: readonly OptionalColumn[], r: StationRow): string[] {
  return cols.map((c) => {
    switch (c.key) {
      case "name":
        return r.name;
      case "messages":
        return String(r.messages);
      case "bytes":
        return formatBytes(r.bytes);
      case "in":
        return formatRate(r.inRate);
      case "spark":
        return sparkline(r.inHistory, c.width);
      case "out":
        return formatRate(r.outRate);
      case "groups":
        return String(r.groups);
      case "unacked":
        return String(r.unacked);
      case "dead":
        return formatCount(r.deadLetters);
      case "schema":
        return r.schema ?? "-";
      default:
        return r.functions.length ? r.functions.join(" → ") : "-";
    }
  });
}

/** The overview screen (pure: rows in, frame out; enter opens a station, x its dead letters). */
export function OverviewScreen(props: OverviewProps): ReactNode {
  const active = props.active ?? true;
  const hue = useHue();
  const filter = useFilter(active);
  const rows = sortStations(props.rows).filter((r) => !filter.value || r.name.includes(filter.value));
  const [cursor] = useCursor(rows.length, active && !filter.editing);
  useInput(
    (input, key) => {
      const r = rows[cursor];
      if (!r || filter.editing) return;
      if (key.return) props.onOpen?.(r.name);
      else if (input === "x") props.onDeadLetters?.(r.name);
    },
    { isActive: active },
  );
  const cols = fitResponsive(COLUMNS, props.width - 10, "name");
  const selected = rows[cursor];
  const listHeight = Math.max(3, props.height - 8);
  return (
    <Box flexDirection="column" width={props.width}>
      <Pane title={`Stations (${rows.length})`} focused>
        <SelectList
          header={"   " + headerRow(cols)}
          lines={rows.map((r) => ({ key: r.name, text: healthMark(r.health) + " " + row(cols, cells(cols, r)), hue: healthHue(r.health) }))}
          cursor={cursor}
          height={listHeight}
          focused
          empty={props.loading ? "loading…" : "no stations yet: create one with `junction station create <name>`"}
        />
      </Pane>
      <FilterLine editing={filter.editing} draft={filter.draft} value={filter.value} />
      <ErrorLine error={props.error} />
      {selected && (
        <Text color={hue(healthHue(selected.health))} wrap="truncate">
          {selected.problems.length ? `${selected.name}: ${selected.problems.join("; ")}` : `${selected.name}: no problems`}
        </Text>
      )}
    </Box>
  );
}
