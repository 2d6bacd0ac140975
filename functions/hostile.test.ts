import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createFunctionRuntime } from "./index.js";
import type { FnMessage, FnOutcome, FunctionSpec, IsolateAbandonedEvent } from "./index.js";

// Each test runs a hostile function, then checks that the same runtime still serves a normal one.
const abandoned: IsolateAbandonedEvent[] = [];
const runtime = createFunctionRuntime({ poolSize: 1, maxOutputBytes: 64 * 1024, onIsolateAbandoned: (e) => abandoned.push(e) });
afterAll(() => runtime.close());

let version = 0;
beforeEach(() => {
  version++;
});

function spec(source: string, limits: Partial<FunctionSpec> = {}): FunctionSpec {
  return { name: "hostile", version, source, timeoutMs: 250, memoryMb: 16, ...limits };
}
const context = { station: "s", inputs: {}, function: { name: "hostile", version: 0 } };
const msg = (payload: unknown = { n: 1 }): FnMessage => ({ payload, headers: { h: "1" } });

async function run(source: string, messages: FnMessage[] = [msg()], limits: Partial<FunctionSpec> = {}): Promise<FnOutcome[]> {
  return runtime.runBatch(spec(source, limits), context, messages);
}

async function expectHealthy(): Promise<void> {
  const normal: FunctionSpec = {
    name: "normal",
    version: 1,
    source: "export default (m) => ({ payload: { ...m.payload, ok: [1, 2].map((x) => x * 2) }, headers: m.headers })",
    timeoutMs: 1000,
    memoryMb: 32,
  };
  expect(await runtime.runBatch(normal, context, [msg({ a: 1 })])).toEqual([
    { ok: true, messages: [{ payload: { a: 1, ok: [2, 4] }, headers: { h: "1" } }] },
  ]);
  // The same hostile function name and version slot works again with a harmless message too.
  expect(await run("export default (m) => m")).toEqual([{ ok: true, messages: [msg()] }]);
}

