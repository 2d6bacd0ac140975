import { describe, expect, it } from "vitest";
import { MessageKind } from "./books.js";
import { kindOf } from "./workload.js";

describe("kindOf", () => {
  it("makes every Nth message poison and every Mth dead-lettered, never both, the rest normal", () => {
    const spec = { poisonEvery: 250, terminateEvery: 500 };
    const kinds = Array.from({ length: 5000 }, (_, n) => kindOf(n, spec));
    expect(kinds.filter((k) => k === MessageKind.Poison)).toHaveLength(20);
    expect(kinds.filter((k) => k === MessageKind.Terminate)).toHaveLength(10);
    expect(kinds[249]).toBe(MessageKind.Poison);
    expect(kinds[250]).toBe(MessageKind.Terminate);
    expect(kindOf(3, { poisonEvery: 0, terminateEvery: 0 })).toBe(MessageKind.Normal);
  });
});
