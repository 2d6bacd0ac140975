import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { JunctionError, type DeadLetter, type JunctionClient, type Message } from "../../sdk/index.js";
import { subjects } from "../../core/protocol/index.js";

let broker: TestBroker;
let client: JunctionClient;
const example = (name: string) => readFile(resolve(import.meta.dirname, "../../functions/examples", `${name}.js`), "utf8");

beforeAll(async () => {
  broker = await startBroker({ gateways: 2 });
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

async function drain(station: string, n: number): Promise<Message[]> {
  const c = await client.consumer({ station, group: uniqueName("g"), maxMessages: n });
  const out: Message[] = [];
  for await (const m of c) {
    out.push(m);
    m.ack();
  }
  return out;
}

async function fnDeadLetters(station: string): Promise<DeadLetter[]> {
  const jsm = await broker.jsm();
  const info = await jsm.streams.info("JN_DLS", { subjects_filter: subjects.dls(station, "function") });
  const out: DeadLetter[] = [];
  if (!info.state.subjects) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage("JN_DLS", { seq }).catch(() => undefined);
    if (m?.subject === subjects.dls(station, "function")) out.push(m.json<DeadLetter>());
  }
  return out;
}

describe("functions on produce", () => {
  it("runs the pipeline in order with inputs: redact, then timestamp; split fans out; filter drops", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    // A JSON station: functions see payloads as objects.
    const anyObject = uniqueName("obj");
    await client.schemas.create({ name: anyObject, type: "json", definition: JSON.stringify({ type: "object" }) });
    await client.schemas.attach(anyObject, station);
    const redact = uniqueName("redact");
    const stamp = uniqueName("stamp");
    const split = uniqueName("split");
    const filter = uniqueName("filter");
    await client.functions.create({ name: redact, source: await example("redact-fields"), inputs: ["fields", "mask"] });
    await client.functions.create({ name: stamp, source: await example("add-timestamp"), inputs: ["field"] });
    await client.functions.create({ name: split, source: await example("split") });
    await client.functions.create({ name: filter, source: await example("filter"), inputs: ["field", "equals", "mode"] });
    await client.functions.attach(stamp, station, { inputs: { field: "at" } });
    await client.functions.attach(redact, station, { position: 0, inputs: { fields: "email" } });
    await client.functions.attach(split, station);
    const attached = await client.functions.attach(filter, station, { inputs: { field: "kind", equals: "keep" } });
    expect(attached.functions.map((f) => f.name)).toEqual([redact, stamp, split, filter]);
    const p = client.producer({ station });
    const r = await p.sendBatch([
      { payload: { kind: "keep", email: "a@b.co", n: 1 } },
      { payload: { kind: "skip", n: 2 } },
      {
        payload: {
          items: [
            { kind: "keep", n: 3 },
            { kind: "skip", n: 4 },
            { kind: "keep", n: 5, email: "x" },
          ],
        },
      },
    ]);
    // On a loaded machine the first request (four cold functions) may outlast the producer's first
    // reply wait; its retry with the same ids is then answered "duplicate" — stored once either way
    // (the drain below reads exactly three messages).
    expect(r[0]).toMatchObject({ ok: true });
    expect(r[1]).toMatchObject({ ok: true, dropped: true, seq: 0 });
    // One input fanned out into two stored messages (the middle item was filtered).
    expect(r[2]).toMatchObject({ ok: true });
    if (!(r[2] as { duplicate?: boolean }).duplicate) expect((r[2] as { seqs?: number[] }).seqs).toHaveLength(2);
    const got = await drain(station, 3);
    expect((await client.stations.get(station)).state?.messages).toBe(3);
    const payloads = got.map((m) => m.json<{ n: number; email?: string; at?: string; kind: string }>());
    expect(payloads.map((x) => x.n)).toEqual([1, 3, 5]);
    expect(payloads[0]!.email).toBe("***");
    expect(payloads[2]!.email).toBe("***"); // redact is recursive, and ran before the split
    expect(typeof payloads[0]!.at).toBe("string");
    expect(got[1]!.headers["x-split-index"]).toBe("0");
  });

  it("fails a throwing message alone with FUNCTION_FAILED and a DLS copy; hostile code leaves the gateway serving", async () => {
    const station = uniqueName();
    const other = uniqueName();
    await client.stations.create(station);
    await client.stations.create(other);
    const picky = uniqueName("picky");
    await client.functions.create({
      name: picky,
      source: "export default (m) => { const p = JSON.parse(m.payload); if (p.bad) throw new Error('bad payload ' + p.n); return m; }",
    });
    await client.functions.attach(picky, station);
    const r = await client
      .producer({ station })
      .sendBatch([{ payload: { n: 1 } }, { payload: { n: 2, bad: true }, id: "bad-2" }, { payload: { n: 3 } }]);
    expect(r.map((x) => x.ok)).toEqual([true, false, true]);
    const err = (r[1] as { error: JunctionError }).error;
    expect(err.code).toBe("FUNCTION_FAILED");
    expect(err.details).toMatchObject({ function: picky, version: 1, kind: "threw" });
    expect(err.message).toContain("bad payload 2");
    const dead = await waitFor(async () => (await fnDeadLetters(station)).find((d) => d.id.endsWith(":bad-2")));
    expect(dead).toMatchObject({ reason: "function", error: { code: "FUNCTION_FAILED" } });

    let escapeStation = "";
    const hostile: [string, string][] = [
      ["loop", "export default () => { for (;;) {} }"],
      ["promise-loop", "export default () => Promise.resolve().then(() => { for (;;) {} })"],
      ["bomb", "export default () => { const a = []; for (;;) a.push('x'.repeat(1e6)); }"],
      [
        "escape",
        "export default (m) => { const p = m.constructor.constructor('return process')(); return { payload: String(p && p.pid), headers: {} }; }",
      ],
    ];
    for (const [label, source] of hostile) {
      const name = uniqueName(label);
      await client.functions.create({ name, source, timeoutMs: 200, memoryMb: 16 });
      const st = uniqueName();
      await client.stations.create(st);
      await client.functions.attach(name, st);
      const out = await client
        .producer({ station: st })
        .send({ x: 1 })
        .then(
          (ok) => ({ ok }),
          (e: unknown) => ({ err: e as JunctionError }),
        );
      if (label === "escape") {
        // No way to the host: the attempt throws inside the sandbox (or finds no process).
        if ("err" in out) expect(out.err.code).toBe("FUNCTION_FAILED");
        else expect(out.ok.seq).toBeGreaterThan(0);
        escapeStation = st;
      } else {
        expect("err" in out && out.err.code).toBe("FUNCTION_FAILED");
      }
      // Other stations keep being served.
      expect((await client.producer({ station: other }).send("still here")).seq).toBeGreaterThan(0);
    }
    const info = await client.stations.get(escapeStation);
    // Nothing that looks like the host's pid was ever stored.
    if ((info.state?.messages ?? 0) > 0) expect((await drain(escapeStation, 1))[0]!.text()).not.toMatch(/^\d+$/);
  });

  it("picks up a new function version on every gateway without a restart (hot update)", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const name = uniqueName("tag");
    await client.functions.create({ name, source: "export default (m) => ({ ...m, headers: { ...m.headers, v: '1' } })" });
    await client.functions.attach(name, station);
    await client.producer({ station }).sendBatch(Array.from({ length: 4 }, (_, i) => ({ payload: { i } })));
    const v2 = await client.functions.create({ name, source: "export default (m) => ({ ...m, headers: { ...m.headers, v: '2' } })" });
    expect(v2.version).toBe(2);
    // Both gateways (the queue group spreads requests) switch to version 2.
    for (let i = 0; i < 8; i++) await client.producer({ station }).send({ i: 10 + i });
    const got = await drain(station, 12);
    expect(got.slice(0, 4).every((m) => m.headers["v"] === "1")).toBe(true);
    expect(got.slice(4).every((m) => m.headers["v"] === "2")).toBe(true);
    expect((await client.functions.versions(name)).map((v) => v.version)).toEqual([1, 2]);
    const logs = await client.functions.logs(name);
    expect(logs.stats.calls).toBeGreaterThan(0);
  });

  it("validates function output against the station's schema", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const schema = uniqueName("s");
    await client.schemas.create({
      name: schema,
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { n: { type: "integer" } }, required: ["n"] }),
    });
    await client.schemas.attach(schema, station);
    const breaker = uniqueName("breaker");
    await client.functions.create({
      name: breaker,
      source: "export default (m) => m.payload.n > 1 ? { payload: { n: 'oops' }, headers: m.headers } : m",
    });
    await client.functions.attach(breaker, station);
    const r = await client.producer({ station }).sendBatch([{ payload: { n: 1 } }, { payload: { n: 2 } }]);
    expect(r[0]!.ok).toBe(true);
    expect(r[1]).toMatchObject({ ok: false, error: { code: "FUNCTION_FAILED", details: { kind: "bad-output" } } });
  });

  it("refuses bad sources, unknown functions and deleting attached ones", async () => {
    const e1 = await client.functions
      .create({ name: uniqueName("f"), source: "export default (" })
      .catch((e: unknown) => e as JunctionError);
    expect(e1).toMatchObject({ code: "FUNCTION_INVALID" });
    const e2 = await client.functions
      .create({ name: uniqueName("f"), source: "export const x = 1;" })
      .catch((e: unknown) => e as JunctionError);
    expect(e2).toMatchObject({ code: "FUNCTION_INVALID" });
    const e3 = await client.functions
      .create({ name: uniqueName("f"), source: "export default (m) => m", timeoutMs: 0 })
      .catch((e: unknown) => e as JunctionError);
    expect(e3).toMatchObject({ code: "FUNCTION_INVALID" });
    const station = uniqueName();
    await client.stations.create(station);
    expect(await client.functions.attach("no-such-fn", station).catch((e: unknown) => (e as JunctionError).code)).toBe(
      "FUNCTION_NOT_FOUND",
    );
    const name = uniqueName("f");
    await client.functions.create({ name, source: "export default (m) => m" });
    await client.functions.attach(name, station);
    expect(await client.functions.delete(name).catch((e: unknown) => (e as JunctionError).code)).toBe("FUNCTION_IN_USE");
    await client.functions.detach(name, station);
    await expect(client.functions.delete(name)).resolves.toMatchObject({ deleted: true });
  });
});
