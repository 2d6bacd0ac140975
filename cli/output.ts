import { JunctionError } from "../core/protocol/index.js";
import { connect, type ConnectOptions, type JunctionClient } from "../sdk/index.js";

/**
 * The world a command runs in, injected so tests can run commands in-process: where it writes,
 * how it connects to a broker, and its environment.
 */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  /** Connects an SDK client. @default the SDK's connect */
  connect?: ((o: ConnectOptions) => Promise<JunctionClient>) | undefined;
  /** Environment variables. @default process.env */
  env?: NodeJS.ProcessEnv | undefined;
}

/** The real terminal. */
export const processIo: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  isTTY: process.stderr.isTTY === true,
  connect,
  env: process.env,
};

/** Prints a value as JSON, or with the given text formatter. */
export function print(io: Io, json: boolean, value: unknown, text: () => string): void {
  io.out(json ? JSON.stringify(value, null, 2) + "\n" : text());
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
