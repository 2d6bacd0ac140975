import { describe, expect, it } from "vitest";
import { defaultScope } from "../protocol/index.js";
import { needsNewPermissions, userPermissions } from "./permissions.js";

const grants = (consume: string[]) => ({ produce: [], consume, admin: false });

describe("consumer permissions on partitioned stations", () => {
  it("an exact group gets every partition's consumer; the pattern * covers them as it is", () => {
    const existing = [{ station: "orders", groups: ["billing"], partitions: 3 }];
    const exact = userPermissions("u", defaultScope, grants(["orders:billing"]), existing).publish;
    for (const c of ["billing-P0", "billing-P1", "billing-P2"]) {
      expect(exact).toContain(`jn.js.API.CONSUMER.MSG.NEXT.JN_ST_orders.${c}`);
      expect(exact).toContain(`jn.js.API.CONSUMER.INFO.JN_ST_orders.${c}`);
      expect(exact).toContain(`$JS.ACK.JN_ST_orders.${c}.>`);
    }
    expect(exact).not.toContain("jn.js.API.CONSUMER.MSG.NEXT.JN_ST_orders.billing-P3");
    const any = userPermissions("u", defaultScope, grants(["orders:*"]), existing).publish;
    expect(any).toContain("jn.js.API.CONSUMER.MSG.NEXT.JN_ST_orders.*");
    expect(any.filter((s) => s.includes("-P"))).toEqual([]);
  });

  it("a connection older than a partitioned station must reconnect to consume there by an exact group", () => {
    const g = grants(["orders:billing"]);
    expect(needsNewPermissions(g, "orders", "billing", { stationIsNewer: true, groupIsNew: true, partitioned: true })).toBe(true);
    expect(needsNewPermissions(g, "orders", "billing", { stationIsNewer: true, groupIsNew: true, partitioned: false })).toBe(false);
    expect(
      needsNewPermissions(grants(["orders:*"]), "orders", "billing", { stationIsNewer: true, groupIsNew: true, partitioned: true }),
    ).toBe(false);
  });
});
