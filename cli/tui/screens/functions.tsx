/** Functions: the list with call and error counts, versions, source and recent logs. */
import { Box } from "ink";
import { useState, type ReactNode } from "react";
import type { FunctionInfo, FunctionQuarantine } from "../../../sdk/index.js";
import { ErrorLine, FilterLine, Pane, SelectList, TextBlock } from "../components/ui.js";
import { useFilter, useListAndVersions } from "../hooks/keys.js";
import { useHue } from "../theme.js";
import { Text } from "../theme.js";

/** One line of a function's console output. */
export interface FunctionLog {
  time: number;
  version: number;
  level: string;
  message: string;
}

/** Props of {@link FunctionsScreen}. */
export interface FunctionsProps {
  functions: readonly FunctionInfo[];
  versions?: readonly { version: number; createdAt: string; timeoutMs: number; memoryMb: number }[] | undefined;
  source?: { version: number; text: string } | undefined;
  logs?: readonly FunctionLog[] | undefined;
  stats?: { calls: number; errors: number; lastError?: string | undefined } | undefined;
  /** Quarantined function versions (on the gateway that answered). */
  quarantined?: readonly FunctionQuarantine[] | undefined;
  /** x on a quarantined function: lift its quarantine. */
  onRelease?: (name: string) => void;
  /** What the last release did, shown under the list. */
  notice?: string | undefined;
  error?: unknown;
  width: number;
  height: number;
  active?: boolean;
  onSelect?: (name: string) => void;
  onSelectVersion?: (name: string, version: number) => void;
}

/** The functions screen (pure). Tab switches list / versions; l toggles source and logs; x releases a quarantined function. */
export function FunctionsScreen(props: FunctionsProps): ReactNode {
  const active = props.active ?? true;
  const hue = useHue();
  const [showLogs, setShowLogs] = useState(false);
  const filter = useFilter(active);
  const quarantine = new Map((props.quarantined ?? []).map((q) => [q.function, q]));
  // Quarantined first, then most errors: that is where to look.
  const fns = [...props.functions]
    .filter((f) => !filter.value || f.name.includes(filter.value))
    .sort(
      (a, b) =>
        Number(quarantine.has(b.name)) - Number(quarantine.has(a.name)) ||
        (b.stats?.errors ?? 0) - (a.stats?.errors ?? 0) ||
        a.name.localeCompare(b.name),
    );
  const {
    pane,
    item: f,
    cursor,
    versionCursor: vCursor,
    versions,
  } = useListAndVersions({
    items: fns,
    versions: props.versions,
    active,
    editing: filter.editing,
    onSelect: props.onSelect,
    onSelectVersion: props.onSelectVersion,
    onKey: (input, item) => {
      if (input === "l") setShowLogs((x) => !x);
      if (input === "x" && item && quarantine.has(item.name)) props.onRelease?.(item.name);
    },
  });
  const listWidth = Math.min(40, Math.floor(props.width / 3));
  const bodyHeight = Math.max(5, props.height - 8);
  const stats = props.stats ?? f?.stats;
  const logs = props.logs ?? [];
  return (
    <Box flexDirection="column" width={props.width}>
      <Box>
        <Pane title={`Functions (${fns.length})`} focused={pane === "list"} width={listWidth}>
          <SelectList
            lines={fns.map((x) => ({
              key: x.name,
              text: `${quarantine.has(x.name) ? "⛔ " : ""}${x.name} v${x.latest}${x.stats ? `  ${x.stats.calls} calls, ${x.stats.errors} err` : ""}`,
              hue: quarantine.has(x.name) || (x.stats?.errors ?? 0) > 0 ? ("red" as const) : undefined,
            }))}
            cursor={cursor}
            height={Math.floor(bodyHeight / 2)}
            focused={pane === "list"}
            empty="no functions"
          />
          <Text> </Text>
          <Text bold>Versions</Text>
          <SelectList
            lines={versions.map((x) => ({ key: String(x.version), text: `v${x.version}  ${x.timeoutMs}ms ${x.memoryMb}MB` }))}
            cursor={vCursor}
            height={Math.max(2, Math.floor(bodyHeight / 2) - 3)}
            focused={pane === "versions"}
          />
        </Pane>
        <Pane title={f ? (showLogs ? `${f.name}: recent logs` : `${f.name} v${props.source?.version ?? "…"} source`) : "Source"} grow>
          {f && quarantine.has(f.name) && (
            <Text wrap="truncate" color={hue("red")}>
              {`QUARANTINED v${quarantine.get(f.name)!.version} since ${new Date(quarantine.get(f.name)!.since).toISOString().slice(11, 19)}: ${quarantine.get(f.name)!.reason} (${quarantine.get(f.name)!.failures} failures) ${quarantine.get(f.name)!.message} · its messages go to the DLS · x release`}
            </Text>
          )}
          {props.notice && <Text wrap="truncate">{props.notice}</Text>}
          {f && (
            <Text wrap="truncate" color={hue((stats?.errors ?? 0) > 0 ? "red" : undefined)}>
              {`calls ${stats?.calls ?? "–"}, errors ${stats?.errors ?? "–"}${stats?.lastError ? `, last error: ${stats.lastError}` : ""} · used by: ${f.usedBy?.length ? f.usedBy.join(", ") : "no stations"}`}
            </Text>
          )}
          {showLogs ? (
            logs.length === 0 ? (
              <Text dimColor>no recent logs</Text>
            ) : (
              <TextBlock
                text={logs
                  .slice(-(bodyHeight - 1))
                  .map((l) => `${new Date(l.time).toISOString().slice(11, 23)} v${l.version} ${l.level.padEnd(5)} ${l.message}`)
                  .join("\n")}
                height={bodyHeight - 1}
                lineHue={(l) => (/ (error|warn) /.test(l) ? "red" : undefined)}
              />
            )
          ) : (
            props.source && <TextBlock text={props.source.text} height={bodyHeight - 1} />
          )}
        </Pane>
      </Box>
      <FilterLine editing={filter.editing} draft={filter.draft} value={filter.value} />
      <ErrorLine error={props.error} />
    </Box>
  );
}
