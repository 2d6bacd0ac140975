/** The machine, versions and storage facts printed beside every result. */
import { closeSync, fdatasyncSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from "node:fs";
import { cpus, loadavg, release, totalmem, tmpdir, type as osType } from "node:os";
import { join } from "node:path";
import { checkNatsServerVersion, findNatsServer, packageRoot } from "../../core/server/index.js";

/** What the run was measured on. */
export interface Environment {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  /** Distribution and kernel, e.g. "Debian GNU/Linux 12 (bookworm), Linux 6.1". */
  os: string;
  node: string;
  natsServer: string;
  natsJs: string;
  /** Median time of a 4 KiB write + fdatasync in the temp folder (the store lives there), ms. */
  fsyncMs: number;
  /** 1-minute load average when the run started (other work on the machine makes numbers noisy). */
  loadAtStart: number;
}

function pkgVersion(name: string): string {
  const root = packageRoot() ?? process.cwd();
  try {
    return (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Measures fdatasync latency: the floor of any fsync-before-ack publish. */
export function measureFsync(rounds = 50): number {
  const file = join(tmpdir(), `junction-bench-fsync-${process.pid}`);
  const fd = openSync(file, "w");
  const buf = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      writeSync(fd, buf);
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Collects the environment. */
export async function environment(): Promise<Environment> {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    os: osName(),
    node: process.version,
    natsServer: await checkNatsServerVersion(findNatsServer()),
    natsJs: pkgVersion("@nats-io/nats-core"),
    fsyncMs: measureFsync(),
    loadAtStart: loadavg()[0] ?? 0,
  };
}

/** The distribution's name (from /etc/os-release) and the kernel. */
function osName(): string {
  let distro = "";
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
  } catch {
    /* not Linux, or no os-release: the kernel alone says enough */
  }
  const kernel = `${osType()} ${release()}`;
  return distro ? `${distro}, ${kernel}` : kernel;
}

/** The version of an installed npm package (for peers' client libraries). */
export const packageVersion = pkgVersion;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function processCpuSeconds(pid: number): number | undefined {
  if (pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at state (field 3).
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    return ticks / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

/** Resident memory of a process, bytes, from /proc (Linux); undefined elsewhere or when it is gone. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Every descendant of a process (children, their children, …), from /proc (Linux). */
export function descendantPids(pid: number): number[] {
  const parentOf = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(e), ppid);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}
