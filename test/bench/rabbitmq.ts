/**
 * The peer comparison (`--peers`): the same produce and consume against RabbitMQ with amqplib —
 * a quorum queue and a classic durable queue, persistent messages, publisher confirms.
 *
 * It starts Debian's `rabbitmq-server` on loopback on a port of its own, as the `rabbitmq` user
 * (the Debian scripts expect that user; its data and log folders must belong to it). RabbitMQ
 * is optional: when it is not installed, this prints how to install it and skips.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ChannelModel, type ConfirmChannel } from "amqplib";
import { runWindow, type Throughput } from "./load.js";
import { sleep } from "./stats.js";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** One queue type's numbers. */
export interface PeerRow {
  queue: "quorum" | "classic";
  publish: Throughput;
  consume: Throughput;
}

/** What `--peers` measured (or why it did not). */
export interface PeerResults {
  version: string;
  outstanding: number;
  rows: PeerRow[];
  skipped?: string;
}

/** Options of {@link runPeers}. */
export interface PeerOptions {
  payload: Uint8Array;
  outstanding: number;
  /** How long to publish to each queue (all of it is then consumed). */
  publishMs: number;
  log: (s: string) => void;
}

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
    const out = execFileSync("dpkg-query", ["-W", "-f=${Version}", "rabbitmq-server"], { encoding: "utf8" });
    return out.trim() || "unknown";
  } catch {
    return "unknown";
  }
}

function epmdRunning(): boolean {
  try {
    execFileSync("epmd", ["-names"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A RabbitMQ node started for the benchmark. */
interface RabbitNode {
  url: string;
  stop(): Promise<void>;
}

async function startRabbit(log: (s: string) => void): Promise<RabbitNode> {
  const user = execFileSync("id", ["-u", "rabbitmq"], { encoding: "utf8" }).trim();
  const group = execFileSync("id", ["-g", "rabbitmq"], { encoding: "utf8" }).trim();
  const dir = await mkdtemp(join(tmpdir(), "junction-bench-rabbitmq-"));
  chownSync(dir, Number(user), Number(group));
  const port = await freePort();
  const distPort = await freePort();
  const hadEpmd = epmdRunning();
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
    ERL_EPMD_ADDRESS: "127.0.0.1",
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
  for (;;) {
    if (exited) throw new Error(`rabbitmq-server exited at startup: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
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
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exitP;
        clearTimeout(timer);
      }
      // Erlang started epmd for the node; stop it only if it was not running before.
      if (!hadEpmd) {
        try {
          execFileSync("epmd", ["-kill"], { stdio: "ignore" });
        } catch {
          /* already gone */
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function publish(ch: ConfirmChannel, queue: string, payload: Buffer, o: PeerOptions): Promise<Throughput> {
  let n = 0;
  let draining: Promise<void> | undefined;
  return runWindow({
    window: o.outstanding,
    durationMs: o.publishMs,
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

/** Runs the RabbitMQ comparison, or explains how to enable it. Never throws for a missing RabbitMQ. */
export async function runPeers(o: PeerOptions): Promise<PeerResults> {
  const base = { version: rabbitVersion(), outstanding: o.outstanding, rows: [] as PeerRow[] };
  if (!existsSync(SERVER)) {
    const why =
      "RabbitMQ is not installed. To compare against it: `sudo apt-get install rabbitmq-server` (Debian/Ubuntu), then `npm run bench -- --peers`.";
    o.log(`  skipped: ${why}`);
    return { ...base, version: "absent", skipped: why };
  }
  if (process.getuid?.() !== 0) {
    const why =
      "starting rabbitmq-server needs root (it switches to the rabbitmq user); run the peer comparison as root, e.g. `sudo npm run bench -- --peers`.";
    o.log(`  skipped: ${why}`);
    return { ...base, skipped: why };
  }
  const node = await startRabbit(o.log);
  const payload = Buffer.from(o.payload);
  try {
    const conn = await connect(node.url);
    try {
      for (const queue of ["quorum", "classic"] as const) {
        const name = `junction-bench-${queue}`;
        const ch = await conn.createConfirmChannel();
        await ch.assertQueue(name, { durable: true, arguments: { "x-queue-type": queue } });
        await publish(ch, name, payload, { ...o, publishMs: 1000 }); // warm-up
        await ch.purgeQueue(name);
        const pub = await publish(ch, name, payload, o);
        await ch.close();
        const con = await consume(conn, name, pub.messages, 500);
        base.rows.push({ queue, publish: pub, consume: con });
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
  return base;
}
