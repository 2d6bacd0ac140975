import { describe, expect, it } from "vitest";
import { assertName, nameProblem } from "./names.js";

describe("names", () => {
  it("accepts lowercase names with digits, - and _", () => {
    for (const n of ["orders", "a", "0", "orders-eu_2", "x".repeat(64)]) expect(nameProblem(n)).toBeUndefined();
  });
  const bad: [unknown, RegExp][] = [
    ["", /empty/],
    ["x".repeat(65), /at most 64/],
    ["a.b", /'\.'/],
    ["a*", /'\*'/],
    ["a>", /'>'/],
    ["a b", /spaces/],
    ["Orders", /lowercase/],
    ["-x", /must match/],
    ["_x", /must match/],
    ["a/b", /must match/],
    [42, /string/],
  ];
  for (const [n, re] of bad) {
    it(`refuses ${JSON.stringify(n)}`, () => {
      expect(nameProblem(n)).toMatch(re);
      expect(() => assertName("station", n)).toThrow(expect.objectContaining({ code: "INVALID_NAME" }) as Error);
    });
  }
});
