import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Caller, GatewayFront } from "../gateway/index.js";
import type { DeliveryAnswer, GroupPuller, PullOptions, PulledMessage } from "../nats/index.js";
import { JunctionError, type Identity, type ProduceMessage, type ProduceResult } from "../protocol/index.js";
import { createHttpServer, type HttpServer } from "./server.js";
import type { HttpApiOptions } from "./options.js";

const alice: Identity = { user: "alice", tenant: "default", grants: { produce: ["*"], consume: ["*:*"], admin: false }, operator: false };
const bob: Identity = { user: "bob", tenant: "default", grants: { produce: ["*"], consume: ["*:*"], admin: false }, operator: false };
const PASSWORDS: Record<string, [string, Identity]> = { alice: ["alice-password", alice], bob: ["bob-password", bob] };

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
const ALICE = { authorization: basic("alice", "alice-password") };
const BOB = { authorization: basic("bob", "bob-password") };

/** A front that records what it was asked. */
class FakeFront implements GatewayFront {
  calls: { caller: Caller; op: string; body: unknown }[] = [];
  produced: { station: string; messages: ProduceMessage[]; producer: string | undefined }[] = [];
  /** Makes wrong passwords slow (a pending scrypt) until released. */
  slowRefusals: (() => void)[] | undefined;

  async authenticate(user: string, password: string): Promise<Identity | undefined> {
    const known = PASSWORDS[user];
    if (known && known[0] === password) return known[1];
    if (this.slowRefusals) await new Promise<void>((r) => this.slowRefusals!.push(r));
    return undefined;
  }

  async call(caller: Caller, op: string, body: unknown): Promise<unknown> {
    this.calls.push({ caller, op, body });
    const b = body as Record<string, unknown>;
    if (b["station"] === "missing" || b["name"] === "missing") {
      throw new JunctionError("STATION_NOT_FOUND", "station 'missing' not found", { details: { station: "missing" } });
    }
    if (op === "group.get" && b["group"] === "private") {
      throw new JunctionError("PERMISSION_DENIED", `user '${caller.identity.user}' may not consume as group 'private'`);
    }
    return { op, body };
  }

  async produce(
    _caller: Caller,
    station: string,
    messages: ProduceMessage[],
    o?: { producer?: string | undefined },
  ): Promise<ProduceResult[]> {
    if (station === "missing") throw new JunctionError("STATION_NOT_FOUND", "station 'missing' not found");
    this.produced.push({ station, messages, producer: o?.producer });
    return messages.map((m, i) =>
      new TextDecoder().decode(m.payload) === '"bad"'
        ? { error: new JunctionError("SCHEMA_VALIDATION_FAILED", `message ${i} does not match`, { details: { index: i } }).toBody() }
        : { seq: i + 1, duplicate: false },
    );
  }
}

/** A puller that hands out queued messages, or waits until aborted. */
class FakePuller implements GroupPuller {
  queue: PulledMessage[] = [];
  answers: { reply: string; a: DeliveryAnswer }[] = [];
  pulls: { stream: string; group: string; o: PullOptions }[] = [];
  /** Ends every waiting pull. */
  waiting: (() => void)[] = [];

  fetch(stream: string, group: string, o: PullOptions): Promise<PulledMessage[]> {
    this.pulls.push({ stream, group, o });
    if (this.queue.length > 0) return Promise.resolve(this.queue.splice(0, o.max));
    return new Promise((resolve) => this.waiting.push(() => resolve([])));
  }

  async answer(reply: string, a: DeliveryAnswer): Promise<void> {
    if (reply.endsWith(".999")) throw new JunctionError("TIMEOUT", "not confirmed");
    this.answers.push({ reply, a });
  }
}

