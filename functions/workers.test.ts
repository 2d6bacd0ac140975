import { afterEach, describe, expect, it, vi } from "vitest";
import { createFunctionRuntime } from "./index.js";
import type {
  FnMessage,
  FnOutcome,
  FunctionRuntime,
  FunctionRuntimeOptions,
  FunctionSpec,
  QuarantineEntry,
  WorkerExitEvent,
} from "./index.js";

// Real worker processes throughout: nothing here is mocked.
let runtime: FunctionRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

function start(options: FunctionRuntimeOptions = {}): FunctionRuntime {
  runtime = createFunctionRuntime(options);
  return runtime;
}

function spec(name: string, source: string, extra: Partial<FunctionSpec> = {}): FunctionSpec {
  return { name, version: 1, source, timeoutMs: 1000, memoryMb: 32, ...extra };
}
const context = { station: "s", inputs: {}, function: { name: "x", version: 0 } };
const msg = (payload: unknown): FnMessage => ({ payload, headers: {} });
const identity = spec("identity", "export default (m) => m");
const loop = (name: string, extra: Partial<FunctionSpec> = {}): FunctionSpec =>
  spec(name, "export default (m) => { for (;;) {} }", { timeoutMs: 60_000, ...extra });

async function expectHealthy(rt: FunctionRuntime): Promise<void> {
  expect(await rt.runBatch(identity, context, [msg({ fine: true })])).toEqual([{ ok: true, messages: [msg({ fine: true })] }]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("worker processes", () => {
  it("a growing Map exhausting V8's heap fails only its batch (memory), the worker is replaced, the caller's memory stays flat", async () => {
    const abandoned: string[] = [];
    const exits: WorkerExitEvent[] = [];
    const rt = start({
      maxWorkers: 1,
      quarantineAfter: 0,
      onIsolateAbandoned: (e) => abandoned.push(e.message),
      onWorkerExit: (e) => exits.push(e),
    });
    const bomb = spec("bomb", "export default (m) => { const map = new Map(); for (let i = 0; ; i++) map.set(i, { i }); }", {
      memoryMb: 16,
      timeoutMs: 20_000,
    });
    // Another function's batch, busy on the same worker while the bomb goes off.
    const busy = spec("busy", "export default (m) => { const end = Date.now() + 300; while (Date.now() < end) {} return m; }");
    await expectHealthy(rt);
    const before = process.memoryUsage();
    const pids = new Set<number>();
    for (let round = 0; round < 5; round++) {
      pids.add(rt.poolStats().workers[0]?.pid ?? -1);
      const [out, other] = await Promise.all([rt.runBatch(bomb, context, [msg(1), msg(2)]), rt.runBatch(busy, context, [msg(round)])]);
      expect(out).toEqual([
        { ok: false, kind: "memory", message: expect.stringContaining("16 MB") as string },
        { ok: false, kind: "memory", message: expect.stringContaining("16 MB") as string },
      ]);
      expect(other).toEqual([{ ok: true, messages: [msg(round)] }]);
      await expectHealthy(rt);
    }
    expect(abandoned).toHaveLength(5);
    await vi.waitFor(() => expect(exits.filter((e) => e.reason === "recycled")).toHaveLength(5));
    pids.add(rt.poolStats().workers[0]?.pid ?? -1);
    expect(pids.size).toBe(6);
    const after = process.memoryUsage();
    const mb = (n: number): number => n / 1024 / 1024;
    expect(mb(after.rss - before.rss)).toBeLessThan(50);
    expect(mb(after.heapUsed - before.heapUsed)).toBeLessThan(50);
  });

  it("a worker killed with SIGKILL mid-batch fails that batch as crashed; the next batch runs on a new worker", async () => {
    const exits: WorkerExitEvent[] = [];
    const rt = start({ quarantineAfter: 0, onWorkerExit: (e) => exits.push(e) });
    const running = rt.runBatch(loop("stuck"), context, [msg(1), msg(2)]);
    await vi.waitFor(() => expect(rt.poolStats().workers[0]?.inFlight).toBe(1));
    const pid = rt.poolStats().workers[0]?.pid as number;
    process.kill(pid, "SIGKILL");
    const crashed = { ok: false, kind: "crashed", message: "the function's worker process exited (signal SIGKILL)" };
    expect(await running).toEqual([crashed, crashed]);
    expect(exits).toEqual([expect.objectContaining({ pid, reason: "crashed", signal: "SIGKILL", inFlight: 1 })]);
    await expectHealthy(rt);
    expect(rt.poolStats().workers.map((w) => w.pid)).not.toContain(pid);
  });

  it("workers leave their ending to the runtime: SIGINT and SIGTERM (a terminal's Ctrl-C) do not cut a batch", async () => {
    const rt = start({ maxWorkers: 1 });
    const slowish = spec("slowish", "export default (m) => { const end = Date.now() + 300; while (Date.now() < end) {} return m; }");
    await expectHealthy(rt);
    const pid = rt.poolStats().workers[0]?.pid as number;
    const running = rt.runBatch(slowish, context, [msg(1)]);
    await vi.waitFor(() => expect(rt.poolStats().workers[0]?.inFlight).toBe(1));
    process.kill(pid, "SIGINT");
    process.kill(pid, "SIGTERM");
    expect(await running).toEqual([{ ok: true, messages: [msg(1)] }]);
    expect(rt.poolStats().workers[0]?.pid).toBe(pid);
    await rt.close();
    expect(alive(pid)).toBe(false);
  });

  it("a slow function does not hold up another function's batch (same worker or not)", async () => {
    for (const maxWorkers of [1, 4]) {
      const rt = start({ maxWorkers, batchTimeoutMs: 60_000, drainTimeoutMs: 100 });
      let slowSettled = false;
      const slow = rt.runBatch(loop("slow"), context, [msg(1)]).finally(() => {
        slowSettled = true;
      });
      await vi.waitFor(() => expect(rt.poolStats().workers.some((w) => w.inFlight === 1)).toBe(true));
      await expectHealthy(rt);
      expect(slowSettled).toBe(false);
      expect(rt.poolStats().workers).toHaveLength(maxWorkers === 1 ? 1 : 2);
      await rt.close();
      await expect(slow).rejects.toMatchObject({ code: "FUNCTION_FAILED" });
    }
  });

  it("bounds a whole batch: messages that each run just under their limit stop at the batch budget", async () => {
    const rt = start({ batchTimeoutMs: 600, quarantineAfter: 0 });
    const crawl = spec("crawl", "export default (m) => { const end = Date.now() + 40; while (Date.now() < end) {} return m; }", {
      timeoutMs: 150,
    });
    const out = await rt.runBatch(
      crawl,
      context,
      Array.from({ length: 50 }, (_, i) => msg(i)),
    );
    const done = out.filter((o) => o.ok);
    const failed = out.filter((o): o is Extract<FnOutcome, { ok: false }> => !o.ok);
    expect(done.length).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((f) => f.kind))).toEqual(new Set(["timeout"]));
    expect(failed.at(-1)?.message).toBe("the batch ran out of its 600 ms time budget before this message was done");
    // The ones that ran are the first ones, in order.
    expect(out.slice(0, done.length).every((o) => o.ok)).toBe(true);
  });

  it("close() returns even when a worker is stopped (SIGSTOP) and never answers", async () => {
    const rt = start({ drainTimeoutMs: 200 });
    await expectHealthy(rt);
    const pid = rt.poolStats().workers[0]?.pid as number;
    process.kill(pid, "SIGSTOP");
    const running = rt.runBatch(identity, context, [msg(1)]);
    await rt.close();
    await expect(running).rejects.toMatchObject({ code: "FUNCTION_FAILED" });
    expect(alive(pid)).toBe(false);
    await rt.close();
  });

  it("a worker that stops answering is killed once the batch's budget is over; the batch fails as timeout", async () => {
    const exits: WorkerExitEvent[] = [];
    const rt = start({ batchTimeoutMs: 100, quarantineAfter: 0, onWorkerExit: (e) => exits.push(e) });
    await expectHealthy(rt);
    const pid = rt.poolStats().workers[0]?.pid as number;
    process.kill(pid, "SIGSTOP");
    expect(await rt.runBatch(identity, context, [msg(1)])).toEqual([
      { ok: false, kind: "timeout", message: "the worker did not answer within the batch's time budget and was stopped" },
    ]);
    expect(exits).toEqual([expect.objectContaining({ pid, reason: "hung" })]);
    await expectHealthy(rt);
  }, 30_000);
});

