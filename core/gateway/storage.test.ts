import { afterEach, describe, expect, it } from "vitest";
import { fakeGateway, type FakeGateway } from "../../test/fakes/gateway.js";

const enc = new TextEncoder();
let g: FakeGateway | undefined;
afterEach(async () => {
  await g?.close();
  g = undefined;
});

/** Polls `fn` (real time: the guard reads on a timer) until it returns something truthy. */
async function until<T>(fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const codes = async (gw: FakeGateway, station: string, n: number) => {
  const r = await gw.produce(
    station,
    Array.from({ length: n }, (_, i) => ({ id: `${station}-${Date.now()}-${i}`, payload: enc.encode("{}") })),
  );
  if (!r.ok) throw new Error(r.error.code);
  return r.data.results.map((x) => ("error" in x ? x.error.code : "stored"));
};

describe("storage guard", () => {
  it("answers STORE_FULL at once while nats-server has stopped JetStream for lack of space, restarts it with a reload and recovers", async () => {
    g = await fakeGateway({ storage: { pollMs: 20, recoveryMs: 1000 } });
    const gw = g;
    await gw.ok("station.create", { name: "s" });
    expect(await codes(gw, "s", 3)).toEqual(["stored", "stored", "stored"]);
    gw.backend.reloadRestartsJetStream = false;
    gw.backend.outOfStorage();
    expect(await codes(gw, "s", 3)).toEqual(["STORE_FULL", "STORE_FULL", "STORE_FULL"]);
    // Not retriable; nothing was published meanwhile.
    const before = gw.backend.messages("JN_ST_s").length;
    await codes(gw, "s", 2);
    expect(gw.backend.messages("JN_ST_s")).toHaveLength(before);
    // After the first wait the gateway asks the server to reload; while the disk is still full that does not help.
    gw.clock.advance(1000);
    await until(async () => gw.backend.reloads.length >= 1);
    expect(await codes(gw, "s", 1)).toEqual(["STORE_FULL"]);
    // Space is back: the next reload (after a doubled wait) restarts JetStream, and produce works again.
    gw.backend.reloadRestartsJetStream = true;
    gw.clock.advance(2000);
    await until(async () => ((await codes(gw, "s", 1))[0] === "stored" ? true : undefined));
    expect(gw.backend.reloads.length).toBe(2);
  });

  it("near a storage limit stores message by message, so each message gets its own exact outcome", async () => {
    g = await fakeGateway({ storage: { pollMs: 20, tightBytes: 1_000_000 } });
    const gw = g;
    await gw.ok("station.create", { name: "t" });
    gw.backend.storageLimitBytes = 500_000;
    await until(async () => {
      const free = /junction_store_free_bytes (\d+)/.exec(await gw.gateway.metrics.metrics())?.[1];
      return free !== undefined && Number(free) < 1_000_000 ? true : undefined;
    });
    // One store failure among 20 messages: atomically it would fail all 20; message by message only one.
    gw.backend.failures.push({ ok: true, seq: 1, duplicate: false, count: 1 });
    gw.backend.failures.push({ ok: false, errCode: 10047, description: "insufficient storage resources available" });
    const out = await codes(gw, "t", 20);
    expect(out.filter((c) => c === "STORE_FULL")).toHaveLength(1);
    expect(out.filter((c) => c === "stored")).toHaveLength(19);
  });
});