function pulled(seq: number, data: string, stream = "JN_ST_orders", group = "billing"): PulledMessage {
  return {
    subject: "jn.st.orders.msg",
    seq,
    deliveryCount: 1,
    timeMs: Date.UTC(2026, 0, 1),
    pending: 0,
    headers: { "Nats-Msg-Id": `m${seq}`, "Jn-Producer": "p" },
    data: new TextEncoder().encode(data),
    reply: `$JS.ACK.${stream}.${group}.1.${seq}.${seq}.1796020391132905713.0`,
  };
}

let servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.app.close();
  servers = [];
});

async function setup(api: HttpApiOptions = {}, bind = true) {
  const front = new FakeFront();
  const puller = new FakePuller();
  const server = await createHttpServer({ api, ready: () => true });
  servers.push(server);
  if (bind) server.bind({ front, puller });
  await server.app.ready();
  return { front, puller, server, app: server.app };
}

describe("HTTP API: authentication", () => {
  it("refuses a request without credentials (401 AUTH_FAILED, WWW-Authenticate) and a wrong password", async () => {
    const { app } = await setup();
    const none = await app.inject({ method: "GET", url: "/v1/stations" });
    expect(none.statusCode).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Basic/);
    expect(none.json()).toMatchObject({ error: { code: "AUTH_FAILED", retriable: false, details: { reason: "no-credentials" } } });
    const wrong = await app.inject({ method: "GET", url: "/v1/stations", headers: { authorization: basic("alice", "nope") } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.details.reason).toBe("refused");
    const garbage = await app.inject({ method: "GET", url: "/v1/stations", headers: { authorization: "Bearer abc" } });
    expect(garbage.statusCode).toBe(401);
    expect(garbage.json().error.details.reason).toBe("bad-header");
  });

  it("refuses basic auth over plain HTTP from another machine unless allowed, or behind a trusted TLS proxy", async () => {
    const { app } = await setup();
    const remote = await app.inject({ method: "GET", url: "/v1/stations", headers: ALICE, remoteAddress: "10.1.2.3" });
    expect(remote.statusCode).toBe(401);
    expect(remote.json().error).toMatchObject({ code: "AUTH_FAILED", details: { reason: "insecure-transport" } });
    // A forwarded header is ignored unless the proxy is trusted.
    const forged = await app.inject({
      method: "GET",
      url: "/v1/stations",
      headers: { ...ALICE, "x-forwarded-proto": "https" },
      remoteAddress: "10.1.2.3",
    });
    expect(forged.statusCode).toBe(401);
    expect((await app.inject({ method: "GET", url: "/v1/stations", headers: ALICE, remoteAddress: "::1" })).statusCode).toBe(200);

    const { app: insecure } = await setup({ insecureAuth: true });
    expect((await insecure.inject({ method: "GET", url: "/v1/stations", headers: ALICE, remoteAddress: "10.1.2.3" })).statusCode).toBe(200);

    const { app: proxied } = await setup({ trustProxy: true });
    const viaTls = await proxied.inject({
      method: "GET",
      url: "/v1/stations",
      headers: { ...ALICE, "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9" },
      remoteAddress: "10.0.0.2",
    });
    expect(viaTls.statusCode).toBe(200);
    // Behind a trusted proxy the client's address counts: a plain-HTTP client elsewhere is refused even though the proxy is local.
    const viaPlain = await proxied.inject({
      method: "GET",
      url: "/v1/stations",
      headers: { ...ALICE, "x-forwarded-proto": "http", "x-forwarded-for": "203.0.113.9" },
      remoteAddress: "127.0.0.1",
    });
    expect(viaPlain.statusCode).toBe(401);
  });

  it("answers accepted users while a flood of wrong passwords waits for the password-check slots", async () => {
    const { app, front } = await setup({ maxPasswordChecks: 1, maxPasswordQueue: 10 });
    expect((await app.inject({ method: "GET", url: "/v1/whoami", headers: ALICE })).statusCode).toBe(200);
    front.slowRefusals = [];
    const flood = Array.from({ length: 5 }, (_, i) =>
      app.inject({ method: "GET", url: "/v1/whoami", headers: { authorization: basic("mallory", `guess-${i}`) } }),
    );
    while (front.slowRefusals.length === 0) await new Promise((r) => setImmediate(r));
    // Alice's credentials were accepted before: she does not wait behind the flood.
    expect((await app.inject({ method: "GET", url: "/v1/whoami", headers: ALICE })).statusCode).toBe(200);
    // The checks finish one by one as each slow refusal is released.
    let done = false;
    const settled = Promise.all(flood).finally(() => (done = true));
    while (!done) {
      front.slowRefusals.splice(0).forEach((r) => r());
      await new Promise((r) => setImmediate(r));
    }
    await settled;
    for (const r of await Promise.all(flood)) expect(r.statusCode).toBe(401);
  });

  it("passes the Jn-Tenant header on as the tenant asked for", async () => {
    const { app, front } = await setup();
    await app.inject({ method: "GET", url: "/v1/stations", headers: { ...ALICE, "jn-tenant": "acme" } });
    expect(front.calls[0]!.caller).toMatchObject({ identity: { user: "alice" }, tenant: "acme" });
  });
});

