import { describe, expect, it } from "vitest";
import { createRng } from "./rng.js";

describe("createRng", () => {
  it("gives the same numbers for the same seed and other numbers for another", () => {
    const a = Array.from({ length: 5 }, createRng(7).next);
    const r = createRng(7);
    expect(Array.from({ length: 5 }, () => r.next())).toEqual(a);
    const o = createRng(8);
    expect(Array.from({ length: 5 }, () => o.next())).not.toEqual(a);
  });

  it("stays in range: next in [0,1), int in [min,max], between in [min,max)", () => {
    const r = createRng(1);
    for (let i = 0; i < 2000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      const n = r.int(3, 5);
      expect([3, 4, 5]).toContain(n);
      const b = r.between(10, 20);
      expect(b >= 10 && b < 20).toBe(true);
    }
  });

  it("draws by weight", () => {
    const r = createRng(42);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4000; i++)
      counts[
        r.weighted([
          { value: "a" as const, weight: 3 },
          { value: "b" as const, weight: 1 },
        ])
      ]++;
    expect(counts.a / 4000).toBeGreaterThan(0.7);
    expect(counts.a / 4000).toBeLessThan(0.8);
  });
});
