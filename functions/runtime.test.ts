import { afterEach, describe, expect, it, vi } from "vitest";
import { createFunctionRuntime, FunctionError, isFunctionError } from "./index.js";
import type { FnMessage, FunctionRuntime, FunctionSpec } from "./index.js";

let runtime: FunctionRuntime;
afterEach(async () => {
  await runtime.close();
});

/** Sandbox calls and isolates created so far (the workers report them with each batch). */
const calls = (): number => runtime.poolStats().sandboxCalls;
const created = (): number => runtime.poolStats().isolatesCreated;

function spec(source: string, extra: Partial<FunctionSpec> = {}): FunctionSpec {
  return { name: "fn", version: 1, source, timeoutMs: 1000, memoryMb: 32, ...extra };
}
const context = { station: "orders", inputs: { a: "1" }, function: { name: "fn", version: 1 } };
const msg = (payload: unknown, headers: Record<string, string> = {}): FnMessage => ({ payload, headers });

describe("runBatch", () => {
  it("passes message and context in, and returns one outcome per message in order", async () => {
    runtime = createFunctionRuntime();
    const source =
      "export default (m, c) => ({ payload: { got: m.payload, station: c.station, inputs: c.inputs, fn: c.function }, headers: { ...m.headers, seen: 'yes' } })";
    const out = await runtime.runBatch(spec(source, { version: 3 }), context, [msg(1, { h: "x" }), msg("two")]);
    expect(out).toEqual([
      {
        ok: true,
        messages: [
          { payload: { got: 1, station: "orders", inputs: { a: "1" }, fn: { name: "fn", version: 3 } }, headers: { h: "x", seen: "yes" } },
        ],
      },
      {
        ok: true,
        messages: [
          { payload: { got: "two", station: "orders", inputs: { a: "1" }, fn: { name: "fn", version: 3 } }, headers: { seen: "yes" } },
        ],
      },
    ]);
  });

  it("runs the whole batch in one call into the sandbox", async () => {
    runtime = createFunctionRuntime();
    const out = await runtime.runBatch(
      spec("export default (m) => m"),
      context,
      Array.from({ length: 500 }, (_, i) => msg({ i })),
    );
    expect(out).toHaveLength(500);
    expect(calls()).toBe(1);
  });

  it("splits batches larger than maxBatch", async () => {
    runtime = createFunctionRuntime({ maxBatch: 10 });
    const out = await runtime.runBatch(
      spec("export default (m) => m"),
      context,
      Array.from({ length: 25 }, (_, i) => msg(i)),
    );
    expect(out.map((o) => o.ok && o.messages[0]?.payload)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(calls()).toBe(3);
  });

  it("supports drop (null/undefined), fan-out (arrays, with nulls skipped) and async functions", async () => {
    runtime = createFunctionRuntime();
    const source = `export default async (m) => {
      await null;
      if (m.payload === "drop") return null;
      if (m.payload === "undef") return undefined;
      if (m.payload === "fan") return [{ payload: 1 }, null, { payload: 2, headers: { k: "v" } }];
      return m;
    }`;
    const out = await runtime.runBatch(spec(source), context, [msg("drop"), msg("undef"), msg("fan"), msg("keep")]);
    expect(out).toEqual([
      { ok: true, messages: [] },
      { ok: true, messages: [] },
      {
        ok: true,
        messages: [
          { payload: 1, headers: {} },
          { payload: 2, headers: { k: "v" } },
        ],
      },
      { ok: true, messages: [msg("keep")] },
    ]);
  });

  it("mixes sync and async results in one batch", async () => {
    runtime = createFunctionRuntime();
    const source = "export default (m) => m.payload % 2 ? Promise.resolve({ payload: m.payload * 10 }) : m";
    const out = await runtime.runBatch(spec(source), context, [msg(1), msg(2), msg(3)]);
    expect(out.map((o) => o.ok && o.messages[0]?.payload)).toEqual([10, 2, 30]);
  });

  it("keeps Uint8Array and string payloads, and never exposes a Buffer's backing memory", async () => {
    runtime = createFunctionRuntime();
    const pool = Buffer.from("0123456789secret-from-another-message");
    const view = pool.subarray(0, 4);
    const source =
      "export default (m) => ({ payload: m.payload instanceof Uint8Array ? [m.payload.length, m.payload.buffer.byteLength, m.payload] : m.payload })";
    const out = await runtime.runBatch(spec(source), context, [msg(view), msg("text"), msg({ nested: { bytes: view } })]);
    const first = out[0]?.ok ? (out[0].messages[0]?.payload as unknown[]) : [];
    expect(first[0]).toBe(4);
    expect(first[1]).toBe(4);
    expect(first[2]).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(first[2] as Uint8Array).toString()).toBe("0123");
    expect(out[1]).toEqual({ ok: true, messages: [msg("text")] });
    const third = out[2]?.ok ? (out[2].messages[0]?.payload as { nested: { bytes: Uint8Array } }) : undefined;
    expect(third?.nested.bytes).toBeInstanceOf(Uint8Array);
    expect(third?.nested.bytes.buffer.byteLength).toBe(4);
  });

  it("returns own __proto__ keys as data, without touching prototypes", async () => {
    runtime = createFunctionRuntime();
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as unknown;
    const out = await runtime.runBatch(spec("export default (m) => m"), context, [msg(payload)]);
    const back = out[0]?.ok ? (out[0].messages[0]?.payload as Record<string, unknown>) : {};
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("one message throwing fails only that message (no retry needed)", async () => {
    runtime = createFunctionRuntime();
    const out = await runtime.runBatch(
      spec("export default (m) => { if (m.payload === 2) throw new TypeError('bad 2'); return m; }"),
      context,
      [msg(1), msg(2), msg(3)],
    );
    expect(out[0]?.ok).toBe(true);
    expect(out[1]).toEqual({ ok: false, kind: "threw", message: "TypeError: bad 2 (line 1, column 52)" });
    expect(out[2]?.ok).toBe(true);
    expect(calls()).toBe(1);
  });

  it("a message that times out the batch is retried alone; its neighbours succeed", async () => {
    runtime = createFunctionRuntime({ poolSize: 1 });
    const source = "export default (m) => { if (m.payload === 'loop') for (;;) {} return m; }";
    const out = await runtime.runBatch(spec(source, { timeoutMs: 100 }), context, [msg(1), msg("loop"), msg(3)]);
    expect(out.map((o) => (o.ok ? "ok" : o.kind))).toEqual(["ok", "timeout", "ok"]);
    expect(runtime.stats("fn")).toEqual({ calls: 3, errors: 1, lastError: "timeout: the function ran longer than its 100 ms time limit" });
  });

  it("module state may persist between calls of one isolate, the context is frozen", async () => {
    runtime = createFunctionRuntime({ poolSize: 1 });
    const source =
      "let n = 0; export default (m, c) => { let frozen = false; try { c.inputs.x = 'y'; } catch { frozen = true; } return { payload: [++n, frozen] }; }";
    await runtime.runBatch(spec(source), context, [msg(0)]);
    const out = await runtime.runBatch(spec(source), context, [msg(0)]);
    expect(out).toEqual([{ ok: true, messages: [{ payload: [2, true], headers: {} }] }]);
  });

  it("a module whose top-level code throws fails every message, without retries", async () => {
    runtime = createFunctionRuntime();
    const out = await runtime.runBatch(spec("throw new Error('init'); export default (m) => m"), context, [msg(1), msg(2)]);
    expect(out).toEqual([
      { ok: false, kind: "threw", message: "the module's top-level code failed: init" },
      { ok: false, kind: "threw", message: "the module's top-level code failed: init" },
    ]);
  });

  it("throws FUNCTION_INVALID for a source that does not compile, and for bad limits", async () => {
    runtime = createFunctionRuntime();
    const err = await runtime.runBatch(spec("export default (m) =>"), context, [msg(1)]).catch((e: unknown) => e);
    expect(isFunctionError(err, "FUNCTION_INVALID")).toBe(true);
    expect((err as FunctionError).details).toMatchObject({ line: 1 });
    await expect(runtime.runBatch(spec("export default (m) => m", { timeoutMs: 0 }), context, [msg(1)])).rejects.toMatchObject({
      code: "FUNCTION_INVALID",
      details: { option: "timeoutMs" },
    });
  });

  it("returns [] for an empty batch", async () => {
    runtime = createFunctionRuntime();
    expect(await runtime.runBatch(spec("export default (m) => m"), context, [])).toEqual([]);
  });

  it("runs concurrent batches on up to poolSize isolates", async () => {
    runtime = createFunctionRuntime({ poolSize: 2 });
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, i) => runtime.runBatch(spec("export default (m) => m"), context, [msg(i)])),
    );
    expect(batches.map((b) => b[0]?.ok && b[0].messages[0]?.payload)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(created()).toBe(2);
    expect(runtime.poolStats()).toMatchObject({ isolates: 2, workersStarted: 1 });
  });
});

