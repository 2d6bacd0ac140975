import type { QuarantineEntry, QuarantineReason, QuarantineReleaseEvent } from "./types.js";

/** Options of {@link Quarantine}. */
export interface QuarantineOptions {
  /** Batch failures within the window that quarantine a version; 0 never does. */
  after: number;
  /** The window, ms. */
  windowMs: number;
  /** The clock, ms since the epoch. */
  now: () => number;
  onQuarantine: (entry: QuarantineEntry) => void;
  onRelease: (event: QuarantineReleaseEvent) => void;
}

function key(name: string, version: number): string {
  return `${name}\u0000${version}`;
}

/**
 * Which function versions are quarantined, and the recent batch failures of the others. A
 * version is quarantined after `after` batch failures (timeout, memory, crash) within
 * `windowMs`; ordinary thrown errors never count. Versions are independent: a new version of a
 * quarantined function starts clean.
 */
export class Quarantine {
  readonly #options: QuarantineOptions;
  readonly #entries = new Map<string, QuarantineEntry>();
  readonly #failures = new Map<string, number[]>();

  constructor(options: QuarantineOptions) {
    this.#options = options;
  }

  /** The entry of a quarantined version, if it is. */
  get(name: string, version: number): QuarantineEntry | undefined {
    return this.#entries.get(key(name, version));
  }

  /** Counts one batch failure; returns the new entry when it tipped the version into quarantine. */
  record(name: string, version: number, reason: QuarantineReason, message: string): QuarantineEntry | undefined {
    const { after, windowMs, now } = this.#options;
    if (after === 0) return undefined;
    const k = key(name, version);
    if (this.#entries.has(k)) return undefined;
    const t = now();
    const times = (this.#failures.get(k) ?? []).filter((x) => t - x < windowMs);
    times.push(t);
    if (times.length < after) {
      this.#failures.set(k, times);
      return undefined;
    }
    this.#failures.delete(k);
    const entry: QuarantineEntry = Object.freeze({ function: name, version, reason, message, failures: times.length, since: t });
    this.#entries.set(k, entry);
    guarded(() => this.#options.onQuarantine(entry));
    return entry;
  }

  /** Lifts the quarantine of a function's version (all its versions when omitted); returns what was lifted. */
  release(name: string, version: number | undefined, by: QuarantineReleaseEvent["by"]): QuarantineEntry[] {
    const released: QuarantineEntry[] = [];
    for (const [k, entry] of this.#entries) {
      if (entry.function !== name || (version !== undefined && entry.version !== version)) continue;
      this.#entries.delete(k);
      released.push(entry);
    }
    for (const k of [...this.#failures.keys()]) {
      const [n, v] = k.split("\u0000");
      if (n === name && (version === undefined || Number(v) === version)) this.#failures.delete(k);
    }
    const t = this.#options.now();
    for (const entry of released) guarded(() => this.#options.onRelease({ ...entry, by, released: t }));
    return released;
  }

  /** Every quarantined version, oldest first. */
  list(): QuarantineEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.since - b.since);
  }
}

/** Runs an observer; what it throws is not the runtime's problem. */
function guarded(f: () => void): void {
  try {
    f();
  } catch {
    // ignored: callbacks observe, they do not steer
  }
}
