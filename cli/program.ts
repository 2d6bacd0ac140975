import { Command } from "commander";
import { registerConsume } from "./commands/consume.js";
import { registerDev } from "./commands/dev.js";
import { registerGateway } from "./commands/gateway.js";
import { registerProduce } from "./commands/produce.js";
import { registerStation } from "./commands/station.js";
import { registerTui } from "./commands/tui.js";
import { registerSchema } from "./commands/schema.js";
import { registerFunction } from "./commands/function.js";
import { registerDls, registerGroup } from "./commands/dls.js";
import { registerUser } from "./commands/user.js";
import { registerNatsConfig } from "./commands/nats-config.js";
import { registerContext } from "./commands/context.js";
import { registerCompletion } from "./completion.js";
import { registerDoctor } from "./commands/doctor.js";
import { processIo, reportError, type Io } from "./output.js";

/** Builds the `junction` program; `io` is injectable for tests. */
export function buildProgram(io: Io = processIo): Command {
  const program = new Command("junction")
    .description("Junction: a schema-managed streaming broker on NATS JetStream")
    .version("0.1.0")
    .option("--url <url>", "NATS URL (env JUNCTION_URL; default: the dev broker in --data-dir)")
    .option("--user <user>", "user (env JUNCTION_USER)")
    .option("--password-file <file>", "file holding the password (env JUNCTION_PASSWORD_FILE, or the password itself in JUNCTION_PASSWORD)")
    .option("--tenant <tenant>", "an operator acting in another tenant (env JUNCTION_TENANT)")
    .option("--tls-ca <file>", "CA certificate (PEM) to verify the broker (env JUNCTION_TLS_CA)")
    .option("--tls-cert <file>", "client certificate (PEM) when the broker verifies clients (env JUNCTION_TLS_CERT)")
    .option("--tls-key <file>", "the client certificate's key (PEM) (env JUNCTION_TLS_KEY)")
    .option("--context <name>", "connect with this context of the config file (env JUNCTION_CONTEXT; see junction context)")
    .option("--data-dir <dir>", "dev broker data directory (credentials, JetStream store)", ".junction")
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError()
    .exitOverride();
  registerDev(program, io);
  registerGateway(program, io);
  registerStation(program, io);
  registerProduce(program, io);
  registerConsume(program, io);
  registerTui(program, io);
  registerSchema(program, io);
  registerFunction(program, io);
  registerDls(program, io);
  registerGroup(program, io);
  registerUser(program, io);
  registerNatsConfig(program, io);
  registerContext(program, io);
  registerDoctor(program, io);
  registerCompletion(program, io.out);
  return program;
}

/**
 * Runs `junction` with `argv` (as `process.argv`: node, script, then the arguments) and returns
 * the exit code: 0, 1 when the command failed (after saying why), 2 for a usage error.
 */
export async function runProgram(io: Io, argv: readonly string[]): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
    return e.code?.startsWith("commander.") ? (e.exitCode ?? 2) : reportError(io, err);
  }
}
