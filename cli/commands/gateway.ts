import type { Command } from "commander";
import { createLogger, startJunctionGateway } from "../../core/server/index.js";

import { intOption, type Io } from "../output.js";
import { waitForSignal } from "./signals.js";

export function registerGateway(program: Command, io: Io): void {
  program
    .command("gateway")
    .description("run a gateway against an existing NATS (production mode); any number may run")
    .option("--nats-url <url>", "NATS URL(s), comma-separated (env JUNCTION_URL)")
    .option("--user <user>", "the gateway user (env JUNCTION_USER)")
    .option("--password <password>", "the gateway password (env JUNCTION_PASSWORD)")
    .option("--replicas <n>", "replicas of new stations and metadata (env JUNCTION_DEFAULT_REPLICAS)")
    .option("--http-port <n>", "HTTP port for /healthz, /readyz, /metrics; 0 = off (env JUNCTION_HTTP_PORT)")
    .option("--log-level <level>", "debug, info, warn or error", "info")
    .action(
      async (
        local: { natsUrl?: string; user?: string; password?: string; replicas?: string; httpPort?: string; logLevel: string },
        cmd: Command,
      ) => {
        // --user/--password also exist on the program: commander gives them to whichever parses first.
        const opts = { ...local, ...cmd.optsWithGlobals<typeof local & { url?: string }>() };
        const env = process.env;
        const url = opts.natsUrl ?? (opts as { url?: string }).url ?? env["JUNCTION_URL"] ?? "nats://127.0.0.1:4222";
        const gw = await startJunctionGateway({
          servers: url.split(","),
          user: opts.user ?? env["JUNCTION_USER"],
          pass: opts.password ?? env["JUNCTION_PASSWORD"],
          defaultReplicas: intOption("replicas", opts.replicas ?? env["JUNCTION_DEFAULT_REPLICAS"]) ?? 1,
          httpPort: intOption("http-port", opts.httpPort ?? env["JUNCTION_HTTP_PORT"]) ?? 8080,
          logger: createLogger(opts.logLevel as "info", "gateway"),
        });
        io.err(`gateway ${gw.id} serving ${url}${gw.httpUrl ? `; HTTP on ${gw.httpUrl}` : ""}\n`);
        const sig = await waitForSignal();
        io.err(`${sig}: draining...\n`);
        await gw.close();
      },
    );
}