describe("memory budget", () => {
  const counter = (name: string, memoryMb = 32): FunctionSpec =>
    spec(name, "let n = 0; export default () => ({ payload: ++n })", { memoryMb });
  const count = async (rt: FunctionRuntime, f: FunctionSpec): Promise<unknown> => {
    const [o] = await rt.runBatch(f, context, [msg(0)]);
    return o?.ok ? o.messages[0]?.payload : o;
  };

  it("evicts the least recently used idle isolate when a new one does not fit", async () => {
    const rt = start({ maxWorkers: 1, poolSize: 1, workerOverheadMb: 64, memoryBudgetMb: 128 });
    const [a, b, c] = [counter("a"), counter("b"), counter("c")];
    expect(await count(rt, a)).toBe(1);
    expect(await count(rt, b)).toBe(1);
    expect(await count(rt, a)).toBe(2);
    expect(rt.poolStats()).toMatchObject({ reservedMb: 128, budgetMb: 128, isolates: 2 });
    // c needs room: b was used least recently, so b goes.
    expect(await count(rt, c)).toBe(1);
    expect(await count(rt, a)).toBe(3);
    expect(await count(rt, b)).toBe(1);
    expect(rt.poolStats()).toMatchObject({ reservedMb: 128, isolates: 2, workersStarted: 1 });
  });

  it("fails a function that can never fit as capacity, at once", async () => {
    const rt = start({ workerOverheadMb: 64, memoryBudgetMb: 128 });
    expect(await count(rt, counter("big", 100))).toEqual({
      ok: false,
      kind: "capacity",
      message: "the function needs 100 MB plus 64 MB for a worker, more than the runtime's 128 MB memory budget",
    });
    expect(rt.poolStats().workersStarted).toBe(0);
  });

  it("waits for a busy isolate to be released; fails as capacity when the batch's budget runs out first", async () => {
    const peak = { mb: 0 };
    const rt = start({ maxWorkers: 2, poolSize: 1, workerOverheadMb: 64, memoryBudgetMb: 160, batchTimeoutMs: 300, quarantineAfter: 0 });
    const watch = setInterval(() => (peak.mb = Math.max(peak.mb, rt.poolStats().reservedMb)), 5);
    try {
      // A second worker does not fit beside the first (64 + 32 + 64 + 32 > 160), so the three
      // spinners share one worker and fill the budget: 64 + 3 × 32 = 160.
      const spin = (name: string): FunctionSpec => loop(name, { timeoutMs: 2000 });
      const first = rt.runBatch(spin("spin-a"), context, [msg(1)]);
      const second = rt.runBatch(spin("spin-b"), context, [msg(1)]);
      await vi.waitFor(() => expect(rt.poolStats().busyIsolates).toBe(2));
      const third = rt.runBatch(spin("spin-c"), context, [msg(1)]);
      await vi.waitFor(() => expect(rt.poolStats().busyIsolates).toBe(3));
      // Full: a fourth cannot get in before its 300 ms budget is over.
      expect(await count(rt, counter("late"))).toMatchObject({ ok: false, kind: "capacity" });
      // Once the spinners are stopped (timeout), their isolates are idle and can be evicted.
      expect((await Promise.all([first, second, third])).flat().map((o) => !o.ok && o.kind)).toEqual(["timeout", "timeout", "timeout"]);
      expect(await count(rt, counter("late"))).toBe(1);
    } finally {
      clearInterval(watch);
    }
    expect(peak.mb).toBeLessThanOrEqual(160);
  });
});

