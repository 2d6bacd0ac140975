/**
 * Logging: pino underneath, one small interface on top. Production (`junction gateway`) writes
 * one JSON object per line — `{"level":"info","time":"<ISO>","component":"gateway.produce",
 * "msg":"…",…fields}` — that log collectors parse as is; `junction dev` writes readable lines.
 * Levels are set per component (`info,gateway.produce=debug`), and every entry's fields go
 * through {@link redactSecrets}, so no password, token or seed reaches a line.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import { JunctionError, check, resolveOptions, type Filled } from "../protocol/index.js";
import { isoNow, systemClock, type Clock } from "./clock.js";
import { redactSecrets, redactString } from "./redact.js";

/** Log levels, most verbose first. */
export const LogLevel = { Debug: "debug", Info: "info", Warn: "warn", Error: "error", Silent: "silent" } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** How lines look: `json` (one object per line) or `pretty` (for people at a terminal). */
export const LogFormat = { Json: "json", Pretty: "pretty" } as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

/** A namespaced logger (`gateway.produce`, `gateway.dls`…). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger for a part of this component: `gateway` → `gateway.<namespace>`. */
  child(namespace: string): Logger;
}

const LEVELS = Object.values(LogLevel) as readonly LogLevel[];
const COMPONENT = "[a-z0-9_-]+(?:\\.[a-z0-9_-]+)*";
const LEVEL = `(?:${LEVELS.join("|")})`;
const ENTRY = `\\s*(?:${COMPONENT}\\s*=\\s*)?${LEVEL}\\s*`;

/**
 * The syntax of a level setting (`--log-level`, `JUNCTION_LOG_LEVEL`), for JSON Schemas:
 * comma-separated entries, each a level (the default) or `<component>=<level>`.
 */
export const LOG_LEVEL_SPEC_PATTERN = `^${ENTRY}(?:,${ENTRY})*$`;
const SPEC_RE = new RegExp(LOG_LEVEL_SPEC_PATTERN);

/** A parsed level setting: the default level and the levels of named components. */
export interface LogLevels {
  readonly default: LogLevel;
  /** Component (`gateway.produce`) → level; it applies to the component and everything below it. */
  readonly components: Readonly<Record<string, LogLevel>>;
}

/**
 * Parses a level setting: `info`, `warn,gateway.produce=debug`, `gateway.auth=debug` (default
 * `info`). A component's level covers its children (`gateway.dls` covers `gateway.dls.writer`);
 * the longest matching component wins; a later entry for the same component wins. Throws
 * INVALID_ARGUMENT naming the bad entry.
 */
export function parseLogLevels(spec: string): LogLevels {
  if (!SPEC_RE.test(spec)) {
    const bad = spec.split(",").find((e) => !new RegExp(`^${ENTRY}$`).test(e)) ?? spec;
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `bad log level ${JSON.stringify(spec)}: ${JSON.stringify(bad.trim())} is not a level (${LEVELS.join(", ")}) or <component>=<level>, e.g. "info,gateway.produce=debug"`,
      { details: { option: "logLevel", got: spec } },
    );
  }
  let def: LogLevel = LogLevel.Info;
  const components: Record<string, LogLevel> = {};
  for (const entry of spec.split(",")) {
    const [a, b] = entry.split("=").map((s) => s.trim()) as [string, string | undefined];
    if (b === undefined) def = a as LogLevel;
    else components[a] = b as LogLevel;
  }
  return Object.freeze({ default: def, components: Object.freeze(components) });
}

/** The level of a component under a parsed setting (longest matching prefix, else the default). */
export function levelOf(levels: LogLevels, component: string): LogLevel {
  let best: LogLevel = levels.default;
  let bestLen = -1;
  for (const [c, lvl] of Object.entries(levels.components)) {
    if ((component === c || component.startsWith(c + ".")) && c.length > bestLen) {
      best = lvl;
      bestLen = c.length;
    }
  }
  return best;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Level setting: a level, or per component (`info,gateway.produce=debug`); see {@link parseLogLevels}. @default "info" */
  level?: string | undefined;
  /** The component this logger speaks for; children add `.<name>`. @default "junction" */
  namespace?: string | undefined;
  /** @default "json" */
  format?: LogFormat | undefined;
  /** Colours in the `pretty` format (levels, component). @default false */
  color?: boolean | undefined;
  /** Receives each line, without its newline. @default synchronous writes to stderr */
  write?: ((line: string) => void) | undefined;
  /** Where `time` comes from. @default the system clock */
  clock?: Clock | undefined;
}

/** Defaults of {@link LoggerOptions} (`write` absent: stderr). */
export const DEFAULT_LOGGER_OPTIONS: Filled<Omit<LoggerOptions, "write">> = Object.freeze({
  level: "info",
  namespace: "junction",
  format: LogFormat.Json,
  color: false,
  clock: systemClock,
});

type ResolvedLoggerOptions = Filled<Omit<LoggerOptions, "write">> & Pick<LoggerOptions, "write">;

