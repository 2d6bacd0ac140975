/**
 * The cluster test: three nats-server processes with routes (JetStream clustered, fsync before
 * ack) and two gateways on loopback; an R3 station under continuous produce and consume; then one
 * NATS node (the station's stream leader) and one gateway (a child process) are killed with
 * SIGKILL mid-stream and brought back. Produce and consume must carry on, and every message the
 * producer got an ack for must be consumed. docs/operations.md describes the method and results.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  accountsFor,
  newDeploymentSecrets,
  startJunctionGateway,
  startNatsServer,
  silentLogger,
  type JunctionGateway,
  type RunningNatsServer,
} from "../../core/server/index.js";
import { subjects } from "../../core/protocol/index.js";
import { testGatewayOptions, testUsers, uniqueName, waitFor } from "../harness/index.js";
import { connect, type JunctionClient } from "../../sdk/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const CHILD = resolve(import.meta.dirname, "cluster-gateway.child.ts");
const secrets = newDeploymentSecrets();
const users = testUsers();
const accounts = accountsFor(secrets);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node {
  name: string;
  dir: string;
  port: number;
  clusterPort: number;
  server?: RunningNatsServer | undefined;
}

/** A gateway in a child process. */
interface ChildGateway {
  id: string;
  httpUrl: string;
  child: ChildProcess;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

let root: string;
const nodes: Node[] = [];
let gw1: JunctionGateway | undefined;
const children: ChildGateway[] = [];
let client: JunctionClient | undefined;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const urls = () => nodes.map((n) => `nats://127.0.0.1:${n.port}`);

function startNode(n: Node): Promise<RunningNatsServer> {
  return startNatsServer({
    dir: n.dir,
    port: n.port,
    accounts,
    sync: "always",
    serverName: n.name,
    cluster: { name: "jn-cluster-test", port: n.clusterPort, routes: nodes.map((x) => `nats://127.0.0.1:${x.clusterPort}`) },
  });
}

const gatewayOptions = () => ({
  servers: urls(),
  ...testGatewayOptions(secrets, users),
  defaultReplicas: 3,
  storeTimeoutMs: 5000,
});

async function spawnGateway(): Promise<ChildGateway> {
  const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", CHILD], {
    cwd: ROOT,
    env: { ...process.env, JN_CHILD_GATEWAY: JSON.stringify(gatewayOptions()) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const line = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`child gateway did not start within 45 s:\n${stderr}`)), 45_000);
    createInterface({ input: child.stdout! }).once("line", (l) => {
      clearTimeout(timer);
      res(l);
    });
    void exited.then(() => {
      clearTimeout(timer);
      rej(new Error(`child gateway exited at startup:\n${stderr}`));
    });
  });
  const info = JSON.parse(line) as { id: string; httpUrl: string };
  const g: ChildGateway = {
    ...info,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  children.push(g);
  return g;
}

