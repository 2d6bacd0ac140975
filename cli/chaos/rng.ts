/** A seeded pseudo-random source: the same seed gives the same fault schedule. */
export interface Rng {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** A number in [min, max). */
  between(min: number, max: number): number;
  /** One item, chosen with the given weights (all > 0). */
  weighted<T>(items: readonly { value: T; weight: number }[]): T;
}

/**
 * mulberry32: 32 bits of state, fast, and good enough to spread faults over time (not for
 * cryptography). Any integer seed is reduced to 32 bits.
 */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    between: (min, max) => min + next() * (max - min),
    weighted<T>(items: readonly { value: T; weight: number }[]): T {
      const total = items.reduce((s, i) => s + i.weight, 0);
      let x = next() * total;
      for (const i of items) {
        x -= i.weight;
        if (x < 0) return i.value;
      }
      return items[items.length - 1]!.value;
    },
  };
}