/** Validates and freezes {@link LoggerOptions}; a bad value fails naming the option. */
export function resolveLoggerOptions(o: LoggerOptions = {}): ResolvedLoggerOptions {
  const r = resolveOptions<ResolvedLoggerOptions>("logger", DEFAULT_LOGGER_OPTIONS, o, {
    level: check.string,
    namespace: (v) => (typeof v === "string" && new RegExp(`^${COMPONENT}$`).test(v) ? undefined : "a component name like gateway.produce"),
    format: check.oneOf(...Object.values(LogFormat)),
    color: check.bool,
    write: check.fn,
    clock: check.any,
  });
  parseLogLevels(r.level);
  return r;
}

const noop = (): void => {};

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
});

/**
 * A logger backed by pino. The options form is the main one; the positional form
 * (`createLogger("debug", "gateway", write, clock)`) is a shorthand for the same options in JSON.
 */
export function createLogger(options?: LoggerOptions): Logger;
export function createLogger(level?: string, namespace?: string, write?: (line: string) => void, clock?: Clock): Logger;
export function createLogger(
  a: LoggerOptions | string | undefined = {},
  namespace?: string,
  write?: (line: string) => void,
  clock?: Clock,
): Logger {
  const o = resolveLoggerOptions(typeof a === "string" ? { level: a, namespace, write, clock } : a);
  const levels = parseLogLevels(o.level);
  const root = pino(
    {
      // Every namespaced logger sets its own level; the root lets everything through to them.
      level: "debug",
      // No pid or hostname: the platform labels each line with its pod or unit.
      base: null,
      timestamp: () => `,"time":"${isoNow(o.clock)}"`,
      formatters: { level: (label) => ({ level: label }) },
      // Fields arrive already serialized by redactSecrets (errors included): no second pass.
      serializers: { err: (v: unknown) => v },
    },
    destination(o),
  );
  return namespaced(root, levels, o.namespace);
}

/** Fields that pino writes itself: a field of the same name is renamed rather than duplicated. */
const RESERVED = new Set(["level", "time", "component", "msg"]);

function namespaced(root: PinoLogger, levels: LogLevels, component: string): Logger {
  const min = levelOf(levels, component);
  if (min === LogLevel.Silent)
    return { debug: noop, info: noop, warn: noop, error: noop, child: (ns) => namespaced(root, levels, `${component}.${ns}`) };
  // Children of the root, not of each other: pino would repeat `component` once per generation.
  const p = root.child({ component }, { level: min });
  const at = (lvl: Exclude<LogLevel, "silent">) => {
    if (!p.isLevelEnabled(lvl)) return noop;
    return (msg: string, fields?: Record<string, unknown>) => {
      p[lvl](safeFields(fields), redactString(msg));
    };
  };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (ns) => namespaced(root, levels, `${component}.${ns}`),
  };
}

function safeFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  const clean = redactSecrets(fields) as Record<string, unknown>;
  for (const k of Object.keys(clean)) {
    if (RESERVED.has(k)) {
      clean[`${k}_`] = clean[k];
      delete clean[k];
    }
  }
  return clean;
}

/** Where pino writes: the injected `write` or stderr, through the pretty formatter when asked. */
function destination(o: ResolvedLoggerOptions): DestinationStream {
  const out: (line: string) => void =
    o.write ??
    (() => {
      // Synchronous, like console.error: nothing is lost when the process exits or crashes.
      const fd2 = pino.destination({ dest: 2, sync: true });
      return (line: string) => fd2.write(line + "\n");
    })();
  const pretty = o.format === LogFormat.Pretty;
  return {
    write(chunk: string) {
      const line = chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk;
      out(pretty ? prettyLine(line, o.color) : line);
    },
  };
}

const COLORS: Record<string, string> = { debug: "\x1b[90m", info: "\x1b[32m", warn: "\x1b[33m", error: "\x1b[31m" };
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";

/**
 * A JSON line made readable: `<time> LEVEL [component] message key=value …`, with an error's
 * stack on the lines below. Values without spaces or quotes print bare; others as JSON.
 */
export function prettyLine(json: string, color = false): string {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, component, msg, ...fields } = e;
  const lvl = String(level);
  const paint = (code: string | undefined, s: string) => (color && code ? `${code}${s}${RESET}` : s);
  const stacks: string[] = [];
  const kv = Object.entries(fields).map(([k, v]) => {
    if (v !== null && typeof v === "object" && typeof (v as { stack?: unknown }).stack === "string") {
      const { stack, ...rest } = v as { stack: string };
      stacks.push(stack);
      return `${k}=${JSON.stringify(rest)}`;
    }
    return `${k}=${typeof v === "string" && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`;
  });
  const head = `${String(time)} ${paint(COLORS[lvl], lvl.toUpperCase().padEnd(5))} ${paint(DIM, `[${String(component)}]`)} ${String(msg)}`;
  const body = kv.length > 0 ? ` ${kv.join(" ")}` : "";
  return head + body + stacks.map((s) => "\n" + s.replace(/^/gm, "    ")).join("");
}
