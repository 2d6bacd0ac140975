/** Where time comes from: injected everywhere, so tests can hold it still or move it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The system clock. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** The clock's time as an ISO string. */
export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}

/** A clock that moves only when told (tests). */
export interface ManualClock extends Clock {
  /** Moves the clock forward. */
  advance(ms: number): void;
  /** Sets the time. */
  set(ms: number): void;
}

/** A manual clock starting at `startMs`. */
export function manualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}
