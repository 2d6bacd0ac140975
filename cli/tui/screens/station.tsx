/** Station: its consumer groups (worst first), schema, functions and a message browser. */
import { Box, useInput } from "ink";
import { useState, type ReactNode } from "react";
import type { StationInfo } from "../../../sdk/index.js";
import { ActionLine, ErrorLine, Pane, SelectList, TextBlock } from "../components/ui.js";
import { fitResponsive, formatAge, formatBytes, formatCount, headerRow, row, truncate, type OptionalColumn } from "../format.js";
import { useConfirm, useCursor } from "../hooks/keys.js";
import { sortGroups, type GroupRow } from "../model.js";
import { healthHue, healthMark, useHue } from "../theme.js";
import { Text } from "../theme.js";

/** A message read by the browser, its payload already decoded for display. */
export interface BrowsedMessage {
  seq: number;
  time: string;
  subject: string;
  headers: Record<string, string>;
  size: number;
  /** The payload, pretty-printed. */
  payload: string;
  /** How it was decoded: by a schema ("schema@version"), or as json / text / binary. */
  decodedAs: string;
}

/** Props of {@link StationScreen}. */
export interface StationProps {
  station: StationInfo | undefined;
  groups: readonly GroupRow[];
  error?: unknown;
  /** Messages read by the browser; undefined until it is opened. */
  messages?: readonly BrowsedMessage[] | undefined;
  messagesLoading?: boolean;
  messagesError?: unknown;
  width: number;
  height: number;
  active?: boolean;
  /** Reads (again) the most recent messages. */
  onBrowse?: () => void;
  /** Opens the dead letters of the station, or of one group. */
  onDeadLetters?: (group?: string) => void;
  /** Rewinds (or forwards) a group: it re-reads from `seq`, or skips to the latest; resolves with what to show. */
  onReset?: (group: string, to: { seq: number } | { latest: true }) => Promise<string>;
}

const GROUP_COLUMNS: OptionalColumn[] = [
  { key: "name", title: "GROUP", width: 16 },
  { key: "pending", title: "PENDING", width: 8, align: "right" },
  { key: "unacked", title: "UNACKED", width: 8, align: "right" },
  { key: "redelivered", title: "REDELIV", width: 8, align: "right" },
  { key: "dead", title: "DEAD", width: 6, align: "right" },
  { key: "age", title: "OLDEST", width: 8, align: "right", priority: 2 },
  { key: "members", title: "MEMBERS", width: 7, align: "right", priority: 1 },
];

function groupCells(cols: readonly OptionalColumn[], g: GroupRow): string[] {
  return cols.map((c) => {
    switch (c.key) {
      case "name":
        return g.name;
      case "pending":
        return String(g.pending);
      case "unacked":
        return String(g.unacked);
      case "redelivered":
        return String(g.redelivered);
      case "dead":
        return formatCount(g.deadLettered);
      case "age":
        return g.unacked > 0 ? formatAge(g.oldestUnackedAgeMs) : "-";
      default:
        return String(g.membersOnline);
    }
  });
}

