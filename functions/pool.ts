import { WorkerChild } from "./child.js";
import type { RunReply } from "./child.js";
import { FunctionError } from "./errors.js";
import type { FunctionRuntimeOptions } from "./limits.js";
import type { FnFailureKind, FnMessage, FunctionContext, FunctionPoolStats, FunctionSpec, WorkerExitEvent } from "./types.js";

type Resolved = Readonly<Required<FunctionRuntimeOptions>>;

/** An isolate of one function version, in one worker. */
export interface Slot {
  readonly id: number;
  readonly version: Version;
  readonly child: WorkerChild;
  busy: boolean;
  /** When it was last released (a counter, for least-recently-used eviction). */
  lastUsed: number;
  /** Whether the worker has been sent the version's spec. */
  sent: boolean;
  dead: boolean;
}

/** The isolates of one function version. */
export interface Version {
  readonly key: string;
  readonly spec: FunctionSpec;
  readonly slots: Slot[];
  retired: boolean;
}

/** Why no isolate could be had. */
export interface NoSlot {
  kind: Extract<FnFailureKind, "capacity" | "timeout">;
  message: string;
}

/** Key of a function version. */
export function versionKey(name: string, version: number): string {
  return `${name}\u0000${version}`;
}

/**
 * The worker processes and the isolates in them, within a memory budget.
 *
 * - A function version's isolates live in ONE worker (its crash, fatal out-of-memory error or
 *   stuck call touches that worker only). A version without isolates goes to an empty worker,
 *   else to a new one while there are fewer than `maxWorkers`, else to the worker hosting the
 *   fewest versions. So with enough workers every version has its own process.
 * - Within a worker, each isolate runs on its own thread, so a slow function does not hold up
 *   the others there either.
 * - The budget counts `workerOverheadMb` per worker plus the `memoryMb` of each isolate. A new
 *   isolate that does not fit evicts idle isolates (and idle empty workers), least recently used
 *   first; if everything left is busy, the batch waits for one to be released.
 */
export class WorkerPool {
  readonly #options: Resolved;
  readonly #children: WorkerChild[] = [];
  readonly #slotsOf = new Map<WorkerChild, Set<Slot>>();
  readonly #lastUsedChild = new Map<WorkerChild, number>();
  readonly #versions = new Map<string, Version>();
  readonly #waiters = new Set<() => void>();
  #nextSlot = 1;
  #tick = 0;
  #closed = false;
  #workersStarted = 0;
  #isolatesCreated = 0;
  #sandboxCalls = 0;

  constructor(options: Resolved) {
    this.#options = options;
  }

  /**
   * An idle isolate of the version, placed (and the worker started) if needed. Waits until
   * `deadline` (a `performance.now()` time) when the version's isolates are all busy or the
   * budget is full of busy ones.
   */
  async acquire(spec: FunctionSpec, deadline: number): Promise<Slot | NoSlot> {
    const { memoryBudgetMb, workerOverheadMb, poolSize } = this.#options;
    if (spec.memoryMb + workerOverheadMb > memoryBudgetMb) {
      return {
        kind: "capacity",
        message: `the function needs ${spec.memoryMb} MB plus ${workerOverheadMb} MB for a worker, more than the runtime's ${memoryBudgetMb} MB memory budget`,
      };
    }
    const started = performance.now();
    for (;;) {
      this.#assertOpen();
      const version = this.#version(spec);
      const idle = version.slots.find((s) => !s.busy && !s.dead && s.child.usable);
      if (idle !== undefined) {
        idle.busy = true;
        return idle;
      }
      const live = version.slots.filter((s) => !s.dead && s.child.usable).length;
      if (live < poolSize) {
        const slot = this.#place(version);
        if (slot !== undefined) return slot;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        const waited = Math.round(performance.now() - started);
        return live === 0
          ? {
              kind: "capacity",
              message: `no room in the ${memoryBudgetMb} MB memory budget for the function's ${spec.memoryMb} MB (waited ${waited} ms while busy functions held it)`,
            }
          : { kind: "timeout", message: `the batch waited ${waited} ms for a free isolate and ran out of its time budget` };
      }
      await this.#wait(left);
    }
  }

  /** Gives an isolate back (disposing it when its version or worker is going away). */
  release(slot: Slot): void {
    slot.busy = false;
    slot.lastUsed = ++this.#tick;
    this.#lastUsedChild.set(slot.child, slot.lastUsed);
    if (slot.version.retired || !slot.child.usable) this.#dispose(slot);
    this.#notify();
  }

