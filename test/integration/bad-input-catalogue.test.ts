/**
 * Every row of docs/bad-input.md, sent to a real broker: the code and the retriable flag must be
 * the ones the table says, and the table and these cases must list the same ids.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Headers, JunctionError, encodeBatch, subjects, type ErrorBody, type ProduceMessage } from "../../core/protocol/index.js";
import type { JunctionClient } from "../../sdk/index.js";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";

const doc = readFileSync(join(resolve(import.meta.dirname, "../.."), "docs/bad-input.md"), "utf8");
/** id → { code, retriable } as the table says. */
const rows = new Map<string, { code: string; retriable: string }>();
for (const line of doc.split("\n")) {
  const m = /^\| ([A-Z]\d+) \| [^|]+ \| [^|]+ \| ([^|]+) \| ([^|]+) \|/.exec(line);
  if (m) rows.set(m[1]!, { code: m[2]!.trim().replaceAll("`", ""), retriable: m[3]!.trim() });
}

const enc = new TextEncoder();
const dec = new TextDecoder();
let b: TestBroker;
let admin: JunctionClient;
let app: NatsConnection;

beforeAll(async () => {
  b = await startBroker();
  admin = await b.client();
  app = await b.raw(b.users.app);
});
afterAll(() => b.stop());

/** What a request was answered with: the whole request's error, or the error of message `index`. */
type Outcome = ErrorBody | "ok";

async function request(subject: string, data: Uint8Array, headers: Record<string, string> = {}, nc = app): Promise<unknown> {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  const r = await nc.request(subject, data, { timeout: 20_000, headers: h });
  return JSON.parse(dec.decode(r.data));
}

/** Produces a batch; the outcome of message `index` (or the whole request's error). */
async function produce(station: string, msgs: Partial<ProduceMessage>[], index = 0, nc = app): Promise<Outcome> {
  const frame = encodeBatch(msgs.map((m) => ({ id: m.id ?? "", headers: m.headers, payload: m.payload ?? enc.encode("{}") })));
  return produceFrame(station, frame, index, nc);
}

async function produceFrame(station: string, frame: Uint8Array, index = 0, nc = app): Promise<Outcome> {
  const body = (await request(subjects.produce(station), frame, { [Headers.Batch]: "1" }, nc)) as
    { ok: true; data: { results: ({ error: ErrorBody } | { seq: number })[] } } | { ok: false; error: ErrorBody };
  if (!body.ok) return body.error;
  const r = body.data.results[index]!;
  return "error" in r ? r.error : "ok";
}

/** The error an admin call failed with. */
async function failing(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return "ok";
  } catch (err) {
    if (err instanceof JunctionError) return err.toBody();
    throw err;
  }
}

async function station(config: Record<string, unknown> = {}): Promise<string> {
  const name = uniqueName("bad");
  await admin.stations.create(name, config);
  return name;
}

async function withFunction(source: string, limits: { timeoutMs?: number; memoryMb?: number } = {}): Promise<string> {
  const s = await station();
  const name = uniqueName("fn");
  await admin.functions.create({ name, source, ...limits });
  await admin.functions.attach(name, s);
  return s;
}

const order = JSON.stringify({ type: "object", properties: { id: { type: "integer" } }, required: ["id"] });

