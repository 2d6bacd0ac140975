import { isoNow, systemClock, type Clock } from "./clock.js";

/** Log levels, most verbose first. */
export const LogLevel = { Debug: "debug", Info: "info", Warn: "warn", Error: "error", Silent: "silent" } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** A namespaced logger (`gateway.produce`, `dls.advisories`…). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(namespace: string): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger writing one line per entry to `write` (stderr by default). */
export function createLogger(
  level: LogLevel = "info",
  namespace = "junction",
  write: (line: string) => void = (l) => process.stderr.write(l + "\n"),
  clock: Clock = systemClock,
): Logger {
  const min = ORDER[level];
  const log = (lvl: Exclude<LogLevel, "silent">) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const extra = fields && Object.keys(fields).length > 0 ? " " + JSON.stringify(fields) : "";
    write(`${isoNow(clock)} ${lvl.toUpperCase().padEnd(5)} [${namespace}] ${msg}${extra}`);
  };
  return {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
    child: (ns) => createLogger(level, `${namespace}.${ns}`, write, clock),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = createLogger("silent");
