/**
 * Keyboard building blocks shared by the screens: list movement, the `/` filter line, and the
 * modal flag that tells the App to leave global keys (q, esc, ?, digits) to the screen.
 */
import { useInput, type Key } from "ink";
import { createContext, useContext, useEffect, useId, useRef, useState } from "react";

/** Whether a key means "go back" (esc, backspace; terminals send either code for backspace). */
export function isBack(input: string, key: Key): boolean {
  return key.escape || key.backspace || key.delete || input === "\u007f" || input === "\b";
}

/** The App's side of modal screens: while any part of a screen is modal, global keys are off. */
export const ModalContext = createContext<(id: string, modal: boolean) => void>(() => {});

/** Marks the calling part of a screen modal while `modal` is true. */
export function useModal(modal: boolean): void {
  const set = useContext(ModalContext);
  const id = useId();
  useEffect(() => {
    set(id, modal);
    return () => set(id, false);
  }, [id, modal, set]);
}

/** Moves a cursor over `count` items with arrows, j/k, page up/down, home/end (g/G). */
export function useCursor(count: number, active: boolean, page = 10): [number, (n: number) => void] {
  const [cursor, setCursor] = useState(0);
  const clamped = Math.max(0, Math.min(cursor, count - 1));
  useInput(
    (input, key) => {
      if (count === 0) return;
      let next = clamped;
      if (key.downArrow || input === "j") next++;
      else if (key.upArrow || input === "k") next--;
      else if (key.pageDown) next += page;
      else if (key.pageUp) next -= page;
      else if (key.home || input === "g") next = 0;
      else if (key.end || input === "G") next = count - 1;
      else return;
      setCursor(Math.max(0, Math.min(count - 1, next)));
    },
    { isActive: active },
  );
  return [clamped, setCursor];
}

/** The `/` filter line of a list. */
export interface FilterState {
  /** Whether the line is being edited (the screen is modal). */
  editing: boolean;
  /** The text being typed. */
  draft: string;
  /** The filter in force. */
  value: string;
  set(value: string): void;
}

/**
 * `/` starts editing, typing edits, enter applies, esc cancels. `onApply` may refuse a value by
 * returning a problem (shown by the screen); the line then stays open.
 */
export function useFilter(
  active: boolean,
  initial = "",
  onApply?: (value: string) => string | undefined,
): FilterState & { problem: string | undefined } {
  const [editing, setEditing] = useState(false);
  const [draft, setDraftState] = useState(initial);
  // Keys can arrive faster than renders: edit through a ref so none is lost.
  const draftRef = useRef(initial);
  const setDraft = (f: string | ((d: string) => string)) => {
    draftRef.current = typeof f === "function" ? f(draftRef.current) : f;
    setDraftState(draftRef.current);
  };
  const [value, setValue] = useState(initial);
  const [problem, setProblem] = useState<string | undefined>();
  useModal(editing);
  useInput(
    (input, key) => {
      if (!editing) {
        if (input === "/") {
          setDraft(value);
          setProblem(undefined);
          setEditing(true);
        }
        return;
      }
      if (key.return) {
        const d = draftRef.current;
        const p = onApply?.(d);
        setProblem(p);
        if (p === undefined) {
          setValue(d);
          setEditing(false);
        }
      } else if (key.escape) {
        setProblem(undefined);
        setEditing(false);
      } else if (key.backspace || key.delete) setDraft((d) => d.slice(0, -1));
      else if (key.ctrl && input === "u") setDraft("");
      else if (!key.ctrl && !key.meta && input && !key.tab && !key.upArrow && !key.downArrow) setDraft((d) => d + input);
    },
    { isActive: active },
  );
  return { editing, draft, value, problem, set: (v) => (setValue(v), setDraft(v)) };
}

/** A question waiting for y/n, and what to do on yes. */
export interface Pending {
  question: string;
  run: () => Promise<string>;
}

/**
 * Confirm-first actions: `ask` shows the question; y runs it (its result string or error is
 * shown), n or esc cancels. The screen is modal while asking or running.
 */
export function useConfirm(active: boolean): {
  pending: Pending | undefined;
  busy: boolean;
  result: { text: string; ok: boolean } | undefined;
  ask: (p: Pending) => void;
  clear: () => void;
} {
  const [pending, setPending] = useState<Pending | undefined>();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ text: string; ok: boolean } | undefined>();
  useModal(pending !== undefined || busy);
  useInput(
    (input, key) => {
      if (!pending || busy) return;
      if (input === "y" || input === "Y") {
        const p = pending;
        setPending(undefined);
        setBusy(true);
        p.run().then(
          (text) => {
            setResult({ text, ok: true });
            setBusy(false);
          },
          (err: unknown) => {
            const e = err as { code?: string; message?: string };
            setResult({ text: `failed: ${e.code ? e.code + ": " : ""}${e.message ?? String(err)}`, ok: false });
            setBusy(false);
          },
        );
      } else if (input === "n" || input === "N" || key.escape || key.return) {
        setPending(undefined);
        setResult({ text: "cancelled", ok: true });
      }
    },
    { isActive: active },
  );
  return {
    pending,
    busy,
    result,
    ask: (p) => {
      setResult(undefined);
      setPending(p);
    },
    clear: () => setResult(undefined),
  };
}

/** What {@link useListAndVersions} gives a screen. */
export interface ListAndVersions<T, V> {
  pane: "list" | "versions";
  item: T | undefined;
  version: V | undefined;
  cursor: number;
  versionCursor: number;
  versions: V[];
}

/**
 * The two-pane pattern of the schemas and functions screens: a list of named items (cursor,
 * selection callback) and the selected item's versions, newest first. Tab, ←/→ or enter on the
 * list switch panes; `onKey` gets the other keys, with the selected item.
 */
export function useListAndVersions<T extends { name: string }, V extends { version: number }>(o: {
  items: readonly T[];
  versions: readonly V[] | undefined;
  active: boolean;
  editing: boolean;
  onSelect?: ((name: string) => void) | undefined;
  onSelectVersion?: ((name: string, version: number) => void) | undefined;
  onKey?: (input: string, item: T | undefined) => void;
}): ListAndVersions<T, V> {
  const [pane, setPane] = useState<"list" | "versions">("list");
  const [cursor] = useCursor(o.items.length, o.active && !o.editing && pane === "list");
  const versions = [...(o.versions ?? [])].sort((a, b) => b.version - a.version);
  const [versionCursor, setVersionCursor] = useCursor(versions.length, o.active && !o.editing && pane === "versions");
  const item = o.items[cursor];
  const version = versions[versionCursor];
  useEffect(() => {
    if (item) o.onSelect?.(item.name);
    setVersionCursor(0);
  }, [item?.name]);
  useEffect(() => {
    if (item && version) o.onSelectVersion?.(item.name, version.version);
  }, [item?.name, version?.version]);
  useInput(
    (input, key) => {
      if (o.editing) return;
      if (key.tab || key.rightArrow || key.leftArrow || (key.return && pane === "list"))
        setPane((p) => (p === "list" ? "versions" : "list"));
      else o.onKey?.(input, item);
    },
    { isActive: o.active },
  );
  return { pane, item, version, cursor, versionCursor, versions };
}
