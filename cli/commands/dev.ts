import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import {
  accountsFor,
  createLogger,
  ensureLocalTls,
  gatewayOptionsFor,
  newDeploymentSecrets,
  startJunctionGateway,
  startNatsServer,
  type DeploymentSecrets,
  type JunctionGateway,
  type RunningNatsServer,
} from "../../core/server/index.js";
import { randomPassword } from "../../core/auth/index.js";
import { CREDENTIALS_FILE, readDevCredentials, type ConnectionFlags, type DevCredentials } from "../connection.js";
import { intOption, type Io } from "../output.js";
import { waitForSignal } from "./signals.js";

/** The broker's own secrets in a dev data directory (mode 0600): never needed by clients. */
export const BROKER_SECRETS_FILE = "broker-secrets.json";

/** Options of {@link runDev}. */
export interface DevOptions {
  dataDir: string;
  /** @default 4222 */
  port?: number;
  /** fsync before ack. @default true */
  sync?: boolean;
  /** Gateway HTTP port (health, metrics); 0 = off. @default 0 */
  httpPort?: number;
  /** Interface of the HTTP port. @default "127.0.0.1" */
  httpHost?: string;
  /** TLS for client connections, with a local CA made in the data directory. @default false */
  tls?: boolean;
  /** Level setting: a level, or per component (`info,gateway.produce=debug`). @default "info" */
  logLevel?: string;
  /** @default "pretty" */
  logFormat?: "json" | "pretty";
  /** Colours in pretty logs. @default false */
  logColor?: boolean;
}

/** A running dev broker. */
export interface DevBroker {
  credentials: DevCredentials;
  server: RunningNatsServer;
  gateway: JunctionGateway;
  stop(): Promise<void>;
}

async function writeSecret(file: string, value: unknown): Promise<void> {
  await writeFile(file, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
  await chmod(file, 0o600);
}

async function readSecrets(dataDir: string): Promise<DeploymentSecrets | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, BROKER_SECRETS_FILE), "utf8")) as DeploymentSecrets;
  } catch {
    return undefined;
  }
}

/**
 * Starts an embedded nats-server (JetStream in `<dataDir>/nats`, fsync before ack unless told
 * otherwise) with Junction's accounts, and a gateway. The first start makes the deployment's
 * secrets (`broker-secrets.json`) and two users, `admin` (administers the broker; the CLI's
 * default) and `app` (produces and consumes everywhere), whose passwords go to
 * `credentials.json` — both files mode 0600 — so a restart keeps users, stations and messages.
 */
