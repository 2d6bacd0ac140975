/**
 * The processes of a chaos run, started with the project's own launcher: nats-server (one, or a
 * 3-node JetStream cluster) with Junction's accounts and auth callout, gateways as child
 * processes running `junction gateway`, and consumer group members as child processes using
 * the SDK. Every process can be SIGKILLed and started again; each gateway and member is
 * supervised (an exit nobody asked for is noted and the process started again).
 */
import { spawn, execFile, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, openSync, closeSync, writeSync } from "node:fs";
import { chmod, mkdir, open, readFile, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  accountsFor,
  checkNatsServerVersion,
  findNatsServer,
  newDeploymentSecrets,
  packageRoot,
  startNatsServer,
  type DeploymentSecrets,
  type JunctionAccounts,
  type RunningNatsServer,
} from "../../core/server/index.js";
import { Accounts } from "../../core/protocol/index.js";
import { ChaosError, ChaosErrorCode } from "./errors.js";
import type { MemberCommand, MemberConfig, MemberReport } from "./member.js";
import type { TopologySpec } from "./types.js";

const execFileP = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free loopback port (for ports that must stay the same across restarts). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** How to start this package's child entry: compiled JavaScript, or TypeScript through tsx. */
function childEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith(".ts");
  return {
    file: join(dirname(here), ts ? "child.ts" : "child.js"),
    execArgv: ["--no-node-snapshot", ...(ts ? ["--import", "tsx"] : [])],
  };
}

/** A user of the broker (created by the gateways at startup). */
export interface BrokerUser {
  user: string;
  password: string;
}

/** One nats-server of the topology. */
export interface NatsNode {
  readonly name: string;
  readonly dir: string;
  /** Client port; fixed after the first start, so clients find it again. */
  port: number;
  readonly clusterPort: number;
  server: RunningNatsServer | undefined;
  /** HTTP monitoring (`/jsz`), when up. */
  monitorUrl: string | undefined;
}

/** A supervised child process (gateway or member). */
interface Proc {
  readonly name: string;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** We killed or stopped it: its exit is no news. */
  expectedExit: boolean;
  /** Number of starts, restarts included. */
  starts: number;
}

/** A gateway process. */
export interface GatewayProc extends Proc {
  httpPort: number;
}

/** A member process. */
export interface MemberProc extends Proc {
  slowMs: number;
}

/** Options of {@link Topology.start}. */
export interface TopologyOptions {
  /** Folder for stores, configs and logs. */
  dir: string;
  spec: TopologySpec;
  /** Progress lines. */
  log: (line: string) => void;
  /** Milliseconds since the run began (for log lines). */
  now: () => number;
  /** How long one process may take to become ready (retries included), in ms. @default 90000 */
  startTimeoutMs?: number;
}

/** What a member process needs beyond its name and the broker's address. */
export type MemberSettings = Omit<MemberConfig, "name" | "servers" | "user" | "pass" | "startTimeoutMs">;

/** The running topology. */
export class Topology {
  readonly spec: TopologySpec;
  readonly dir: string;
  readonly secrets: DeploymentSecrets;
  readonly users: { admin: BrokerUser; app: BrokerUser };
  readonly nodes: NatsNode[] = [];
  readonly gateways: GatewayProc[] = [];
  readonly members: MemberProc[] = [];
  /** Whether the store sits on a tmpfs. */
  tmpfs: "mounted" | "unavailable" | "off" = "off";
  /** Why the tmpfs could not be mounted. */
  tmpfsProblem: string | undefined;
  natsServerVersion: string | undefined;
  /** Things worth reporting (unexpected exits, slow starts). */
  readonly notes: string[] = [];
  /** Member processes that ended without being asked (their consumer gave up, or they crashed). */
  membersEnded = 0;
  /** Each member delivery report. */
  onDelivery: (member: string, r: Extract<MemberReport, { t: "d" }>) => void = () => {};

  readonly #o: TopologyOptions;
  readonly #accounts: JunctionAccounts;
  readonly #entry = childEntry();
  readonly #root: string;
  #binary = "";
  #memberSettings: MemberSettings | undefined;
  #stopping = false;
  #mounted = false;
  #exitHook: (() => void) | undefined;

  private constructor(o: TopologyOptions) {
    this.#o = o;
    this.spec = o.spec;
    this.dir = o.dir;
    this.secrets = newDeploymentSecrets();
    const pw = () => randomBytes(12).toString("hex");
    this.users = { admin: { user: "admin", password: pw() }, app: { user: "app", password: pw() } };
    this.#accounts = accountsFor(this.secrets);
    this.#root = packageRoot() ?? process.cwd();
  }