describe("hostile functions", () => {
  it("a fan-out over the per-message limit fails that message alone, inside the sandbox", async () => {
    const out = await run(`export default (m) => (m.payload.n === 1 ? Array.from({ length: 5000 }, () => ({ payload: "x" })) : m)`, [
      msg({ n: 1 }),
      msg({ n: 2 }),
    ]);
    expect(out[0]).toMatchObject({
      ok: false,
      kind: "bad-output",
      message: expect.stringMatching(/holds 5000 messages; .* at most 1000/),
    });
    expect(out[1]).toEqual({ ok: true, messages: [msg({ n: 2 })] });
    await expectHealthy();
  });

  it("infinite loop: times out, neighbours in the batch still succeed", async () => {
    const out = await run("export default (m) => { if (m.payload.loop) for (;;) {} return m; }", [
      msg({ n: 1 }),
      msg({ loop: true }),
      msg({ n: 3 }),
    ]);
    expect(out[0]).toEqual({ ok: true, messages: [msg({ n: 1 })] });
    expect(out[1]).toMatchObject({ ok: false, kind: "timeout", message: expect.stringContaining("250 ms") });
    expect(out[2]).toEqual({ ok: true, messages: [msg({ n: 3 })] });
    await expectHealthy();
  });

  it("infinite loop inside a promise chain: times out", async () => {
    const started = Date.now();
    const out = await run("export default (m) => Promise.resolve().then(() => { for (;;) {} })");
    expect(out).toEqual([{ ok: false, kind: "timeout", message: expect.stringContaining("time limit") }]);
    expect(Date.now() - started).toBeLessThan(5000);
    await expectHealthy();
  });

  it("infinite async loop awaiting forever-resolved promises: times out", async () => {
    const out = await run("export default async (m) => { for (;;) { await null; } }");
    expect(out[0]).toMatchObject({ ok: false, kind: "timeout" });
    await expectHealthy();
  });

  it("a promise that never settles: timeout", async () => {
    const out = await run("export default (m) => new Promise(() => {})", [msg(), msg()]);
    expect(out).toEqual([
      { ok: false, kind: "timeout", message: "the promise returned by the function never settled" },
      { ok: false, kind: "timeout", message: "the promise returned by the function never settled" },
    ]);
    await expectHealthy();
  });

  it("memory bomb: memory, isolate replaced", async () => {
    const out = await run("export default (m) => { const a = []; for (;;) a.push(new Array(100000).fill(m)); }", [msg()], {
      timeoutMs: 5000,
    });
    expect(out).toEqual([{ ok: false, kind: "memory", message: expect.stringContaining("16 MB") }]);
    await expectHealthy();
  });

  it("memory bomb inside a promise chain: memory", async () => {
    const out = await run(
      "export default async (m) => { await null; const keep = []; for (let i = 0; ; i++) keep.push({ i, s: 'v' + i }); }",
      [msg()],
      {
        timeoutMs: 5000,
      },
    );
    expect(out[0]).toMatchObject({ ok: false, kind: "memory" });
    await expectHealthy();
  });

  // These hit V8's fatal out-of-memory path (a hash table that cannot grow) rather than the soft
  // limit; without isolated-vm's onCatastrophicError they would abort the whole process.
  it.each([
    ["a growing Map", "const map = new Map(); for (let i = 0; ; i++) map.set(i, { i });"],
    ["a growing Set of strings", "const s = new Set(); for (let i = 0; ; i++) s.add('v' + i);"],
    ["an object with ever more keys", "const o = {}; for (let i = 0; ; i++) o['k' + i] = i;"],
  ])("catastrophic memory bomb (%s): memory, isolate abandoned, process alive", async (_, body) => {
    const before = abandoned.length;
    const out = await run(`export default (m) => { ${body} }`, [msg(), msg({ fine: true })], { timeoutMs: 5000 });
    expect(out[0]).toMatchObject({ ok: false, kind: "memory" });
    expect(out[1]).toMatchObject({ ok: false, kind: "memory" });
    expect(abandoned.length).toBeGreaterThan(before);
    expect(abandoned.at(-1)).toMatchObject({ function: "hostile", version });
    await expectHealthy();
  });

  it.each([
    [
      "constructor.constructor",
      "return { payload: (function(){}).constructor.constructor('return [typeof process, typeof require, typeof globalThis.process]')() }",
    ],
    [
      "this.constructor.constructor",
      "return { payload: (function(){ return Object.getPrototypeOf(this === undefined ? {} : this).constructor.constructor('return [typeof process, typeof require, typeof module]')(); })() }",
    ],
    [
      "Function('return this')()",
      "const g = Function('return this')(); return { payload: [typeof g.process, typeof g.require, typeof g.Buffer] }",
    ],
    [
      "message.constructor.constructor",
      "return { payload: m.constructor.constructor('return [typeof process, typeof require, typeof setTimeout]')() }",
    ],
    ["eval", "const g = (0, eval)('this'); return { payload: [typeof g.process, typeof g.require, typeof g.fetch] }"],
  ])("escape attempt via %s sees only the sandbox global", async (_, body) => {
    const out = await run(`export default (m) => { ${body}; }`);
    expect(out).toEqual([{ ok: true, messages: [{ payload: ["undefined", "undefined", "undefined"], headers: {} }] }]);
    await expectHealthy();
  });

  it("the sandbox global has no host facilities", async () => {
    const names = [
      "process",
      "require",
      "module",
      "Buffer",
      "setTimeout",
      "setInterval",
      "setImmediate",
      "queueMicrotask",
      "fetch",
      "WebAssembly",
      "SharedArrayBuffer",
      "Atomics",
      "XMLHttpRequest",
      "FinalizationRegistry",
    ];
    const out = await run(
      `export default () => ({ payload: ${JSON.stringify(names)}.filter((n) => typeof globalThis[n] !== "undefined") })`,
    );
    expect(out).toEqual([{ ok: true, messages: [{ payload: [], headers: {} }] }]);
    await expectHealthy();
  });

  it("dynamic import is refused", async () => {
    const out = await run("export default async () => { await import('node:fs'); return null; }");
    expect(out[0]).toMatchObject({ ok: false, kind: "threw" });
    await expectHealthy();
  });

  it("prototype tampering fails and does not leak into the next call", async () => {
    const tamper = `export default (m) => {
      const results = [];
      const attempts = [
        () => { Array.prototype.map = () => "pwned"; },
        () => { Object.prototype.polluted = 1; },
        () => { JSON.stringify = () => "pwned"; },
        () => { Object.defineProperty(Object.prototype, "payload", { get() { return "pwned"; } }); },
        () => { globalThis.Array = function () {}; },
        () => { Object.setPrototypeOf(Array.prototype, null); },
        () => { String.prototype.toUpperCase = () => "pwned"; },
        () => { delete Array.prototype.map; },
        () => { Error.prepareStackTrace = () => "pwned"; },
      ];
      for (const attempt of attempts) { try { attempt(); results.push("allowed"); } catch { results.push("refused"); } }
      return { payload: results };
    }`;
    const first = await run(tamper);
    expect(first[0]?.ok && first[0].messages[0]?.payload).toEqual(Array(9).fill("refused"));
    // A second call (same isolate: poolSize 1) sees pristine intrinsics.
    const check = `export default (m) => ({ payload: [[1, 2].map((x) => x + 1), ({}).polluted === undefined, JSON.stringify({ a: 1 }), "a".toUpperCase(), typeof Array.prototype.map] })`;
    const second = await runtime.runBatch(spec(check, { version: version + 1000 }), context, [msg()]);
    expect(second).toEqual([{ ok: true, messages: [{ payload: [[2, 3], true, '{"a":1}', "A", "function"], headers: {} }] }]);
    await expectHealthy();
  });

  it("tampering attempts in one call do not affect later calls of the same isolate", async () => {
    const source = `export default (m) => {
      if (m.payload.tamper) { try { Array.prototype.push = () => 0; } catch {} try { Object.prototype.x = 1; } catch {} return null; }
      const a = []; a.push(1);
      return { payload: { pushed: a.length, x: ({}).x === undefined } };
    }`;
    await run(source, [msg({ tamper: true })]);
    const out = await run(source, [msg({})]);
    expect(out).toEqual([{ ok: true, messages: [{ payload: { pushed: 1, x: true }, headers: {} }] }]);
  });

  it("ordinary code that assigns overridden properties still works (override mistake tamed)", async () => {
    const source = `class MyError extends Error { constructor(msg) { super(msg); this.name = "MyError"; } }
      export default (m) => {
        const o = {}; o.toString = () => "custom"; o.constructor = "c"; o.valueOf = () => 1;
        const e = new MyError("x");
        function Legacy() {} Legacy.prototype = Object.create(Object.prototype); Legacy.prototype.constructor = Legacy;
        return { payload: [String(o), e.name, new Legacy().constructor === Legacy, Error.prototype.name] };
      }`;
    expect(await run(source)).toEqual([{ ok: true, messages: [{ payload: ["custom", "MyError", true, "Error"], headers: {} }] }]);
  });

  it("huge output: bad-output", async () => {
    const out = await run("export default (m) => ({ payload: 'x'.repeat(200 * 1024) })", [msg(), msg()]);
    expect(out).toEqual([
      { ok: false, kind: "bad-output", message: expect.stringContaining("larger than 65536 bytes") },
      { ok: false, kind: "bad-output", message: expect.stringContaining("larger than 65536 bytes") },
    ]);
    await expectHealthy();
  });

  it.each([
    ["cyclic object", "const o = { a: 1 }; o.self = o; return { payload: o }", "payload.self is cyclic"],
    ["cyclic array", "const a = [1]; a.push(a); return { payload: { a } }", "payload.a[1] is cyclic"],
    ["function", "return { payload: { f: () => 1 } }", "payload.f is a function"],
    ["symbol", "return { payload: { s: Symbol('x') } }", "payload.s is a symbol"],
    ["BigInt", "return { payload: { n: 10n } }", "payload.n is a BigInt"],
    ["Date", "return { payload: { d: new Date() } }", "payload.d is a Date instance"],
    ["Map", "return { payload: new Map() }", "payload is a Map instance"],
    ["NaN", "return { payload: [NaN] }", "payload[0] is NaN"],
    ["class instance", "class Foo { constructor() { this.a = 1; } } return { payload: new Foo() }", "payload is a Foo instance"],
    ["Float64Array", "return { payload: new Float64Array(2) }", "only Uint8Array"],
    ["Proxy throwing on read", "return { payload: new Proxy({}, { ownKeys() { throw new Error('trap'); } }) }", "trap"],
    ["too deep", "let o = {}; for (let i = 0; i < 200; i++) o = { o }; return { payload: o }", "nested more than 100 levels"],
    ["a string", "return 'hello'", "must be a message object"],
    ["a number in an array", "return [m, 42]", "returned [1] must be a message object"],
    ["undefined payload", "return { headers: {} }", "payload is undefined"],
    ["non-string header", "return { payload: 1, headers: { n: 1 } }", "headers.n is a number"],
    ["null header", "return { payload: 1, headers: { n: null } }", "headers.n is null"],
    ["array headers", "return { payload: 1, headers: ['a'] }", "headers must be an object"],
    ["getter that throws", "return { get payload() { throw new Error('nope'); } }", "nope"],
  ])("non-serializable output (%s): bad-output", async (_, body, expected) => {
    const out = await run(`export default (m) => { ${body}; }`);
    expect(out[0]).toMatchObject({ ok: false });
    if (!out[0]?.ok) {
      expect(out[0]?.message).toContain(expected);
      if (!["Proxy throwing on read"].includes(_)) expect(out[0]?.kind).toBe("bad-output");
    }
    await expectHealthy();
  });

  it.each([
    ["a string", "throw 'boom'", "threw a string: boom"],
    ["a number", "throw 42", "threw a number: 42"],
    ["undefined", "throw undefined", "threw undefined"],
    ["null", "throw null", "threw null"],
    ["an object", "throw { code: 7 }", 'threw a non-Error value: {"code":7}'],
    ["a symbol", "throw Symbol('s')", "threw a symbol: s"],
    ["an Error", "throw new RangeError('bad range')", "RangeError: bad range (line 1, column"],
    [
      "an Error with a hostile getter",
      "const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw 1; } }); throw e",
      "could not be described",
    ],
    ["a rejected promise", "return Promise.reject('async boom')", "threw a string: async boom"],
    ["a stack overflow", "const f = () => f(); f()", "RangeError: Maximum call stack size exceeded"],
  ])("throwing %s: threw with a sensible message", async (_, body, expected) => {
    const out = await run(`export default (m) => { ${body}; }`);
    expect(out[0]).toMatchObject({ ok: false, kind: "threw" });
    expect(!out[0]?.ok && out[0]?.message).toContain(expected);
    await expectHealthy();
  });

  it("console flooding is capped per call and lines are truncated", async () => {
    const rt = createFunctionRuntime({ logLimit: 5 });
    try {
      await rt.runBatch(
        {
          ...spec("export default (m) => { for (let i = 0; i < 10000; i++) console.log('line', i, 'x'.repeat(5000)); return m; }"),
          name: "noisy",
        },
        context,
        [msg()],
      );
      // Console lines come back with the batch's outcomes.
      const logs = rt.logs("noisy");
      expect(logs.length).toBe(5);
      expect(logs.at(-1)?.message).toContain("dropped");
      expect(logs[0]?.message.length).toBeLessThanOrEqual(2049);
    } finally {
      await rt.close();
    }
  });
});
