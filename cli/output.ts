import { Option, type Command } from "commander";
import { stringify as toYaml } from "yaml";
import { JunctionError } from "../core/protocol/index.js";
import { connect, type ConnectOptions, type JunctionClient } from "../sdk/index.js";

/**
 * The world a command runs in, injected so tests can run commands in-process: where it writes,
 * how it connects to a broker, its environment, and its time (for `--watch`).
 */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (progress bars). */
  isTTY: boolean;
  /** Whether stdout is a terminal (`--watch` clears and redraws it). @default false */
  outIsTTY?: boolean | undefined;
  /** Connects an SDK client. @default the SDK's connect */
  connect?: ((o: ConnectOptions) => Promise<JunctionClient>) | undefined;
  /** Environment variables. @default process.env */
  env?: NodeJS.ProcessEnv | undefined;
  /** Milliseconds since the epoch. @default Date.now */
  now?: (() => number) | undefined;
  /** Resolves after `ms`, or at once when `signal` aborts. @default a timer */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  /**
   * Calls `stop` on the first interrupt (Ctrl-C); returns a function that stops listening.
   * @default SIGINT and SIGTERM of this process
   */
  onInterrupt?: ((stop: () => void) => () => void) | undefined;
}

/** Waits `ms`, or less when `signal` aborts first. */
export function timerSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Calls `stop` on the first SIGINT or SIGTERM of this process. */
export function processInterrupt(stop: () => void): () => void {
  const on = () => {
    off();
    stop();
  };
  const off = () => {
    process.off("SIGINT", on);
    process.off("SIGTERM", on);
  };
  process.on("SIGINT", on);
  process.on("SIGTERM", on);
  return off;
}

/** The real terminal. */
export const processIo: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  isTTY: process.stderr.isTTY === true,
  outIsTTY: process.stdout.isTTY === true,
  connect,
  env: process.env,
  now: Date.now,
  sleep: timerSleep,
  onInterrupt: processInterrupt,
};

/** How a read command prints its result: `table` (for people), `json` or `yaml` (for scripts). */
export const OutputFormat = { Table: "table", Json: "json", Yaml: "yaml" } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

/** The options {@link withOutput} adds. */
export interface OutputOpts {
  output?: string | undefined;
  json?: boolean | undefined;
}

/** The help of `--json`, an alias of `-o json`. */
export const JSON_HELP = "print JSON (the same as -o json)";

/** The `-o, --output <format>` option (table, json, yaml). */
export function outputOption(): Option {
  return new Option("-o, --output <format>", "output format (default: table)").choices(Object.values(OutputFormat));
}

/** Adds `-o, --output <format>` and `--json` (the same as `-o json`) to a command. */
export function withOutput(cmd: Command): Command {
  return cmd.addOption(outputOption()).option("--json", JSON_HELP);
}

/** The output format a command was asked for: `-o`, else `--json`, else table. */
export function outputFormat(o: OutputOpts): OutputFormat {
  const asked = o.output;
  if (asked !== undefined && !(Object.values(OutputFormat) as string[]).includes(asked)) {
    throw new JunctionError("INVALID_ARGUMENT", `-o/--output must be table, json or yaml (got '${asked}')`, {
      details: { option: "output" },
    });
  }
  if (o.json === true && asked !== undefined && asked !== OutputFormat.Json) {
    throw new JunctionError("INVALID_ARGUMENT", `--json and -o ${asked} ask for different formats; give one`, {
      details: { option: "output" },
    });
  }
  return o.json === true ? OutputFormat.Json : ((asked as OutputFormat | undefined) ?? OutputFormat.Table);
}

/** A value as the machine-readable format's text (`json` or `yaml`). */
export function formatValue(format: "json" | "yaml", value: unknown): string {
  if (format === OutputFormat.Json) return JSON.stringify(value, null, 2) + "\n";
  // Through JSON first, so YAML shows exactly what JSON shows (dates as strings, no undefined).
  return toYaml(JSON.parse(JSON.stringify(value ?? null)) as unknown);
}

/** A value in the asked format: JSON, YAML, or the command's own text (`text()`). */
export function render(format: OutputFormat, value: unknown, text: () => string): string {
  return format === OutputFormat.Table ? text() : formatValue(format, value);
}

/**
 * Prints a value in the asked format: JSON, YAML, or the command's own text (`text()`). A
 * boolean means `--json` (true) or text (false).
 */
export function print(io: Io, format: OutputFormat | OutputOpts | boolean, value: unknown, text: () => string): void {
  const f =
    typeof format === "boolean"
      ? format
        ? OutputFormat.Json
        : OutputFormat.Table
      : typeof format === "string"
        ? format
        : outputFormat(format);
  io.out(render(f, value, text));
}

/** Formats rows as an aligned table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const all = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return (
    all
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/**
 * Ends a command with an exit code once it has said what went wrong (some messages failed, a
 * resend partly failed): nothing more is printed.
 */
export class ExitCode extends Error {
  readonly exitCode: number;
  constructor(exitCode: number, message = `exit ${exitCode}`) {
    super(message);
    this.name = "ExitCode";
    this.exitCode = exitCode;
  }
}

/** Prints an error as `error CODE: message` (plus details) and returns the exit code. */
export function reportError(io: Io, err: unknown): number {
  if (err instanceof ExitCode) return err.exitCode;
  if (err instanceof JunctionError) {
    io.err(`error ${err.code}: ${err.message}\n`);
    if (err.details && Object.keys(err.details).length > 0) io.err(`  details: ${JSON.stringify(err.details)}\n`);
    return 1;
  }
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === "string" && e.code.startsWith("commander.")) return 2;
  io.err(`error: ${e?.message ?? String(err)}\n`);
  return 1;
}

/** Parses `k=v` pairs. */
export function parsePairs(pairs: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const i = p.indexOf("=");
    if (i <= 0) throw new JunctionError("INVALID_ARGUMENT", `${what} must look like key=value (got '${p}')`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** Parses an integer option, naming it on error. */
export function intOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw new JunctionError("INVALID_ARGUMENT", `--${name} must be an integer (got '${v}')`, { details: { option: name } });
  return n;
}