describe("payloads", () => {
  const ctx = { station: "raw", inputs: {}, function: { name: "fn", version: 1 } };

  it("message.json() reads a schemaless payload (a string or UTF-8 bytes) as JSON; on JSON payloads it is the payload", async () => {
    runtime = createFunctionRuntime();
    const source = `export default (m) => {
      if (m.payload === "bad") { try { m.json(); } catch (e) { return { payload: e.name }; } }
      const data = m.json();
      return { payload: { ...data, seen: true, same: data === m.payload }, headers: m.headers };
    }`;
    const out = await runtime.runBatch(spec(source), ctx, [
      msg('{"a":1}'),
      msg(new TextEncoder().encode('\ufeff{"b":"ü"}')),
      msg({ c: 3 }),
      { payload: { ignored: true }, headers: {}, json: new TextEncoder().encode('{"d":4}') },
      msg("bad"),
    ]);
    expect(out.map((o) => o.ok && o.messages[0]?.payload)).toEqual([
      { a: 1, seen: true, same: false },
      { b: "ü", seen: true, same: false },
      { c: 3, seen: true, same: true },
      { d: 4, seen: true, same: true },
      "SyntaxError",
    ]);
  });

  it("a JSON payload the function does not touch comes back as the same bytes, decoded only when read", async () => {
    runtime = createFunctionRuntime();
    const text = '{ "spaced" : [1, 2.50] }';
    const json = new TextEncoder().encode(text);
    const out = await runtime.runBatch(spec("export default (m) => { m.headers.x = '1'; return [m, m]; }"), ctx, [
      { payload: undefined, headers: { h: "v" }, json },
    ]);
    const [a, b] = out[0]?.ok ? out[0].messages : [];
    expect(Buffer.from(a?.json ?? []).toString()).toBe(text);
    expect(Buffer.from(b?.json ?? []).toString()).toBe(text);
    expect(a).toEqual({ payload: { spaced: [1, 2.5] }, headers: { h: "v", x: "1" } });
  });

  it("a payload that was read, changed or redefined is serialized again", async () => {
    runtime = createFunctionRuntime();
    const source = `export default (m) => {
      if (m.headers.k === "read") { m.payload.n++; return m; }
      if (m.headers.k === "assign") { m.payload = { replaced: true }; return m; }
      Object.defineProperty(m, "payload", { value: "redefined", enumerable: true });
      return m;
    }`;
    const json = new TextEncoder().encode('{"n":1}');
    const out = await runtime.runBatch(
      spec(source),
      ctx,
      ["read", "assign", "define"].map((k) => ({ payload: undefined, headers: { k }, json })),
    );
    expect(out.map((o) => o.ok && o.messages[0]?.payload)).toEqual([{ n: 2 }, { replaced: true }, "redefined"]);
    expect(out.map((o) => o.ok && o.messages[0]?.json !== undefined)).toEqual([true, true, false]);
  });
});

