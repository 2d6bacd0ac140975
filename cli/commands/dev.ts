import { randomBytes } from "node:crypto";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";

import {
  createLogger,
  startJunctionGateway,
  startNatsServer,
  type JunctionGateway,
  type RunningNatsServer,
} from "../../core/server/index.js";

import { CREDENTIALS_FILE, readDevCredentials, type ConnectionFlags, type DevCredentials } from "../connection.js";
import { intOption, type Io } from "../output.js";
import { waitForSignal } from "./signals.js";

/** Options of {@link runDev}. */
export interface DevOptions {
  dataDir: string;
  /** @default 4222 */
  port?: number;
  /** fsync before ack. @default true */
  sync?: boolean;
  /** Gateway HTTP port (health, metrics); 0 = off. @default 0 */
  httpPort?: number;
  logLevel?: "debug" | "info" | "warn" | "error" | "silent";
}

/** A running dev broker. */
export interface DevBroker {
  credentials: DevCredentials;
  server: RunningNatsServer;
  gateway: JunctionGateway;
  stop(): Promise<void>;
}

/**
 * Starts an embedded nats-server (JetStream in `<dataDir>/nats`, fsync before ack unless told
 * otherwise) and a gateway. Credentials are created once and kept in `<dataDir>/credentials.json`
 * (mode 0600), so a restart keeps users, stations and messages.
 */
export async function runDev(o: DevOptions): Promise<DevBroker> {
  const dataDir = resolve(o.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const existing = await readDevCredentials(dataDir);
  const creds: DevCredentials = existing ?? {
    url: "",
    gateway: { user: "gateway", password: randomBytes(18).toString("base64url") },
    client: { user: "client", password: randomBytes(18).toString("base64url") },
  };
  const server = await startNatsServer({
    dir: join(dataDir, "nats"),
    port: o.port ?? 4222,
    sync: o.sync === false ? "default" : "always",
    users: creds,
  });
  creds.url = server.url;
  const credFile = join(dataDir, CREDENTIALS_FILE);
  await writeFile(credFile, JSON.stringify(creds, null, 2) + "\n", { mode: 0o600 });
  await chmod(credFile, 0o600);
  let gateway: JunctionGateway;
  try {
    gateway = await startJunctionGateway({
      servers: server.url,
      user: creds.gateway.user,
      pass: creds.gateway.password,
      logger: createLogger(o.logLevel ?? "info", "gateway"),
      httpPort: o.httpPort ?? 0,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    credentials: creds,
    server,
    gateway,
    async stop() {
      await gateway.close();
      await server.stop();
    },
  };
}

export function registerDev(program: Command, io: Io): void {
  program
    .command("dev")
    .description("start an embedded nats-server (JetStream) and a gateway: the zero-config broker")
    .option("--port <n>", "NATS client port", "4222")
    .option("--http-port <n>", "gateway HTTP port for /healthz, /readyz, /metrics (0 = off)", "0")
    .option("--no-sync", "do not fsync before acknowledging (faster; acknowledged writes can be lost on power failure)")
    .option("--log-level <level>", "debug, info, warn or error", "info")
    .action(async (opts: { port: string; httpPort: string; sync: boolean; logLevel: DevOptions["logLevel"] }, cmd: Command) => {
      const g = cmd.optsWithGlobals<ConnectionFlags>();
      const dev = await runDev({
        dataDir: g.dataDir,
        port: intOption("port", opts.port) ?? 4222,
        httpPort: intOption("http-port", opts.httpPort) ?? 0,
        sync: opts.sync,
        logLevel: opts.logLevel ?? "info",
      });
      const c = dev.credentials;
      io.out(
        [
          "Junction is running.",
          `  NATS URL:     ${c.url}`,
          `  client user:  ${c.client.user}`,
          `  client pass:  ${c.client.password}`,
          `  data dir:     ${resolve(g.dataDir)} (credentials in ${CREDENTIALS_FILE}, mode 0600)`,
          `  durability:   ${opts.sync ? "fsync before ack" : "lazy fsync (--no-sync)"}`,
          ...(dev.gateway.httpUrl ? [`  HTTP:         ${dev.gateway.httpUrl} (/healthz /readyz /metrics)`] : []),
          "Try, in another terminal:",
          "  junction station create orders",
          `  junction produce orders '{"id":1}'`,
          "  junction consume orders --group billing --count 1",
          "Press Ctrl-C to stop.",
          "",
        ].join("\n"),
      );
      const sig = await waitForSignal();
      io.err(`\n${sig}: stopping gateway and nats-server...\n`);
      await dev.stop();
      io.err("stopped.\n");
    });
}
