/** Dead letters: a filtered list with resend / drop actions, and the detail of one. */
import { Text } from "../theme.js";
import { Box, useInput } from "ink";
import { useState, type ReactNode } from "react";
import type { DeadLetter, DeadLetterFilter } from "../../../sdk/index.js";
import { ActionLine, ErrorLine, FilterLine, Pane, SelectList, TextBlock } from "../components/ui.js";
import { fitResponsive, formatAge, fromBase64, headerRow, prettyPayload, prettyValue, row, type OptionalColumn } from "../format.js";
import { useConfirm, useCursor, useFilter } from "../hooks/keys.js";
import { formatDlsFilter, parseDlsFilter } from "../model.js";

/** What a resend reports. */
export type ResendResult = { resent: number; failed: number; errors?: { id: string; code: string; message: string }[] };
/** What a drop reports. */
export type DropResult = { dropped: number };
/** One dead letter or all that match a filter. */
export type DlsTarget = { id: string } | { filter: DeadLetterFilter };

/** The result line of a resend. */
export function resendText(r: ResendResult): string {
  const first = r.errors?.[0];
  return `resent ${r.resent}, failed ${r.failed}${first ? ` (${first.code}: ${first.message})` : ""}`;
}

/** Props of {@link DeadLettersScreen}. */
export interface DeadLettersProps {
  items: readonly DeadLetter[];
  filter: DeadLetterFilter;
  /** More items exist past the page shown. */
  more?: boolean;
  error?: unknown;
  loading?: boolean;
  now: number;
  width: number;
  height: number;
  active?: boolean;
  onFilter?: (f: DeadLetterFilter) => void;
  onOpen?: (id: string) => void;
  onResend?: (t: DlsTarget) => Promise<ResendResult>;
  onDrop?: (t: DlsTarget) => Promise<DropResult>;
}

const COLUMNS: OptionalColumn[] = [
  { key: "id", title: "ID", width: 26 },
  { key: "age", title: "AGE", width: 7, align: "right" },
  { key: "station", title: "STATION", width: 12 },
  { key: "reason", title: "REASON", width: 10 },
  { key: "groups", title: "GROUPS", width: 12, priority: 2 },
  { key: "deliveries", title: "DELIV", width: 5, align: "right", priority: 1 },
  { key: "error", title: "ERROR", width: 30 },
];

function cells(cols: readonly OptionalColumn[], d: DeadLetter, now: number): string[] {
  return cols.map((c) => {
    switch (c.key) {
      case "id":
        return d.id;
      case "age":
        return formatAge(now - Date.parse(d.createdAt));
      case "station":
        return d.station;
      case "reason":
        return d.reason;
      case "groups":
        return d.groups.join(",") || "-";
      case "deliveries":
        return d.deliveries === undefined ? "-" : String(d.deliveries);
      default:
        return d.error ? `${d.error.code}: ${d.error.message}` : "-";
    }
  });
}

/**
 * The dead-letter list (pure). `/` filters (`reason:poison group:billing station:orders text`),
 * enter opens one, r / R resend the selected / all matching, d / D drop them; each asks first.
 */
export function DeadLettersScreen(props: DeadLettersProps): ReactNode {
  const active = props.active ?? true;
  const confirm = useConfirm(active);
  const filter = useFilter(active && !confirm.pending && !confirm.busy, formatDlsFilter(props.filter), (line) => {
    const p = parseDlsFilter(line);
    if ("error" in p) return p.error;
    props.onFilter?.(p.filter);
    return undefined;
  });
  const modal = filter.editing || confirm.pending !== undefined || confirm.busy;
  const [cursor] = useCursor(props.items.length, active && !modal);
  useInput(
    (input, key) => {
      if (modal) return;
      const d = props.items[cursor];
      const matching = formatDlsFilter(props.filter) || "everything";
      if (key.return && d) props.onOpen?.(d.id);
      else if (input === "r" && d && props.onResend) {
        const resend = props.onResend;
        confirm.ask({ question: `Resend dead letter ${d.id}?`, run: async () => resendText(await resend({ id: d.id })) });
      } else if (input === "R" && props.onResend && props.items.length > 0) {
        const resend = props.onResend;
        confirm.ask({
          question: `Resend ALL dead letters matching ${matching}?`,
          run: async () => resendText(await resend({ filter: props.filter })),
        });
      } else if (input === "d" && d && props.onDrop) {
        const drop = props.onDrop;
        confirm.ask({
          question: `Drop dead letter ${d.id}? It is deleted for good.`,
          run: async () => `dropped ${(await drop({ id: d.id })).dropped}`,
        });
      } else if (input === "D" && props.onDrop && props.items.length > 0) {
        const drop = props.onDrop;
        confirm.ask({
          question: `Drop ALL dead letters matching ${matching}? They are deleted for good.`,
          run: async () => `dropped ${(await drop({ filter: props.filter })).dropped}`,
        });
      }
    },
    { isActive: active },
  );
  const cols = fitResponsive(COLUMNS, props.width - 8, "error", 16);
  return (
    <Box flexDirection="column" width={props.width}>
      <Pane title={`Dead letters (${props.items.length}${props.more ? "+" : ""})`} focused>
        <SelectList
          header={headerRow(cols)}
          lines={props.items.map((d) => ({
            key: d.id,
            text: row(cols, cells(cols, d, props.now)),
            hue: d.reason === "poison" || d.reason === "terminated" ? ("red" as const) : ("yellow" as const),
          }))}
          cursor={cursor}
          height={Math.max(3, props.height - 9)}
          focused={!modal}
          empty={props.loading ? "loading…" : "no dead letters"}
        />
      </Pane>
      <FilterLine
        editing={filter.editing}
        draft={filter.draft}
        value={filter.value}
        problem={filter.problem}
        hint="reason:poison|terminated|schema|function  group:<name>  station:<name>  any text"
      />
      <ActionLine question={confirm.pending?.question} busy={confirm.busy} result={confirm.result} />
      <ErrorLine error={props.error} />
    </Box>
  );
}

