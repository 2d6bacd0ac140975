import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdir, writeFile, readFile, rm } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { JunctionError } from "../protocol/index.js";
import { MIN_SERVER_VERSION, assertServerVersion, parseVersion } from "../nats/index.js";
import { renderNatsConfig, type JunctionAccounts, type NatsConfigOptions } from "./nats-config.js";

const execFileP = promisify(execFile);

const FIX_HINT =
  `Run \`scripts/install-nats-server\` (it installs nats-server >= ${MIN_SERVER_VERSION} into .tools/bin), ` +
  `or put nats-server >= ${MIN_SERVER_VERSION} on PATH, or set JUNCTION_NATS_SERVER to its path.`;

/** The project root (the folder holding this package's package.json), if found. */
export function packageRoot(start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (;;) {
    const pj = join(dir, "package.json");
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, "utf8")) as { name?: string }).name === "junction-broker") return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Finds the nats-server binary: `JUNCTION_NATS_SERVER`, then the project-local copy
 * (`.tools/bin/nats-server`), then PATH. Throws `NATS_SERVER_NOT_FOUND` saying how to fix it.
 */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["JUNCTION_NATS_SERVER"];
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new JunctionError("NATS_SERVER_NOT_FOUND", `JUNCTION_NATS_SERVER points at ${fromEnv}, which does not exist. ${FIX_HINT}`);
  }
  const root = packageRoot();
  for (const base of [root, process.cwd()]) {
    if (!base) continue;
    const local = join(base, ".tools", "bin", "nats-server");
    if (existsSync(local)) return local;
  }
  for (const dir of (env["PATH"] ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, "nats-server");
    if (existsSync(p)) return p;
  }
  throw new JunctionError("NATS_SERVER_NOT_FOUND", `nats-server was not found. ${FIX_HINT}`);
}

/** Checks the binary's version; throws `UNSUPPORTED_SERVER` when it is too old. Returns the version. */
export async function checkNatsServerVersion(binary: string): Promise<string> {
  const { stdout } = await execFileP(binary, ["--version"]);
  const v = parseVersion(stdout);
  if (!v) throw new JunctionError("UNSUPPORTED_SERVER", `cannot read the version of ${binary}: ${stdout.trim()}`);
  const version = v.join(".");
  try {
    assertServerVersion(version, binary);
  } catch (err) {
    throw new JunctionError("UNSUPPORTED_SERVER", `${(err as Error).message}. ${FIX_HINT}`, {
      cause: err,
      details: (err as JunctionError).details ?? {},
    });
  }
  return version;
}

/** Options of {@link startNatsServer}. */
/**
 * The launcher's max_payload: a station's largest message (8 MiB) plus room for its headers (64
 * KiB) and a batch frame's own bytes.
 */
export const DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024 + 128 * 1024;

export interface NatsServerOptions {
  /** Folder for the config, the JetStream store, the ports file and the log. */
  dir: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** @default -1 (a free port) */
  port?: number;
  /** @default "always" (fsync before ack) */
  sync?: "always" | "default";
  /** The accounts and users (see nats-config.ts); without them the server is open. */
  accounts?: JunctionAccounts | undefined;
  /** TLS for client connections. */
  tls?: NatsConfigOptions["tls"];
  /** @default {@link DEFAULT_MAX_PAYLOAD} */
  maxPayload?: number;
  /** JetStream's file storage limit, in bytes. @default nats-server's own */
  maxFileStore?: number | undefined;
  /** Messages a stream queues for storing at most (`max_buffered_msgs`). @default nats-server's own (100,000) */
  maxBufferedMsgs?: number | undefined;
  /** Where JetStream stores its files. @default `<dir>/jetstream` */
  storeDir?: string | undefined;
  serverName?: string;
  cluster?: { name: string; port: number; routes: string[] } | undefined;
  /** The binary; @default {@link findNatsServer}() */
  binary?: string;
  /** @default 20000 */
  startTimeoutMs?: number;
}

/** A running nats-server child process. */
export interface RunningNatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  readonly configFile: string;
  readonly logFile: string;
  /** The last lines of the server log (for test failures). */
  logTail(lines?: number): Promise<string>;
  /** Stops the server gracefully (SIGTERM, then SIGKILL after a grace period). Idempotent. */
  stop(): Promise<void>;
  /** Kills the server at once (crash tests). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts nats-server as a child process and waits until it accepts connections. */
export async function startNatsServer(o: NatsServerOptions): Promise<RunningNatsServer> {
  const binary = o.binary ?? findNatsServer();
  await checkNatsServerVersion(binary);
  await mkdir(o.dir, { recursive: true });
  const portsDir = join(o.dir, "ports");
  // A killed server leaves its ports file behind: clear it so the new one is read.
  await rm(portsDir, { recursive: true, force: true });
  await mkdir(portsDir, { recursive: true });
  const host = o.host ?? "127.0.0.1";
  const configFile = join(o.dir, "nats-server.conf");
  const logFile = join(o.dir, "nats-server.log");
  const conf = renderNatsConfig({
    host,
    port: o.port ?? -1,
    storeDir: o.storeDir ?? join(o.dir, "jetstream"),
    maxFileStore: o.maxFileStore,
    maxBufferedMsgs: o.maxBufferedMsgs,
    portsFileDir: portsDir,
    sync: o.sync ?? "always",
    accounts: o.accounts,
    tls: o.tls,
    maxPayload: o.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    ...(o.serverName ? { serverName: o.serverName } : {}),
    cluster: o.cluster ? { ...o.cluster, host } : undefined,
  });
  await writeFile(configFile, conf, { mode: 0o600 });
  const child: ChildProcess = spawn(binary, ["-c", configFile, "-l", logFile], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exitP = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid ?? -1;
  const portsFile = join(portsDir, `${binaryName(binary)}_${pid}.ports`);
  const deadline = performance.now() + (o.startTimeoutMs ?? 20_000);
  let url: string | undefined;
  while (!url) {
    if (exited) {
      const tail = await readTail(logFile, 20);
      throw new JunctionError("INTERNAL", `nats-server exited at startup:\n${stderr}\n${tail}`);
    }
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new JunctionError("TIMEOUT", `nats-server did not start within ${o.startTimeoutMs ?? 20_000} ms`);
    }
    try {
      const ports = JSON.parse(await readFile(findPortsFile(portsDir, portsFile), "utf8")) as { nats?: string[] };
      url = ports.nats?.[0];
    } catch {
      await sleep(25);
    }
  }
  const port = Number(new URL(url).port);
  const stop = async (signal: NodeJS.Signals) => {
    if (exited) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exitP;
    clearTimeout(timer);
  };
  return {
    url: `nats://${host}:${port}`,
    port,
    pid,
    dir: o.dir,
    configFile,
    logFile,
    logTail: (lines = 40) => readTail(logFile, lines),
    stop: () => stop("SIGTERM"),
    kill: (signal = "SIGKILL") => stop(signal),
  };
}

function binaryName(p: string): string {
  return p.split("/").pop() ?? "nats-server";
}

function findPortsFile(dir: string, expected: string): string {
  if (existsSync(expected)) return expected;
  const f = readdirSync(dir).find((n) => n.endsWith(".ports"));
  if (!f) throw new Error("no ports file yet");
  return join(dir, f);
}

async function readTail(file: string, lines: number): Promise<string> {
  try {
    return (await readFile(file, "utf8"))
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  } catch {
    return "(no log)";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
