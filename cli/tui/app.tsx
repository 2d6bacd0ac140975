/**
 * The App: connects (and keeps retrying), follows live events, keeps the navigation stack, and
 * wires each pure screen to its data.
 */
import { Box, useApp, useInput } from "ink";
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import type { DeadLetterFilter } from "../../sdk/index.js";
import { formatAge } from "./format.js";
import { LiveContext, useNow, usePoll } from "./hooks/data.js";
import { isBack, ModalContext } from "./hooks/keys.js";
import { useTerminalSize } from "./hooks/terminal.js";
import { groupRow, nextRates, rateSample, stationRow, type RateState } from "./model.js";
import { DeadLetterScreen, DeadLettersScreen } from "./screens/dead-letters.js";
import { FunctionsScreen } from "./screens/functions.js";
import { OverviewScreen } from "./screens/overview.js";
import { SchemasScreen } from "./screens/schemas.js";
import { StationScreen, type BrowsedMessage } from "./screens/station.js";
import type { TuiEvent, TuiSource } from "./source.js";
import { ThemeProvider, useHue, type Theme } from "./theme.js";
import { Text } from "./theme.js";

/** Where the user is. */
export type Route =
  | { screen: "overview" }
  | { screen: "station"; name: string }
  | { screen: "dls"; filter: DeadLetterFilter }
  | { screen: "dl"; id: string }
  | { screen: "schemas" }
  | { screen: "functions" };

/** Options of the {@link App}. */
export interface AppProps {
  /** Opens the data source; retried every `reconnectMs` until it succeeds. */
  open: () => Promise<TuiSource>;
  theme: Theme;
  /** How often screens poll. @default 1500 */
  pollMs?: number;
  /** Delay between connection attempts while the broker is unreachable. @default 1000 */
  reconnectMs?: number;
  /** Messages the browser reads. @default 20 */
  browseCount?: number;
  /** The first screen. @default overview */
  initial?: Route;
  /** Called when the user quits, after the source is closed. */
  onExit?: () => void;
  /** Where time comes from (rates, connection banner). @default Date.now */
  clock?: { now(): number };
}

const systemClock = { now: () => Date.now() };

const TOP: { key: string; label: string; route: Route }[] = [
  { key: "1", label: "Overview", route: { screen: "overview" } },
  { key: "2", label: "Dead letters", route: { screen: "dls", filter: {} } },
  { key: "3", label: "Schemas", route: { screen: "schemas" } },
  { key: "4", label: "Functions", route: { screen: "functions" } },
];

const HINTS: Record<Route["screen"], string> = {
  overview: "↑↓/jk move · enter open station · x its dead letters · / filter",
  station:
    "tab groups/messages · enter group's dead letters · x station's dead letters · r re-read messages · z replay group from start (or the selected message) · Z skip to latest",
  dls: "enter open · r resend · R resend all matching · d drop · D drop all matching · / filter",
  dl: "r resend · d drop · j/k scroll",
  schemas: "tab list/versions · v definition/diff · / filter",
  functions: "tab list/versions · l source/logs · x release a quarantined function · / filter",
};

/** The help overlay's text. */
export const HELP_TEXT = `Keys
  ↑ ↓ or j k     move            enter          open
  esc, backspace back            tab            next pane
  /              filter          ?              this help
  1 2 3 4        overview, dead letters, schemas, functions
  q              quit

Dead letters
  r  resend the selected one     R  resend all that match the filter
  d  drop the selected one       D  drop all that match the filter
  Every action asks first (y / n) and shows its result.
  Filter: reason:poison|terminated|schema|function  group:<name>  station:<name>  text

Station
  Messages are read by a temporary consumer group (jn-tui-browse-…) that starts at the
  latest messages, acks what it reads and is deleted at once: real groups are not touched.`;

/** The Junction TUI. */
export function App(props: AppProps): ReactNode {
  return (
    <ThemeProvider theme={props.theme}>
      <Shell {...props} />
    </ThemeProvider>
  );
}