const cases: Record<string, () => Promise<Outcome>> = {
  N1: () => failing(admin.stations.create("a.b")),
  N2: async () => failing(admin.groups.create(await station(), "Billing")),
  N3: () => produce("a*b", [{}]),
  N4: () => produce("é", [{}]),
  N5: () => failing(admin.schemas.create({ name: "x".repeat(65), type: "json", definition: order })),
  H1: async () => produce(await station(), [{ headers: { "bad name": "v" } }]),
  H2: async () => produce(await station(), [{ headers: { x: "a\r\nInjected: 1" } }]),
  H3: async () => produce(await station(), [{ headers: { "Jn-Schema": "s@1" } }]),
  H4: async () => produce(await station(), [{ headers: { big: "x".repeat(64 * 1024) } }]),
  H5: async () => produce(await station(), [{ id: "a\nb" }]),
  H6: async () => produce(await withFunction(`export default (m) => ({ payload: m.payload, headers: { x: "a\\nb" } })`), [{}]),
  F1: async () => produceFrame(await station(), enc.encode("ABCD\0\0\0\u0001")),
  F2: async () => produceFrame(await station(), new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0, 0, 0, 1])),
  F3: async () => produceFrame(await station(), new Uint8Array([...enc.encode("JNB1"), 0, 0, 0, 0])),
  F4: async () => produceFrame(await station(), encodeBatch([{ id: "", headers: undefined, payload: enc.encode("x") }]).slice(0, 12)),
  F5: async () =>
    produceFrame(await station(), new Uint8Array([...encodeBatch([{ id: "", headers: undefined, payload: enc.encode("x") }]), 9])),
  F6: async () => {
    // One message whose headers block is `{"n":1}`.
    const hdr = enc.encode('{"n":1}');
    const frame = new Uint8Array([...enc.encode("JNB1"), 0, 0, 0, 1, 0, 0, 0, 0, 0, hdr.length, ...hdr, 0, 0, 0, 0]);
    return produceFrame(await station(), frame);
  },
  F7: async () => produceFrame(await station(), new Uint8Array([...enc.encode("JNB1"), 0, 1, 0x86, 0xa1])),
  F8: async () => {
    const body = (await request(subjects.apiOp("station.list"), enc.encode("{nope"), {}, await b.raw(b.users.admin))) as {
      error: ErrorBody;
    };
    return body.error;
  },
  F9: async () => {
    const body = (await request(
      subjects.apiOp("station.create"),
      enc.encode(JSON.stringify({ name: "ok", colour: "red" })),
      {},
      await b.raw(b.users.admin),
    )) as {
      error: ErrorBody;
    };
    return body.error;
  },
  F10: async () => {
    const body = (await request(subjects.apiOp("station.explode"), enc.encode("{}"), {}, await b.raw(b.users.admin))) as {
      error: ErrorBody;
    };
    return body.error;
  },
  P1: async () => produce(await station({ maxMessageSize: 4 }), [{ payload: enc.encode("12345") }]),
  P2: async () => {
    const s = await station();
    const name = uniqueName("order");
    await admin.schemas.create({ name, type: "json", definition: order });
    await admin.schemas.attach(name, s);
    return produce(s, [{ payload: enc.encode('{"id":"x"}') }]);
  },
  P3: async () => {
    const s = await station();
    const name = uniqueName("order");
    await admin.schemas.create({ name, type: "json", definition: order });
    await admin.schemas.attach(name, s);
    return produce(s, [{ payload: enc.encode("not json") }]);
  },
  P4: async () => {
    const s = await station();
    const name = uniqueName("proto");
    await admin.schemas.create({
      name,
      type: "protobuf",
      definition: 'syntax = "proto3"; message Order { int64 id = 1; }',
      messageType: "Order",
    });
    await admin.schemas.attach(name, s);
    return produce(s, [{ payload: new Uint8Array([0xff, 0xff, 0xff]) }]);
  },
  P5: () => produce(uniqueName("nowhere"), [{}]),
  S1: () => failing(admin.schemas.create({ name: uniqueName("s"), type: "json", definition: '{"type": 5}' })),
  S2: () =>
    failing(
      admin.schemas.create({ name: uniqueName("s"), type: "protobuf", definition: 'syntax = "proto3"; message {', messageType: "X" }),
    ),
  S3: () =>
    failing(
      admin.schemas.create({
        name: uniqueName("s"),
        type: "json",
        definition: JSON.stringify({ enum: Array.from({ length: 10_001 }, (_, i) => i) }),
      }),
    ),
  S4: () =>
    failing(
      admin.schemas.create({
        name: uniqueName("s"),
        type: "json",
        definition: JSON.stringify({ type: "object", description: "x".repeat(300 * 1024) }),
      }),
    ),
  S5: async () => {
    const name = uniqueName("s");
    await admin.schemas.create({ name, type: "json", definition: order, compatibility: "BACKWARD" });
    const next = JSON.stringify({
      type: "object",
      properties: { id: { type: "integer" }, total: { type: "number" } },
      required: ["id", "total"],
    });
    return failing(admin.schemas.create({ name, type: "json", definition: next }));
  },
  S6: () =>
    failing(
      admin.schemas.create({ name: uniqueName("s"), type: "json", definition: JSON.stringify({ type: "string", pattern: "(a)\\1" }) }),
    ),
  S7: async () => {
    const base = uniqueName("base");
    await admin.schemas.create({ name: base, type: "json", definition: JSON.stringify({ type: "integer" }) });
    await admin.schemas.create({
      name: uniqueName("user"),
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { n: { $ref: `junction:${base}@1` } } }),
    });
    return failing(admin.schemas.delete(base, { force: true }));
  },
  S8: () => failing(admin.schemas.create({ name: uniqueName("s"), type: "json", definition: order, compatibility: "sideways" as never })),
  U1: () => failing(admin.functions.create({ name: uniqueName("fn"), source: "export default (" })),
  U2: async () => produce(await withFunction(`export default () => { throw new Error("no"); }`), [{}]),
  U3: async () => produce(await withFunction(`export default () => { for (;;) {} }`, { timeoutMs: 200 }), [{}]),
  U4: async () => produce(await withFunction(`export default (m) => Array.from({ length: 5000 }, () => m)`, { memoryMb: 64 }), [{}]),
  U5: async () =>
    produce(
      await withFunction(`export default () => { const a = []; for (;;) a.push(new Array(1e5).fill(1)); }`, {
        memoryMb: 16,
        timeoutMs: 5000,
      }),
      [{}],
    ),
  C1: async () => {
    try {
      await b.client({ user: b.users.app.user, pass: "wrong" });
      return "ok";
    } catch (err) {
      return (err as JunctionError).toBody();
    }
  },
  C2: async () => {
    const user = uniqueName("nogrant");
    await admin.users.create({ name: user, password: "a-long-enough-password", grants: { produce: [], consume: [], admin: false } });
    const c = await b.client({ user, pass: "a-long-enough-password" });
    return failing(c.producer({ station: await station() }).send({}));
  },
  C3: async () => {
    const c = await b.client({ user: b.users.app.user, pass: b.users.app.password });
    return failing(c.stations.create(uniqueName("nope")));
  },
};

describe("the bad-input catalogue (docs/bad-input.md)", () => {
  it("lists the same ids as these cases", () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(cases).sort());
  });

  for (const [id, run] of Object.entries(cases)) {
    it(`${id}: ${rows.get(id)?.code ?? "?"}`, async () => {
      const row = rows.get(id);
      expect(row, `row ${id} in docs/bad-input.md`).toBeDefined();
      const out = await run();
      expect(out, id).not.toBe("ok");
      const e = out as ErrorBody;
      expect(e.code, `${id}: ${e.message}`).toBe(row!.code);
      expect(e.retriable === true ? "yes" : "no", id).toBe(row!.retriable);
    });
  }
});