/** The value of one series in a Prometheus text exposition (summed over matching label sets). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(" ").pop());
  }
  return sum;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "junction-cluster-"));
  for (const name of ["n1", "n2", "n3"]) nodes.push({ name, dir: join(root, name), port: await freePort(), clusterPort: await freePort() });
  await Promise.all(nodes.map(async (n) => (n.server = await startNode(n))));
  // JetStream answers once the three servers have routed and elected a meta leader.
  gw1 = await waitFor(
    () => startJunctionGateway({ ...gatewayOptions(), logger: silentLogger, metrics: { stateCacheMs: 500 } }).catch(() => undefined),
    30_000,
    250,
  );
  client = await connect({ servers: urls(), user: users.admin.user, pass: users.admin.password, name: "cluster-test" });
}, 90_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state !== "fail") return;
  for (const n of nodes) console.error(`--- ${n.name} log tail ---\n${(await n.server?.logTail(25)) ?? "(not running)"}`);
});

afterAll(async () => {
  await client?.close().catch(() => {});
  for (const c of children) await c.kill();
  await gw1?.close().catch(() => {});
  for (const n of nodes) await n.server?.stop();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

describe("a 3-node NATS cluster with two gateways", () => {
  it("keeps producing and consuming through the loss of a NATS node and a gateway; every acked message is consumed", async () => {
    const t0 = performance.now();
    const now = () => Math.round(performance.now() - t0);
    const timings: Record<string, number | string> = {};
    const gw = gw1!;
    const c = client!;
    let child = await spawnGateway();
    timings["cluster + gateways up (ms)"] = now();

    // State polls time out after 1 s (not the default 5 s), so a poll sent to a dead node does
    // not blur the timings.
    const inspector: NatsConnection = await natsConnect({
      servers: urls(),
      user: secrets.gateway.user,
      pass: secrets.gateway.password,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    const mon = await jetstreamManager(inspector, { timeout: 1000 });
    const station = uniqueName("cl");
    const stream = subjects.stationStream(station);
    await c.stations.create(station, { replicas: 3 });
    const group = "workers";

    // Consume: one member of a group, acking each message; redeliveries after 3 s.
    const consumer = await c.consumer({ station, group, maxAckTimeMs: 3000, batchSize: 100 });
    const deliveries = new Map<number, number[]>();
    const deliveryTimes: number[] = [];
    const consuming = (async () => {
      for await (const m of consumer) {
        const { n } = m.json<{ n: number }>();
        const seen = deliveries.get(n);
        if (seen) seen.push(m.deliveryCount);
        else deliveries.set(n, [m.deliveryCount]);
        deliveryTimes.push(now());
        m.ack();
      }
    })();

    // Produce: ~1,000 messages/s with our own ids, up to 300 awaiting their ack; the producer
    // retries a request that times out (2 s) with the same ids until sendTimeoutMs.
    const producer = c.producer({ station, requestTimeoutMs: 2000, sendTimeoutMs: 90_000 });
    const acked = new Map<number, number>();
    const ackTimes: number[] = [];
    const failed: { n: number; error: string }[] = [];
    let maxSendMs = 0;
    let sent = 0;
    let producing = true;
    const inflight = new Set<Promise<void>>();
    const producing$ = (async () => {
      while (producing) {
        for (let k = 0; k < 10 && inflight.size < 300; k++) {
          const n = sent++;
          const t = performance.now();
          const p: Promise<void> = producer
            .send({ n }, { id: `m-${n}` })
            .then(
              (r) => {
                acked.set(n, r.seq);
                ackTimes.push(now());
                maxSendMs = Math.max(maxSendMs, performance.now() - t);
              },
              (e: unknown) => {
                failed.push({ n, error: String(e) });
              },
            )
            .finally(() => inflight.delete(p));
          inflight.add(p);
        }
        await sleep(10);
      }
      await Promise.all(inflight);
    })();

    /** Waits for `cond`; on timeout, fails naming the phase with a snapshot of the broker state. */
    const phase = async <T>(label: string, cond: () => T | Promise<T>, timeoutMs = 45_000): Promise<T> => {
      try {
        return await waitFor(cond, timeoutMs, 100);
      } catch {
        const si = await mon.streams.info(stream).catch((e: unknown) => String(e));
        const ci = await mon.consumers.info(stream, group).catch((e: unknown) => String(e));
        const view = (x: unknown) => JSON.stringify(x, (k, v: unknown) => (k === "config" ? undefined : v));
        throw new Error(
          `${label}: not reached within ${timeoutMs} ms at ${now()} ms; sent ${sent}, acked ${acked.size}, failed ${failed.length}, ` +
            `in flight ${inflight.size}, delivered ${deliveryTimes.length}\nstream: ${view(si)}\nconsumer: ${view(ci)}`,
        );
      }
    };

    await phase("steady state", () => acked.size >= 2000 && deliveryTimes.length >= 1500);

    // Kill the station's stream leader (SIGKILL) and the child gateway (SIGKILL), together.
    const leader = (await mon.streams.info(stream)).cluster?.leader;
    const victim = nodes.find((n) => n.name === leader) ?? nodes[0]!;
    const killAt = now();
    const ackedAtKill = acked.size;
    const deliveredAtKill = deliveryTimes.length;
    await Promise.all([victim.server!.kill("SIGKILL"), child.kill()]);
    timings["killed"] = `${victim.name} (stream leader) and gateway ${child.id} at ${killAt} ms`;

    const newLeader = await phase("new stream leader", async () => {
      const l = (await mon.streams.info(stream).catch(() => undefined))?.cluster?.leader;
      return l && l !== victim.name ? l : undefined;
    });
    timings["new stream leader elected after (ms)"] = now() - killAt;
    timings["new stream leader"] = newLeader ?? "?";
    // Run degraded (two nodes, one gateway) for a while.
    await phase("produce after the kill", () => acked.size >= ackedAtKill + 2000);
    timings["2,000 more acks after the kill at (ms)"] = now() - killAt;
    // A member whose pull request sat on the lost consumer leader notices only when two idle
    // heartbeats are missed (nats.js consume() defaults: 30 s expiry, 15 s heartbeat).
    await phase("consume after the kill", () => deliveryTimes.length >= deliveredAtKill + 2000, 90_000);
    timings["2,000 more deliveries after the kill at (ms)"] = now() - killAt;

    // Bring them back: the node on the same store and ports, and a new gateway process.
    const restartAt = now();
    victim.server = await startNode(victim);
    child = await spawnGateway();
    timings["node + gateway restarted in (ms)"] = now() - restartAt;
    await phase("restarted replica current", async () => {
      const replicas = (await mon.streams.info(stream).catch(() => undefined))?.cluster?.replicas ?? [];
      return replicas.length === 2 && replicas.every((r) => r.current && !r.offline);
    });
    timings["restarted replica current after (ms)"] = now() - restartAt;
    // The new gateway takes its share of the produce load (queue group).
    await phase("new gateway serves produce requests", async () => {
      const text = await (await fetch(`${child.httpUrl}/metrics`)).text();
      return sample(text, "junction_produce_requests_total", { station }) > 0;
    });
    const ackedAtBack = acked.size;
    await phase("produce after the restart", () => acked.size >= ackedAtBack + 1000);

    producing = false;
    await producing$;
    const producedAt = now();
    // Every acked message reaches the group (lost acks come back after maxAckTimeMs).
    await phase("every acked message consumed", () => [...acked.keys()].every((n) => deliveries.has(n)), 60_000);
    timings["all acked messages consumed, after the last ack (ms)"] = now() - producedAt;
    await phase("consumer lag 0 in /metrics", async () => {
      const text = await gw.metrics.metrics();
      return sample(text, "junction_consumer_lag", { station, group }) === 0 && text.includes(`junction_consumer_lag{station="${station}"`);
    });
    await consumer.close();
    await consuming;

    const gaps = (ts: number[]) => ts.slice(1).reduce((m, t, i) => Math.max(m, t - ts[i]!), 0);
    const info = await mon.streams.info(stream);
    await inspector.close();
    const redelivered = [...deliveries.values()].filter((d) => d.length > 1).length;
    timings["messages sent / acked / failed"] = `${sent} / ${acked.size} / ${failed.length}`;
    timings["stream messages"] = info.state.messages;
    timings["longest gap between produce acks (ms)"] = gaps(ackTimes);
    timings["longest gap between deliveries (ms)"] = gaps(deliveryTimes);
    timings["slowest send, retries included (ms)"] = Math.round(maxSendMs);
    timings["messages delivered more than once (redeliveries)"] = redelivered;
    timings["total (ms)"] = now();
    console.log(
      `cluster test:\n${Object.entries(timings)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join("\n")}`,
    );

    expect(failed).toEqual([]);
    expect(acked.size).toBe(sent);
    // Exactly once in the stream: one sequence per id, and nothing else stored.
    expect(new Set(acked.values()).size).toBe(acked.size);
    expect(info.state.messages).toBe(acked.size);
    // Every acked message consumed.
    expect([...acked.keys()].filter((n) => !deliveries.has(n))).toEqual([]);
    // A message seen twice was redelivered by JetStream (never two first deliveries).
    for (const [n, counts] of deliveries)
      expect(counts.filter((x) => x === 1).length, `message ${n}: ${counts.join(",")}`).toBeLessThanOrEqual(1);
  }, 180_000);
});
