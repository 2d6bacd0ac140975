import { describe, expect, it } from "vitest";
import { memphisLogin, memphisLoginFront, memphisPermissions } from "./login.js";
import type { UserRecord } from "../auth/index.js";

const req = (o: Partial<{ user: string; pass: string; token: string; clientName: string }>) => ({
  user: "",
  pass: "",
  token: "",
  clientName: "",
  ...o,
});

describe("the Memphis login", () => {
  it("reads `<user>$<accountId>` with a password, or the password as a token with the user in the connection name", () => {
    expect(memphisLogin(req({ user: "billing$1", pass: "pw" }))).toEqual({ user: "billing", password: "pw" });
    expect(memphisLogin(req({ user: "billing$42", pass: "pw" }))).toEqual({ user: "billing", password: "pw" });
    expect(memphisLogin(req({ token: "pw", clientName: "5f1c-uuid::billing" }))).toEqual({ user: "billing", password: "pw" });
    // A Junction login, and the SDK's plain-username retry, are not Memphis logins.
    expect(memphisLogin(req({ user: "billing", pass: "pw" }))).toBeUndefined();
    expect(memphisLogin(req({ user: "billing$", pass: "pw" }))).toBeUndefined();
    expect(memphisLogin(req({ token: "pw", clientName: "no user here" }))).toBeUndefined();
  });

  it("admits only listed users of the default tenant, each in its own account, with rights that never expire", () => {
    const f = memphisLoginFront(["memphis", "billing"]);
    const u = (name: string, tenant = "default") => ({ name, tenant }) as UserRecord;
    expect(f.refuses(u("memphis"))).toBeUndefined();
    expect(f.refuses(u("app"))).toMatch(/not a Memphis user/);
    expect(f.refuses(u("billing", "acme"))).toMatch(/default tenant/);
    expect(f.accountOf("billing")).toBe("MEMPHIS_billing");
    expect(f.accounts).toEqual(["MEMPHIS_memphis", "MEMPHIS_billing"]);
    expect(f.expires).toBe(false);
  });
});

describe("Memphis users' NATS permissions", () => {
  const existing = [
    { station: "orders-eu", groups: ["billing", "audit"] },
    { station: "orders-us", groups: ["billing"] },
    { station: "payments", groups: ["ledger"] },
  ];
  it("let the SDK do what it does and pull only the groups its grants name (patterns expanded now)", () => {
    const p = memphisPermissions({ produce: ["orders-*"], consume: ["orders-*:billing", "payments:*"], admin: false }, existing);
    expect(p.publish).toEqual(
      expect.arrayContaining([
        "$memphis_station_creations",
        "$memphis_nacked_dls",
        "$JS.API.INFO",
        "$JS.API.CONSUMER.INFO.*.*",
        "$JS.ACK.>",
        "*.final",
        "$JS.API.CONSUMER.MSG.NEXT.JN_ST_orders-eu.billing",
        "$JS.API.CONSUMER.MSG.NEXT.JN_ST_orders-us.billing",
        "$JS.API.CONSUMER.MSG.NEXT.JN_ST_payments.*",
      ]),
    );
    expect(p.publish.filter((s) => s.includes("MSG.NEXT"))).toHaveLength(3);
    expect(p.publish.join(" ")).not.toMatch(/jn\.|\$KV|STREAM/);
    expect(p.subscribe).toEqual(["_INBOX.>", "$memphis_sdk_clients_updates", "*", "*.*"]);
    // Other clients' requests, reports, produce, pulls and acks are never delivered to a subscription.
    expect(p.subscribeDeny).toEqual(
      expect.arrayContaining(["$memphis_consumer_creations", "$memphis_schemaverse_dls", "*.final", "$JS.>"]),
    );
  });

  it("let an operator pull every station, but never the advisories or the dead letters", () => {
    const p = memphisPermissions({ produce: [], consume: [], admin: true }, existing);
    expect(p.publish).toContain("$JS.API.CONSUMER.MSG.NEXT.*.*");
    expect(p.publishDeny).toEqual(["$JS.API.CONSUMER.MSG.NEXT.JN_ADV.*", "$JS.API.CONSUMER.MSG.NEXT.JN_DLS.*"]);
  });
});
