/** Small building blocks of the screens: lists, panes, the filter line, confirm and status lines. */
import { Box } from "ink";
import type { ReactNode } from "react";
import { visibleWindow } from "../format.js";
import { useHue, type Hue } from "../theme.js";
import { Text } from "../theme.js";

/** One line of a {@link SelectList}. */
export interface ListLine {
  key: string;
  text: string;
  hue?: Hue | undefined;
}

/**
 * A list with a cursor: the selected line starts with "›" (and is inverted when the list has
 * focus), so the selection reads without colour.
 */
export function SelectList(props: {
  header?: string;
  lines: readonly ListLine[];
  cursor: number;
  height: number;
  focused: boolean;
  empty?: string;
}): ReactNode {
  const hue = useHue();
  const { items, offset } = visibleWindow(props.lines, props.cursor, Math.max(1, props.height));
  return (
    <Box flexDirection="column">
      {props.header !== undefined && <Text bold>{"  " + props.header}</Text>}
      {props.lines.length === 0 && <Text dimColor>{"  " + (props.empty ?? "(none)")}</Text>}
      {items.map((l, i) => {
        const selected = offset + i === props.cursor;
        return (
          <Text key={l.key} color={hue(l.hue)} inverse={selected && props.focused} wrap="truncate">
            {(selected ? "› " : "  ") + l.text}
          </Text>
        );
      })}
      {props.lines.length > items.length && <Text dimColor>{`  ${offset + 1}-${offset + items.length} of ${props.lines.length}`}</Text>}
    </Box>
  );
}

/** A titled, bordered pane; the focused one has a bold title marked "●". */
export function Pane(props: {
  title: string;
  focused?: boolean;
  width?: number | string;
  height?: number;
  children: ReactNode;
  grow?: boolean;
}): ReactNode {
  const hue = useHue();
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor={hue(props.focused ? "cyan" : "gray")}
      paddingX={1}
      {...(props.width !== undefined ? { width: props.width } : {})}
      {...(props.height !== undefined ? { height: props.height } : {})}
      {...(props.grow ? { flexGrow: 1 } : {})}
      overflow="hidden"
    >
      <Text bold={props.focused === true} color={hue(props.focused ? "cyan" : undefined)}>
        {(props.focused ? "● " : "") + props.title}
      </Text>
      {props.children}
    </Box>
  );
}

/** Lines of text, clipped to `height` from `scroll`. */
export function TextBlock(props: {
  text: string;
  height: number;
  scroll?: number;
  lineHue?: (line: string) => Hue | undefined;
}): ReactNode {
  const hue = useHue();
  const lines = props.text.split("\n");
  const from = Math.max(0, Math.min(props.scroll ?? 0, Math.max(0, lines.length - props.height)));
  const shown = lines.slice(from, from + Math.max(1, props.height));
  return (
    <Box flexDirection="column">
      {shown.map((l, i) => (
        <Text key={from + i} wrap="truncate" color={hue(props.lineHue?.(l))}>
          {l === "" ? " " : l}
        </Text>
      ))}
      {lines.length > shown.length && <Text dimColor>{`  lines ${from + 1}-${from + shown.length} of ${lines.length}`}</Text>}
    </Box>
  );
}

/** The filter line: being edited ("/ text_"), in force ("filter: text"), or nothing. */
export function FilterLine(props: {
  editing: boolean;
  draft: string;
  value: string;
  problem?: string | undefined;
  hint?: string;
}): ReactNode {
  const hue = useHue();
  if (props.editing) {
    return (
      <Box flexDirection="column">
        <Text color={hue("cyan")}>{`/ ${props.draft}█`}</Text>
        {props.problem ? <Text color={hue("red")}>{props.problem}</Text> : props.hint ? <Text dimColor>{props.hint}</Text> : null}
      </Box>
    );
  }
  return props.value ? <Text color={hue("cyan")}>{`filter: ${props.value}`}</Text> : null;
}

/** A confirm question, a running action, or the last action's result. */
export function ActionLine(props: {
  question?: string | undefined;
  busy?: boolean;
  result?: { text: string; ok: boolean } | undefined;
}): ReactNode {
  const hue = useHue();
  if (props.question) return <Text color={hue("yellow")} bold>{`${props.question} [y/N]`}</Text>;
  if (props.busy) return <Text color={hue("yellow")}>working…</Text>;
  if (props.result) return <Text color={hue(props.result.ok ? "green" : "red")}>{props.result.text}</Text>;
  return null;
}

/** An error from loading a screen's data. */
export function ErrorLine(props: { error: unknown }): ReactNode {
  const hue = useHue();
  if (props.error === undefined || props.error === null) return null;
  const e = props.error as { code?: string; message?: string };
  return <Text color={hue("red")} wrap="truncate">{`error ${e.code ?? ""}${e.code ? ": " : ""}${e.message ?? String(props.error)}`}</Text>;
}
