/** Data hooks: polling that also refreshes on live events, and the clock. */
import { createContext, useContext, useEffect, useRef, useState } from "react";

/** Bumped by live events (and reconnects) so every poll refreshes at once. */
export const LiveContext = createContext(0);

/** The result of a poll. */
export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again now. */
  refresh: () => void;
}

/**
 * Calls `load` now, every `intervalMs`, when `deps` change, and when a live event arrives; never
 * two at a time. The last good data stays shown while a later load fails (the error is shown
 * beside it).
 */
export function usePoll<T>(load: (() => Promise<T>) | undefined, intervalMs: number, deps: readonly unknown[]): Polled<T> {
  const live = useContext(LiveContext);
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(load !== undefined);
  const [manual, setManual] = useState(0);
  const running = useRef(false);
  const again = useRef(false);
  const alive = useRef(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  // A new subject (deps) drops the old data.
  useEffect(() => {
    setData(undefined);
    setError(undefined);
  }, deps);
  useEffect(() => {
    const run = async () => {
      const f = loadRef.current;
      if (!f) return;
      if (running.current) {
        again.current = true;
        return;
      }
      running.current = true;
      try {
        const v = await f();
        if (alive.current) {
          setData(v);
          setError(undefined);
        }
      } catch (err) {
        if (alive.current) setError(err);
      } finally {
        running.current = false;
        if (alive.current) setLoading(false);
        if (again.current && alive.current) {
          again.current = false;
          void run();
        }
      }
    };
    void run();
    const t = setInterval(() => void run(), intervalMs);
    return () => clearInterval(t);
  }, [...deps, live, manual, intervalMs]);
  return { data, error, loading, refresh: () => setManual((n) => n + 1) };
}

/** The current time, ticking every `intervalMs`. */
export function useNow(intervalMs = 1000, clock: () => number = Date.now): number {
  const [now, setNow] = useState(clock);
  useEffect(() => {
    const t = setInterval(() => setNow(clock()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs, clock]);
  return now;
}
