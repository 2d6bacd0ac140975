/** Schemas: the list, each one's versions, a definition or the diff from the version before, and the stations using it. */
import { Text } from "../theme.js";
import { Box } from "ink";
import { useState, type ReactNode } from "react";
import type { SchemaInfo } from "../../../sdk/index.js";
import { ErrorLine, FilterLine, Pane, SelectList, TextBlock } from "../components/ui.js";
import { diffLines } from "../format.js";
import { useFilter, useListAndVersions } from "../hooks/keys.js";

/** A version's definition text. */
export interface Definition {
  version: number;
  text: string;
}

/** Props of {@link SchemasScreen}. */
export interface SchemasProps {
  schemas: readonly SchemaInfo[];
  /** Versions of the selected schema, any order. */
  versions?: readonly { version: number; createdAt: string }[] | undefined;
  /** The selected version's definition, and the one before it (for the diff). */
  definition?: Definition | undefined;
  previous?: Definition | undefined;
  error?: unknown;
  width: number;
  height: number;
  active?: boolean;
  onSelect?: (name: string) => void;
  onSelectVersion?: (name: string, version: number) => void;
}

/** A diff as text: "+ added", "- removed", "  kept". */
export function diffText(a: string, b: string): string {
  return diffLines(a, b)
    .map((l) => `${l.op} ${l.text}`)
    .join("\n");
}

/** The schemas screen (pure). Tab switches list / versions; v toggles definition and diff. */
export function SchemasScreen(props: SchemasProps): ReactNode {
  const active = props.active ?? true;
  const [diff, setDiff] = useState(false);
  const filter = useFilter(active);
  const schemas = [...props.schemas]
    .filter((s) => !filter.value || s.name.includes(filter.value))
    .sort((a, b) => a.name.localeCompare(b.name));
  const {
    pane,
    item: s,
    cursor,
    versionCursor: vCursor,
    versions,
  } = useListAndVersions({
    items: schemas,
    versions: props.versions,
    active,
    editing: filter.editing,
    onSelect: props.onSelect,
    onSelectVersion: props.onSelectVersion,
    onKey: (input) => {
      if (input === "v") setDiff((d) => !d);
    },
  });
  const listWidth = Math.min(36, Math.floor(props.width / 3));
  const bodyHeight = Math.max(5, props.height - 8);
  const showDiff = diff && props.definition && props.previous && props.previous.version < props.definition.version;
  return (
    <Box flexDirection="column" width={props.width}>
      <Box>
        <Pane title={`Schemas (${schemas.length})`} focused={pane === "list"} width={listWidth}>
          <SelectList
            lines={schemas.map((x) => ({ key: x.name, text: `${x.name} ${x.type} v${x.latest}` }))}
            cursor={cursor}
            height={Math.floor(bodyHeight / 2)}
            focused={pane === "list"}
            empty="no schemas"
          />
          <Text> </Text>
          <Text bold>Versions</Text>
          <SelectList
            lines={versions.map((x) => ({ key: String(x.version), text: `v${x.version}  ${x.createdAt.slice(0, 19).replace("T", " ")}` }))}
            cursor={vCursor}
            height={Math.max(2, Math.floor(bodyHeight / 2) - 3)}
            focused={pane === "versions"}
          />
        </Pane>
        <Pane
          title={
            s
              ? showDiff
                ? `${s.name}: diff v${props.previous!.version} → v${props.definition!.version}`
                : `${s.name} v${props.definition?.version ?? "…"}`
              : "Definition"
          }
          grow
        >
          {s && (
            <Text wrap="truncate">{`${s.type}, compatibility ${s.compatibility}, used by: ${s.usedBy.length ? s.usedBy.join(", ") : "no stations"}${s.description ? ` · ${s.description}` : ""}`}</Text>
          )}
          {props.definition && (
            <TextBlock
              text={showDiff ? diffText(props.previous!.text, props.definition.text) : props.definition.text}
              height={bodyHeight - 1}
              lineHue={(l) => (showDiff ? (l.startsWith("+ ") ? "green" : l.startsWith("- ") ? "red" : undefined) : undefined)}
            />
          )}
          {diff && !showDiff && props.definition && <Text dimColor>(first version: nothing to diff)</Text>}
        </Pane>
      </Box>
      <FilterLine editing={filter.editing} draft={filter.draft} value={filter.value} />
      <ErrorLine error={props.error} />
    </Box>
  );
}
