import type { Command } from "commander";
import { isJunctionError, JunctionError } from "../core/protocol/index.js";
import { intOption, processInterrupt, timerSleep, type Io } from "./output.js";

/** The options {@link withWatch} adds. */
export interface WatchOpts {
  watch?: boolean | undefined;
  interval?: string | undefined;
}

/** Redraw period of `--watch` when `--interval` is not given, in ms. */
export const DEFAULT_WATCH_INTERVAL_MS = 2000;
/** The shortest `--interval`, in ms: each redraw is a request to the broker. */
export const MIN_WATCH_INTERVAL_MS = 100;

/** Adds `-w, --watch` and `--interval <ms>` to a command. */
export function withWatch(cmd: Command): Command {
  return cmd
    .option("-w, --watch", "redraw until Ctrl-C")
    .option("--interval <ms>", `time between redraws with --watch, in ms (default ${DEFAULT_WATCH_INTERVAL_MS})`);
}

/** The redraw period asked for, checked. */
export function watchIntervalMs(o: WatchOpts): number {
  const ms = intOption("interval", o.interval) ?? DEFAULT_WATCH_INTERVAL_MS;
  if (ms < MIN_WATCH_INTERVAL_MS) {
    throw new JunctionError("INVALID_ARGUMENT", `--interval must be at least ${MIN_WATCH_INTERVAL_MS} ms (got ${ms})`, {
      details: { option: "interval" },
    });
  }
  return ms;
}

/** Clears a terminal and puts the cursor home. */
const CLEAR = "\x1b[H\x1b[2J\x1b[3J";

/**
 * Prints `snapshot()` every `intervalMs` until Ctrl-C (then resolves). On a terminal each
 * snapshot replaces the last one under a header (what runs, how often, when); otherwise the
 * snapshots follow one another, separated by a blank line, so a pipe gets all of them. An error
 * a retry can fix (the broker is away, a timeout) is shown in place of a snapshot and the watch
 * goes on; any other error ends it.
 */
export async function watch(io: Io, o: { intervalMs: number; title: string }, snapshot: () => Promise<string>): Promise<void> {
  const stop = new AbortController();
  const stopped = new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve(), { once: true }));
  const off = (io.onInterrupt ?? processInterrupt)(() => stop.abort());
  const sleep = io.sleep ?? timerSleep;
  const now = io.now ?? Date.now;
  try {
    for (let n = 0; !stop.signal.aborted; n++) {
      let text: string | undefined;
      try {
        // Ctrl-C does not wait for a request in flight.
        text = await Promise.race([snapshot(), stopped.then(() => undefined)]);
      } catch (err) {
        if (!isJunctionError(err) || !err.retriable) throw err;
        text = `error ${err.code}: ${err.message} (trying again in ${o.intervalMs} ms)\n`;
      }
      if (text === undefined) break;
      if (io.outIsTTY) io.out(`${CLEAR}Every ${o.intervalMs} ms: ${o.title}    ${new Date(now()).toISOString()}\n\n${text}`);
      else io.out(n === 0 ? text : `\n${text}`);
      await sleep(o.intervalMs, stop.signal);
    }
  } finally {
    off();
  }
}
