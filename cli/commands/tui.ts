import type { Command } from "commander";
import { JunctionError } from "../../core/protocol/index.js";
import { connect } from "../../sdk/index.js";
import { connectOptionsOf, resolveConnection, type ConnectionFlags } from "../connection.js";
import { intOption, type Io } from "../output.js";

interface TuiOpts {
  pollMs?: string;
}

/** `junction tui`: the troubleshooting terminal UI. */
export function registerTui(program: Command, _io: Io): void {
  program
    .command("tui")
    .description("the troubleshooting terminal UI: stations, groups, dead letters, schemas, functions (live)")
    .option("--poll-ms <n>", "how often screens refresh, besides live events", "1500")
    .action(async (opts: TuiOpts, cmd: Command) => {
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        throw new JunctionError("INVALID_ARGUMENT", "junction tui needs a terminal (stdin and stdout must be a TTY)");
      }
      const pollMs = intOption("poll-ms", opts.pollMs) ?? 1500;
      if (pollMs < 100) throw new JunctionError("INVALID_ARGUMENT", `--poll-ms must be at least 100 (got ${pollMs})`);
      const flags = cmd.optsWithGlobals<ConnectionFlags>();
      // ink renders only the last frame when it believes it runs in CI (CI=true, read when ink
      // loads); in a real terminal the UI must be live, so clear that before loading it.
      process.env["CI"] = "0";
      process.env["CONTINUOUS_INTEGRATION"] = "0";
      const { runTui, sdkSource } = await import("../tui/index.js");
      // Fails now (no broker configured at all) rather than retrying forever.
      const target = await resolveConnection(flags);
      await runTui({
        pollMs,
        open: async () => {
          const c = await resolveConnection(flags);
          const client = await connect({ ...connectOptionsOf(c, "junction-tui"), requestTimeoutMs: 5000 });
          return sdkSource(client, { target: target.url });
        },
      });
    });
}
