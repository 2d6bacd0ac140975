/**
 * Producer-side unacked tracking: a gateway dies (SIGKILL, no drain) in the middle of a
 * 20,000-message stream. The producer resends what was not acknowledged, with the same ids, to
 * the surviving gateway. Every acknowledged message must be in the station exactly once, and the
 * producer must report every message as either acked or failed.
 *
 * The gateway that dies runs as a separate process (the built CLI), so it can really be killed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import type { JunctionClient, SendOutcome } from "../../sdk/index.js";

const main = join(resolve(import.meta.dirname, "../.."), "dist/cli/main.js");
let broker: TestBroker;
let client: JunctionClient;
let child: ChildProcess | undefined;

beforeAll(async () => {
  if (!existsSync(main)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  broker = await startBroker({ gateways: 1 });
  client = await broker.client();
});
afterAll(async () => {
  child?.kill("SIGKILL");
  await broker.stop();
});

describe("a gateway killed mid-stream", () => {
  it("loses no acknowledged message and stores none twice; every message is reported", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    let log = "";
    // Secrets go through the environment, as in production (never on the command line).
    child = spawn(
      process.execPath,
      [
        "--no-node-snapshot",
        main,
        "gateway",
        "--nats-url",
        broker.url,
        "--user",
        broker.secrets.gateway.user,
        "--http-port",
        "0",
        "--log-level",
        "info",
      ],
      {
        env: {
          ...process.env,
          JUNCTION_PASSWORD: broker.secrets.gateway.password,
          JUNCTION_AUTH_ISSUER_SEED: broker.secrets.issuerSeed,
          JUNCTION_SYSTEM_USER: broker.secrets.system.user,
          JUNCTION_SYSTEM_PASSWORD: broker.secrets.system.password,
        },
      },
    );
    child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    await waitFor(() => log.includes("gateway ready"), 20_000).catch((e: unknown) => {
      throw new Error(`child gateway did not start: ${String(e)}\n${log}`);
    });

    const n = 20_000;
    // Small batches and several in flight, so both gateways hold requests when one dies. The
    // request timeouts are the defaults: the wait adapts to the replies seen (about a second).
    const producer = client.producer({ station, maxBatchMessages: 200, maxInFlight: 4, lingerMs: 1 });
    const sends: Promise<SendOutcome[]>[] = [];
    let longestMs = 0;
    for (let i = 0; i < n; i += 1000) {
      const t0 = performance.now();
      const sent = producer.sendBatch(Array.from({ length: 1000 }, (_, k) => ({ payload: { i: i + k }, id: `m-${i + k}` })));
      void sent.then(() => (longestMs = Math.max(longestMs, performance.now() - t0)));
      sends.push(sent);
      if (i === 6000) {
        // Kill the child gateway while requests are in flight.
        await new Promise((r) => setTimeout(r, 20));
        expect(child.exitCode).toBeNull();
        child.kill("SIGKILL");
      }
    }
    const outcomes = (await Promise.all(sends)).flat();
    await waitFor(() => child!.signalCode === "SIGKILL");
    expect(outcomes).toHaveLength(n);
    const acked = outcomes.filter((o) => o.ok);
    const failed = outcomes.filter((o) => !o.ok);
    // Every message is reported one way or the other (the retries make failures unlikely).
    expect(acked.length + failed.length).toBe(n);
    expect(failed.length).toBe(0);
    // The kill cost about a second (the adaptive wait), not the 10 s longest wait: a generous
    // bound for a busy machine, far under what the fixed timeout would take.
    expect(longestMs).toBeLessThan(7000);

    // Every acknowledged message is stored exactly once.
    const info = await client.stations.get(station);
    expect(info.state?.messages).toBe(n);
    const c = await client.consumer({ station, group: "audit", batchSize: 1000, maxMessages: n });
    const seen = new Map<number, number>();
    for await (const m of c) {
      const i = m.json<{ i: number }>().i;
      seen.set(i, (seen.get(i) ?? 0) + 1);
      m.ack();
    }
    expect(seen.size).toBe(n);
    expect([...seen.values()].every((x) => x === 1)).toBe(true);
    // The survivor answered the retries of what the dead one held.
    expect(broker.gateways[0]!.produceStats().requests).toBeGreaterThan(0);
  });
});