  /** Starts nats-server(s) and the gateways (members start later: {@link startMembers}). */
  static async start(o: TopologyOptions): Promise<Topology> {
    const t = new Topology(o);
    try {
      await t.#startNats();
      await t.#writeBootstrap();
      for (let i = 0; i < o.spec.gateways; i++) {
        t.gateways.push({ name: `gw-${i + 1}`, child: undefined, exited: Promise.resolve(), expectedExit: true, starts: 0, httpPort: 0 });
      }
      await Promise.all(t.gateways.map((_, i) => t.startGateway(i)));
      return t;
    } catch (err) {
      await t.stop();
      throw err instanceof ChaosError
        ? err
        : new ChaosError(ChaosErrorCode.TopologyFailed, `cannot start the topology: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The NATS URLs of every node. */
  urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  }

  #log(line: string): void {
    this.#o.log(`+${(this.#o.now() / 1000).toFixed(1)} s  ${line}`);
  }

  // ---- nats-server -------------------------------------------------------------------------

  async #startNats(): Promise<void> {
    const real = findNatsServer();
    this.natsServerVersion = await checkNatsServerVersion(real);
    // The launcher takes a binary; this one adds a monitoring port (`-m -1`: a free one, written
    // to the ports file) so the engine can ask which node leads a stream (`/jsz`).
    await mkdir(join(this.dir, "bin"), { recursive: true });
    this.#binary = join(this.dir, "bin", "nats-server");
    await writeFile(this.#binary, `#!/bin/sh\nexec '${real.replace(/'/g, `'\\''`)}' -m -1 "$@"\n`);
    await chmod(this.#binary, 0o755);
    const n = this.spec.natsServers;
    for (let i = 0; i < n; i++) {
      this.nodes.push({
        name: `n${i + 1}`,
        dir: join(this.dir, `n${i + 1}`),
        port: n === 1 ? -1 : await freePort(),
        clusterPort: n === 1 ? 0 : await freePort(),
        server: undefined,
        monitorUrl: undefined,
      });
    }
    if (this.spec.storeTmpfsMb > 0 && n === 1) await this.#mountTmpfs(this.nodes[0]!);
    this.#installExitHook();
    await Promise.all(this.nodes.map((_, i) => this.startNode(i)));
  }

  /** The JetStream store folder of node `i`. */
  storeDir(i = 0): string {
    return join(this.nodes[i]!.dir, "jetstream");
  }

  async #mountTmpfs(node: NatsNode): Promise<void> {
    const at = join(node.dir, "jetstream");
    await mkdir(at, { recursive: true });
    try {
      await execFileP("mount", ["-t", "tmpfs", "-o", `size=${this.spec.storeTmpfsMb}m,mode=0700`, "tmpfs", at]);
      this.tmpfs = "mounted";
      this.#mounted = true;
    } catch (err) {
      this.tmpfs = "unavailable";
      const e = err as { stderr?: string; message: string };
      this.tmpfsProblem = `cannot mount a ${this.spec.storeTmpfsMb} MiB tmpfs at ${at} (${(e.stderr || e.message).trim()}); disk-full needs root and a system that allows mount`;
      this.notes.push(`store on the ordinary disk: ${this.tmpfsProblem}`);
      this.#log(`tmpfs unavailable: ${this.tmpfsProblem}`);
    }
  }

  /** Starts (or restarts, on the same store and client port) node `i`. */
  async startNode(i: number): Promise<void> {
    const node = this.nodes[i]!;
    const routes = this.nodes.map((x) => `nats://127.0.0.1:${x.clusterPort}`);
    node.server = await startNatsServer({
      dir: node.dir,
      port: node.port,
      accounts: this.#accounts,
      sync: this.spec.fsync ? "always" : "default",
      serverName: node.name,
      binary: this.#binary,
      ...(this.nodes.length > 1 ? { cluster: { name: "jn-chaos", port: node.clusterPort, routes } } : {}),
    });
    node.port = node.server.port;
    node.monitorUrl = await this.#monitorUrl(node);
  }

  async #monitorUrl(node: NatsNode): Promise<string | undefined> {
    try {
      const dir = join(node.dir, "ports");
      for (const f of await readdir(dir)) {
        if (!f.endsWith(".ports")) continue;
        const p = JSON.parse(await readFile(join(dir, f), "utf8")) as { monitoring?: string[] };
        if (p.monitoring?.[0]) return p.monitoring[0];
      }
    } catch {
      /* no monitoring: leader lookups fall back */
    }
    return undefined;
  }

  /** SIGKILLs node `i` and waits for it to be gone. */
  async killNode(i: number): Promise<void> {
    const node = this.nodes[i]!;
    await node.server?.kill("SIGKILL");
    node.server = undefined;
    node.monitorUrl = undefined;
  }

  /** Stops node `i` politely (SIGTERM) and starts it again. */
  async restartNode(i: number): Promise<void> {
    await this.nodes[i]!.server?.stop();
    this.nodes[i]!.server = undefined;
    await this.startNode(i);
  }

  /**
   * Which node leads `stream` and which nodes hold it, from the monitoring endpoint of any node
   * that answers (undefined leader while none is elected).
   */
  async streamPlacement(stream: string): Promise<{ leader: string | undefined; replicas: string[] }> {
    for (const n of this.nodes) {
      if (!n.server || !n.monitorUrl) continue;
      try {
        const res = await fetch(`${n.monitorUrl}/jsz?acc=${Accounts.Internal}&streams=true`, { signal: AbortSignal.timeout(1500) });
        const j = (await res.json()) as {
          account_details?: { stream_detail?: { name: string; cluster?: { leader?: string; replicas?: { name: string }[] } }[] }[];
        };
        for (const a of j.account_details ?? []) {
          for (const s of a.stream_detail ?? []) {
            if (s.name !== stream) continue;
            const leader = s.cluster?.leader || undefined;
            const replicas = [...(leader ? [leader] : []), ...(s.cluster?.replicas ?? []).map((r) => r.name)];
            if (leader) return { leader, replicas };
          }
        }
      } catch {
        /* ask the next node */
      }
    }
    return { leader: undefined, replicas: this.nodes.map((n) => n.name) };
  }

  /** Whether every replica of `stream` is current (a restarted node caught up), as its leader sees it. */
  async streamCurrent(stream: string): Promise<boolean> {
    if (this.nodes.length === 1) return true;
    for (const n of this.nodes) {
      if (!n.server || !n.monitorUrl) continue;
      try {
        const res = await fetch(`${n.monitorUrl}/jsz?acc=${Accounts.Internal}&streams=true`, { signal: AbortSignal.timeout(1500) });
        const j = (await res.json()) as {
          account_details?: {
            stream_detail?: { name: string; cluster?: { leader?: string; replicas?: { current?: boolean; offline?: boolean }[] } }[];
          }[];
        };
        for (const a of j.account_details ?? []) {
          for (const s of a.stream_detail ?? []) {
            // Only the leader knows whether the followers are current (followers report each other as not current).
            if (s.name !== stream || s.cluster?.leader !== n.name) continue;
            const reps = s.cluster.replicas ?? [];
            return reps.length === this.nodes.length - 1 && reps.every((r) => r.current === true && r.offline !== true);
          }
        }
      } catch {
        /* ask the next node */
      }
    }
    return false;
  }

  // ---- the store's disk --------------------------------------------------------------------

  /** Fills the store's filesystem to the last byte; returns the bytes written. */
  async fillStore(): Promise<number> {
    const fh = await open(join(this.storeDir(0), "chaos-filler"), "w");
    let written = 0;
    try {
      for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
        const chunk = Buffer.alloc(size, 0x5a);
        for (;;) {
          try {
            const { bytesWritten } = await fh.write(chunk);
            written += bytesWritten;
            if (bytesWritten < size) break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
            throw err;
          }
        }
      }
    } finally {
      await fh.close();
    }
    return written;
  }

  /** Frees what {@link fillStore} took. */
  async freeStore(): Promise<void> {
    await unlink(join(this.storeDir(0), "chaos-filler")).catch(() => {});
  }

  // ---- gateways ----------------------------------------------------------------------------

  async #writeBootstrap(): Promise<void> {
    const dir = join(this.dir, "secrets");
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const u of Object.values(this.users)) await writeFile(join(dir, `${u.user}.password`), u.password, { mode: 0o600 });
    const bootstrap = {
      users: [
        { name: this.users.admin.user, passwordFile: "admin.password", grants: { produce: [], consume: [], admin: true } },
        { name: this.users.app.user, passwordFile: "app.password", grants: { produce: ["*"], consume: ["*:*"], admin: false } },
      ],
    };
    await writeFile(join(dir, "bootstrap.json"), JSON.stringify(bootstrap, null, 2), { mode: 0o600 });
    // A kept folder is for looking into a run afterwards: the deployment's secrets go with it.
    await writeFile(join(dir, "deployment.json"), JSON.stringify(this.secrets, null, 2), { mode: 0o600 });
  }