describe("HTTP API: admin routes", () => {
  it("runs the operation through the front with the body built from path, query and body", async () => {
    const { app, front } = await setup();
    const r = await app.inject({ method: "GET", url: "/v1/stations/orders", headers: ALICE });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ op: "station.get", body: { name: "orders" } });
    await app.inject({ method: "GET", url: "/v1/schemas/order?version=2", headers: ALICE });
    await app.inject({ method: "GET", url: "/v1/dead-letters?station=orders&reason=poison&limit=5", headers: ALICE });
    await app.inject({
      method: "PUT",
      url: "/v1/stations/orders/groups/billing",
      headers: ALICE,
      payload: { config: { maxAckTimeMs: 1000 } },
    });
    await app.inject({ method: "PUT", url: "/v1/stations/orders", headers: ALICE });
    await app.inject({ method: "POST", url: "/v1/dead-letters/acme%2Fpoison%3Aorders%3A4%3Abilling/resend", headers: ALICE });
    expect(front.calls.slice(1).map((c) => [c.op, c.body])).toEqual([
      ["schema.get", { name: "order", version: 2 }],
      ["dls.list", { station: "orders", reason: "poison", limit: 5 }],
      ["group.create", { station: "orders", group: "billing", config: { maxAckTimeMs: 1000, memberTimeoutMs: 1000 } }],
      ["station.create", { name: "orders" }],
      ["dls.resend", { id: "acme/poison:orders:4:billing" }],
    ]);
  });

  it("maps errors to statuses by code, with the error body", async () => {
    const { app } = await setup();
    const r = await app.inject({ method: "GET", url: "/v1/stations/missing", headers: ALICE });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({
      error: { code: "STATION_NOT_FOUND", message: "station 'missing' not found", retriable: false, details: { station: "missing" } },
    });
    const q = await app.inject({ method: "GET", url: "/v1/dead-letters?limit=0", headers: ALICE });
    expect(q.statusCode).toBe(400);
    expect(q.json().error).toMatchObject({ code: "INVALID_ARGUMENT", details: { part: "query", path: "/limit" } });
    const extra = await app.inject({ method: "GET", url: "/v1/dead-letters?nope=1", headers: ALICE });
    expect(extra.json().error.message).toContain("'nope'");
    const body = await app.inject({ method: "PUT", url: "/v1/stations/orders", headers: ALICE, payload: { config: {}, other: 1 } });
    expect(body.statusCode).toBe(400);
    expect(body.json().error).toMatchObject({ code: "INVALID_ARGUMENT", details: { part: "body" } });
    const json = await app.inject({
      method: "PUT",
      url: "/v1/stations/orders",
      headers: { ...ALICE, "content-type": "application/json" },
      payload: "{not json",
    });
    expect(json.statusCode).toBe(400);
    expect(json.json().error.code).toBe("INVALID_FRAME");
  });

  it("answers an unknown route 404 and, before the gateway is bound, 503", async () => {
    const { app } = await setup({}, false);
    expect((await app.inject({ method: "GET", url: "/v1/nothing-here" })).statusCode).toBe(404);
    const early = await app.inject({ method: "GET", url: "/v1/stations", headers: ALICE });
    expect(early.statusCode).toBe(503);
    expect(early.json().error).toMatchObject({ code: "GATEWAY_UNAVAILABLE", retriable: true });
    expect((await app.inject({ method: "GET", url: "/v1/ready" })).statusCode).toBe(503);
    expect((await app.inject({ method: "GET", url: "/v1/health" })).statusCode).toBe(200);
  });
});

