import { describe, expect, it } from "vitest";
import { parseAckSubject } from "./pull.js";

describe("parseAckSubject", () => {
  it("reads the v1 form", () => {
    expect(parseAckSubject("$JS.ACK.JN_ST_orders.billing.2.41.7.1796020391132905713.5")).toEqual({
      stream: "JN_ST_orders",
      consumer: "billing",
      deliveryCount: 2,
      streamSeq: 41,
      timeMs: 1796020391132,
      pending: 5,
    });
  });

  it("reads the v2 form (domain, account hash, trailing token)", () => {
    expect(parseAckSubject("$JS.ACK.hub.ACCHASH.JN_ST_a.g.1.3.3.1796020391132905713.0.xyz")).toMatchObject({
      stream: "JN_ST_a",
      consumer: "g",
      deliveryCount: 1,
      streamSeq: 3,
      pending: 0,
    });
  });

  it("refuses anything else", () => {
    for (const s of ["$JS.API.X", "$JS.ACK.a.b", "_INBOX.x.y.z.1.2.3.4.5", "$JS.ACK.S.g.x.1.1.1.0", "$JS.ACK.S.g.1.1.1.notanumber.0"]) {
      expect(parseAckSubject(s)).toBeUndefined();
    }
  });
});