  #logFile(name: string): number {
    const fd = openSync(join(this.dir, "logs", `${name}.log`), "a");
    writeSync(fd, `--- started at +${(this.#o.now() / 1000).toFixed(1)} s ---\n`);
    return fd;
  }

  #spawn(proc: Proc, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const fd = this.#logFile(proc.name);
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("JUNCTION_") && k !== "JN_CHAOS_MEMBER"));
    const child = spawn(process.execPath, [...this.#entry.execArgv, this.#entry.file, ...args], {
      cwd: this.#root,
      env: { ...clean, ...env },
      stdio: ["ignore", fd, fd, "ipc"],
    });
    closeSync(fd);
    proc.child = child;
    proc.expectedExit = false;
    proc.starts++;
    proc.exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return child;
  }

  /** Starts gateway `i` (a new process) and waits until it is ready; retries a start that fails. */
  async startGateway(i: number): Promise<void> {
    const g = this.gateways[i]!;
    await mkdir(join(this.dir, "logs"), { recursive: true });
    const deadline = Date.now() + (this.#o.startTimeoutMs ?? 90_000);
    let failures = 0;
    for (;;) {
      g.httpPort = await freePort();
      const child = this.#spawn(
        g,
        [
          "gateway",
          "--nats-url",
          this.urls().join(","),
          "--user",
          this.secrets.gateway.user,
          "--system-user",
          this.secrets.system.user,
          "--replicas",
          String(this.spec.natsServers),
          "--http-port",
          String(g.httpPort),
          "--http-host",
          "127.0.0.1",
          "--log-level",
          "info",
          "--bootstrap-file",
          join(this.dir, "secrets", "bootstrap.json"),
        ],
        {
          JUNCTION_PASSWORD: this.secrets.gateway.password,
          JUNCTION_AUTH_ISSUER_SEED: this.secrets.issuerSeed,
          JUNCTION_SYSTEM_PASSWORD: this.secrets.system.password,
        },
      );
      const ready = await this.#waitReady(g, child, `http://127.0.0.1:${g.httpPort}/readyz`, deadline);
      if (ready) {
        if (failures > 0) this.notes.push(`${g.name} exited ${failures} time(s) at startup before it served (see logs/${g.name}.log)`);
        this.#supervise(g, () => this.startGateway(i));
        return;
      }
      failures++;
      if (Date.now() > deadline || this.#stopping) {
        throw new ChaosError(
          ChaosErrorCode.TopologyFailed,
          `${g.name} did not become ready (${failures} attempts); see ${join(this.dir, "logs", `${g.name}.log`)}`,
        );
      }
      await sleep(500);
    }
  }

  /** Waits until `/readyz` answers 200; false when the process exited first or time ran out. */
  async #waitReady(p: Proc, child: ChildProcess, url: string, deadline: number): Promise<boolean> {
    let exited = false;
    void p.exited.then(() => (exited = true));
    while (!exited && Date.now() < deadline && !this.#stopping) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return true;
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    if (!exited) {
      p.expectedExit = true;
      child.kill("SIGKILL");
      await p.exited;
    }
    return false;
  }

  /** Notes an exit nobody asked for and starts the process again. */
  #supervise(p: Proc, restart: () => Promise<void>): void {
    const child = p.child!;
    child.once("exit", (code, signal) => {
      if (p.expectedExit || this.#stopping || p.child !== child) return;
      if (this.members.includes(p as MemberProc)) this.membersEnded++;
      const why = `${p.name} exited by itself at +${(this.#o.now() / 1000).toFixed(1)} s (${signal ?? `code ${code}`}); started again`;
      this.notes.push(why);
      this.#log(why);
      void restart().catch((err: unknown) => this.notes.push(`${p.name} could not be started again: ${(err as Error).message}`));
    });
  }

  /** SIGKILLs gateway `i`. */
  async killGateway(i: number): Promise<void> {
    await this.#kill(this.gateways[i]!);
  }

  async #kill(p: Proc, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const c = p.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    p.expectedExit = true;
    c.kill(signal);
    await p.exited;
  }

  /** Stops a process politely, then for good after `graceMs`. */
  async #stopProc(p: Proc, graceMs: number, politely: () => void): Promise<void> {
    const c = p.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    p.expectedExit = true;
    politely();
    const timer = setTimeout(() => c.kill("SIGKILL"), graceMs);
    await p.exited;
    clearTimeout(timer);
  }

  // ---- members -----------------------------------------------------------------------------

  /** Starts every member (once the station and group exist). */
  async startMembers(settings: MemberSettings): Promise<void> {
    this.#memberSettings = settings;
    for (let i = 0; i < this.spec.members; i++) {
      this.members.push({ name: `member-${i + 1}`, child: undefined, exited: Promise.resolve(), expectedExit: true, starts: 0, slowMs: 0 });
    }
    await Promise.all(this.members.map((_, i) => this.startMember(i)));
  }

  /** Starts member `i` (a new process) and waits until it pulls. */
  async startMember(i: number): Promise<void> {
    const m = this.members[i]!;
    const settings = this.#memberSettings!;
    const timeoutMs = this.#o.startTimeoutMs ?? 90_000;
    const config: MemberConfig = {
      ...settings,
      name: m.name,
      servers: this.urls(),
      user: this.users.app.user,
      pass: this.users.app.password,
      startTimeoutMs: timeoutMs,
    };
    m.slowMs = 0;
    const child = this.#spawn(m, ["member"], { JN_CHAOS_MEMBER: JSON.stringify(config) });
    const ready = new Promise<boolean>((resolve) => {
      child.on("message", (r: MemberReport) => {
        if (r.t === "d") this.onDelivery(m.name, r);
        else if (r.t === "ready") resolve(true);
        else this.notes.push(`${m.name}: ${r.why} at +${(this.#o.now() / 1000).toFixed(1)} s`);
      });
      void m.exited.then(() => resolve(false));
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 5000);
    const ok = await ready;
    clearTimeout(timer);
    if (!ok) {
      if (this.#stopping) return;
      throw new ChaosError(ChaosErrorCode.TopologyFailed, `${m.name} did not start; see ${join(this.dir, "logs", `${m.name}.log`)}`);
    }
    this.#supervise(m, () => this.startMember(i));
  }

  /** SIGKILLs member `i`. */
  async killMember(i: number): Promise<void> {
    await this.#kill(this.members[i]!);
  }

  /** Makes member `i` wait `delayMs` before each message (0 = normal again). */
  slowMember(i: number, delayMs: number): void {
    const m = this.members[i]!;
    m.slowMs = delayMs;
    const cmd: MemberCommand = { t: "slow", delayMs };
    if (m.child?.connected) m.child.send(cmd);
  }

  /** Stops every member politely (it gives back what it prefetched). */
  async stopMembers(): Promise<void> {
    await Promise.all(
      this.members.map((m) =>
        this.#stopProc(m, 10_000, () => {
          const cmd: MemberCommand = { t: "stop" };
          if (m.child?.connected) m.child.send(cmd);
          else m.child?.kill("SIGTERM");
        }),
      ),
    );
  }

  // ---- teardown ----------------------------------------------------------------------------

  #installExitHook(): void {
    // If the runner dies without stop(): no nats-server left running, no tmpfs left mounted.
    this.#exitHook = () => {
      for (const p of [...this.members, ...this.gateways]) if (p.child?.pid && p.child.exitCode === null) safeKill(p.child.pid);
      for (const n of this.nodes) if (n.server) safeKill(n.server.pid);
      if (this.#mounted) {
        try {
          execFileSync("umount", ["-l", this.storeDir(0)], { stdio: "ignore" });
        } catch {
          /* nothing more to do while exiting */
        }
      }
    };
    process.once("exit", this.#exitHook);
  }

  /** Stops everything (members, gateways, nats-servers), unmounts the tmpfs; removes the folder unless `keep`. Idempotent. */
  async stop(keep = true): Promise<void> {
    this.#stopping = true;
    await this.stopMembers().catch(() => {});
    await Promise.all(this.gateways.map((g) => this.#stopProc(g, 15_000, () => g.child?.kill("SIGTERM")))).catch(() => {});
    for (const n of this.nodes) {
      await n.server?.stop().catch(() => {});
      n.server = undefined;
    }
    if (this.#mounted) {
      await this.freeStore();
      await execFileP("umount", [this.storeDir(0)]).catch(() => execFileP("umount", ["-l", this.storeDir(0)]).catch(() => {}));
      this.#mounted = false;
    }
    if (this.#exitHook) process.off("exit", this.#exitHook);
    this.#exitHook = undefined;
    if (!keep && existsSync(this.dir)) await rm(this.dir, { recursive: true, force: true });
  }
}

function safeKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    /* already gone */
  }
}
