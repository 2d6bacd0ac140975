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

  it("reports a store failure per message as STORE_FAILED (retriable) and stores nothing for them", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "flaky" });
    g.backend.failures.push({ ok: false, errCode: 10077, description: "insufficient resources" });
    const r = await g.produce("flaky", [{ id: "x", payload: json(1) }]);
    expect(r.ok && r.data.results[0]).toMatchObject({ error: { code: "STORE_FAILED", retriable: true, details: { jsErrCode: 10077 } } });
    expect(g.backend.messages(subjects.stationStream("flaky"))).toHaveLength(0);
  });

  it("checks size and reserved headers per message", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "small", config: { maxMessageSize: 4 } });
    const r = await g.produce("small", [
      { id: "1", payload: enc.encode("12345") },
      { id: "2", payload: enc.encode("1"), headers: { "Nats-Msg-Id": "sneaky" } },
      { id: "3", payload: enc.encode("ok") },
    ]);
    if (!r.ok) throw new Error("refused");
    expect(r.data.results.map((x) => ("error" in x ? x.error.code : "stored"))).toEqual([
      "PAYLOAD_TOO_LARGE",
      "INVALID_ARGUMENT",
      "stored",
    ]);
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
