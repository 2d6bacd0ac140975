/** Starts what a benchmark run needs: a nats-server with the sync policy under test and gateway(s). */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { connect as natsConnect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import {
  accountsFor,
  newDeploymentSecrets,
  startJunctionGateway,
  silentLogger,
  startNatsServer,
  type DeploymentSecrets,
  type JunctionGatewayOptions,
  type RunningNatsServer,
} from "../../core/server/index.js";
import { testGatewayOptions, testUsers, type TestUser } from "../harness/index.js";
import { inboxPrefixOf } from "../../core/protocol/index.js";
import { connect, type JunctionClient } from "../../sdk/index.js";
import { descendantPids, processRssBytes } from "./env.js";

/** "always" = fsync before ack (Junction's default); "default" = the lazy NATS default. */
export type Sync = "always" | "default";

/** Options of {@link startBenchBroker}. */
export interface BenchBrokerOptions {
  sync: Sync;
  /** Run the gateway in this process instead of a child process. */
  inProcess?: boolean;
  /** Folder for the gateways' `--cpu-prof` output; none = no profile. */
  profileDir?: string | undefined;
}

/** Memory of a gateway, after a full garbage collection (bytes). */
export interface GatewayMemory {
  /** Resident set of the gateway process. */
  rss: number;
  heapUsed: number;
  /** Resident set of its child processes (the function sandbox workers). */
  childrenRss: number;
  /** How many child processes it has. */
  children: number;
}

/** One running gateway. */
export interface BenchGateway {
  /** Its process id (this process's for an in-process gateway). */
  readonly pid: number;
  /** Collects garbage in the gateway, then reports its memory. */
  memory(): Promise<GatewayMemory>;
  stop(): Promise<void>;
}

/** A running benchmark broker. */
export interface BenchBroker {
  readonly sync: Sync;
  readonly server: RunningNatsServer;
  readonly url: string;
  readonly secrets: DeploymentSecrets;
  /** `admin` (everything) and `app` (produce and consume everywhere), made at startup. */
  readonly users: { admin: TestUser; app: TestUser };
  /** The gateways running now (one at start). */
  readonly gateways: readonly BenchGateway[];
  /** The process ids whose CPU time is reported: nats-server, the first gateway, this process. */
  readonly pids: { server: number; gateway: number; client: number };
  /** Starts one more gateway in the same queue group (a process of its own). */
  addGateway(): Promise<BenchGateway>;
  /** A raw NATS connection with full rights in the broker's account (the raw baselines). */
  raw(name?: string): Promise<NatsConnection>;
  /** An SDK client (the `admin` user). */
  client(name?: string): Promise<JunctionClient>;
  /** A plain nats.js connection as the `admin` user, in the client account (as the SDK connects). */
  rawClientAccount(name?: string): Promise<NatsConnection>;
  stop(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Starts nats-server (file store, given sync) and one gateway. */
export async function startBenchBroker(o: BenchBrokerOptions): Promise<BenchBroker> {
  const dir = await mkdtemp(join(tmpdir(), "junction-bench-"));
  const secrets = newDeploymentSecrets();
  const users = testUsers();
  const server = await startNatsServer({ dir, accounts: accountsFor(secrets), sync: o.sync });
  const gwOpts: JunctionGatewayOptions = { servers: server.url, ...testGatewayOptions(secrets, users) };
  const gateways: BenchGateway[] = [];
  const start = async (inProcess: boolean): Promise<BenchGateway> => {
    const g = inProcess ? await inProcessGateway(gwOpts) : await spawnGateway(gwOpts, o.profileDir);
    gateways.push(g);
    return g;
  };
  let first: BenchGateway;
  try {
    first = await start(o.inProcess === true);
  } catch (e) {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const conns: { close(): Promise<void> }[] = [];
  return {
    sync: o.sync,
    server,
    url: server.url,
    secrets,
    users,
    gateways,
    pids: { server: server.pid, gateway: first.pid, client: process.pid },
    addGateway: () => start(false),
    async raw(name = "bench-raw") {
      const nc = await natsConnect({ servers: server.url, user: secrets.gateway.user, pass: secrets.gateway.password, name });
      conns.push({ close: () => nc.close() });
      return nc;
    },
    async rawClientAccount(name = "bench-raw-client") {
      const u = users.admin;
      const nc = await natsConnect({ servers: server.url, user: u.user, pass: u.password, name, inboxPrefix: inboxPrefixOf(u.user) });
      conns.push({ close: () => nc.close() });
      return nc;
    },
    async client(name = "bench") {
      const c = await connect({ servers: server.url, user: users.admin.user, pass: users.admin.password, name });
      conns.push(c);
      return c;
    },
    async stop() {
      for (const c of conns) await c.close().catch(() => {});
      for (const g of gateways) await g.stop().catch(() => {});
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function inProcessGateway(cfg: JunctionGatewayOptions): Promise<BenchGateway> {
  const gw = await startJunctionGateway({ ...cfg, logger: silentLogger });
  return {
    pid: process.pid,
    async memory() {
      globalThis.gc?.();
      const m = process.memoryUsage();
      const kids = descendantPids(process.pid);
      const childrenRss = kids.reduce((s, p) => s + (processRssBytes(p) ?? 0), 0);
      return { rss: m.rss, heapUsed: m.heapUsed, childrenRss, children: kids.length };
    },
    stop: () => gw.close(),
  };
}

async function spawnGateway(cfg: JunctionGatewayOptions, profileDir: string | undefined): Promise<BenchGateway> {
  const args = [...process.execArgv];
  // isolated-vm (the function sandbox) needs it; --expose-gc lets the memory scenario collect first.
  if (!args.includes("--no-node-snapshot")) args.unshift("--no-node-snapshot");
  args.unshift("--expose-gc");
  if (profileDir) {
    await mkdir(profileDir, { recursive: true });
    args.push("--cpu-prof", `--cpu-prof-dir=${profileDir}`);
  }
  const child = spawn(process.execPath, [...args, join(here, "gateway-child.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, JUNCTION_BENCH_GATEWAY: JSON.stringify(cfg) },
  });
  // The child answers line by line, in the order asked: `ready`, then one `mem {…}` per `mem`.
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => waiting.shift()?.(l.trim()));
  const nextLine = (timeoutMs: number, what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the gateway did not answer ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`the gateway exited (code ${code}) before answering ${what}`));
      };
      child.once("exit", onExit);
      waiting.push((line) => {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve(line);
      });
    });
  const ready = await nextLine(30_000, "startup");
  if (ready !== "ready") throw new Error(`the gateway said '${ready}' at startup`);
  const pid = child.pid ?? -1;
  return {
    pid,
    async memory() {
      const answer = nextLine(30_000, "a memory request");
      child.stdin!.write("mem\n");
      const line = await answer;
      if (!line.startsWith("mem ")) throw new Error(`the gateway answered '${line}' to a memory request`);
      const m = JSON.parse(line.slice(4)) as { rss: number; heapUsed: number };
      const kids = descendantPids(pid);
      const childrenRss = kids.reduce((s, p) => s + (processRssBytes(p) ?? 0), 0);
      return { rss: m.rss, heapUsed: m.heapUsed, childrenRss, children: kids.length };
    },
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
