import { describe, expect, it } from "vitest";
import { DEFAULT_MEMPHIS_OPTIONS, resolveMemphisOptions } from "./options.js";

describe("Memphis options", () => {
  it("fills defaults and freezes", () => {
    const o = resolveMemphisOptions({ users: ["billing"] });
    expect(o).toMatchObject({ users: ["billing"], termReasonWaitMs: 2000, autoStation: DEFAULT_MEMPHIS_OPTIONS.autoStation });
    expect(Object.isFrozen(o)).toBe(true);
    expect(resolveMemphisOptions({ autoStation: { maxAgeSeconds: 60 } }).autoStation).toEqual({
      maxAgeSeconds: 60,
      storage: "file",
      idempotencyWindowMs: 120_000,
    });
  });

  it("fails naming the option", () => {
    expect(() => resolveMemphisOptions({ users: [] })).toThrow(/memphis\.users must be a non-empty list of user names/);
    expect(() => resolveMemphisOptions({ users: ["Bad Name"] })).toThrow(/memphis\.users/);
    expect(() => resolveMemphisOptions({ maxProduceBatch: 0 })).toThrow(/memphis\.maxProduceBatch/);
    expect(() => resolveMemphisOptions({ autoStation: { storage: "tape" as "file" } })).toThrow(/memphis\.autoStation/);
  });
});
