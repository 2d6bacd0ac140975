import { describe, expect, it } from "vitest";
import { defaultScope } from "../protocol/index.js";
import { needsNewPermissions, userPermissions } from "./permissions.js";

const grants = (consume: string[]) => ({ produce: [], consume, admin: false });

describe("consumer permissions on partitioned stations", () => {
  it("an exact group gets every partition's consumer; the pattern * covers them as it is", () => {
    const existing = [{ station: "orders", groups: ["billing"], partitions: 3 }];
    const perms = userPermissions("u", defaultScope, grants(["orders:billing"]), existing);
    const exact = perms.publish;
    for (const c of ["billing-P0", "billing-P1", "billing-P2"]) {
      expect(exact).toContain(`jn.js.API.CONSUMER.MSG.NEXT.JN_ST_orders.${c}`);
      expect(exact).toContain(`jn.js.API.CONSUMER.INFO.JN_ST_orders.${c}`);
      expect(exact).toContain(`jn.js.API.CONSUMER.UNPIN.JN_ST_orders.${c}`);
      expect(exact).toContain(`$JS.ACK.JN_ST_orders.${c}.>`);
    }
    expect(exact).not.toContain("jn.js.API.CONSUMER.MSG.NEXT.JN_ST_orders.billing-P3");
    // The group's members announce themselves to one another, and only to one another.
    expect(exact).toContain("jn.members.JN_ST_orders.billing");
    expect(perms.subscribe).toContain("jn.members.JN_ST_orders.billing");
    expect([...exact, ...perms.subscribe].filter((s) => s.startsWith("jn.members.") && s !== "jn.members.JN_ST_orders.billing")).toEqual(
      [],
    );
    const anyPerms = userPermissions("u", defaultScope, grants(["orders:*"]), existing);
    const any = anyPerms.publish;
    expect(any).toContain("jn.js.API.CONSUMER.MSG.NEXT.JN_ST_orders.*");
    expect(any).toContain("jn.js.API.CONSUMER.UNPIN.JN_ST_orders.*");
    expect(anyPerms.subscribe).toContain("jn.members.JN_ST_orders.*");
    expect(any.filter((s) => s.includes("-P"))).toEqual([]);
    // A station with one partition has no pins to move; its members announce themselves to the
    // gateway but need not hear one another.
    const plain = userPermissions("u", defaultScope, grants(["single:billing"]), [{ station: "single", groups: ["billing"] }]);
    expect([...plain.publish, ...plain.subscribe].filter((s) => s.includes("UNPIN"))).toEqual([]);
    expect(plain.publish.filter((s) => s.startsWith("jn.members."))).toEqual(["jn.members.JN_ST_single.billing"]);
    expect(plain.subscribe.filter((s) => s.startsWith("jn.members."))).toEqual([]);
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