/** The station screen (pure). Tab switches between groups and the message browser. */
export function StationScreen(props: StationProps): ReactNode {
  const active = props.active ?? true;
  const hue = useHue();
  const [pane, setPane] = useState<"groups" | "messages">("groups");
  const groups = sortGroups(props.groups);
  const messages = props.messages ?? [];
  const confirm = useConfirm(active);
  const modal = confirm.pending !== undefined || confirm.busy;
  const [gCursor] = useCursor(groups.length, active && !modal && pane === "groups");
  const [mCursor] = useCursor(messages.length, active && !modal && pane === "messages");
  const reset = props.onReset;
  useInput(
    (input, key) => {
      if (modal) return;
      const g = groups[gCursor];
      // z: replay the selected group from the start, or (in the browser) from the selected message; Z: skip to the latest.
      if (reset && g && input === "z") {
        const seq = pane === "messages" && messages[mCursor] ? messages[mCursor].seq : (props.station?.state?.firstSeq ?? 1);
        confirm.ask({
          question: `Reset group ${g.name} to re-read from #${seq}? Its members keep running. (y/n)`,
          run: () => reset(g.name, { seq }),
        });
        return;
      }
      if (reset && g && input === "Z") {
        confirm.ask({
          question: `Reset group ${g.name} to the latest message, skipping everything pending? (y/n)`,
          run: () => reset(g.name, { latest: true }),
        });
        return;
      }
      if (key.tab || key.rightArrow || key.leftArrow) {
        const next = pane === "groups" ? "messages" : "groups";
        setPane(next);
        if (next === "messages" && props.messages === undefined && !props.messagesLoading) props.onBrowse?.();
      } else if (input === "r" && pane === "messages") props.onBrowse?.();
      else if (input === "x") props.onDeadLetters?.();
      else if (key.return && pane === "groups" && groups[gCursor]) props.onDeadLetters?.(groups[gCursor].name);
    },
    { isActive: active },
  );
  const s = props.station;
  const inner = props.width - 8;
  const gcols = fitResponsive(GROUP_COLUMNS, inner - 3, "name");
  const schema = s?.schema
    ? `${s.schema.name}@${s.schema.version}${s.schema.version === "latest" ? " (follows new versions)" : " (pinned)"}`
    : "none";
  const fns = s?.functions?.length ? s.functions.map((f) => `${f.name}@${f.version}`).join(" → ") : "none";
  const half = Math.max(4, Math.floor((props.height - 12) / 2));
  const m = messages[mCursor];
  return (
    <Box flexDirection="column" width={props.width}>
      <Text bold wrap="truncate">
        {`Station ${s?.name ?? "…"}  `}
        <Text bold={false}>
          {s?.state
            ? `${s.state.messages} msgs${s.state.delayed ? ` (${s.state.delayed} delayed, waiting)` : ""}, ${formatBytes(s.state.bytes)}, seq ${s.state.firstSeq}..${s.state.lastSeq}, retention ${s.config.retention}${(s.config.partitions ?? 1) > 1 ? `, ${s.config.partitions} partitions` : ""}`
            : ""}
        </Text>
      </Text>
      <Text wrap="truncate">{`schema: ${schema}   functions: ${fns}`}</Text>
      <ErrorLine error={props.error} />
      <Pane title={`Consumer groups (${groups.length})`} focused={pane === "groups"}>
        <SelectList
          header={"   " + headerRow(gcols)}
          lines={groups.map((g) => ({
            key: g.name,
            text: healthMark(g.health) + " " + row(gcols, groupCells(gcols, g)),
            hue: healthHue(g.health),
          }))}
          cursor={gCursor}
          height={half}
          focused={pane === "groups"}
          empty="no consumer groups"
        />
        {pane === "groups" && groups[gCursor] && (
          <Text color={hue(healthHue(groups[gCursor].health))} wrap="truncate">
            {`${groups[gCursor].name}: ack time ${formatAge(groups[gCursor].maxAckTimeMs)}, max deliveries ${groups[gCursor].maxMsgDeliveries}; ${groups[gCursor].problems.join("; ") || "no problems"}`}
          </Text>
        )}
        {pane === "groups" && groups[gCursor]?.partitions !== undefined && (
          <Text wrap="truncate">{`partitions: ${groups[gCursor].partitions}`}</Text>
        )}
      </Pane>
      <ActionLine question={confirm.pending?.question} busy={confirm.busy} result={confirm.result} />
      <Pane title={`Messages (latest ${messages.length}, read by a temporary browse group)`} focused={pane === "messages"}>
        {props.messagesLoading ? (
          <Text dimColor>reading…</Text>
        ) : props.messages === undefined ? (
          <Text dimColor>tab to read the latest messages</Text>
        ) : (
          <Box flexDirection="column">
            <SelectList
              lines={messages.map((x) => ({
                key: String(x.seq),
                text: `#${String(x.seq).padEnd(6)} ${x.time.slice(11, 19)}  ${truncate(x.payload.replace(/\s*\n\s*/g, " "), Math.max(10, inner - 20))}`,
              }))}
              cursor={mCursor}
              height={Math.max(2, Math.floor(half / 2))}
              focused={pane === "messages"}
              empty="no messages"
            />
            {m && pane === "messages" && (
              <Box flexDirection="column">
                <Text
                  dimColor
                  wrap="truncate"
                >{`seq ${m.seq}, ${m.size} bytes, ${m.decodedAs}, ${m.subject}${Object.keys(m.headers).length ? ", headers " + JSON.stringify(m.headers) : ""}`}</Text>
                <TextBlock
                  text={m.payload}
                  height={Math.max(
                    3,
                    props.height - 16 - Math.min(groups.length, half) - Math.min(messages.length, Math.max(2, Math.floor(half / 2))),
                  )}
                />
              </Box>
            )}
          </Box>
        )}
        <ErrorLine error={props.messagesError} />
      </Pane>
    </Box>
  );
}