/** The detail text of a dead letter: summary, error, delivery history, headers, payload. */
export function deadLetterText(d: DeadLetter): string {
  const lines: string[] = [];
  lines.push(`id         ${d.id}`, `station    ${d.station}${d.seq !== undefined ? ` (seq ${d.seq})` : ""}`, `reason     ${d.reason}`);
  if (d.groups.length) lines.push(`groups     ${d.groups.join(", ")}`);
  if (d.producer) lines.push(`producer   ${d.producer}`);
  if (d.resentFrom) lines.push(`resent from ${d.resentFrom}`);
  lines.push("", "Error");
  if (d.error) {
    lines.push(`  ${d.error.code}: ${d.error.message}`);
    if (d.error.details)
      lines.push(
        ...prettyValue(d.error.details)
          .split("\n")
          .map((l) => "  " + l),
      );
  } else lines.push("  (none recorded)");
  lines.push("", "Delivery history");
  if (d.deliveries !== undefined) lines.push(`  delivered ${d.deliveries} time${d.deliveries === 1 ? "" : "s"}`);
  if (d.firstDeliveryAt) lines.push(`  first delivery  ${d.firstDeliveryAt}`);
  if (d.lastDeliveryAt) lines.push(`  last delivery   ${d.lastDeliveryAt}`);
  lines.push(`  dead-lettered   ${d.createdAt}`);
  lines.push("", "Headers");
  const hs = Object.entries(d.headers);
  if (hs.length === 0) lines.push("  (none)");
  for (const [k, v] of hs) lines.push(`  ${k}: ${v}`);
  const bytes = fromBase64(d.payload);
  const p = d.decoded !== undefined ? { text: prettyValue(d.decoded), kind: "decoded by the station's schema" } : prettyPayload(bytes);
  lines.push("", `Payload (${bytes.length} bytes, ${p.kind})`, ...p.text.split("\n").map((l) => "  " + l));
  return lines.join("\n");
}

/** Props of {@link DeadLetterScreen}. */
export interface DeadLetterProps {
  deadLetter: DeadLetter | undefined;
  error?: unknown;
  height: number;
  active?: boolean;
  onResend?: (t: DlsTarget) => Promise<ResendResult>;
  onDrop?: (t: DlsTarget) => Promise<DropResult>;
}

/** One dead letter (pure): j/k scroll, r resends, d drops, each confirmed first. */
export function DeadLetterScreen(props: DeadLetterProps): ReactNode {
  const active = props.active ?? true;
  const confirm = useConfirm(active);
  const [scroll, setScroll] = useState(0);
  const d = props.deadLetter;
  const modal = confirm.pending !== undefined || confirm.busy;
  useInput(
    (input, key) => {
      if (modal || !d) return;
      if (key.downArrow || input === "j") setScroll((s) => s + 1);
      else if (key.upArrow || input === "k") setScroll((s) => Math.max(0, s - 1));
      else if (key.pageDown) setScroll((s) => s + 10);
      else if (key.pageUp) setScroll((s) => Math.max(0, s - 10));
      else if (input === "r" && props.onResend) {
        const resend = props.onResend;
        confirm.ask({ question: `Resend dead letter ${d.id}?`, run: async () => resendText(await resend({ id: d.id })) });
      } else if (input === "d" && props.onDrop) {
        const drop = props.onDrop;
        confirm.ask({
          question: `Drop dead letter ${d.id}? It is deleted for good.`,
          run: async () => `dropped ${(await drop({ id: d.id })).dropped}`,
        });
      }
    },
    { isActive: active },
  );
  return (
    <Box flexDirection="column">
      <Pane title={d ? `Dead letter ${d.id}` : "Dead letter"} focused>
        {d ? (
          <TextBlock
            text={deadLetterText(d)}
            height={Math.max(5, props.height - 6)}
            scroll={scroll}
            lineHue={(l) =>
              l === "Error" || l === "Delivery history" || l === "Headers" || l.startsWith("Payload (") ? "cyan" : undefined
            }
          />
        ) : (
          <Text dimColor>loading…</Text>
        )}
      </Pane>
      <ActionLine question={confirm.pending?.question} busy={confirm.busy} result={confirm.result} />
      <ErrorLine error={props.error} />
    </Box>
  );
}
