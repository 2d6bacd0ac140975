import { describe, expect, it } from "vitest";
import { renderMemphisAccounts } from "./accounts.js";

describe("the Memphis accounts' server config", () => {
  it("adds the gateway's Memphis subjects to the internal account's exports once, and one account per user", () => {
    const r = renderMemphisAccounts("JUNCTION", ["memphis", "billing"]);
    expect(r.exports).toContain('      { service: "jn.memphis.produce.*" }');
    expect(r.exports).toContain('      { stream: "jn.memphis.push.*" }');
    // JetStream's pull subject is exported for the client account already.
    expect(r.exports.join("\n")).not.toContain("MSG.NEXT");
    const text = r.accounts.join("\n");
    expect(text.match(/"MEMPHIS_memphis": \{/g)).toHaveLength(1);
    expect(text.match(/"MEMPHIS_billing": \{/g)).toHaveLength(1);
    expect(text).toContain('{ service: { account: JUNCTION, subject: "jn.memphis.produce.*" }, to: "*.final", share: true }');
    expect(text).toContain(
      '{ service: { account: JUNCTION, subject: "$JS.API.CONSUMER.MSG.NEXT.*.*" }, to: "$JS.API.CONSUMER.MSG.NEXT.*.*" }',
    );
    expect(text).toContain('{ stream: { account: JUNCTION, subject: "jn.memphis.push.*" }, to: "*" }');
    expect(text).not.toMatch(/users|jetstream/);
  });
});