describe("logs, stats, evict, close", () => {
  it("keeps console lines per function in a bounded ring", async () => {
    let t = 1000;
    runtime = createFunctionRuntime({ logLimit: 3, now: () => t++ });
    const source =
      "export default (m) => { console.log('log', m.payload, { a: 1 }); console.warn('warn'); console.error(new Error('e')); return m; }";
    await runtime.runBatch(spec(source, { name: "noisy", version: 2 }), context, [msg(1)]);
    await runtime.runBatch(spec(source, { name: "noisy", version: 2 }), context, [msg(2)]);
    await vi.waitFor(() => expect(runtime.logs("noisy").at(-1)?.message).toMatch(/^Error: e/));
    const logs = runtime.logs("noisy");
    expect(logs.map((l) => l.level)).toEqual(["log", "warn", "error"]);
    expect(logs[0]?.message).toBe('log 2 {"a":1}');
    expect(logs.every((l) => l.function === "noisy" && l.version === 2 && l.time >= 1000)).toBe(true);
    expect(runtime.logs("other")).toEqual([]);
  });

  it("counts calls and errors per function", async () => {
    runtime = createFunctionRuntime();
    await runtime.runBatch(spec("export default (m) => { if (m.payload) throw 'x'; return m; }"), context, [msg(0), msg(1), msg(0)]);
    expect(runtime.stats("fn")).toEqual({ calls: 3, errors: 1, lastError: "threw: threw a string: x" });
    expect(runtime.stats("nope")).toEqual({ calls: 0, errors: 0 });
  });

  it("evict drops isolates of other versions; a changed source for the same version gets a new isolate", async () => {
    runtime = createFunctionRuntime({ poolSize: 1 });
    const v1 = spec("let n = 0; export default () => ({ payload: ++n })", { version: 1 });
    const v2 = spec("let n = 100; export default () => ({ payload: ++n })", { version: 2 });
    await runtime.runBatch(v1, context, [msg(0)]);
    await runtime.runBatch(v2, context, [msg(0)]);
    runtime.evict("fn", 2);
    expect((await runtime.runBatch(v2, context, [msg(0)]))[0]).toEqual({ ok: true, messages: [{ payload: 102, headers: {} }] });
    expect((await runtime.runBatch(v1, context, [msg(0)]))[0]).toEqual({ ok: true, messages: [{ payload: 1, headers: {} }] });
    expect(created()).toBe(3);
    runtime.evict("fn");
    expect((await runtime.runBatch(v2, context, [msg(0)]))[0]).toEqual({ ok: true, messages: [{ payload: 101, headers: {} }] });
  });

  it("close is idempotent; later calls throw FUNCTION_FAILED", async () => {
    runtime = createFunctionRuntime();
    await runtime.runBatch(spec("export default (m) => m"), context, [msg(1)]);
    await runtime.close();
    await runtime.close();
    await expect(runtime.runBatch(spec("export default (m) => m"), context, [msg(1)])).rejects.toMatchObject({ code: "FUNCTION_FAILED" });
  });

  it("close during a running call ends it with FUNCTION_FAILED once the drain time is over", async () => {
    runtime = createFunctionRuntime({ drainTimeoutMs: 100 });
    const running = runtime.runBatch(spec("export default (m) => { for (;;) {} }", { timeoutMs: 30_000 }), context, [msg(1)]);
    await vi.waitFor(() => expect(runtime.poolStats().workers[0]?.inFlight).toBe(1));
    await runtime.close();
    await expect(running).rejects.toMatchObject({ code: "FUNCTION_FAILED" });
  });

  it("rejects bad runtime options naming the option", () => {
    expect(() => createFunctionRuntime({ poolSize: 0 })).toThrow(/poolSize/);
    runtime = createFunctionRuntime();
  });
});
