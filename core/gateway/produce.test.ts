import { afterEach, describe, expect, it } from "vitest";
import { fakeGateway, type FakeGateway } from "../../test/fakes/gateway.js";
import { DLS_STREAM, Headers, subjects } from "../protocol/index.js";

const enc = new TextEncoder();
const json = (v: unknown) => enc.encode(JSON.stringify(v));
let g: FakeGateway;

afterEach(async () => {
  await g?.close();
});

describe("produce, in-process on a fake store", () => {
  it("stores a single message with its id, and reports a retry of the same id as a duplicate", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "orders" });
    const send = () =>
      g.backend.call<{ ok: true; data: { results: unknown[] } }>({
        subject: subjects.produce("orders"),
        data: "hello",
        headers: { [Headers.MsgId]: "m-1", trace: "t1" },
      });
    expect((await send()).data.results).toEqual([{ seq: 1, duplicate: false }]);
    expect((await send()).data.results).toEqual([{ seq: 1, duplicate: true }]);
    const stored = g.backend.messages(subjects.stationStream("orders"));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ subject: "jn.st.orders.msg", headers: { trace: "t1", "Nats-Msg-Id": "m-1" } });
  });

  it("stores a large batch as atomic batches, contiguous, one result per message in order", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "big" });
    const r = await g.produce(
      "big",
      Array.from({ length: 1500 }, (_, i) => ({ id: `b-${i}`, payload: json({ i }) })),
    );
    expect(r.ok && r.data.results.map((x) => ("seq" in x ? x.seq : -1))).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1));
  });

  it("falls back to one-by-one publishing when a batch holds a stored id (10201), reporting the duplicates", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "dup" });
    await g.produce("dup", [{ id: "a", payload: json(1) }]);
    const r = await g.produce(
      "dup",
      ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].map((id) => ({ id, payload: json(id) })),
    );
    expect(r.ok && r.data.results[0]).toEqual({ seq: 1, duplicate: true });
    expect(r.ok && r.data.results.slice(1).every((x) => "seq" in x && !x.duplicate)).toBe(true);
    expect(g.gateway.produceStats().fallbacks).toBe(1);
    expect(g.backend.messages(subjects.stationStream("dup"))).toHaveLength(10);
  });

  it("refuses an invalid message alone with SCHEMA_VALIDATION_FAILED and records one dead letter for it, even when retried", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "typed" });
    await g.ok("schema.create", {
      name: "order",
      type: "json",
      definition: JSON.stringify({ type: "object", required: ["id"], properties: { id: { type: "integer" } } }),
    });
    await g.ok("schema.attach", { name: "order", station: "typed" });
    const batch = [
      { id: "ok-1", payload: json({ id: 1 }) },
      { id: "bad-1", payload: json({ id: "x" }) },
    ];
    for (let i = 0; i < 2; i++) {
      const r = await g.produce("typed", batch);
      if (!r.ok) throw new Error("request refused");
      expect(r.data.results[0]).toMatchObject({ seq: 1 });
      expect(r.data.results[1]).toMatchObject({
        error: { code: "SCHEMA_VALIDATION_FAILED", details: { schema: "order", version: 1, index: 1 } },
      });
    }
    const dls = g.backend.messages(DLS_STREAM);
    expect(dls.map((m) => m.subject)).toEqual(["jn.dls.typed.schema"]);
    expect(JSON.parse(new TextDecoder().decode(dls[0]!.data))).toMatchObject({
      id: "schema:typed:bad-1",
      reason: "schema",
      station: "typed",
    });
    expect(g.backend.messages(subjects.stationStream("typed"))[0]!.headers[Headers.Schema]).toBe("order@1");
  });

  it("reports a passing store failure per message as STORE_FAILED (retriable) and stores nothing for them", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "flaky" });
    g.backend.failures.push({ ok: false, errCode: 10167, description: "too many requests" });
    const r = await g.produce("flaky", [{ id: "x", payload: json(1) }]);
    expect(r.ok && r.data.results[0]).toMatchObject({ error: { code: "STORE_FAILED", retriable: true, details: { jsErrCode: 10167 } } });
    expect(g.backend.messages(subjects.stationStream("flaky"))).toHaveLength(0);
  });

  it.each([
    [10047, "insufficient storage resources available"],
    [10077, "maximum bytes exceeded"],
  ])("reports a full store (JetStream %i) as STORE_FULL, not retriable, per message", async (errCode, description) => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "full" });
    g.backend.failures.push({ ok: false, errCode, description });
    const r = await g.produce("full", [
      { id: "x", payload: json(1) },
      { id: "y", payload: json(2) },
    ]);
    if (!r.ok) throw new Error("refused");
    expect(r.data.results[0]).toMatchObject({ error: { code: "STORE_FULL", retriable: false } });
    expect(r.data.results[1]).toMatchObject({ seq: 1 });
  });

  it("asks the store again when an acknowledgement is lost: a stored message is reported stored (duplicate), never failed", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "lossy" });
    // Message by message (small request): the first ack is lost after storing.
    g.backend.failures.push("lost-ack");
    const small = await g.produce("lossy", [{ id: "a", payload: json(1) }]);
    expect(small.ok && small.data.results).toEqual([{ seq: 1, duplicate: true }]);
    // An atomic batch whose commit ack is lost: asked again unit by unit, each is a duplicate.
    g.backend.failures.push("lost-ack");
    const many = Array.from({ length: 20 }, (_, i) => ({ id: `b${i}`, payload: json(i) }));
    const big = await g.produce("lossy", many);
    if (!big.ok) throw new Error("refused");
    expect(big.data.results.every((x) => "seq" in x && x.duplicate)).toBe(true);
    expect(g.backend.messages(subjects.stationStream("lossy"))).toHaveLength(21);
    // Without an id, the outcome stays unknown: STORE_TIMEOUT (retriable), never "failed".
    g.backend.failures.push("lost-ack");
    const anon = await g.produce("lossy", [{ payload: json(9) }]);
    expect(anon.ok && anon.data.results[0]).toMatchObject({ error: { code: "STORE_TIMEOUT", retriable: true } });
  });

  it("checks size, header names and values per message, each alone and not retriable", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "small", config: { maxMessageSize: 4 } });
    const r = await g.produce("small", [
      { id: "1", payload: enc.encode("12345") },
      { id: "2", payload: enc.encode("1"), headers: { "Nats-Msg-Id": "sneaky" } },
      { id: "3", payload: enc.encode("ok") },
      { id: "4", payload: enc.encode("1"), headers: { "bad name": "v" } },
      { id: "5", payload: enc.encode("1"), headers: { x: "a\r\nInjected: 1" } },
      { id: "6\n", payload: enc.encode("1") },
      { id: "7", payload: enc.encode("1"), headers: { big: "x".repeat(64 * 1024) } },
    ]);
    if (!r.ok) throw new Error("refused");
    expect(r.data.results.map((x) => ("error" in x ? x.error.code : "stored"))).toEqual([
      "PAYLOAD_TOO_LARGE",
      "INVALID_HEADER",
      "stored",
      "INVALID_HEADER",
      "INVALID_HEADER",
      "INVALID_HEADER",
      "MESSAGE_TOO_LARGE",
    ]);
    for (const x of r.data.results) if ("error" in x) expect(x.error.retriable).toBe(false);
    expect(r.data.results[4]).toMatchObject({ error: { details: { index: 4, header: "x" } } });
    expect(g.gateway.produceStats().badInput).toBe(6);
  });

  it("answers a bad station name on the produce subject with INVALID_NAME", async () => {
    g = await fakeGateway();
    for (const name of ["a*b", "é", "Upper", "x".repeat(65)]) {
      expect(await g.produce(name, [{ payload: json(1) }])).toMatchObject({ ok: false, error: { code: "INVALID_NAME", retriable: false } });
    }
  });

  it("answers an unknown station with STATION_NOT_FOUND and a bad frame with INVALID_FRAME", async () => {
    g = await fakeGateway();
    expect(await g.produce("nope", [{ payload: json(1) }])).toMatchObject({ ok: false, error: { code: "STATION_NOT_FOUND" } });
    await g.ok("station.create", { name: "s" });
    const bad = await g.backend.call({
      subject: subjects.produce("s"),
      data: "JNB1\u0000\u0000\u0000\u0002",
      headers: { [Headers.Batch]: "1" },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: "INVALID_FRAME" } });
  });

  it("drops, unanswered and without effect, a request whose reply subject is not an inbox", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "target" });
    const aimed = g.backend.send({ subject: subjects.produce("target"), data: "x", reply: subjects.stationMsg("target") });
    const none = g.backend.send({ subject: subjects.apiOp("ping"), data: "{}", reply: "" });
    expect(aimed.answered()).toBe(false);
    expect(none.answered()).toBe(false);
    expect(g.gateway.refusals().badReplySubjects).toBe(2);
    expect(g.backend.messages(subjects.stationStream("target"))).toHaveLength(0);
    // A proper inbox is served.
    expect(await g.backend.call({ subject: subjects.apiOp("ping"), data: "{}", reply: "_R_.abc.def" })).toEqual({
      ok: true,
      data: { pong: true },
    });
  });
});