describe("quarantine", () => {
  const flaky = spec("flaky", "export default (m) => { if (m.payload === 'loop') for (;;) {} return m; }", { timeoutMs: 50 });

  it("quarantines a version after repeated timeouts, until released; thrown errors do not count; a new version is not quarantined", async () => {
    const quarantined: QuarantineEntry[] = [];
    const released: unknown[] = [];
    let clock = 1_000_000;
    const rt = start({
      quarantineAfter: 2,
      quarantineWindowMs: 60_000,
      now: () => clock,
      onQuarantine: (e) => quarantined.push(e),
      onRelease: (e) => released.push(e),
    });
    const thrower = spec("thrower", "export default () => { throw new Error('no'); }");
    for (let i = 0; i < 3; i++) expect((await rt.runBatch(thrower, context, [msg(i)]))[0]).toMatchObject({ kind: "threw" });

    expect((await rt.runBatch(flaky, context, [msg("loop"), msg(1)])).map((o) => o.ok)).toEqual([false, true]);
    expect(rt.quarantined()).toEqual([]);
    clock += 1000;
    await rt.runBatch(flaky, context, [msg("loop")]);
    const entry = {
      function: "flaky",
      version: 1,
      reason: "timeout",
      message: "the function ran longer than its 50 ms time limit",
      failures: 2,
      since: clock,
    };
    expect(rt.quarantined()).toEqual([entry]);
    expect(quarantined).toEqual([entry]);

    expect(rt.poolStats().isolates).toBe(1); // thrower's; flaky's went with the quarantine
    const calls = rt.poolStats().sandboxCalls;
    const held = await rt.runBatch(flaky, context, [msg(1), msg(2)]);
    expect(held).toEqual([
      { ok: false, kind: "quarantined", message: expect.stringContaining("function flaky@1 is quarantined since") as string },
      { ok: false, kind: "quarantined", message: expect.stringContaining("timeout: the function ran longer") as string },
    ]);
    expect(rt.poolStats().sandboxCalls).toBe(calls);
    expect(await rt.runBatch({ ...flaky, version: 2 }, context, [msg(1)])).toEqual([{ ok: true, messages: [msg(1)] }]);

    expect(rt.release("flaky", 3)).toEqual([]);
    expect(rt.release("flaky", 1)).toEqual([entry]);
    expect(released).toEqual([{ ...entry, by: "operator", released: clock }]);
    expect(rt.quarantined()).toEqual([]);
    expect(await rt.runBatch(flaky, context, [msg(1)])).toEqual([{ ok: true, messages: [msg(1)] }]);
  });

  it("counts failures within the window only", async () => {
    let clock = 0;
    const rt = start({ quarantineAfter: 2, quarantineWindowMs: 10_000, now: () => clock });
    await rt.runBatch(flaky, context, [msg("loop")]);
    clock += 10_001;
    await rt.runBatch(flaky, context, [msg("loop")]);
    expect(rt.quarantined()).toEqual([]);
    clock += 1;
    await rt.runBatch(flaky, context, [msg("loop")]);
    expect(rt.quarantined()).toMatchObject([{ function: "flaky", failures: 2 }]);
  });

  it("quarantines on crashes too; deleting the function (evict without a version) lifts it", async () => {
    const released: { by: string }[] = [];
    const rt = start({ quarantineAfter: 1, onRelease: (e) => released.push(e) });
    const running = rt.runBatch(loop("doomed"), context, [msg(1)]);
    await vi.waitFor(() => expect(rt.poolStats().workers[0]?.inFlight).toBe(1));
    process.kill(rt.poolStats().workers[0]?.pid as number, "SIGKILL");
    expect((await running)[0]).toMatchObject({ kind: "crashed" });
    expect(rt.quarantined()).toMatchObject([{ function: "doomed", reason: "crashed", failures: 1 }]);
    rt.evict("doomed");
    expect(rt.quarantined()).toEqual([]);
    expect(released).toMatchObject([{ function: "doomed", by: "deleted" }]);
  });
});