function Shell(props: AppProps): ReactNode {
  const app = useApp();
  const hue = useHue();
  const size = useTerminalSize();
  const pollMs = props.pollMs ?? 1500;
  const [source, setSource] = useState<TuiSource | undefined>();
  const clock = props.clock ?? systemClock;
  const [link, setLink] = useState<{ up: boolean; since: number; why?: string }>({ up: false, since: clock.now(), why: "connecting" });
  const [live, setLive] = useState(0);
  const [lastEvent, setLastEvent] = useState<TuiEvent | undefined>();
  const [stack, setStack] = useState<Route[]>([props.initial ?? { screen: "overview" }]);
  const [help, setHelp] = useState(false);
  const modals = useRef(new Set<string>());
  const [, setModalTick] = useState(0);
  const setModal = useCallback((id: string, on: boolean) => {
    const had = modals.current.has(id);
    if (on) modals.current.add(id);
    else modals.current.delete(id);
    if (had !== on) setModalTick((n) => n + 1);
  }, []);
  const sourceRef = useRef<TuiSource | undefined>(undefined);
  const now = useNow(1000);

  // Connect, and keep trying while the broker is unreachable.
  useEffect(() => {
    let stop = false;
    let timer: NodeJS.Timeout | undefined;
    const attempt = () => {
      props.open().then(
        (s) => {
          if (stop) {
            void s.close();
            return;
          }
          sourceRef.current = s;
          setSource(s);
          setLink({ up: true, since: clock.now() });
        },
        (err: unknown) => {
          if (stop) return;
          const e = err as { code?: string; message?: string };
          setLink((l) => ({ up: false, since: l.up ? clock.now() : l.since, why: e.code ?? e.message ?? String(err) }));
          timer = setTimeout(attempt, props.reconnectMs ?? 1000);
        },
      );
    };
    attempt();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);

  // Live events and connection state.
  useEffect(() => {
    if (!source) return;
    let pending: NodeJS.Timeout | undefined;
    const bump = () => {
      // Bursts of events (a resend of thousands) refresh once.
      pending ??= setTimeout(() => {
        pending = undefined;
        setLive((n) => n + 1);
      }, 200);
    };
    const offEvent = source.onEvent((e) => {
      setLastEvent(e);
      bump();
    });
    const offLink = source.onLink((s) => {
      setLink((l) =>
        s === "up" ? { up: true, since: clock.now() } : l.up ? { up: false, since: clock.now(), why: "connection lost" } : l,
      );
      if (s === "up") bump();
    });
    return () => {
      clearTimeout(pending);
      offEvent();
      offLink();
    };
  }, [source]);

  const route = stack[stack.length - 1]!;
  const push = (r: Route) => setStack((s) => [...s, r]);
  const quit = () => {
    const s = sourceRef.current;
    void (s ? s.close() : Promise.resolve())
      .catch(() => {})
      .finally(() => {
        app.exit();
        props.onExit?.();
      });
  };
  useInput((input, key) => {
    if (modals.current.size > 0) return;
    if (help) {
      if (input === "?" || isBack(input, key) || input === "q") setHelp(false);
      return;
    }
    if (input === "q" || (key.ctrl && input === "c")) quit();
    else if (input === "?") setHelp(true);
    else if (isBack(input, key)) setStack((s) => (s.length > 1 ? s.slice(0, -1) : s));
    else {
      const top = TOP.find((t) => t.key === input);
      if (top) setStack([top.route]);
    }
  });

  const width = size.columns;
  const height = size.rows - 4 - (link.up ? 0 : 1);
  const common = { width, height, active: !help, clock };
  let body: ReactNode;
  if (!source) body = <Text dimColor>{`connecting… (${link.why ?? ""})`}</Text>;
  else if (help) body = <Text>{HELP_TEXT}</Text>;
  else {
    switch (route.screen) {
      case "overview":
        body = (
          <OverviewContainer
            source={source}
            pollMs={pollMs}
            {...common}
            onOpen={(name) => push({ screen: "station", name })}
            onDeadLetters={(station) => push({ screen: "dls", filter: { station } })}
          />
        );
        break;
      case "station":
        body = (
          <StationContainer
            key={route.name}
            source={source}
            name={route.name}
            pollMs={pollMs}
            browseCount={props.browseCount ?? 20}
            {...common}
            onDeadLetters={(group) => push({ screen: "dls", filter: { station: route.name, ...(group ? { group } : {}) } })}
          />
        );
        break;
      case "dls":
        body = (
          <DeadLettersContainer
            key={JSON.stringify(route.filter)}
            source={source}
            initial={route.filter}
            pollMs={pollMs}
            now={now}
            {...common}
            onOpen={(id) => push({ screen: "dl", id })}
          />
        );
        break;
      case "dl":
        body = <DeadLetterContainer key={route.id} source={source} id={route.id} pollMs={pollMs} {...common} />;
        break;
      case "schemas":
        body = <SchemasContainer source={source} pollMs={pollMs} {...common} />;
        break;
      case "functions":
        body = <FunctionsContainer source={source} pollMs={pollMs} {...common} />;
        break;
    }
  }
  const target = source?.target ?? "";
  // The target goes when the terminal is too narrow for it.
  const status = (link.up ? "● live" : "○ down") + (width >= 63 + 10 + target.length ? " " + target : "");
  const current = TOP.find(
    (t) => t.route.screen === route.screen || (route.screen === "station" && t.key === "1") || (route.screen === "dl" && t.key === "2"),
  );
  return (
    <LiveContext.Provider value={live}>
      <ModalContext.Provider value={setModal}>
        <Box flexDirection="column" width={width} height={size.rows} overflow="hidden">
          <Text wrap="truncate">
            <Text bold color={hue("magenta")}>
              {"Junction "}
            </Text>
            {TOP.map((t) => (
              <Text key={t.key} bold={t === current} inverse={t === current} color={hue(t === current ? "cyan" : undefined)}>
                {` ${t.key} ${t.label} `}
              </Text>
            ))}
            <Text color={hue(link.up ? "green" : "red")}>{"  " + status.padStart(Math.max(0, width - 63 - 2))}</Text>
          </Text>
          {!link.up && (
            <Text inverse color={hue("red")} wrap="truncate">
              {` BROKER UNREACHABLE (${link.why ?? "disconnected"}) for ${formatAge(now - link.since)}: reconnecting automatically… `}
            </Text>
          )}
          <Box flexDirection="column" flexGrow={1} overflow="hidden">
            {body}
          </Box>
          <Text dimColor wrap="truncate">
            {help ? "esc or ? close help · q quit" : HINTS[route.screen] + " · esc back · ? help · q quit"}
          </Text>
          {lastEvent && (
            <Text dimColor wrap="truncate">
              {`last event: ${lastEvent.kind} on ${lastEvent.station}, ${formatAge(now - lastEvent.at)} ago`}
            </Text>
          )}
        </Box>
      </ModalContext.Provider>
    </LiveContext.Provider>
  );
}

interface Common {
  source: TuiSource;
  pollMs: number;
  clock: { now(): number };
  width: number;
  height: number;
  active: boolean;
}

function OverviewContainer(p: Common & { onOpen: (name: string) => void; onDeadLetters: (station: string) => void }): ReactNode {
  const rates = useRef(new Map<string, RateState>());
  const polled = usePoll(
    async () => {
      const snaps = await p.source.stations();
      const at = p.clock.now();
      return snaps.map((s) => {
        const r = nextRates(rates.current.get(s.station.name), rateSample(s, at));
        rates.current.set(s.station.name, r);
        return stationRow(s, r);
      });
    },
    p.pollMs,
    [p.source],
  );
  return (
    <OverviewScreen
      rows={polled.data ?? []}
      loading={polled.loading}
      error={polled.error}
      width={p.width}
      height={p.height}
      active={p.active}
      onOpen={p.onOpen}
      onDeadLetters={p.onDeadLetters}
    />
  );
}

function StationContainer(p: Common & { name: string; browseCount: number; onDeadLetters: (group?: string) => void }): ReactNode {
  const polled = usePoll(() => p.source.station(p.name), p.pollMs, [p.source, p.name]);
  const [messages, setMessages] = useState<BrowsedMessage[] | undefined>();
  const [browsing, setBrowsing] = useState(false);
  const [browseError, setBrowseError] = useState<unknown>();
  const browse = () => {
    if (browsing) return;
    setBrowsing(true);
    setBrowseError(undefined);
    p.source.browse(p.name, p.browseCount).then(
      (m) => {
        setMessages(m);
        setBrowsing(false);
      },
      (err: unknown) => {
        setBrowseError(err);
        setMessages((m) => m ?? []);
        setBrowsing(false);
      },
    );
  };
  const d = polled.data;
  const groups = (d?.groups ?? [])
    .filter((g) => !g.name.startsWith("jn-tui-browse-"))
    .map((g) => groupRow(g, d?.deadLettersByGroup?.[g.name]));
  return (
    <StationScreen
      station={d?.station}
      groups={groups}
      error={polled.error}
      messages={messages}
      messagesLoading={browsing}
      messagesError={browseError}
      width={p.width}
      height={p.height}
      active={p.active}
      onBrowse={browse}
      onDeadLetters={p.onDeadLetters}
      onReset={async (group, to) => {
        const seq = await p.source.groupReset(p.name, group, to);
        return `group ${group} now reads from #${seq}`;
      }}
    />
  );
}

const DLS_PAGE = 200;

function DeadLettersContainer(p: Common & { initial: DeadLetterFilter; now: number; onOpen: (id: string) => void }): ReactNode {
  const [filter, setFilter] = useState<DeadLetterFilter>(p.initial);
  const key = JSON.stringify(filter);
  const polled = usePoll(() => p.source.dlsList(filter, DLS_PAGE), p.pollMs, [p.source, key]);
  return (
    <DeadLettersScreen
      items={polled.data?.items ?? []}
      more={polled.data?.next !== undefined}
      filter={filter}
      error={polled.error}
      loading={polled.loading}
      now={p.now}
      width={p.width}
      height={p.height}
      active={p.active}
      onFilter={setFilter}
      onOpen={p.onOpen}
      onResend={async (t) => {
        const r = await p.source.dlsResend(t);
        polled.refresh();
        return r;
      }}
      onDrop={async (t) => {
        const r = await p.source.dlsDrop(t);
        polled.refresh();
        return r;
      }}
    />
  );
}

function DeadLetterContainer(p: Common & { id: string }): ReactNode {
  // A dead letter does not change; read it once (again after an action).
  const polled = usePoll(() => p.source.dlsGet(p.id), 60_000, [p.source, p.id]);
  const [data, setData] = useState(polled.data);
  useEffect(() => {
    if (polled.data) setData(polled.data);
  }, [polled.data]);
  return (
    <DeadLetterScreen
      deadLetter={data}
      error={polled.error}
      height={p.height}
      active={p.active}
      onResend={(t) => p.source.dlsResend(t)}
      onDrop={(t) => p.source.dlsDrop(t)}
    />
  );
}

function SchemasContainer(p: Common): ReactNode {
  const list = usePoll(() => p.source.schemas(), p.pollMs * 4, [p.source]);
  const [name, setName] = useState<string | undefined>();
  const [version, setVersion] = useState<number | undefined>();
  const versions = usePoll(name ? () => p.source.schemaVersions(name) : undefined, p.pollMs * 4, [p.source, name]);
  const prevVersion = versions.data
    ?.map((v) => v.version)
    .filter((v) => version !== undefined && v < version)
    .sort((a, b) => b - a)[0];
  const defs = usePoll(
    name && version !== undefined
      ? async () => ({
          definition: { version, text: await p.source.schemaDefinition(name, version) },
          previous:
            prevVersion !== undefined ? { version: prevVersion, text: await p.source.schemaDefinition(name, prevVersion) } : undefined,
        })
      : undefined,
    60_000,
    [p.source, name, version, prevVersion],
  );
  return (
    <SchemasScreen
      schemas={list.data ?? []}
      versions={versions.data}
      definition={defs.data?.definition}
      previous={defs.data?.previous}
      error={list.error ?? versions.error ?? defs.error}
      width={p.width}
      height={p.height}
      active={p.active}
      onSelect={(n) => {
        setName(n);
        setVersion(undefined);
      }}
      onSelectVersion={(_n, v) => setVersion(v)}
    />
  );
}

function FunctionsContainer(p: Common): ReactNode {
  const list = usePoll(() => p.source.functions(), p.pollMs * 2, [p.source]);
  const [name, setName] = useState<string | undefined>();
  const [version, setVersion] = useState<number | undefined>();
  const versions = usePoll(name ? () => p.source.functionVersions(name) : undefined, p.pollMs * 4, [p.source, name]);
  const source = usePoll(
    name && version !== undefined ? async () => ({ version, text: await p.source.functionSource(name, version) }) : undefined,
    60_000,
    [p.source, name, version],
  );
  const logs = usePoll(name ? () => p.source.functionLogs(name) : undefined, p.pollMs, [p.source, name]);
  const [releases, setReleases] = useState(0);
  const quarantined = usePoll(() => p.source.functionQuarantines(), p.pollMs, [p.source, releases]);
  const [notice, setNotice] = useState<string | undefined>();
  return (
    <FunctionsScreen
      functions={list.data ?? []}
      quarantined={quarantined.data}
      notice={notice}
      onRelease={(n) => {
        void p.source.functionRelease(n).then(
          (k) => {
            setNotice(k > 0 ? `released ${n} (${k} version${k === 1 ? "" : "s"})` : `${n} was not quarantined`);
            setReleases((x) => x + 1);
          },
          (err: unknown) => setNotice(`release failed: ${(err as Error).message}`),
        );
      }}
      versions={versions.data}
      source={source.data}
      logs={logs.data?.logs}
      stats={logs.data?.stats}
      error={list.error ?? versions.error ?? source.error}
      width={p.width}
      height={p.height}
      active={p.active}
      onSelect={(n) => {
        setName(n);
        setVersion(undefined);
      }}
      onSelectVersion={(_n, v) => setVersion(v)}
    />
  );
}
