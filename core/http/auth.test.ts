import { describe, expect, it } from "vitest";
import { Gate, isLoopback, parseBasicAuth } from "./auth.js";

describe("parseBasicAuth", () => {
  it("reads user and password (the password may hold ':')", () => {
    expect(parseBasicAuth(`Basic ${Buffer.from("alice:pa:ss").toString("base64")}`)).toEqual({ user: "alice", password: "pa:ss" });
    expect(parseBasicAuth(undefined)).toBeUndefined();
  });

  it("refuses other schemes and malformed values with AUTH_FAILED", () => {
    for (const h of [
      "Bearer x",
      "Basic",
      `Basic ${Buffer.from("no-colon").toString("base64")}`,
      `Basic ${Buffer.from(":pw").toString("base64")}`,
    ]) {
      expect(() => parseBasicAuth(h)).toThrow(expect.objectContaining({ code: "AUTH_FAILED" }));
    }
  });
});

describe("isLoopback", () => {
  it("knows the local machine", () => {
    for (const a of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) expect(isLoopback(a)).toBe(true);
    for (const a of ["10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "1.127.0.0", undefined, ""]) expect(isLoopback(a)).toBe(false);
  });
});

describe("Gate", () => {
  it("runs at most `active` jobs, queues at most `queued`, refuses the rest, and hands slots on in order", async () => {
    const gate = new Gate(1, 2);
    const release: (() => void)[] = [];
    const started: number[] = [];
    const job = (n: number) => () =>
      new Promise<number>((r) => {
        started.push(n);
        release.push(() => r(n));
      });
    const a = gate.run(job(1));
    const b = gate.run(job(2));
    const c = gate.run(job(3));
    expect(await gate.run(job(4))).toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1]);
    release.shift()!();
    expect(await a).toEqual({ value: 1 });
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2]);
    release.shift()!();
    await b;
    await new Promise((r) => setImmediate(r));
    release.shift()!();
    expect(await c).toEqual({ value: 3 });
    // All slots free again: a new job starts at once.
    const d = gate.run(async () => 5);
    expect(await d).toEqual({ value: 5 });
  });
});
