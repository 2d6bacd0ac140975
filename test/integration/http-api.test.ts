/**
 * The HTTP API end to end: a real nats-server, a real gateway serving HTTP, and plain HTTP
 * requests (fetch) with basic auth — produce, consume (fetch, ack, nak, dead-letter, redelivery
 * of unacked messages), dead-letter resend, admin reads, and hostile requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker, type TestUser } from "../harness/index.js";
import type { JunctionClient } from "../../sdk/index.js";
import type { JunctionGateway } from "../../core/server/index.js";

let broker: TestBroker;
let gw: JunctionGateway;
let admin: JunctionClient;
let base: string;
/** May consume as every group and produce everywhere, like `app`: a second application. */
const other: TestUser = { user: "other-app", password: "other-app-password-1" };
/** May consume only on stations named `elsewhere-*`. */
const outsider: TestUser = { user: "outsider", password: "outsider-password-1" };

beforeAll(async () => {
  broker = await startBroker({ gateways: 0 });
  gw = await broker.addGateway({ httpPort: -1, httpHost: "127.0.0.1", http: { maxFetchesPerUser: 4, maxBodyBytes: 1024 * 1024 } });
  base = `${gw.httpUrl}/v1`;
  admin = await broker.client();
  await admin.users.create({ name: other.user, password: other.password, grants: { produce: ["*"], consume: ["*:*"] } });
  await admin.users.create({ name: outsider.user, password: outsider.password, grants: { consume: ["elsewhere-*:*"] } });
});
afterAll(async () => {
  // The gateway first: closing it must not wait on keep-alive connections of the requests above.
  await gw.close();
  await broker.stop();
});

interface Answer {
  status: number;
  /** JSON from the wire (checked by the assertions), or text. */
  body: any;
  headers: Headers;
}