export async function runDev(o: DevOptions): Promise<DevBroker> {
  const dataDir = resolve(o.dataDir);
  // First: a bad --log-level fails before anything starts.
  const logger = createLogger({
    level: o.logLevel ?? "info",
    format: o.logFormat ?? "pretty",
    color: o.logColor ?? false,
    namespace: "gateway",
  });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const secrets = (await readSecrets(dataDir)) ?? newDeploymentSecrets();
  await writeSecret(join(dataDir, BROKER_SECRETS_FILE), secrets);
  const existing = await readDevCredentials(dataDir);
  const users = existing?.users ?? {
    admin: { user: "admin", password: randomPassword() },
    app: { user: "app", password: randomPassword() },
  };
  const tls = o.tls ? await ensureLocalTls(join(dataDir, "tls")) : undefined;
  const server = await startNatsServer({
    dir: join(dataDir, "nats"),
    port: o.port ?? 4222,
    sync: o.sync === false ? "default" : "always",
    accounts: accountsFor(secrets),
    ...(tls ? { tls: { certFile: tls.certFile, keyFile: tls.keyFile } } : {}),
  });
  const creds: DevCredentials = { url: server.url, users, ...(tls ? { tlsCa: tls.caFile } : {}) };
  await writeSecret(join(dataDir, CREDENTIALS_FILE), creds);
  const g = gatewayOptionsFor(secrets);
  let gateway: JunctionGateway;
  try {
    gateway = await startJunctionGateway({
      servers: server.url,
      ...g,
      ...(tls ? { tls: { caFile: tls.caFile } } : {}),
      auth: {
        ...g.auth,
        bootstrapUsers: [
          { name: users.admin.user, password: users.admin.password, grants: { produce: [], consume: [], admin: true } },
          { name: users.app.user, password: users.app.password, grants: { produce: ["*"], consume: ["*:*"], admin: false } },
        ],
      },
      logger,
      httpPort: o.httpPort ?? 0,
      httpHost: o.httpHost ?? "127.0.0.1",
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

/** How to run junction in the banner's examples: through npm from a clone, else the command itself. */
export function invocation(env: NodeJS.ProcessEnv): string {
  const script = env["npm_lifecycle_event"];
  return script === "dev" || script === "junction" ? "npm run -s junction --" : "junction";
}

export function registerDev(program: Command, io: Io): void {
  program
    .command("dev")
    .description("start an embedded nats-server (JetStream) and a gateway: the zero-config broker")
    .option("--port <n>", "NATS client port", "4222")
    .option("--http-port <n>", "gateway HTTP port for /healthz, /readyz, /metrics (0 = off)", "0")
    .option("--http-host <host>", "interface of the HTTP port", "127.0.0.1")
    .option("--tls", "require TLS from clients, with a local CA made in the data directory (tls/ca.pem)")
    .option("--no-sync", "do not fsync before acknowledging (faster; acknowledged writes can be lost on power failure)")
    .option("--log-level <level>", "debug, info, warn, error or silent; per component: info,gateway.produce=debug", "info")
    .addOption(new Option("--log-format <format>", "log lines for people or for collectors").choices(["pretty", "json"]).default("pretty"))
    .action(
      async (
        opts: {
          port: string;
          httpPort: string;
          httpHost: string;
          tls?: boolean;
          sync: boolean;
          logLevel: string;
          logFormat: "pretty" | "json";
        },
        cmd: Command,
      ) => {
        const g = cmd.optsWithGlobals<ConnectionFlags>();
        const dev = await runDev({
          dataDir: g.dataDir,
          port: intOption("port", opts.port) ?? 4222,
          httpPort: intOption("http-port", opts.httpPort) ?? 0,
          httpHost: opts.httpHost,
          tls: opts.tls === true,
          sync: opts.sync,
          logLevel: opts.logLevel,
          logFormat: opts.logFormat,
          logColor: io.isTTY && (io.env ?? process.env)["NO_COLOR"] === undefined,
        });
        const c = dev.credentials;
        const j = invocation(io.env ?? process.env);
        io.out(
          [
            "Junction is running.",
            `  NATS URL:     ${c.url}${c.tlsCa ? ` (TLS; CA ${c.tlsCa})` : ""}`,
            `  admin:        ${c.users.admin.user} / ${c.users.admin.password}   (the CLI uses it by default)`,
            `  application:  ${c.users.app.user} / ${c.users.app.password}   (produce and consume everywhere)`,
            `  data dir:     ${resolve(g.dataDir)} (${CREDENTIALS_FILE} and ${BROKER_SECRETS_FILE}, mode 0600)`,
            `  durability:   ${opts.sync ? "fsync before ack" : "lazy fsync (--no-sync)"}`,
            ...(dev.gateway.httpUrl ? [`  HTTP:         ${dev.gateway.httpUrl} (/healthz /readyz /metrics)`] : []),
            "Try, in another terminal:",
            `  ${j} station create orders`,
            `  ${j} produce orders '{"id":1}'`,
            `  ${j} consume orders --group billing --count 1`,
            "Add an application user with its own rights:",
            `  ${j} user create billing-svc --produce 'orders-*' --consume 'orders-*:billing'`,
            "Press Ctrl-C to stop.",
            "",
          ].join("\n"),
        );
        const sig = await waitForSignal();
        io.err(`\n${sig}: stopping gateway and nats-server...\n`);
        await dev.stop();
        io.err("stopped.\n");
      },
    );
}
