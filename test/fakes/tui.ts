/**
 * For the TUI tests: fixture data (stations, groups, dead letters, schemas, functions), key codes,
 * and helpers that drive a rendered screen one key at a time, each key waited for on what it
 * changes (never a fixed sleep: a loaded machine may take any time to get there).
 */
import { render } from "ink-testing-library";
import { createElement, useEffect, useState, type ReactElement, type ReactNode } from "react";
import { expect, vi } from "vitest";
import type { DeadLetter, FunctionInfo, GroupInfo, SchemaInfo, StationInfo } from "../../sdk/index.js";

/** How {@link until} waits. */
export interface UntilOptions {
  /**
   * Give up (failing with the assertion's last error) after this long, in milliseconds. Generous:
   * a state that comes ends the wait at once, so only a failing test pays for it.
   * @default 10000
   */
  timeoutMs?: number;
  /** Check again this often, in milliseconds. @default 10 */
  intervalMs?: number;
}

/** The defaults of {@link UntilOptions}. */
export const DEFAULT_UNTIL_OPTIONS: Readonly<Required<UntilOptions>> = Object.freeze({ timeoutMs: 10_000, intervalMs: 10 });

/** Retries `assertion` until it passes and returns what it returned; fails with its last error after `timeoutMs`. */
export function until<T>(assertion: () => T | Promise<T>, o: UntilOptions = {}): Promise<T> {
  const { timeoutMs, intervalMs } = { ...DEFAULT_UNTIL_OPTIONS, ...o };
  return vi.waitFor(assertion, { timeout: timeoutMs, interval: intervalMs });
}

/** A tree rendered by {@link renderTui}: the ink-testing-library instance, and keys sent one at a time. */
export interface Tui {
  stdin: { write(data: string): void };
  /** The last frame written. */
  lastFrame(): string | undefined;
  /** Renders a new tree in place (state is kept). */
  rerender(tree: ReactElement): void;
  unmount(): void;
  /**
   * Waits until React has rendered and committed every update scheduled so far and run their
   * effects. A frame can show a new state while its effects are still queued, and the effects
   * are what hand the key handlers (`useInput`) that new state: a key sent in that gap goes to
   * the handler of the state before.
   */
  settle(o?: UntilOptions): Promise<void>;
  /**
   * Settles, writes `key`, then waits until `effect` passes: proof that the key was handled (a
   * cursor moved, a prompt appeared, a callback was called).
   */
  press(key: string, effect: () => void, o?: UntilOptions): Promise<void>;
  /**
   * Types `text` into an open `/` filter line one key at a time, each waited for on the line
   * ("/ draft█"). `before` is the draft already on the line.
   */
  type(text: string, before?: string): Promise<void>;
}

/**
 * Renders `tree` with ink-testing-library under a probe that tells when React is done with the
 * work scheduled so far (see {@link Tui.settle}).
 */
export function renderTui(tree: ReactElement): Tui {
  const probe = { bumps: 0, seen: 0, bump: (): void => {} };
  // One component type per render, so that rerender keeps its state.
  function Probe(p: { children: ReactNode }): ReactNode {
    const [n, setN] = useState(0);
    probe.bump = () => setN((x) => x + 1);
    // A passive effect: it runs with (or after) the effects of every commit before it.
    useEffect(() => {
      probe.seen = n;
    }, [n]);
    return p.children;
  }
  const r = render(createElement(Probe, null, tree));
  const t: Tui = {
    stdin: r.stdin,
    lastFrame: r.lastFrame,
    rerender: (next) => r.rerender(createElement(Probe, null, next)),
    unmount: r.unmount,
    settle: async (o) => {
      const target = ++probe.bumps;
      probe.bump();
      await until(() => expect(probe.seen, "React did not settle (unmounted?)").toBeGreaterThanOrEqual(target), o);
    },
    press: async (key, effect, o) => {
      await t.settle(o);
      r.stdin.write(key);
      await until(effect, o);
    },
    type: async (text, before = "") => {
      let draft = before;
      for (const c of text) {
        draft += c;
        const line = `/ ${draft}█`;
        await t.press(c, () => expect(r.lastFrame()).toContain(line));
      }
    },
  };
  return t;
}

/** A station as the SDK reports it; `o` overrides fields. */
export function station(name: string, o: Partial<StationInfo> = {}): StationInfo {
  return {
    name,
    createdAt: "2025-01-01T00:00:00.000Z",
    config: {
      retention: "limits",
      maxAgeSeconds: 0,
      maxMessages: -1,
      maxBytes: -1,
      storage: "file",
      replicas: 1,
      idempotencyWindowMs: 120000,
      maxMessageSize: 1048576,
      partitions: 1,
    },
    state: { messages: 10, bytes: 2048, firstSeq: 1, lastSeq: 10, consumers: 1 },
    ...o,
  };
}

/** A consumer group of `stationName` with the given stats. */
export function group(
  stationName: string,
  name: string,
  stats: Partial<GroupInfo["stats"]> & { deadLettered?: number; oldestUnackedAgeMs?: number } = {},
): GroupInfo {
  return {
    station: stationName,
    name,
    config: {
      maxAckTimeMs: 30000,
      maxMsgDeliveries: 10,
      backoffMs: [],
      memberTimeoutMs: 5000,
      startPosition: { kind: "earliest" },
      exclusive: false,
    },
    stats: { pending: 0, unacked: 0, redelivered: 0, membersOnline: 1, deliveredSeq: 0, ackFloorSeq: 0, ...stats },
  };
}

/** A dead letter of station orders (a poison message of group billing); `o` overrides fields. */
export function deadLetter(id: string, o: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    station: "orders",
    reason: "poison",
    groups: ["billing"],
    seq: 7,
    payload: Buffer.from(JSON.stringify({ id: 7, total: 12.5 })).toString("base64"),
    headers: { "Jn-Producer": "shop" },
    error: { code: "MAX_DELIVERIES", message: "delivered 2 times without an ack" },
    deliveries: 2,
    firstDeliveryAt: "2025-01-01T00:00:01.000Z",
    lastDeliveryAt: "2025-01-01T00:00:02.000Z",
    createdAt: "2025-01-01T00:00:03.000Z",
    ...o,
  };
}

/** A JSON schema at version 2 used by orders; `o` overrides fields. */
export function schema(name: string, o: Partial<SchemaInfo> = {}): SchemaInfo {
  return {
    name,
    type: "json",
    compatibility: "BACKWARD",
    latest: 2,
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-02T00:00:00.000Z",
    usedBy: ["orders"],
    ...o,
  };
}

/** A function at version 1 with no calls yet; `o` overrides fields. */
export function fn(name: string, o: Partial<FunctionInfo> = {}): FunctionInfo {
  return {
    name,
    latest: 1,
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    usedBy: [],
    stats: { calls: 0, errors: 0 },
    ...o,
  };
}

/** Key codes as a terminal sends them. */
export const KEY = { down: "\u001b[B", up: "\u001b[A", enter: "\r", esc: "\u001b", tab: "\t", backspace: "\u007f" } as const;