/** One plain HTTP request with basic auth (none when `as` is null). */
async function api(
  method: string,
  path: string,
  o: {
    as?: TestUser | null;
    json?: unknown;
    raw?: string | Uint8Array;
    type?: string;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<Answer> {
  const who = o.as === undefined ? broker.users.app : o.as;
  const headers: Record<string, string> = { ...o.headers };
  if (who) headers["authorization"] = `Basic ${Buffer.from(`${who.user}:${who.password}`).toString("base64")}`;
  let body: string | Uint8Array | undefined;
  if (o.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(o.json);
  } else if (o.raw !== undefined) {
    headers["content-type"] = o.type ?? "application/octet-stream";
    body = o.raw;
  }
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = body;
  if (o.signal) init.signal = o.signal;
  const r = await fetch(`${base}${path}`, init);
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

const AS_ADMIN = () => ({ as: broker.users.admin });

describe("HTTP API against a real broker", () => {
  it("refuses unauthenticated and unauthorized requests with the documented errors", async () => {
    const none = await api("GET", "/stations", { as: null });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(none.body.error).toMatchObject({ code: "AUTH_FAILED", retriable: false });
    const wrong = await api("GET", "/stations", { as: { user: "app", password: "not-the-password" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("AUTH_FAILED");

    const station = uniqueName();
    // Only an admin creates stations.
    const denied = await api("PUT", `/stations/${station}`);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ code: "PERMISSION_DENIED" });
    expect(denied.body.error.message).toContain("may not administer");
    expect((await api("PUT", `/stations/${station}`, AS_ADMIN())).status).toBe(200);
    const produce = await api("POST", `/stations/${station}/messages`, { as: outsider, json: { messages: [{ payload: 1 }] } });
    expect(produce.status).toBe(403);
    expect(produce.body.error.message).toBe(`user 'outsider' may not produce to station '${station}'`);
    const consume = await api("POST", `/stations/${station}/groups/g/fetch?waitMs=0`, { as: outsider });
    expect(consume.status).toBe(403);
    expect(consume.body.error.code).toBe("PERMISSION_DENIED");
    const tenant = await api("GET", "/stations", { headers: { "jn-tenant": "someone-else" } });
    expect(tenant.status).toBe(403);
  });

  it("produces, consumes (fetch, ack, nak with delay, dead-letter, redelivery of unacked), resends a dead letter and reads it all back", async () => {
    const station = uniqueName();
    const schema = uniqueName("sc");
    expect((await api("PUT", `/stations/${station}`, { ...AS_ADMIN(), json: { config: { maxMessageSize: 4096 } } })).body).toMatchObject({
      name: station,
      created: true,
    });
    const created = await api("POST", "/schemas", {
      ...AS_ADMIN(),
      json: {
        name: schema,
        type: "json",
        definition: JSON.stringify({ type: "object", properties: { n: { type: "integer" } }, required: ["n"] }),
      },
    });
    expect(created.status).toBe(200);
    expect((await api("PUT", `/stations/${station}/schema`, { ...AS_ADMIN(), json: { name: schema } })).status).toBe(200);
    const group = await api("PUT", `/stations/${station}/groups/billing`, {
      json: { config: { maxAckTimeMs: 1500, maxMsgDeliveries: 5 } },
    });
    expect(group.status).toBe(200);
    expect(group.body).toMatchObject({ station, name: "billing", created: true });
    expect(group.body.reconnect).toBeUndefined();

    // Produce: ids, a duplicate, an invalid message (its own error), all in one request.
    const produced = await api("POST", `/stations/${station}/messages`, {
      json: {
        messages: [
          { id: "o-1", payload: { n: 1 }, headers: { source: "web" } },
          { id: "o-2", payload: { n: 2 } },
          { id: "o-3", payload: { n: 3 } },
          { id: "o-1", payload: { n: 1 } },
          { id: "o-4", payload: { n: "four" } },
        ],
      },
    });
    expect(produced.status).toBe(200);
    const results = produced.body.results;
    expect(results.slice(0, 3)).toEqual([
      { ok: true, id: "o-1", seq: 1, duplicate: false },
      { ok: true, id: "o-2", seq: 2, duplicate: false },
      { ok: true, id: "o-3", seq: 3, duplicate: false },
    ]);
    expect(results[3]).toEqual({ ok: true, id: "o-1", seq: 1, duplicate: true });
    expect(results[4]).toMatchObject({ ok: false, id: "o-4", error: { code: "SCHEMA_VALIDATION_FAILED", retriable: false } });
    expect(results[4].error.details.issues.length).toBeGreaterThan(0);
    // One raw message: JSON bytes with a non-JSON content type, its id from Idempotency-Key.
    const raw = await api("POST", `/stations/${station}/messages`, {
      raw: '{"n":5}',
      type: "text/plain",
      headers: { "idempotency-key": "o-5" },
    });
    expect(raw.body).toEqual({ results: [{ ok: true, id: "o-5", seq: 4, duplicate: false }] });
    const rawBad = await api("POST", `/stations/${station}/messages`, { raw: "not json", type: "text/plain" });
    expect(rawBad.status).toBe(422);
    expect(rawBad.body.error.code).toBe("SCHEMA_VALIDATION_FAILED");

    // Consume: fetch all four, ack one, nak one, dead-letter one, leave one unacked.
    const first = await api("POST", `/stations/${station}/groups/billing/fetch?max=10&waitMs=2000`);
    expect(first.status).toBe(200);
    const ms = first.body.messages;
    expect(ms.map((m: { payload: { n: number } }) => m.payload.n)).toEqual([1, 2, 3, 5]);
    expect(ms[0]).toMatchObject({ seq: 1, deliveryCount: 1, redelivered: false, id: "o-1", producer: "http:app", schema: `${schema}@1` });
    expect(ms[0].headers.source).toBe("web");
    const answer = async (verb: string, tokens: string[], extra: Record<string, unknown> = {}) =>
      api("POST", `/stations/${station}/groups/billing/${verb}`, { json: { tokens, ...extra } });
    expect((await answer("ack", [ms[0].token])).body).toEqual({ results: [{ ok: true }] });
    const nakAt = Date.now();
    expect((await answer("nak", [ms[1].token], { delayMs: 1000 })).body).toEqual({ results: [{ ok: true }] });
    expect((await answer("dead-letter", [ms[2].token], { reason: "cannot bill 3" })).body).toEqual({ results: [{ ok: true }] });
    expect((await answer("in-progress", [ms[3].token])).status).toBe(200);

    // The nak'd message comes back after its delay; the unacked one after maxAckTimeMs — each as a redelivery.
    const again = new Map<number, { deliveryCount: number; redelivered: boolean; token: string }>();
    let nakBackAfterMs = -1;
    await waitFor(async () => {
      const r = await api("POST", `/stations/${station}/groups/billing/fetch?max=10&waitMs=1000`);
      for (const m of r.body.messages) again.set(m.payload.n, m);
      if (again.has(2) && nakBackAfterMs < 0) nakBackAfterMs = Date.now() - nakAt;
      return again.has(2) && again.has(5);
    }, 20_000);
    expect(nakBackAfterMs).toBeGreaterThanOrEqual(990);
    expect(again.get(2)).toMatchObject({ deliveryCount: 2, redelivered: true });
    expect(again.get(5)).toMatchObject({ deliveryCount: 2, redelivered: true });
    expect(again.has(1)).toBe(false);
    expect((await answer("ack", [again.get(2)!.token, again.get(5)!.token])).body.results).toEqual([{ ok: true }, { ok: true }]);

    // The dead-lettered message is in the DLS with its reason; the admin resends it to the group.
    const dls = await waitFor(async () => {
      const r = await api("GET", `/dead-letters?station=${station}&reason=terminated`);
      return r.body.items?.length === 1 ? r.body.items[0] : undefined;
    });
    expect(dls).toMatchObject({ station, reason: "terminated", groups: ["billing"], error: { message: "cannot bill 3" } });
    const one = await api("GET", `/dead-letters/${encodeURIComponent(dls.id)}`);
    expect(one.body).toMatchObject({ id: dls.id, decoded: { n: 3 } });
    expect((await api("POST", `/dead-letters/${encodeURIComponent(dls.id)}/resend`)).status).toBe(403);
    const resent = await api("POST", `/dead-letters/${encodeURIComponent(dls.id)}/resend`, AS_ADMIN());
    expect(resent.status).toBe(200);
    const back = await waitFor(async () => {
      const r = await api("POST", `/stations/${station}/groups/billing/fetch?waitMs=1000`);
      return r.body.messages.find((m: { payload: { n: number } }) => m.payload.n === 3);
    });
    expect(back.headers["Jn-Resent-From"]).toBe(dls.id);
    expect((await answer("ack", [back.token])).status).toBe(200);

    // Admin reads.
    const st = await api("GET", `/stations/${station}`);
    expect(st.body).toMatchObject({ name: station, schema: { name: schema }, state: { messages: 5 } });
    const g = await waitFor(async () => {
      const r = await api("GET", `/stations/${station}/groups/billing`);
      return r.body.stats.unacked === 0 && r.body.stats.pending === 0 ? r.body : undefined;
    });
    expect(g.stats).toMatchObject({ pending: 0, unacked: 0 });
    expect((await api("GET", `/stations/${station}/groups`)).body.map((x: { name: string }) => x.name)).toEqual(["billing"]);
    expect((await api("GET", "/stations")).body.map((x: { name: string }) => x.name)).toContain(station);
    expect((await api("GET", `/schemas/${schema}`)).body).toMatchObject({ meta: { name: schema }, version: { version: 1 } });
    expect((await api("GET", `/schemas/${schema}/versions`)).status).toBe(200);
    expect((await api("GET", "/functions", AS_ADMIN())).status).toBe(200);
    expect((await api("GET", "/functions")).status).toBe(403);
    expect((await api("GET", `/dead-letters/stats?station=${station}`)).status).toBe(200);
    expect((await api("GET", "/whoami")).body).toMatchObject({ user: "app", tenant: "default" });
    const missing = await api("GET", `/stations/${uniqueName("missing")}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("STATION_NOT_FOUND");
  });

  it("returns a long poll as soon as a message arrives, and gives messages back when the client hangs up", async () => {
    const station = uniqueName();
    await admin.stations.create(station);
    await api("PUT", `/stations/${station}/groups/g`, { json: { config: { maxAckTimeMs: 60_000 } } });
    const waiting = api("POST", `/stations/${station}/groups/g/fetch?max=100&waitMs=30000`);
    await waitFor(async () => (await admin.groups.get(station, "g")).stats.membersOnline > 0);
    await api("POST", `/stations/${station}/messages`, { json: { messages: [{ payload: "late" }] } });
    const got = await waiting;
    expect(got.body.messages.map((m: { payload: unknown }) => m.payload)).toEqual(["late"]);
    await api("POST", `/stations/${station}/groups/g/ack`, { json: { tokens: [got.body.messages[0].token] } });

    // A client that leaves mid-poll: the message delivered to its pull goes back to the group at once (not after the 60 s ack time).
    const leaving = new AbortController();
    const gone = api("POST", `/stations/${station}/groups/g/fetch?waitMs=30000`, { signal: leaving.signal }).catch(() => undefined);
    await waitFor(async () => (await admin.groups.get(station, "g")).stats.membersOnline > 0);
    leaving.abort();
    await gone;
    await api("POST", `/stations/${station}/messages`, { json: { messages: [{ payload: "given back" }] } });
    const next = await waitFor(async () => {
      const r = await api("POST", `/stations/${station}/groups/g/fetch?waitMs=1000`, { as: other });
      return r.body.messages?.length ? r.body.messages[0] : undefined;
    }, 20_000);
    expect(next.payload).toBe("given back");
  });

  it("answers hostile input with typed errors and keeps serving a bystander", async () => {
    const station = uniqueName();
    await admin.stations.create(station);
    await api("PUT", `/stations/${station}/groups/g`, { json: { config: { maxAckTimeMs: 60_000 } } });
    await api("POST", `/stations/${station}/messages`, { json: { messages: [{ payload: 1 }] } });

    const huge = await api("POST", `/stations/${station}/messages`, {
      raw: new Uint8Array(2 * 1024 * 1024),
      type: "application/octet-stream",
    });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("PAYLOAD_TOO_LARGE");
    const tooBigForStation = await api("POST", `/stations/${station}/messages`, { raw: new Uint8Array(1024 * 1024 + 1) });
    expect(tooBigForStation.status).toBe(413);
    const badJson = await fetch(`${base}/stations/${station}/messages`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("app:" + broker.users.app.password).toString("base64")}`,
        "content-type": "application/json",
      },
      body: '{"messages": [',
    });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { error: { code: string } }).error.code).toBe("INVALID_FRAME");
    for (const bad of ["Bad.Name", "a*b", "x%20y", "-lead"]) {
      const r = await api("POST", `/stations/${bad}/messages`, { json: { messages: [{ payload: 1 }] } });
      expect(r.status, bad).toBe(400);
      expect(r.body.error.code, bad).toBe("INVALID_NAME");
    }
    expect((await api("POST", `/stations/${station}/groups/no.dots/fetch`)).body.error.code).toBe("INVALID_NAME");

    // Tokens: another user's, an altered one, garbage.
    const [m] = (await api("POST", `/stations/${station}/groups/g/fetch?max=1&waitMs=1000`)).body.messages;
    const theft = await api("POST", `/stations/${station}/groups/g/ack`, { as: other, json: { tokens: [m.token] } });
    expect(theft.status).toBe(403);
    expect(theft.body.error.code).toBe("PERMISSION_DENIED");
    const [claims, mac] = m.token.split(".");
    const rewritten = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, "base64url").toString()), u: "other-app" })).toString(
      "base64url",
    );
    const forged = await api("POST", `/stations/${station}/groups/g/ack`, { as: other, json: { tokens: [`${rewritten}.${mac}`] } });
    expect(forged.status).toBe(403);
    expect((await api("POST", `/stations/${station}/groups/g/ack`, { json: { tokens: ["garbage"] } })).status).toBe(400);
    // Nothing was acked by them: the owner's ack still works.
    expect((await api("POST", `/stations/${station}/groups/g/ack`, { json: { tokens: [m.token] } })).body).toEqual({
      results: [{ ok: true }],
    });

    // Two thousand long polls from one user: four wait, the rest are refused at once; a bystander is served.
    const hangUp = new AbortController();
    const polls = Array.from({ length: 2000 }, () =>
      api("POST", `/stations/${station}/groups/g/fetch?waitMs=10000&max=1`, { as: other, signal: hangUp.signal }).catch(() => undefined),
    );
    const refused = await waitFor(async () => {
      const settled = await Promise.all(polls.map((p) => Promise.race([p, Promise.resolve(null)])));
      const done = settled.filter((r): r is Answer => !!r);
      return done.length >= 1996 ? done : undefined;
    }, 60_000);
    const statuses = new Map<number, number>();
    for (const r of refused) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    // Four wait (nothing to deliver), every other one was refused.
    expect(statuses).toEqual(new Map([[503, 1996]]));
    expect(refused.find((r) => r.status === 503)!.body.error).toMatchObject({
      code: "GATEWAY_UNAVAILABLE",
      details: { reason: "fetches-per-user" },
    });
    // The bystander produces and consumes meanwhile.
    const by = await api("POST", `/stations/${station}/messages`, { json: { messages: [{ id: "by-1", payload: "bystander" }] } });
    expect(by.body.results[0]).toMatchObject({ ok: true, id: "by-1" });
    expect((await api("GET", `/stations/${station}`, AS_ADMIN())).status).toBe(200);
    hangUp.abort();
    await Promise.all(polls);
    // Once the store ended the waiting pulls, the user may poll again.
    await waitFor(async () => (await api("POST", `/stations/${station}/groups/g/fetch?waitMs=0`, { as: other })).status === 200, 30_000);
  });

  it("serves health, readiness, the OpenAPI document and the docs page without credentials", async () => {
    expect((await api("GET", "/health", { as: null })).status).toBe(200);
    expect((await api("GET", "/ready", { as: null })).body).toEqual({ status: "ready" });
    const doc = await api("GET", "/openapi.json", { as: null });
    expect(doc.body.paths["/v1/stations/{station}/groups/{group}/fetch"].post).toBeDefined();
    expect(doc.body.paths["/healthz"].get).toBeDefined();
    const page = await api("GET", "/docs", { as: null });
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.body).toContain("/v1/stations/{station}/messages");
  });
});
