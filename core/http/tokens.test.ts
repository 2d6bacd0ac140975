import { describe, expect, it } from "vitest";
import { manualClock } from "../support/index.js";
import { AckTokens, tokenKeyFrom } from "./tokens.js";

const claims = { user: "alice", tenant: "default", station: "orders", group: "billing", reply: "$JS.ACK.JN_ST_orders.billing.1.2.2.1.0" };
const expect_ = { user: "alice", tenant: "default", station: "orders", group: "billing" };

describe("AckTokens", () => {
  it("gives back the reply subject of its own token, for the same user, tenant, station and group", () => {
    const t = new AckTokens({ ttlMs: 1000, clock: manualClock(0) });
    expect(t.verify(t.sign(claims), expect_, 0)).toBe(claims.reply);
  });

  it("refuses another user, tenant, station or group, an expired token, another key's token, and garbage", () => {
    const clock = manualClock(0);
    const t = new AckTokens({ ttlMs: 1000, clock });
    const token = t.sign(claims);
    const code = (f: () => unknown) => {
      try {
        f();
        return "ok";
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(() => t.verify(token, { ...expect_, user: "bob" }, 0))).toBe("PERMISSION_DENIED");
    expect(code(() => t.verify(token, { ...expect_, tenant: "acme" }, 0))).toBe("PERMISSION_DENIED");
    expect(code(() => t.verify(token, { ...expect_, station: "other" }, 0))).toBe("PERMISSION_DENIED");
    expect(code(() => t.verify(token, { ...expect_, group: "other" }, 0))).toBe("PERMISSION_DENIED");
    expect(code(() => new AckTokens({ ttlMs: 1000, clock }).verify(token, expect_, 0))).toBe("PERMISSION_DENIED");
    for (const g of [42, "", "abc", "a.b.c", `${token}x`]) expect(code(() => t.verify(g, expect_, 3))).not.toBe("ok");
    expect(code(() => t.verify("a.b.c", expect_, 3))).toBe("INVALID_ARGUMENT");
    clock.advance(1001);
    expect(code(() => t.verify(token, expect_, 0))).toBe("PERMISSION_DENIED");
  });

  it("accepts tokens of another gateway with the same derived key", () => {
    const clock = manualClock(0);
    const a = new AckTokens({ key: tokenKeyFrom("seed"), ttlMs: 1000, clock });
    const b = new AckTokens({ key: tokenKeyFrom("seed"), ttlMs: 1000, clock });
    expect(b.verify(a.sign(claims), expect_, 0)).toBe(claims.reply);
    expect(tokenKeyFrom("seed")).not.toEqual(tokenKeyFrom("other"));
  });
});
