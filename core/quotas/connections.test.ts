import { describe, expect, it } from "vitest";
import type { ClientConnection } from "../nats/index.js";
import { manualClock, silentLogger } from "../support/index.js";
import { ConnectionCounter } from "./connections.js";

/** A system account whose answers the test releases by hand. */
function fakeSystem() {
  const asks: { account: string; user: string; answer: (n: number) => void; fail: (e: Error) => void }[] = [];
  return {
    asks,
    system: {
      connections: (account: string, user: string) =>
        new Promise<ClientConnection[]>((resolve, reject) => {
          asks.push({
            account,
            user,
            answer: (n) => resolve(Array.from({ length: n }, (_, i) => ({ serverId: "s", cid: i, startedAtMs: 0 }))),
            fail: reject,
          });
        }),
    },
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe("ConnectionCounter", () => {
  it("admits without waiting for the servers, counts its own admissions, and refuses at the limit on a confirmed count", async () => {
    const f = fakeSystem();
    const c = new ConnectionCounter({ system: f.system, account: "CLIENTS", clock: manualClock(), logger: silentLogger });
    expect(await c.admit("u", 2)).toEqual({ admitted: true, current: 0 });
    expect(f.asks).toMatchObject([{ account: "CLIENTS", user: "u" }]);
    expect(await c.admit("u", 2)).toEqual({ admitted: true, current: 1 });
    // At the limit a refusal waits for the read under way. That read started before the two
    // admissions (the servers had none then); they may or may not be in a later answer, so the
    // servers are asked again before refusing.
    const third = c.admit("u", 2);
    await tick();
    f.asks[0]!.answer(0);
    await tick();
    expect(f.asks).toHaveLength(2);
    f.asks[1]!.answer(2);
    expect(await third).toEqual({ admitted: false, current: 2 });
    expect(c.count("u")).toBe(2);
    // Confirmed and fresh: the next refusal asks nothing.
    expect(await c.admit("u", 2)).toEqual({ admitted: false, current: 2 });
    expect(f.asks).toHaveLength(2);
  });

  it("never refuses on a connection counted twice: the servers' answer replaces this gateway's admissions", async () => {
    const f = fakeSystem();
    const c = new ConnectionCounter({ system: f.system, account: "CLIENTS", clock: manualClock(), logger: silentLogger });
    await c.admit("u", 2);
    // The first read's answer already holds the connection admitted just before it: counted twice.
    f.asks[0]!.answer(1);
    await tick();
    expect(c.count("u")).toBe(2);
    const second = c.admit("u", 2);
    await tick();
    f.asks[1]!.answer(1);
    expect(await second).toEqual({ admitted: true, current: 1 });
  });

  it("reads again once the count is stale, so closed connections free their place", async () => {
    const f = fakeSystem();
    const clock = manualClock();
    const c = new ConnectionCounter({ system: f.system, account: "CLIENTS", clock, logger: silentLogger, freshMs: 1000 });
    await c.admit("u", 1);
    f.asks[0]!.answer(1);
    await tick();
    const refused = c.admit("u", 1);
    await tick();
    f.asks[1]!.answer(1);
    expect(await refused).toEqual({ admitted: false, current: 1 });
    clock.advance(1000);
    // Stale and at the limit: the refusal waits for a new read, which finds the connection gone.
    const again = c.admit("u", 1);
    await tick();
    expect(f.asks).toHaveLength(3);
    f.asks[2]!.answer(0);
    expect(await again).toEqual({ admitted: true, current: 0 });
  });

  it("counts users apart, admits when the system account fails, and admits everything without one", async () => {
    const f = fakeSystem();
    const c = new ConnectionCounter({ system: f.system, account: "CLIENTS", clock: manualClock(), logger: silentLogger });
    await c.admit("a", 1);
    expect((await c.admit("b", 1)).admitted).toBe(true);
    f.asks[0]!.fail(new Error("no responders"));
    f.asks[1]!.answer(1);
    await tick();
    // The failed read keeps the local count (1 admitted): admitted at limit 2.
    expect((await c.admit("a", 2)).admitted).toBe(true);
    const none = new ConnectionCounter({ system: undefined, account: "CLIENTS", clock: manualClock(), logger: silentLogger });
    expect(none.enabled).toBe(false);
    for (let i = 0; i < 5; i++) expect((await none.admit("u", 1)).admitted).toBe(true);
  });

  it("remembers at most maxUsers users", async () => {
    const f = fakeSystem();
    const c = new ConnectionCounter({ system: f.system, account: "CLIENTS", clock: manualClock(), logger: silentLogger, maxUsers: 2 });
    await c.admit("a", 5);
    await c.admit("b", 5);
    await c.admit("c", 5);
    expect(c.count("a")).toBeUndefined();
    expect(c.count("c")).toBe(1);
  });
});
