/**
 * Where end-to-end latency goes: per-message timestamps at each stage of the path, from the
 * sender (scheduled, handed over, reply), a tap process that watches the server (request
 * arrived, publish to the stream arrived, store ack sent) and the consumer (received). The
 * stage times of one message add up to its end-to-end latency, so the slowest messages can be
 * split into what made them slow.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { e2eId, type E2eSamples } from "./e2e.js";
import { summarize, type LatencySummary } from "./stats.js";

/** What the tap listens to. */
export interface TapConfig {
  servers: string;
  user: string;
  pass: string;
  /** `jn.produce.<station>` (Junction's path); none on the raw path. */
  produceSubject?: string | undefined;
  /** The stream's subject: publishes to it are stamped. */
  streamSubject: string;
  /** The stream's name: store acks of other streams are ignored. */
  stream: string;
}

/** What the tap saw (wall-clock ms). */
export interface TapRecords {
  /** [message id, time the produce request carrying it arrived]. */
  requests: [string, number][];
  /** [message id, time its publish to the stream arrived]. */
  publishes: [string, number][];
  /** [stream sequence of the last message acked, messages covered, time the ack was sent]. */
  acks: [number, number, number][];
}

/** A running tap. */
export interface Tap {
  /** Stops the tap and returns what it saw. */
  stop(): Promise<TapRecords>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Starts the tap in its own process; resolves once it is subscribed. */
export async function startTap(cfg: TapConfig): Promise<Tap> {
  const child = spawn(process.execPath, [...process.execArgv, join(here, "tap-child.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, JUNCTION_BENCH_TAP: JSON.stringify(cfg) },
  });
  const waiting: ((l: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => waiting.shift()?.(l.trim()));
  const next = (what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the tap did not ${what} within 30 s`)), 30_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`the tap exited (code ${code}) before it could ${what}`));
      };
      child.once("exit", onExit);
      waiting.push((l) => {
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve(l);
      });
    });
  const ready = await next("start");
  if (ready !== "ready") throw new Error(`the tap said '${ready}' at startup`);
  return {
    async stop() {
      const dir = await mkdtemp(join(tmpdir(), "junction-bench-tap-"));
      try {
        const file = join(dir, "tap.json");
        const answer = next("write its records");
        child.stdin!.write(`dump ${file}\n`);
        if ((await answer) !== "dumped") throw new Error("the tap did not write its records");
        return JSON.parse(await readFile(file, "utf8")) as TapRecords;
      } finally {
        child.stdin!.end();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** One stage's times over the traced messages, ms. */
export interface StageStat {
  name: string;
  /** From which timestamp to which. */
  meaning: string;
  all: LatencySummary & { mean: number };
  /** Mean over the slowest 1 % of messages (end to end). */
  tailMean: number;
}

/** The stage split of one end-to-end run. */
export interface Breakdown {
  path: "junction" | "raw";
  /** Messages with every timestamp. */
  traced: number;
  /** Messages missing a timestamp (the tap missed it): left out. */
  untraced: number;
  e2e: LatencySummary & { mean: number };
  /** End-to-end latency of the fastest message of the tail (the slowest 1 % of traced messages). */
  tailFromMs: number;
  tailCount: number;
  /** Stages on the path, in order; their times add up to the end-to-end latency. */
  stages: StageStat[];
  /** Not on the path: store ack → the sender learns of it (holds the next batch when one is in flight). */
  reply: StageStat;
}

function firstTimes(pairs: readonly [string, number][]): Map<string, number> {
  const m = new Map<string, number>();
  for (const [id, t] of pairs) if (!m.has(id)) m.set(id, t);
  return m;
}

/** Stream sequence → time its store ack was sent (a batch ack covers `count` sequences up to its seq). */
function ackTimes(acks: readonly [number, number, number][]): Map<number, number> {
  const m = new Map<number, number>();
  for (const [seq, count, t] of acks) for (let s = seq - count + 1; s <= seq; s++) if (!m.has(s)) m.set(s, t);
  return m;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/**
 * Splits each message's end-to-end latency into stages (see {@link Breakdown}). On the raw
 * path there is no produce request, so "publisher → server" runs from the send to the publish.
 */
export function breakdown(path: "junction" | "raw", s: E2eSamples, tap: TapRecords): Breakdown {
  const req = firstTimes(tap.requests);
  const pub = firstTimes(tap.publishes);
  const ack = ackTimes(tap.acks);
  const defs: { name: string; meaning: string; from: (i: number) => number; to: (i: number) => number }[] = [];
  const tReq = (i: number) => req.get(e2eId(i)) ?? Number.NaN;
  const tPub = (i: number) => pub.get(e2eId(i)) ?? Number.NaN;
  const tAck = (i: number) => ack.get(s.seq[i]!) ?? Number.NaN;
  defs.push({ name: "sender", meaning: "due → handed to the producer (timer lag)", from: (i) => s.sched[i]!, to: (i) => s.send[i]! });
  if (path === "junction") {
    defs.push(
      {
        name: "producer → server",
        meaning: "handed over → request at the server (SDK batching, waiting for the batch in flight)",
        from: (i) => s.send[i]!,
        to: tReq,
      },
      {
        name: "gateway",
        meaning: "request at the server → gateway's publish at the server (decode, schema, queue, publish)",
        from: tReq,
        to: tPub,
      },
    );
  } else {
    defs.push({ name: "publisher → server", meaning: "handed over → publish at the server", from: (i) => s.send[i]!, to: tPub });
  }
  defs.push(
    { name: "store", meaning: "publish at the server → store ack sent (write, fsync, ack)", from: tPub, to: tAck },
    { name: "delivery", meaning: "store ack → consumer has it (pull, delivery, client)", from: tAck, to: (i) => s.recv[i]! },
  );
  const traced: number[] = [];
  let untraced = 0;
  for (let i = s.warmup; i < s.count; i++) {
    const ok = defs.every((d) => Number.isFinite(d.from(i)) && Number.isFinite(d.to(i))) && Number.isFinite(s.reply[i]!);
    if (ok) traced.push(i);
    else untraced++;
  }
  const e2e = traced.map((i) => s.recv[i]! - s.sched[i]!);
  // The tail: the slowest 1 % by end-to-end latency (by rank, so ties cannot swell it).
  const byLatency = traced.map((i, k) => ({ i, e: e2e[k]! })).sort((a, b) => b.e - a.e);
  const tail = byLatency.slice(0, Math.max(1, Math.ceil(traced.length * 0.01))).map((x) => x.i);
  const tailFromMs = byLatency[tail.length - 1]?.e ?? Number.NaN;
  const stat = (name: string, meaning: string, f: (i: number) => number): StageStat => {
    const xs = traced.map(f);
    return { name, meaning, all: { ...summarize(xs), mean: mean(xs) }, tailMean: mean(tail.map(f)) };
  };
  return {
    path,
    traced: traced.length,
    untraced,
    e2e: { ...summarize(e2e), mean: mean(e2e) },
    tailFromMs,
    tailCount: tail.length,
    stages: defs.map((d) => stat(d.name, d.meaning, (i) => d.to(i) - d.from(i))),
    reply: stat("store ack → sender", "store ack sent → the sender's send resolved (off the path)", (i) => s.reply[i]! - tAck(i)),
  };
}

/** One line saying where the tail's time goes, largest stage first. */
export function tailFinding(b: Breakdown): string {
  if (b.traced === 0) return `${b.path}: no message was traced.`;
  const total = b.stages.reduce((a, st) => a + st.tailMean, 0);
  const parts = [...b.stages]
    .sort((x, y) => y.tailMean - x.tailMean)
    .map((st) => `${st.name} ${st.tailMean.toFixed(2)} ms (${Math.round((st.tailMean / total) * 100)} %)`);
  const label = b.path === "junction" ? "Junction" : "raw JetStream";
  return `${label}: the slowest 1 % (${b.tailCount} messages, ≥ ${b.tailFromMs.toFixed(2)} ms end to end) spend on average ${parts.join(", ")}; all messages: ${b.stages.map((st) => `${st.name} ${st.all.mean.toFixed(2)}`).join(", ")} ms.`;
}