describe("HTTP API: produce", () => {
  it("produces JSON and base64 payloads with ids and headers; results as the SDK reports them", async () => {
    const { app, front } = await setup();
    const r = await app.inject({
      method: "POST",
      url: "/v1/stations/orders/messages",
      headers: { ...ALICE, "jn-producer": "checkout" },
      payload: {
        messages: [
          { id: "a-1", payload: { n: 1 }, headers: { k: "v" } },
          { payloadBase64: Buffer.from([0, 255]).toString("base64") },
          { payload: "bad" },
        ],
      },
    });
    expect(r.statusCode).toBe(200);
    const { results } = r.json();
    expect(results[0]).toEqual({ ok: true, id: "a-1", seq: 1, duplicate: false });
    expect(results[1]).toMatchObject({ ok: true, seq: 2 });
    expect(results[1].id).toMatch(/^[0-9a-f]{12}-1$/);
    expect(results[2]).toMatchObject({ ok: false, error: { code: "SCHEMA_VALIDATION_FAILED", retriable: false } });
    const sent = front.produced[0]!;
    expect(sent.producer).toBe("checkout");
    expect(new TextDecoder().decode(sent.messages[0]!.payload)).toBe('{"n":1}');
    expect(sent.messages[0]!.headers).toEqual({ k: "v" });
    expect([...sent.messages[1]!.payload]).toEqual([0, 255]);
  });

  it("produces one raw message with its content type; the id from Idempotency-Key; a refusal has the code's status", async () => {
    const { app, front } = await setup();
    const ok = await app.inject({
      method: "POST",
      url: "/v1/stations/orders/messages",
      headers: { ...ALICE, "content-type": "text/plain", "idempotency-key": "key-7" },
      payload: "hello",
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ results: [{ ok: true, id: "key-7", seq: 1, duplicate: false }] });
    expect(front.produced[0]!.messages[0]).toMatchObject({ id: "key-7", headers: { "Content-Type": "text/plain" } });
    expect(front.produced[0]!.producer).toBe("http:alice");
    const bad = await app.inject({
      method: "POST",
      url: "/v1/stations/orders/messages",
      headers: { ...ALICE, "content-type": "application/octet-stream" },
      payload: '"bad"',
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ error: { code: "SCHEMA_VALIDATION_FAILED" }, results: [{ ok: false }] });
  });

  it("refuses bad names, both payload forms, bad base64, too many messages and bodies over the limit", async () => {
    const { app, front } = await setup({ maxMessages: 3, maxBodyBytes: 4096 });
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      app.inject({ method: "POST", url, headers: { ...ALICE, ...headers }, payload: payload as string });
    const name = await post("/v1/stations/Bad.Name/messages", { messages: [{ payload: 1 }] });
    expect(name.statusCode).toBe(400);
    expect(name.json().error.code).toBe("INVALID_NAME");
    const both = await post("/v1/stations/orders/messages", { messages: [{ payload: 1, payloadBase64: "AA==" }] });
    expect(both.json().error).toMatchObject({ code: "INVALID_ARGUMENT", details: { index: 0 } });
    const neither = await post("/v1/stations/orders/messages", { messages: [{ id: "x" }] });
    expect(neither.statusCode).toBe(400);
    const b64 = await post("/v1/stations/orders/messages", { messages: [{ payloadBase64: "not base64!" }] });
    expect(b64.json().error).toMatchObject({ code: "INVALID_ARGUMENT", details: { path: "/messages/0/payloadBase64" } });
    const many = await post("/v1/stations/orders/messages", { messages: [1, 2, 3, 4].map((n) => ({ payload: n })) });
    expect(many.statusCode).toBe(413);
    expect(many.json().error).toMatchObject({ code: "BATCH_TOO_LARGE", details: { max: 3 } });
    const huge = await post("/v1/stations/orders/messages", "x".repeat(10_000), { "content-type": "text/plain" });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error).toMatchObject({ code: "PAYLOAD_TOO_LARGE", details: { max: 4096 } });
    const proto = await post("/v1/stations/orders/messages", '{"messages":[{"payload":{"__proto__":{"x":1}}}]}', {
      "content-type": "application/json",
    });
    expect(proto.statusCode).toBe(400);
    expect(proto.json().error.code).toBe("INVALID_FRAME");
    const missing = await post("/v1/stations/missing/messages", { messages: [{ payload: 1 }] });
    expect(missing.statusCode).toBe(404);
    expect(front.produced).toHaveLength(0);
  });

  it("checks credentials before reading the body", async () => {
    const { app } = await setup({ maxBodyBytes: 4096 });
    const r = await app.inject({
      method: "POST",
      url: "/v1/stations/orders/messages",
      headers: { "content-type": "text/plain" },
      payload: "x".repeat(10_000),
    });
    expect(r.statusCode).toBe(401);
  });
});

