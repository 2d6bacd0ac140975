/**
 * Hostile schemas and payloads cannot stall the gateway: while each runs, a bystander produces
 * to another station every 50 ms and no request of it may wait more than 1 s (a generous bound:
 * behaviour, not a benchmark). Registrations at once are bounded, and so are `buf` processes.
 */
import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JunctionError, type JunctionClient } from "../../sdk/index.js";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";
import { expectServed, withBystander as bystander } from "../harness/bystander.js";

let broker: TestBroker;
let client: JunctionClient;

const MAX_RUNNING = 2;
const MAX_WAITING = 6;

beforeAll(async () => {
  broker = await startBroker({
    gatewayOptions: {
      schemas: {
        // Let the 44,000-value enums in, so their preparation and comparison really run.
        limits: { maxEnumValues: 50_000 },
        maxConcurrentRegistrations: MAX_RUNNING,
        maxQueuedRegistrations: MAX_WAITING,
        pool: { maxConcurrentBuilds: 2 },
      },
    },
  });
  client = await broker.client({ requestTimeoutMs: 60_000 });
});
afterAll(async () => {
  await broker.stop();
});

const withBystander = <T>(work: () => Promise<T>) => bystander(client, work);

async function outcome(p: Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: JunctionError }> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    expect(err).toBeInstanceOf(JunctionError);
    return { ok: false, error: err as JunctionError };
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("hostile schemas and payloads", () => {
  it("two 44,000-value enums are prepared and compared off the event loop", async () => {
    const name = uniqueName("enum");
    const { result, waits } = await withBystander(async () => {
      const v1 = await client.schemas.create({ name, type: "json", definition: JSON.stringify({ enum: range(0, 44_000) }) });
      const v2 = await client.schemas.create({ name, type: "json", definition: JSON.stringify({ enum: range(0, 44_001) }) });
      const narrowed = await outcome(client.schemas.create({ name, type: "json", definition: JSON.stringify({ enum: range(1, 44_001) }) }));
      return { v1, v2, narrowed };
    });
    expect(result.v1.version).toBe(1);
    expect(result.v2.version).toBe(2);
    expect(result.narrowed).toMatchObject({ ok: false, error: { code: "SCHEMA_INCOMPATIBLE" } });
    expectServed(waits);
  });

  it("4,000 patternProperties are refused at once as too complex", async () => {
    const patternProperties = Object.fromEntries(range(0, 4000).map((i) => [`^p${i}_[a-z]+$`, { type: "string" }]));
    const { result, waits } = await withBystander(() =>
      outcome(client.schemas.create({ name: uniqueName("pp"), type: "json", definition: JSON.stringify({ patternProperties }) })),
    );
    expect(result).toMatchObject({
      ok: false,
      error: { code: "SCHEMA_TOO_COMPLEX", retriable: false, details: { limit: "maxPatterns", max: 500, actual: 4000 } },
    });
    expectServed(waits);
  });

  it("a 1 MiB message of 128,853 distinct items under uniqueItems is validated in the worker pool", async () => {
    const station = uniqueName();
    const name = uniqueName("uniq");
    await client.stations.create(station, { maxMessageSize: 2 * 1024 * 1024 });
    await client.schemas.create({
      name,
      type: "json",
      definition: JSON.stringify({ type: "array", uniqueItems: true, items: { type: "integer" } }),
    });
    await client.schemas.attach(name, station);
    const distinct = range(1_000_000, 1_128_853);
    const duplicate = [...distinct.slice(0, -1), 1_000_000];
    expect(JSON.stringify(distinct).length).toBeGreaterThan(1000 * 1024);
    const p = client.producer({ station });
    const { result, waits } = await withBystander(async () => ({
      ok: await p.send(distinct),
      dup: await outcome(p.send(duplicate)),
    }));
    expect(result.ok.seq).toBe(1);
    expect(result.dup).toMatchObject({ ok: false, error: { code: "SCHEMA_VALIDATION_FAILED" } });
    const issues = (result.dup as { error: JunctionError }).error.details!["issues"] as { keyword: string }[];
    expect(issues[0]).toMatchObject({ keyword: "uniqueItems" });
    expectServed(waits);
  });
});

/** Child processes of this process named `buf`, now (the gateway runs in this process). */
async function bufChildren(): Promise<number> {
  let n = 0;
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid …
    const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (m && m[1] === "buf" && Number(m[2]) === process.pid) n++;
  }
  return n;
}

describe("concurrent registrations", () => {
  it("20 Protobuf registrations at once: a bounded number run, the rest wait or are refused as retriable, never 20 buf processes", async () => {
    let maxBuf = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        maxBuf = Math.max(maxBuf, await bufChildren());
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const names = range(0, 20).map(() => uniqueName("pb"));
    const create = (name: string, i: number) =>
      client.schemas.create({
        name,
        type: "protobuf",
        definition: `syntax = "proto3";\npackage p${i};\nmessage M${i} { string a = 1; int64 b = 2; }\n`,
      });
    const { result, waits } = await withBystander(() => Promise.all(names.map((n, i) => outcome(create(n, i)))));
    const refused = result.filter((r) => !r.ok);
    // Refused by the gateway's registration queue, or first by the tenant's quota of registrations
    // at once (8 by default, the queue's size): either way retriable, and saying which limit.
    for (const r of refused) {
      expect(r.error.retriable).toBe(true);
      if (r.error.code === "QUOTA_EXCEEDED") expect(r.error.details).toMatchObject({ quota: "concurrentSchemaRegistrations" });
      else expect(r.error).toMatchObject({ code: "SCHEMA_UNAVAILABLE", details: { limit: "maxQueuedRegistrations", max: MAX_WAITING } });
    }
    // Two run, six wait: of twenty sent at once, at most eight get in.
    expect(result.filter((r) => r.ok).length).toBeGreaterThanOrEqual(MAX_RUNNING);
    expect(result.filter((r) => r.ok).length).toBeLessThanOrEqual(MAX_RUNNING + MAX_WAITING);
    expect(refused.length).toBeGreaterThanOrEqual(20 - MAX_RUNNING - MAX_WAITING);
    // A refusal is worth retrying: one at a time, every schema registers.
    for (const [i, name] of names.entries()) if (!result[i]!.ok) expect((await create(name, i)).version).toBe(1);
    watching = false;
    await watcher;
    expect(maxBuf).toBeGreaterThan(0);
    expect(maxBuf).toBeLessThanOrEqual(2);
    expectServed(waits);
  });
});
