/**
 * `junction dev --memphis` in a child process (the built CLI, as a user runs it), and the CLI
 * run against it. Needs `npm run build` first (`npm run test:memphis` does it).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const main = join(root, "dist/cli/main.js");

/** What `junction dev --memphis` writes for the memphis.js SDK (`memphis.connect({ ...memphis })`). */
export interface MemphisEnv {
  username: string;
  accountId: number;
  password: string;
  host: string;
  port: number;
}

/** A running `junction dev --memphis`. */
export interface DevMemphis {
  dir: string;
  url: string;
  /** The process id of `junction dev` (the gateway; nats-server is its child). */
  pid: number;
  memphis: MemphisEnv;
  admin: { user: string; password: string };
  /** Runs `junction <args>` against it (as its admin); resolves with the exit code and output. */
  junction(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** What the broker printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Options of {@link startDevMemphis}. */
export interface DevMemphisOptions {
  /** fsync before ack (junction dev's default); tests run without it. @default false */
  sync?: boolean;
}

/** Starts `junction dev --memphis --port=-1` in a new data directory. */
export async function startDevMemphis(o: DevMemphisOptions = {}): Promise<DevMemphis> {
  const dir = await mkdtemp(join(tmpdir(), "junction-memphis-"));
  const data = join(dir, "data");
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--no-node-snapshot",
      main,
      "--data-dir",
      data,
      "dev",
      "--memphis",
      "--port=-1",
      ...(o.sync ? [] : ["--no-sync"]),
      "--log-level",
      "warn",
    ],
    { cwd: dir },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const end = Date.now() + 60_000;
  while (!out.includes("Junction is running.")) {
    if (Date.now() > end || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`junction dev --memphis did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const creds = JSON.parse(await readFile(join(data, "credentials.json"), "utf8")) as {
    url: string;
    users: { admin: { user: string; password: string } };
    memphis: MemphisEnv;
  };
  let stopped: Promise<void> | undefined;
  return {
    dir,
    url: creds.url,
    pid: child.pid!,
    memphis: creds.memphis,
    admin: creds.users.admin,
    junction: (...args) =>
      new Promise((res) => {
        const c = execFile(
          process.execPath,
          ["--no-node-snapshot", main, "--data-dir", data, ...args],
          { cwd: dir },
          (err, stdout, stderr) => res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        c.stdin?.end();
      }),
    output: () => out,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null) {
          const exited = new Promise<void>((r) => child.once("exit", () => r()));
          child.kill("SIGINT");
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