describe("HTTP API: consume", () => {
  it("fetches with tokens (JSON payloads as values, others as base64) and answers by token", async () => {
    const { app, puller, front } = await setup();
    puller.queue.push(pulled(1, '{"n":1}'), pulled(2, "plain text"));
    const r = await app.inject({ method: "POST", url: "/v1/stations/orders/groups/billing/fetch?max=5&waitMs=100", headers: ALICE });
    expect(r.statusCode).toBe(200);
    const { messages } = r.json();
    expect(puller.pulls[0]).toMatchObject({ stream: "JN_ST_orders", group: "billing", o: { max: 5, expiresMs: 100 } });
    expect(front.calls.map((c) => c.op)).toEqual(["group.get"]);
    expect(messages[0]).toMatchObject({ seq: 1, deliveryCount: 1, redelivered: false, id: "m1", producer: "p", payload: { n: 1 } });
    expect(messages[0].timestamp).toBe("2026-01-01T00:00:00.000Z");
    expect(messages[1].payloadBase64).toBe(Buffer.from("plain text").toString("base64"));
    expect(messages[1].payload).toBeUndefined();

    const ack = await app.inject({
      method: "POST",
      url: "/v1/stations/orders/groups/billing/ack",
      headers: ALICE,
      payload: { tokens: [messages[0].token] },
    });
    expect(ack.json()).toEqual({ results: [{ ok: true }] });
    const nak = await app.inject({
      method: "POST",
      url: "/v1/stations/orders/groups/billing/nak",
      headers: ALICE,
      payload: { tokens: [messages[1].token], delayMs: 2000 },
    });
    expect(nak.statusCode).toBe(200);
    await app.inject({
      method: "POST",
      url: "/v1/stations/orders/groups/billing/in-progress",
      headers: ALICE,
      payload: { tokens: [messages[1].token] },
    });
    await app.inject({
      method: "POST",
      url: "/v1/stations/orders/groups/billing/dead-letter",
      headers: ALICE,
      payload: { tokens: [messages[1].token], reason: "cannot parse" },
    });
    expect(puller.answers).toEqual([
      { reply: pulled(1, "").reply, a: { kind: "ack" } },
      { reply: pulled(2, "").reply, a: { kind: "nak", delayMs: 2000 } },
      { reply: pulled(2, "").reply, a: { kind: "working" } },
      { reply: pulled(2, "").reply, a: { kind: "term", reason: "cannot parse" } },
    ]);
    // The authorization of the group was checked once and reused.
    expect(front.calls.map((c) => c.op)).toEqual(["group.get"]);
    const base64 = await (async () => {
      puller.queue.push(pulled(3, '{"n":3}'));
      return (
        await app.inject({ method: "POST", url: "/v1/stations/orders/groups/billing/fetch?encoding=base64&waitMs=0", headers: ALICE })
      ).json();
    })();
    expect(base64.messages[0].payloadBase64).toBe(Buffer.from('{"n":3}').toString("base64"));
  });

  it("refuses another user's token, a forged or altered one, one of another group, and garbage; nothing is answered", async () => {
    const { app, puller } = await setup();
    puller.queue.push(pulled(1, "{}"));
    const [m] = (await app.inject({ method: "POST", url: "/v1/stations/orders/groups/billing/fetch?waitMs=0", headers: ALICE })).json()
      .messages;
    const ack = (who: Record<string, string>, tokens: unknown[], url = "/v1/stations/orders/groups/billing/ack") =>
      app.inject({ method: "POST", url, headers: who, payload: { tokens } });

    const bobs = await ack(BOB, [m.token]);
    expect(bobs.statusCode).toBe(403);
    expect(bobs.json().error).toMatchObject({ code: "PERMISSION_DENIED", details: { index: 0, reason: "it was given to another user" } });

    const [body, mac] = (m.token as string).split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString());
    const altered = Buffer.from(JSON.stringify({ ...claims, u: "bob" })).toString("base64url");
    const forged = await ack(BOB, [`${altered}.${mac}`]);
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.details.reason).toMatch(/bad signature/);

    const other = await ack(ALICE, [m.token], "/v1/stations/orders/groups/shipping/ack");
    expect(other.statusCode).toBe(403);
    expect(other.json().error.details.reason).toMatch(/another station or group/);

    const garbage = await ack(ALICE, [m.token, "garbage"]);
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().error).toMatchObject({ code: "INVALID_ARGUMENT", details: { index: 1 } });
    expect(puller.answers).toHaveLength(0);
  });

  it("reports an answer the store did not confirm in its result, not as a failed request", async () => {
    const { app, puller } = await setup();
    puller.queue.push(pulled(1, "{}"), { ...pulled(2, "{}"), reply: "$JS.ACK.JN_ST_orders.billing.1.2.2.1796020391132905713.999" });
    const ms = (await app.inject({ method: "POST", url: "/v1/stations/orders/groups/billing/fetch?waitMs=0", headers: ALICE })).json()
      .messages;
    const r = await app.inject({
      method: "POST",
      url: "/v1/stations/orders/groups/billing/ack",
      headers: ALICE,
      payload: { tokens: ms.map((m: { token: string }) => m.token) },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().results).toEqual([{ ok: true }, { ok: false, error: { code: "TIMEOUT", message: "not confirmed", retriable: true } }]);
  });

  it("bounds waiting fetches per user without hurting another user, and ends them when the client leaves", async () => {
    const { app, puller, server } = await setup({ maxFetchesPerUser: 3 });
    const waiting = Array.from({ length: 3 }, () =>
      app.inject({ method: "POST", url: "/v1/stations/orders/groups/billing/fetch?waitMs=60000", headers: ALICE }),
    );
    while (server.waitingFetches() < 3) await new Promise((r) => setImmediate(r));
    const fourth = await app.inject({ method: "POST", url: "/v1/stations/orders/groups/billing/fetch?waitMs=60000", headers: ALICE });
    expect(fourth.statusCode).toBe(503);
    expect(fourth.json().error).toMatchObject({
      code: "GATEWAY_UNAVAILABLE",
      retriable: true,
      details: { reason: "fetches-per-user", limit: 3 },
    });
    expect(fourth.headers["retry-after"]).toBe("1");
    // Bob is not affected.
    puller.queue.push(pulled(1, "{}"));
    const bobs = await app.inject({ method: "POST", url: "/v1/stations/orders/groups/billing/fetch?waitMs=0", headers: BOB });
    expect(bobs.json().messages).toHaveLength(1);
    // The store ends the pulls: the slots come back.
    puller.waiting.splice(0).forEach((end) => end());
    for (const r of await Promise.all(waiting)) expect(r.json()).toEqual({ messages: [] });
    expect(server.waitingFetches()).toBe(0);
  });

  it("refuses a group the user may not consume as, bad names and out-of-range parameters", async () => {
    const { app, puller } = await setup({ maxFetchMessages: 100, maxWaitMs: 1000, defaultWaitMs: 500 });
    const fetch = (url: string) => app.inject({ method: "POST", url, headers: ALICE });
    expect((await fetch("/v1/stations/orders/groups/private/fetch")).statusCode).toBe(403);
    expect((await fetch("/v1/stations/orders/groups/Bad*/fetch")).json().error.code).toBe("INVALID_NAME");
    expect((await fetch("/v1/stations/orders/groups/billing/fetch?max=101")).json().error).toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { path: "/max" },
    });
    expect((await fetch("/v1/stations/orders/groups/billing/fetch?waitMs=1001")).statusCode).toBe(400);
    expect((await fetch("/v1/stations/orders/groups/billing/fetch?encoding=hex")).statusCode).toBe(400);
    expect(puller.pulls).toHaveLength(0);
  });
});

