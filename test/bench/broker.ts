/** Starts what a benchmark run needs: a nats-server with the sync policy under test and a gateway. */
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
import { connect, type JunctionClient } from "../../sdk/index.js";

/** "always" = fsync before ack (Junction's default); "default" = the lazy NATS default. */
export type Sync = "always" | "default";

/** Options of {@link startBenchBroker}. */
export interface BenchBrokerOptions {
  sync: Sync;
  /** Run the gateway in this process instead of a child process. */
  inProcess?: boolean;
  /** Folder for the gateway's `--cpu-prof` output; none = no profile. */
  profileDir?: string | undefined;
}

/** A running benchmark broker. */
export interface BenchBroker {
  readonly sync: Sync;
  readonly server: RunningNatsServer;
  readonly url: string;
  readonly secrets: DeploymentSecrets;
  /** `admin` (everything) and `app` (produce and consume everywhere), made at startup. */
  readonly users: { admin: TestUser; app: TestUser };
  /** The process ids whose CPU time is reported: nats-server, the gateway, this process. */
  readonly pids: { server: number; gateway: number; client: number };
  /** A raw NATS connection with full rights (for the raw baselines). */
  raw(name?: string): Promise<NatsConnection>;
  /** An SDK client (the application user `app`). */
  client(name?: string): Promise<JunctionClient>;
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
  let stopGateway: () => Promise<void>;
  let gatewayPid = process.pid;
  if (o.inProcess) {
    const gw = await startJunctionGateway({ ...gwOpts, logger: silentLogger });
    stopGateway = () => gw.close();
  } else {
    const child = await spawnGateway(gwOpts, o.profileDir);
    gatewayPid = child.pid ?? -1;
    stopGateway = () => stopChild(child);
  }
  const conns: { close(): Promise<void> }[] = [];
  return {
    sync: o.sync,
    server,
    url: server.url,
    secrets,
    users,
    pids: { server: server.pid, gateway: gatewayPid, client: process.pid },
    async raw(name = "bench-raw") {
      const nc = await natsConnect({ servers: server.url, user: secrets.gateway.user, pass: secrets.gateway.password, name });
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
      await stopGateway().catch(() => {});
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function spawnGateway(cfg: JunctionGatewayOptions, profileDir: string | undefined): Promise<ChildProcess> {
  const args = [...process.execArgv];
  // isolated-vm (the function sandbox) needs it.
  if (!args.includes("--no-node-snapshot")) args.unshift("--no-node-snapshot");
  if (profileDir) {
    await mkdir(profileDir, { recursive: true });
    args.push("--cpu-prof", `--cpu-prof-dir=${profileDir}`);
  }
  const child = spawn(process.execPath, [...args, join(here, "gateway-child.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, JUNCTION_BENCH_GATEWAY: JSON.stringify(cfg) },
  });
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error("the gateway did not start within 30 s")), 30_000);
    rl.on("line", (l) => {
      if (l.trim() === "ready") {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited at startup (code ${code})`));
    });
  });
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
