/** Functions: the list with call and error counts, versions, source and recent logs. */
import { Box } from "ink";
import { useState, type ReactNode } from "react";
import type { FunctionInfo } from "../../../sdk/index.js";
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
  error?: unknown;
  width: number;
  height: number;
  active?: boolean;
  onSelect?: (name: string) => void;
  onSelectVersion?: (name: string, version: number) => void;
}

/** The functions screen (pure). Tab switches list / versions; l toggles source and logs. */
export function FunctionsScreen(props: FunctionsProps): ReactNode {
  const active = props.active ?? true;
  const hue = useHue();
  const [showLogs, setShowLogs] = useState(false);
  const filter = useFilter(active);
  // Most errors first: that is where to look.
  const fns = [...props.functions]
    .filter((f) => !filter.value || f.name.includes(filter.value))
    .sort((a, b) => (b.stats?.errors ?? 0) - (a.stats?.errors ?? 0) || a.name.localeCompare(b.name));
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
    onKey: (input) => {
      if (input === "l") setShowLogs((x) => !x);
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
              text: `${x.name} v${x.latest}${x.stats ? `  ${x.stats.calls} calls, ${x.stats.errors} err` : ""}`,
              hue: (x.stats?.errors ?? 0) > 0 ? ("red" as const) : undefined,
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
