import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { connect, JunctionError, type JunctionClient } from "../../sdk/index.js";
import { Headers, subjects } from "../../core/protocol/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(JunctionError);
    return (err as JunctionError).code;
  }
  return "no error";
}

describe("bad names", () => {
  const bad = ["orders.eu", "orders*", "orders>", "my orders", "Orders", "", "x".repeat(65), "-leading"];
  for (const name of bad) {
    it(`refuses the station name ${JSON.stringify(name)} with INVALID_NAME before NATS sees it`, async () => {
      const err = await client.stations.create(name).catch((e: unknown) => e as JunctionError);
      expect(err).toBeInstanceOf(JunctionError);
      expect((err as JunctionError).code).toBe("INVALID_NAME");
      expect((err as JunctionError).details).toMatchObject({ kind: "station", name });
      expect((await client.stations.list()).some((s) => s.name === name)).toBe(false);
    });
  }
  it("refuses a bad group name", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    expect(await codeOf(client.groups.create(station, "a.b"))).toBe("INVALID_NAME");
  });
  it("accepts the longest valid name", async () => {
    const name = "a" + "b".repeat(63);
    await expect(client.stations.create(name)).resolves.toMatchObject({ name, created: true });
  });
});

describe("stations", () => {
  it("reports an unknown station on every path", async () => {
    expect(await codeOf(client.stations.get("no-such-station"))).toBe("STATION_NOT_FOUND");
    expect(await codeOf(client.stations.delete("no-such-station"))).toBe("STATION_NOT_FOUND");
    expect(await codeOf(client.producer({ station: "no-such-station" }).send("x"))).toBe("STATION_NOT_FOUND");
    expect(await codeOf(client.consumer({ station: "no-such-station", group: "g" }))).toBe("STATION_NOT_FOUND");
  });

  it("treats a repeated create with the same settings as a no-op, and other settings as STATION_EXISTS", async () => {
    const station = uniqueName();
    expect((await client.stations.create(station, { maxMessages: 10 })).created).toBe(true);
    expect((await client.stations.create(station, { maxMessages: 10 })).created).toBe(false);
    const err = await client.stations.create(station, { maxMessages: 11 }).catch((e: unknown) => e as JunctionError);
    expect(err).toMatchObject({ code: "STATION_EXISTS" });
  });

  it("applies every setting, updates what JetStream allows and refuses the rest", async () => {
    const station = uniqueName();
    const created = await client.stations.create(station, {
      retention: "interest",
      maxAgeSeconds: 3600,
      maxMessages: 1000,
      maxBytes: 10_000_000,
      storage: "memory",
      idempotencyWindowMs: 60_000,
      maxMessageSize: 2048,
    });
    expect(created.config).toMatchObject({
      retention: "interest",
      storage: "memory",
      maxAgeSeconds: 3600,
      maxMessageSize: 2048,
      replicas: 1,
    });
    const updated = await client.stations.update(station, { maxMessages: 5, maxAgeSeconds: 60, idempotencyWindowMs: 30_000 });
    expect(updated.config).toMatchObject({ maxMessages: 5, maxAgeSeconds: 60, idempotencyWindowMs: 30_000, storage: "memory" });
    // The limit is live: only the last 5 messages stay (a limits-retention check on an interest station
    // with no groups: interest streams drop messages nobody is interested in, so use a limits station).
    const lim = uniqueName();
    await client.stations.create(lim, { maxMessages: 100 });
    await client.stations.update(lim, { maxMessages: 5 });
    await client.producer({ station: lim }).sendBatch(Array.from({ length: 20 }, (_, i) => ({ payload: `m${i}` })));
    expect((await client.stations.get(lim)).state?.messages).toBe(5);
    expect(await codeOf(client.stations.update(station, { storage: "file" }))).toBe("STATION_UPDATE_REFUSED");
    expect(await codeOf(client.stations.update(station, { retention: "limits" }))).toBe("STATION_UPDATE_REFUSED");
    expect(await codeOf(client.stations.create(uniqueName(), { replicas: 0 }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(client.stations.create(uniqueName(), { storage: "disk" as "file" }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(client.stations.create(uniqueName(), { colour: "red" } as object))).toBe("INVALID_ARGUMENT");
  });

  it("deletes a station with its messages", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    await client.producer({ station }).send("x");
    await client.stations.delete(station);
    expect(await codeOf(client.stations.get(station))).toBe("STATION_NOT_FOUND");
  });
});

describe("payloads and frames", () => {
  it("refuses a payload over the station's maximum size, for that message alone", async () => {
    const station = uniqueName();
    await client.stations.create(station, { maxMessageSize: 1024 });
    const p = client.producer({ station });
    const out = await p.sendBatch([{ payload: "ok-1" }, { payload: new Uint8Array(1025) }, { payload: "ok-2" }]);
    expect(out[0]).toMatchObject({ ok: true, seq: 1 });
    expect(out[1]).toMatchObject({ ok: false });
    const err = (out[1] as { error: JunctionError }).error;
    expect(err.code).toBe("PAYLOAD_TOO_LARGE");
    expect(err.details).toMatchObject({ size: 1025, max: 1024 });
    expect(out[2]).toMatchObject({ ok: true, seq: 2 });
    expect((await client.stations.get(station)).state?.messages).toBe(2);
  });

  it("answers a malformed batch frame with INVALID_FRAME and stores nothing", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const frames = [
      new Uint8Array([1, 2, 3]),
      new TextEncoder().encode("JNB1\u0000\u0000\u0000\u0005garbage"),
      new TextEncoder().encode("XXXX\u0000\u0000\u0000\u0000"),
    ];
    for (const f of frames) {
      const { headers } = await import("@nats-io/nats-core");
      const h = headers();
      h.set(Headers.Batch, "1");
      const reply = await (await broker.raw(broker.users.admin)).request(subjects.produce(station), f, { headers: h, timeout: 5000 });
      const body = reply.json<{ ok: boolean; error: { code: string; message: string } }>();
      expect(body.ok).toBe(false);
      expect(body.error.code).toBe("INVALID_FRAME");
      expect(body.error.message).toMatch(/malformed batch frame/);
    }
    expect((await client.stations.get(station)).state?.messages).toBe(0);
  });

  it("refuses reserved headers per message", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const out = await client.producer({ station }).sendBatch([
      { payload: "a", headers: { "Nats-Expected-Stream": "x" } },
      { payload: "b", headers: { trace: "1" } },
    ]);
    expect(out[0]).toMatchObject({ ok: false, error: { code: "INVALID_HEADER" } });
    expect(out[1]).toMatchObject({ ok: true });
  });

  it("accepts a single-message request without a batch frame", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const { headers } = await import("@nats-io/nats-core");
    const h = headers();
    h.set(Headers.MsgId, "single-1");
    h.set("trace", "abc");
    const raw = await broker.raw(broker.users.admin);
    const reply = await raw.request(subjects.produce(station), new TextEncoder().encode("hello"), { headers: h, timeout: 5000 });
    expect(reply.json()).toEqual({ ok: true, data: { results: [{ seq: 1, duplicate: false }] } });
    const again = await raw.request(subjects.produce(station), new TextEncoder().encode("hello"), { headers: h, timeout: 5000 });
    expect(again.json()).toEqual({ ok: true, data: { results: [{ seq: 1, duplicate: true }] } });
  });
});