  /** Forgets an isolate (its version did not compile). */
  discard(slot: Slot): void {
    slot.busy = false;
    this.#dispose(slot);
    this.#notify();
  }

  /** Runs a batch on an acquired isolate. */
  async run(
    slot: Slot,
    context: FunctionContext,
    messages: readonly FnMessage[],
    budgetMs: number,
    budgetLabelMs: number,
  ): Promise<RunReply> {
    const spec = slot.sent ? undefined : slot.version.spec;
    slot.sent = true;
    const reply = await slot.child.run(slot.id, spec, context, messages, budgetMs, budgetLabelMs);
    this.#sandboxCalls += reply.calls;
    this.#isolatesCreated += reply.created;
    if (reply.abandoned !== undefined) {
      // The worker is replaced: its other idle isolates are dropped now, busy ones when released.
      for (const s of [...(this.#slotsOf.get(slot.child) ?? [])]) if (!s.busy) this.#dispose(s);
      this.#notify();
    }
    return reply;
  }

  /** Drops the isolates of a function's versions other than `keepVersion` (all when omitted). */
  evict(name: string, keepVersion?: number): void {
    for (const [key, version] of this.#versions) {
      if (version.spec.name !== name || version.spec.version === keepVersion) continue;
      this.#versions.delete(key);
      this.#retire(version);
    }
    this.#notify();
  }

  /** Drops the isolates of one function version (busy ones when released). */
  drop(name: string, version: number): void {
    const key = versionKey(name, version);
    const v = this.#versions.get(key);
    if (v === undefined) return;
    this.#versions.delete(key);
    this.#retire(v);
    this.#notify();
  }

  /** The pool's state. */
  stats(): FunctionPoolStats {
    let isolates = 0;
    let busy = 0;
    const workers = this.#children.map((c) => {
      const slots = this.#slotsOf.get(c) ?? new Set<Slot>();
      isolates += slots.size;
      for (const s of slots) if (s.busy) busy++;
      return {
        pid: c.pid,
        state: c.state === "exited" ? ("retiring" as const) : c.state,
        isolates: slots.size,
        inFlight: c.inFlight,
        reservedMb: this.#reservedBy(c),
      };
    });
    return {
      workers,
      reservedMb: this.#reserved(),
      budgetMb: this.#options.memoryBudgetMb,
      isolates,
      busyIsolates: busy,
      workersStarted: this.#workersStarted,
      isolatesCreated: this.#isolatesCreated,
      sandboxCalls: this.#sandboxCalls,
    };
  }

  /**
   * Closes every worker: each finishes what it runs and exits; those still there after
   * `drainMs` are killed. Resolves once all are gone (or, for a process that ignores SIGKILL,
   * shortly after).
   */
  async close(drainMs: number): Promise<void> {
    this.#closed = true;
    this.#notify();
    const children = [...this.#children];
    for (const c of children) c.close();
    const all = Promise.all(children.map((c) => c.exited));
    if (!(await within(all, drainMs))) {
      for (const c of children) c.kill("closed");
      await within(all, 2000);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new FunctionError("FUNCTION_FAILED", "the function runtime is closed", { details: { reason: "closed" } });
  }

  #version(spec: FunctionSpec): Version {
    const key = versionKey(spec.name, spec.version);
    let version = this.#versions.get(key);
    if (
      version !== undefined &&
      (version.spec.source !== spec.source || version.spec.memoryMb !== spec.memoryMb || version.spec.timeoutMs !== spec.timeoutMs)
    ) {
      // Same name and version, different function: the old isolates go.
      this.#versions.delete(key);
      this.#retire(version);
      version = undefined;
    }
    if (version === undefined) {
      version = { key, spec, slots: [], retired: false };
      this.#versions.set(key, version);
    }
    return version;
  }

  #retire(version: Version): void {
    version.retired = true;
    for (const slot of [...version.slots]) if (!slot.busy) this.#dispose(slot);
  }

  /** A new busy isolate for the version, or undefined when the budget has no room now. */
  #place(version: Version): Slot | undefined {
    const { workerOverheadMb, maxWorkers } = this.#options;
    const m = version.spec.memoryMb;
    const usable = this.#children.filter((c) => c.usable);
    let child = version.slots.find((s) => !s.dead && s.child.usable)?.child;
    if (child === undefined) child = usable.find((c) => (this.#slotsOf.get(c)?.size ?? 0) === 0);
    if (child === undefined && usable.length < maxWorkers && this.#makeRoom(m + workerOverheadMb, undefined)) {
      child = this.#spawn();
    }
    if (child === undefined) child = this.#leastLoaded(usable);
    if (child === undefined || !this.#makeRoom(m, child)) return undefined;
    const slot: Slot = { id: this.#nextSlot++, version, child, busy: true, lastUsed: ++this.#tick, sent: false, dead: false };
    version.slots.push(slot);
    this.#slotsOf.get(child)?.add(slot);
    return slot;
  }

  #leastLoaded(children: WorkerChild[]): WorkerChild | undefined {
    let best: WorkerChild | undefined;
    let bestScore = Infinity;
    for (const c of children) {
      const slots = this.#slotsOf.get(c) ?? new Set<Slot>();
      const versions = new Set([...slots].map((s) => s.version.key)).size;
      const score = versions * 1000 + slots.size;
      if (score < bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * Evicts idle isolates (and idle empty workers other than `keep`), least recently used first,
   * until `needMb` more fits the budget. False when it cannot.
   */
  #makeRoom(needMb: number, keep: WorkerChild | undefined): boolean {
    const budget = this.#options.memoryBudgetMb;
    while (this.#reserved() + needMb > budget) {
      let victim: Slot | undefined;
      for (const slots of this.#slotsOf.values()) {
        for (const s of slots) if (!s.busy && (victim === undefined || s.lastUsed < victim.lastUsed)) victim = s;
      }
      let emptyChild: WorkerChild | undefined;
      for (const c of this.#children) {
        if (c === keep || c.inFlight > 0 || (this.#slotsOf.get(c)?.size ?? 0) > 0) continue;
        if (emptyChild === undefined || (this.#lastUsedChild.get(c) ?? 0) < (this.#lastUsedChild.get(emptyChild) ?? 0)) emptyChild = c;
      }
      if (emptyChild !== undefined && (victim === undefined || (this.#lastUsedChild.get(emptyChild) ?? 0) < victim.lastUsed)) {
        emptyChild.close();
        this.#forget(emptyChild);
      } else if (victim !== undefined) {
        this.#dispose(victim);
      } else {
        return false;
      }
    }
    return true;
  }

  #spawn(): WorkerChild {
    const child = new WorkerChild({
      config: {
        maxOutputBytes: this.#options.maxOutputBytes,
        maxOutputMessages: this.#options.maxOutputMessages,
        logCap: this.#options.logLimit,
      },
      onExit: (c, event) => this.#onExit(c, event),
    });
    this.#workersStarted++;
    this.#children.push(child);
    this.#slotsOf.set(child, new Set());
    this.#lastUsedChild.set(child, ++this.#tick);
    return child;
  }

  #onExit(child: WorkerChild, event: WorkerExitEvent): void {
    for (const slot of [...(this.#slotsOf.get(child) ?? [])]) this.#dispose(slot);
    this.#forget(child);
    this.#notify();
    try {
      this.#options.onWorkerExit(event);
    } catch {
      // An observer's failure is not the pool's.
    }
  }

  /** Stops counting a worker (it exited, or is closing with nothing in it). */
  #forget(child: WorkerChild): void {
    const i = this.#children.indexOf(child);
    if (i !== -1) this.#children.splice(i, 1);
    this.#slotsOf.delete(child);
    this.#lastUsedChild.delete(child);
  }

  #dispose(slot: Slot): void {
    if (slot.dead) return;
    slot.dead = true;
    const i = slot.version.slots.indexOf(slot);
    if (i !== -1) slot.version.slots.splice(i, 1);
    const slots = this.#slotsOf.get(slot.child);
    if (slots !== undefined) {
      slots.delete(slot);
      if (slot.sent) slot.child.dispose(slot.id);
    }
  }

  #reservedBy(child: WorkerChild): number {
    let mb = this.#options.workerOverheadMb;
    for (const s of this.#slotsOf.get(child) ?? []) mb += s.version.spec.memoryMb;
    return mb;
  }

  #reserved(): number {
    let mb = 0;
    for (const c of this.#children) mb += this.#reservedBy(c);
    return mb;
  }

  #wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }

  #notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

/** Whether `p` settled within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
