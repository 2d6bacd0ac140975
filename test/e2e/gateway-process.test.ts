/**
 * `junction gateway` as its own process, as an operator runs it: a function that exhausts V8's
 * heap fails only its messages (FUNCTION_FAILED, kind memory) in a worker process, the gateway's
 * own memory stays flat, and SIGTERM ends the process within the drain timeout. Needs
 * `npm run build` first (the test script does it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { JunctionError, type JunctionClient } from "../../sdk/index.js";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";

const main = join(resolve(import.meta.dirname, "../.."), "dist/cli/main.js");
let broker: TestBroker;
let gateway: ChildProcess;
let output = "";
let client: JunctionClient;

/** Resident memory of a process, in MiB (Linux). */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

beforeAll(async () => {
  broker = await startBroker({ gateways: 0 });
  const { admin, app } = broker.users;
  await writeFile(join(broker.dir, "admin.password"), admin.password, { mode: 0o600 });
  await writeFile(join(broker.dir, "app.password"), app.password, { mode: 0o600 });
  await writeFile(
    join(broker.dir, "bootstrap.json"),
    JSON.stringify({
      users: [
        { name: admin.user, passwordFile: "admin.password", grants: { produce: [], consume: [], admin: true } },
        { name: app.user, passwordFile: "app.password", grants: { produce: ["*"], consume: ["*:*"], admin: false } },
      ],
    }),
  );
  const s = broker.secrets;
  gateway = spawn(
    process.execPath,
    [
      "--no-node-snapshot",
      main,
      "gateway",
      "--nats-url",
      broker.url,
      "--user",
      s.gateway.user,
      "--system-user",
      s.system.user,
      "--http-port",
      "0",
      "--drain-timeout-ms",
      "5000",
      "--log-level",
      "warn",
      "--bootstrap-file",
      join(broker.dir, "bootstrap.json"),
    ],
    {
      env: {
        ...process.env,
        JUNCTION_PASSWORD: s.gateway.password,
        JUNCTION_AUTH_ISSUER_SEED: s.issuerSeed,
        JUNCTION_SYSTEM_PASSWORD: s.system.password,
      },
    },
  );
  gateway.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  gateway.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  await waitFor(() => output.includes("serving") || gateway.exitCode !== null, 60_000);
  if (gateway.exitCode !== null) throw new Error(`junction gateway exited:\n${output}`);
  client = await broker.client();
}, 90_000);

afterAll(async () => {
  if (gateway.exitCode === null) gateway.kill("SIGKILL");
  await broker.stop();
});

it("a function exhausting its heap fails only its messages; the gateway's memory stays flat; SIGTERM exits within the drain", async () => {
  const station = uniqueName();
  await client.stations.create(station);
  const fn = uniqueName("hog");
  // Grows a Map until V8 gives up; ordinary messages ({ ok: true }) pass through.
  await client.functions.create({
    name: fn,
    source: `export default (m) => { if (m.json().ok) return m; const big = new Map(); for (let i = 0; ; i++) big.set(i, { i, s: "x".repeat(64) + i }); }`,
    memoryMb: 64,
    timeoutMs: 20_000,
  });
  await client.functions.attach(fn, station);
  const p = client.producer({ station, requestTimeoutMs: 30_000, sendTimeoutMs: 60_000 });
  expect((await p.send({ ok: true })).seq).toBeGreaterThan(0); // the function is loaded and warm
  const before = await rssMb(gateway.pid!);
  const codes: string[] = [];
  let releases = 0;
  for (let i = 0; i < 4; i++) {
    const err = (await p.send({ ok: false, i }).catch((e: unknown) => e)) as JunctionError;
    expect(err).toBeInstanceOf(JunctionError);
    codes.push(err.code);
    // Repeated out-of-memory failures quarantine the version; an operator releases it.
    const quarantined = await client.functions.quarantined();
    if (quarantined.some((q) => q.function === fn)) {
      expect(quarantined.find((q) => q.function === fn)).toMatchObject({ version: 1, reason: "memory" });
      expect((await client.functions.release(fn)).released).toHaveLength(1);
      releases++;
    }
    // The station serves again.
    expect((await p.send({ ok: true, i })).seq).toBeGreaterThan(0);
  }
  expect(
    codes.every((c) => c === "FUNCTION_FAILED" || c === "FUNCTION_QUARANTINED"),
    codes.join(),
  ).toBe(true);
  expect(releases).toBeGreaterThan(0);
  const after = await rssMb(gateway.pid!);
  // In-process isolates leaked about 108 MB per out-of-memory; a worker process leaks none into the gateway.
  expect(after - before, `gateway RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB`).toBeLessThan(100);
  await p.close();
  await client.close();

  const exited = new Promise<number | null>((r) => gateway.once("exit", (code) => r(code)));
  const t0 = performance.now();
  gateway.kill("SIGTERM");
  const code = await exited;
  const tookMs = performance.now() - t0;
  expect(code, output).toBe(0);
  // The drain timeout is 5 s; generous room for a loaded machine.
  expect(tookMs).toBeLessThan(15_000);
}, 180_000);