describe("credentials and reachability", () => {
  it("refuses wrong credentials with AUTH_FAILED (not retriable)", async () => {
    const err = await connect({ servers: broker.url, user: "client", pass: "wrong" }).catch((e: unknown) => e as JunctionError);
    expect(err).toBeInstanceOf(JunctionError);
    expect(err).toMatchObject({ code: "AUTH_FAILED", retriable: false });
  });

  it("reports an unreachable NATS as NATS_UNAVAILABLE (retriable)", async () => {
    const err = await connect({ servers: "nats://127.0.0.1:1" }).catch((e: unknown) => e as JunctionError);
    expect(err).toMatchObject({ code: "NATS_UNAVAILABLE", retriable: true });
  });

  it("a client publishing straight to a station subject is refused, and nothing is stored", async () => {
    const station = uniqueName();
    await client.stations.create(station);
    const errors: string[] = [];
    const sneaky = await broker.raw(broker.users.admin);
    void (async () => {
      for await (const s of sneaky.status()) if (s.type === "error") errors.push(String((s as { error?: unknown }).error));
    })();
    sneaky.publish(subjects.stationMsg(station), new TextEncoder().encode("bypass"));
    const req = await sneaky
      .request(subjects.stationMsg(station), new TextEncoder().encode("bypass2"), { timeout: 1000 })
      .catch((e: unknown) => e as Error);
    expect(req).toBeInstanceOf(Error);
    await sneaky.flush();
    // Nor may it touch the JetStream API or KV.
    const api = await sneaky
      .request(`$JS.API.STREAM.PURGE.${subjects.stationStream(station)}`, new Uint8Array(), { timeout: 1000 })
      .catch((e: unknown) => e as Error);
    expect(api).toBeInstanceOf(Error);
    // The server answers the refused publish with -ERR, after it has handled it: once that error
    // is here, nothing of it can still be on its way into the stream.
    await waitFor(() => /Permissions Violation for Publish to "jn\.st\./.test(errors.join("\n")));
    expect((await client.stations.get(station)).state?.messages).toBe(0);
    await sneaky.close();
  });
});

describe("gateway down", () => {
  it("the producer retries with the same ids while no gateway answers, then fails clearly", async () => {
    const b = await startBroker();
    const c = await b.client();
    const station = uniqueName();
    await c.stations.create(station);
    await b.gateways[0]!.close();
    const p = c.producer({ station, sendTimeoutMs: 1500, retryBackoffMs: 50, requestTimeoutMs: 500 });
    const err = (await p.send("x").catch((e: unknown) => e)) as JunctionError;
    expect(err).toBeInstanceOf(JunctionError);
    expect(["GATEWAY_UNAVAILABLE", "TIMEOUT"]).toContain(err.code);
    expect(err.retriable).toBe(true);
    // A gateway coming back in time lets the retried message through, stored once.
    const p2 = c.producer({ station, sendTimeoutMs: 10_000, retryBackoffMs: 50, requestTimeoutMs: 500 });
    const pending = p2.send("late", { id: "late-1" });
    // Wait until the producer has been refused at least once (it is retrying), then bring a gateway.
    await waitFor(() => p2.pending === 1 && p2.retries >= 1);
    await b.addGateway();
    await expect(pending).resolves.toMatchObject({ seq: 1, duplicate: false });
    await b.stop();
  });
});
