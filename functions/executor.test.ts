import { describe, expect, it } from "vitest";
import { executeBatch } from "./executor.js";
import type { SandboxSource } from "./executor.js";
import { ModuleSetupError, packPayloads, Sandbox, unpackOutcomes } from "./sandbox.js";
import type { SandboxOutcome } from "./sandbox.js";
import type { FunctionSpec } from "./types.js";

// The batch rules, run against a real sandbox in this process (the worker does the same).
function source(spec: FunctionSpec): SandboxSource & { created: number; dispose(): void } {
  let sandbox: Sandbox | undefined;
  const s = {
    created: 0,
    async sandbox(setupTimeoutMs: number): Promise<Sandbox> {
      if (sandbox !== undefined && !sandbox.disposed) return sandbox;
      sandbox = await Sandbox.create(spec, { maxOutputBytes: 1 << 20, logCap: 10, setupTimeoutMs });
      s.created++;
      return sandbox;
    },
    dispose(): void {
      sandbox?.dispose();
    },
  };
  return s;
}

async function run(body: string, payloads: string[], limits: { timeoutMs: number; budgetMs?: number; memoryMb?: number }) {
  const spec: FunctionSpec = {
    name: "f",
    version: 1,
    source: `export default (m) => { ${body} }`,
    timeoutMs: limits.timeoutMs,
    memoryMb: limits.memoryMb ?? 32,
  };
  const src = source(spec);
  try {
    const result = await executeBatch(
      src,
      {
        ...packPayloads("S".repeat(payloads.length), payloads),
        headers: JSON.stringify(payloads.map(() => ({}))),
        context: { station: "s", inputs: {}, function: { name: "f", version: 1 } },
      },
      { timeoutMs: limits.timeoutMs, budgetMs: limits.budgetMs ?? 10_000 },
    );
    const outcomes = unpackOutcomes(result.outcomes).map((o: SandboxOutcome) => (o[0] === 1 ? "ok" : String(o[1])));
    return { ...result, outcomes, created: src.created };
  } finally {
    src.dispose();
  }
}

describe("executeBatch", () => {
  it("one call for a batch where nothing runs out", async () => {
    const r = await run("return m;", ["a", "b", "c"], { timeoutMs: 1000 });
    expect(r).toMatchObject({ outcomes: ["ok", "ok", "ok"], calls: 1, created: 1 });
    expect(r.fault).toBeUndefined();
  });

  it("blames only a message that ran out of time on its own; finished neighbours are kept", async () => {
    const r = await run("if (m.payload === 'loop') for (;;) {} return m;", ["a", "loop", "c"], { timeoutMs: 100 });
    // Call 1 stops in "loop" (not first: it goes first next), call 2 stops in "loop" (first: guilty), call 3 runs "c".
    expect(r).toMatchObject({ outcomes: ["ok", "timeout", "ok"], calls: 3, created: 1 });
    expect(r.fault).toEqual({ kind: "timeout", message: "the function ran longer than its 100 ms time limit" });
  });

  it("does not fail messages that each stay within their limit, even when the call runs out", async () => {
    const body = "const end = Date.now() + 80; while (Date.now() < end) {} return m;";
    const r = await run(body, ["a", "b", "c"], { timeoutMs: 200 });
    expect(r.outcomes).toEqual(["ok", "ok", "ok"]);
    expect(r.calls).toBeGreaterThan(1);
    expect(r.fault).toBeUndefined();
  });

  it("a call stopped in promise continuations continues one message per call", async () => {
    const body = "return Promise.resolve().then(() => { if (m.payload === 'loop') for (;;) {} return m; });";
    const r = await run(body, ["a", "loop", "c"], { timeoutMs: 100 });
    expect(r).toMatchObject({ outcomes: ["ok", "timeout", "ok"], calls: 4 });
  });

  it("a promise that never settles fails as timeout in the same call", async () => {
    const r = await run("return m.payload === 'hang' ? new Promise(() => {}) : m;", ["a", "hang"], { timeoutMs: 1000 });
    expect(r).toMatchObject({ outcomes: ["ok", "timeout"], calls: 1 });
    expect(r.fault).toBeUndefined();
  });

  it("a memory breach replaces the isolate and continues one message per call", async () => {
    const body = "if (m.payload === 'big') { const a = []; for (;;) a.push(new Array(100000).fill(1)); } return m;";
    const r = await run(body, ["a", "big", "c"], { timeoutMs: 5000, memoryMb: 16 });
    expect(r).toMatchObject({ outcomes: ["ok", "memory", "ok"], calls: 4, created: 3 });
    expect(r.fault).toMatchObject({ kind: "memory" });
  });

  it("stops at the budget: what is left fails as timeout, naming the budget", async () => {
    const r = await run("for (;;) {}", ["a", "b", "c"], { timeoutMs: 100, budgetMs: 150 });
    expect(r.outcomes).toEqual(["timeout", "timeout", "timeout"]);
    expect(r.calls).toBe(2);
  });

  it("a module that cannot start fails every message with its kind", async () => {
    const spec: FunctionSpec = { name: "f", version: 1, source: "for (;;) {} export default (m) => m", timeoutMs: 50, memoryMb: 32 };
    const failing: SandboxSource = {
      sandbox: async (setupTimeoutMs) => Sandbox.create(spec, { maxOutputBytes: 1024, logCap: 0, setupTimeoutMs }),
    };
    const r = await executeBatch(
      failing,
      { ...packPayloads("SS", ["a", "b"]), headers: "[{},{}]", context: { station: "s", inputs: {}, function: { name: "f", version: 1 } } },
      { timeoutMs: 50, budgetMs: 1000 },
    );
    expect(unpackOutcomes(r.outcomes).map((o) => o[1])).toEqual(["timeout", "timeout"]);
    expect(r.calls).toBe(0);
    await expect(Sandbox.create(spec, { maxOutputBytes: 1024, logCap: 0 })).rejects.toBeInstanceOf(ModuleSetupError);
  });
});
