/**
 * RabbitMQ as a peer, with amqplib: a quorum queue and a classic durable queue, persistent
 * messages, publisher confirms.
 *
 * It starts Debian's `rabbitmq-server` on loopback with ports of its own (AMQP, distribution and
 * epmd) and data in a temporary folder, as the `rabbitmq` user (the Debian scripts expect that
 * user; its data and log folders must belong to it), and stops it at the end. When RabbitMQ is
 * not installed, or this is not run as root, it says so and the run goes on without it.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ChannelModel, type ConfirmChannel } from "amqplib";
import { descendantPids, packageVersion, processCpuSeconds } from "../env.js";
import { runWindow, type Throughput } from "../load.js";
import { sleep } from "../stats.js";
import type { Peer, PeerResult, PeerRow, PeerRunOptions } from "./peer.js";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

function rabbitVersion(): string {
  try {
    return execFileSync("dpkg-query", ["-W", "-f=${Version}", "rabbitmq-server"], { encoding: "utf8" }).trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/** A RabbitMQ node started for the benchmark. */
interface RabbitNode {
  url: string;
  /** CPU seconds of the node's processes so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

async function startRabbit(log: (s: string) => void): Promise<RabbitNode> {
  const user = execFileSync("id", ["-u", "rabbitmq"], { encoding: "utf8" }).trim();
  const group = execFileSync("id", ["-g", "rabbitmq"], { encoding: "utf8" }).trim();
  const dir = await mkdtemp(join(tmpdir(), "junction-bench-rabbitmq-"));
  chownSync(dir, Number(user), Number(group));
  const port = await freePort();
  const distPort = await freePort();
  const epmdPort = await freePort();
  const node = `junction-bench-${process.pid}@localhost`;
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_LOGS: join(dir, "log", "rabbit.log"),
    RABBITMQ_PID_FILE: join(dir, "rabbit.pid"),
    // An epmd of its own, so a node already running on this machine is not touched.
    ERL_EPMD_ADDRESS: "127.0.0.1",
    ERL_EPMD_PORT: String(epmdPort),
  };
  // Debian's wrapper does the same `su`; calling the real script keeps stdout ours.
  const child: ChildProcess = spawn("su", ["rabbitmq", "-s", "/bin/sh", "-c", `exec ${SERVER}`], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let exited = false;
  const exitP = new Promise<void>((r) => child.once("exit", () => ((exited = true), r())));
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  const stopNode = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exitP;
      clearTimeout(timer);
    }
    try {
      execFileSync("epmd", ["-port", String(epmdPort), "-kill"], { stdio: "ignore", env });
    } catch {
      /* already gone */
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (;;) {
    if (exited) {
      await stopNode();
      throw new Error(`rabbitmq-server exited at startup: ${stderr}`);
    }
    if (Date.now() > deadline) {
      await stopNode();
      throw new Error("rabbitmq-server did not accept connections within 90 s");
    }
    try {
      const c = await connect(url);
      await c.close();
      break;
    } catch {
      await sleep(250);
    }
  }
  log(`  rabbitmq-server ${rabbitVersion()} on 127.0.0.1:${port} (data in a temporary folder owned by rabbitmq)`);
  return {
    url,
    cpuSeconds: () => (child.pid ? descendantPids(child.pid).reduce((s, p) => s + (processCpuSeconds(p) ?? 0), 0) : 0),
    stop: stopNode,
  };
}

async function publish(ch: ConfirmChannel, queue: string, payload: Buffer, o: PeerRunOptions, ms: number): Promise<Throughput> {
  let n = 0;
  let draining: Promise<void> | undefined;
  return runWindow({
    window: o.outstanding,
    durationMs: ms,
    unit: 1,
    issue: async () => {
      if (draining) await draining;
      await new Promise<void>((resolve, reject) => {
        const ok = ch.sendToQueue(queue, payload, { persistent: true, messageId: String(n++) }, (err: unknown) =>
          err ? reject(new Error(String(err))) : resolve(),
        );
        if (!ok && !draining) draining = new Promise<void>((r) => ch.once("drain", () => ((draining = undefined), r())));
      });
    },
  });
}

async function consume(conn: ChannelModel, queue: string, count: number, prefetch: number): Promise<Throughput> {
  const ch = await conn.createChannel();
  await ch.prefetch(prefetch);
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    ch.consume(queue, (m) => {
      if (!m) return reject(new Error("consumer cancelled"));
      ch.ack(m);
      if (++got === count) resolve();
    }).catch(reject);
  });
  const seconds = (performance.now() - t0) / 1000;
  await ch.close();
  return { messages: got, seconds, rate: got / seconds };
}

/** RabbitMQ (Debian's rabbitmq-server) through amqplib. */
export function rabbitMqPeer(): Peer {
  return {
    name: "RabbitMQ",
    async unavailable() {
      if (!existsSync(SERVER))
        return "RabbitMQ is not installed (`apt-get install rabbitmq-server` on Debian/Ubuntu adds it; the benchmark starts and stops its own node).";
      if (process.getuid?.() !== 0)
        return "starting rabbitmq-server needs root (it switches to the rabbitmq user); run the benchmark as root to include it.";
      return undefined;
    },
    async run(o) {
      const node = await startRabbit(o.log);
      const payload = Buffer.from(o.payload);
      const rows: PeerRow[] = [];
      try {
        const conn = await connect(node.url);
        try {
          for (const queue of ["quorum", "classic"] as const) {
            const name = `junction-bench-${queue}`;
            const ch = await conn.createConfirmChannel();
            await ch.assertQueue(name, { durable: true, arguments: { "x-queue-type": queue } });
            await publish(ch, name, payload, o, Math.min(1000, o.publishMs)); // warm-up
            await ch.purgeQueue(name);
            const c0 = node.cpuSeconds();
            const pub = await publish(ch, name, payload, o, o.publishMs);
            const c1 = node.cpuSeconds();
            await ch.close();
            const con = await consume(conn, name, pub.messages, 500);
            rows.push({ variant: `${queue} queue`, publish: pub, consume: con, serverCpuPerMessage: ((c1 - c0) * 1e6) / pub.messages });
            o.log(
              `  RabbitMQ ${queue} queue: publish ${Math.round(pub.rate).toLocaleString("en-US")} msgs/s, consume ${Math.round(con.rate).toLocaleString("en-US")} msgs/s`,
            );
            const admin = await conn.createChannel();
            await admin.deleteQueue(name);
            await admin.close();
          }
        } finally {
          await conn.close().catch(() => {});
        }
      } finally {
        await node.stop();
      }
      const result: PeerResult = {
        peer: "RabbitMQ",
        version: rabbitVersion(),
        client: `amqplib ${packageVersion("amqplib")}`,
        method: [
          `One RabbitMQ node (Debian's rabbitmq-server, default settings) on loopback, started for the run. A quorum queue (Raft log, fsync before confirm) and a classic durable queue; persistent messages; publisher confirms with ${o.outstanding.toLocaleString("en-US")} unconfirmed at most; ${o.publishMs} ms of publishing after a short warm-up, then everything published is consumed (prefetch 500, ack each).`,
        ],
        rows,
      };
      return result;
    },
  };
}