describe("HTTP API: OpenAPI document and docs page", () => {
  it("documents every route", async () => {
    const { app, server } = await setup();
    const doc = (await app.inject({ method: "GET", url: "/v1/openapi.json" })).json() as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const routes = server.routes().filter((r) => !r.hidden);
    expect(routes.length).toBeGreaterThan(30);
    for (const r of routes) {
      const path = r.url.replace(/:([a-zA-Z]+)/g, "{$1}");
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined();
    }
    const page = await app.inject({ method: "GET", url: "/v1/docs" });
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    for (const r of routes) expect(page.body).toContain(r.url.replace(/:([a-zA-Z]+)/g, "{$1}"));
  });
});

describe("HTTP API: closing", () => {
  it("ends waiting fetches and closes keep-alive connections whose request was in flight", async () => {
    const { app, server, front } = await setup();
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true });
    const answer = new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/v1/stations/orders/groups/billing/fetch?waitMs=60000", method: "POST", agent, headers: ALICE },
        (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    while (server.waitingFetches() === 0) await new Promise((r) => setImmediate(r));
    // Another request in flight at close: an admin call that answers a little later.
    let finishCall: (() => void) | undefined;
    const slow = front.call.bind(front);
    front.call = async (caller, op, body) => {
      await new Promise<void>((r) => (finishCall = r));
      return slow(caller, op, body);
    };
    const second = fetch(`http://127.0.0.1:${port}/v1/stations`, { headers: ALICE });
    while (!finishCall) await new Promise((r) => setImmediate(r));
    const closed = app.close();
    expect(await answer).toEqual({ status: 200, connection: "close", body: '{"messages":[]}' });
    finishCall();
    expect((await second).status).toBe(200);
    await closed;
    agent.destroy();
  });

  it("cuts connections whose request is still in flight after closeGraceMs, so closing ends", async () => {
    const { app, front } = await setup({ closeGraceMs: 200 });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    let called = false;
    // A call that never answers.
    front.call = () => {
      called = true;
      return new Promise<never>(() => {});
    };
    const hanging = fetch(`http://127.0.0.1:${port}/v1/stations`, { headers: ALICE }).then(
      (r) => r.status,
      (e: Error) => e.name,
    );
    while (!called) await new Promise((r) => setImmediate(r));
    await app.close();
    expect(await hanging).toBe("TypeError");
  });
});
