/**
 * HTTP produce (batched) beside the SDK producer, on the same station and payload (1 KiB JSON,
 * no schema), against a gateway in its own process.
 *
 * As a module: `httpProduce(target, station, payload, durationMs, { batch, inFlight })` keeps
 * `inFlight` POST /v1/stations/<s>/messages requests of `batch` messages each in flight (keep-alive
 * connections, node:http) for `durationMs` and returns a Throughput like the other scenarios; it
 * fails on any refused message. To plug it into run.ts, the bench broker's gateway needs an HTTP
 * port (`httpPort` in its options) and run.ts needs its URL; then call `httpProduce` with the
 * `app` user beside `sdkProduce`.
 *
 * Standalone (starts its own nats-server and gateway, prints a table, writes
 * bench-results/http-<time>.json):
 *   npm exec -- node --no-node-snapshot --import tsx test/bench/http.ts [--quick] [--sync always|default]
 * Not a test: nothing here asserts a timing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { accountsFor, newDeploymentSecrets, packageRoot, startNatsServer, type JunctionGatewayOptions } from "../../core/server/index.js";
import { connect } from "../../sdk/index.js";
import { testGatewayOptions, testUsers } from "../harness/index.js";
import { environment, processCpuSeconds } from "./env.js";
import { PRODUCE_SETTINGS, sdkProduce } from "./gateway.js";
import { jsonPayload, runWindow, type Throughput } from "./load.js";
import { fmtInt, fmtRatio, table } from "./stats.js";

/** Where and as whom to produce over HTTP. */
export interface HttpTarget {
  /** The gateway's HTTP base URL (`http://127.0.0.1:8080`). */
  baseUrl: string;
  user: string;
  password: string;
}

/** Options of {@link httpProduce}. */
export interface HttpProduceOptions {
  /** Messages per request. */
  batch: number;
  /** Requests in flight at once (and keep-alive connections). */
  inFlight: number;
}

/**
 * Produces `payload` (JSON bytes) over HTTP in batches for `durationMs`. Every request body is
 * the same JSON text, built once (the gateway gives each message an id), so the client's cost is
 * the HTTP exchange alone.
 */
export async function httpProduce(
  t: HttpTarget,
  station: string,
  payload: Uint8Array,
  durationMs: number,
  o: HttpProduceOptions,
): Promise<Throughput> {
  const value = new TextDecoder().decode(payload);
  const body = Buffer.from(`{"messages":[${Array.from({ length: o.batch }, () => `{"payload":${value}}`).join(",")}]}`);
  const url = new URL(`/v1/stations/${station}/messages`, t.baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: o.inFlight });
  const auth = `Basic ${Buffer.from(`${t.user}:${t.password}`).toString("base64")}`;
  const post = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        {
          method: "POST",
          agent,
          headers: { authorization: auth, "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            const { results } = JSON.parse(text) as { results: { ok: boolean; error?: { code: string } }[] };
            const bad = results.find((r) => !r.ok);
            if (bad || results.length !== o.batch) return reject(new Error(`a message was refused: ${JSON.stringify(bad)}`));
            resolve();
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  try {
    return await runWindow({ window: o.batch * o.inFlight, durationMs, unit: o.batch, issue: post });
  } finally {
    agent.destroy();
  }
}

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The gateway in its own process (the bench's gateway-child.ts), HTTP on. */
async function spawnGateway(cfg: JunctionGatewayOptions): Promise<ChildProcess> {
  const here = dirname(fileURLToPath(import.meta.url));
  const args = process.execArgv.includes("--no-node-snapshot") ? process.execArgv : ["--no-node-snapshot", ...process.execArgv];
  const child = spawn(process.execPath, [...args, join(here, "gateway-child.ts")], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, JUNCTION_BENCH_GATEWAY: JSON.stringify(cfg) },
  });
  await new Promise<void>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on("line", (l) => l.trim() === "ready" && resolve());
    child.once("exit", (code) => reject(new Error(`the gateway exited at startup (code ${code})`)));
  });
  return child;
}

/** One row of the comparison. */
interface Row {
  name: string;
  result: Throughput;
  /** Gateway CPU ms per 1,000 messages. */
  gatewayCpuMsPer1k: number | undefined;
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false }, sync: { type: "string" } }, strict: true });
  const quick = flags.quick === true;
  const sync = flags.sync === "default" ? "default" : "always";
  const method = {
    payloadBytes: 1024,
    measureMs: quick ? 1000 : 5000,
    warmupMs: quick ? 250 : 1000,
    sdk: { ...PRODUCE_SETTINGS },
    http: { batches: [100, 1000], inFlight: 4, client: "node:http, keep-alive, one body built once per batch size" },
    sync,
    gateway: "its own Node process",
  };
  const dir = await mkdtemp(join(tmpdir(), "junction-bench-http-"));
  const secrets = newDeploymentSecrets();
  const users = testUsers();
  const server = await startNatsServer({ dir, accounts: accountsFor(secrets), sync });
  const port = await freePort();
  const child = await spawnGateway({ servers: server.url, ...testGatewayOptions(secrets, users), httpPort: port, httpHost: "127.0.0.1" });
  const client = await connect({ servers: server.url, user: users.admin.user, pass: users.admin.password, name: "bench-http" });
  const target: HttpTarget = { baseUrl: `http://127.0.0.1:${port}`, user: users.app.user, password: users.app.password };
  const payload = jsonPayload(1024);
  const rows: Row[] = [];
  const measure = async (name: string, run: (station: string, ms: number) => Promise<Throughput>) => {
    const station = `bench-http-${rows.length}`;
    await client.stations.create(station);
    await run(station, method.warmupMs);
    const before = processCpuSeconds(child.pid ?? -1);
    const result = await run(station, method.measureMs);
    const after = processCpuSeconds(child.pid ?? -1);
    const cpu = before !== undefined && after !== undefined ? ((after - before) * 1e6) / result.messages : undefined;
    rows.push({ name, result, gatewayCpuMsPer1k: cpu });
    await client.stations.delete(station);
    process.stderr.write(`${name}: ${fmtInt(result.rate)} msgs/s\n`);
  };
  try {
    await measure("SDK producer (auto-batching, 4 batches in flight)", (s, ms) => sdkProduce(client, s, payload, ms));
    for (const batch of method.http.batches) {
      await measure(`HTTP produce, ${batch} messages a request, 4 requests in flight`, (s, ms) =>
        httpProduce(target, s, payload, ms, { batch, inFlight: method.http.inFlight }),
      );
    }
  } finally {
    await client.close();
    child.kill("SIGTERM");
    await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const sdk = rows[0]!.result.rate;
  console.log(`\nHTTP produce beside the SDK (1 KiB JSON, no schema, fsync ${sync === "always" ? "before ack" : "lazy"})\n`);
  console.log(
    table(
      [
        ["scenario", "msgs/s", "vs SDK", "gateway CPU µs/msg"],
        ...rows.map((r) => [r.name, fmtInt(r.result.rate), fmtRatio(r.result.rate / sdk), r.gatewayCpuMsPer1k?.toFixed(1) ?? "-"]),
      ],
      1,
    ),
  );
  console.log(`\nmethod: ${JSON.stringify(method)}`);
  const out = join(packageRoot() ?? process.cwd(), "bench-results");
  await mkdir(out, { recursive: true });
  const file = join(out, `http-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, JSON.stringify({ method, environment: await environment(), rows }, null, 2) + "\n");
  console.log(`results: ${file}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
