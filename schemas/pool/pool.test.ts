import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSchemaWorkerPool, loadSchema, prepareSchema, resolveSchemaWorkerPoolOptions } from "../index.js";
import type { PreparedSchema, SchemaWorkerPool } from "../index.js";

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

/**
 * Runs `work` while a 10 ms timer ticks on this thread, and returns the longest gap between two
 * ticks: how long this thread was held.
 */
async function longestStall<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  try {
    const [result] = await Promise.allSettled([work()]);
    // One more tick, so a stall at the very end is measured too.
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { result: result as PromiseSettledResult<T>, stallMs };
  } finally {
    clearInterval(timer);
  }
}

describe("schema worker pool", () => {
  let pool: SchemaWorkerPool;
  beforeAll(() => {
    pool = createSchemaWorkerPool({ size: 2, jobTimeoutMs: 3000 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it("prepares, checks compatibility, diffs and validates in workers, with the engine's results", async () => {
    const v1 = await pool.prepare({ type: "json", definition: JSON.stringify({ type: "object", properties: { a: { type: "string" } } }) });
    expect(v1).toEqual(
      await prepareSchema({ type: "json", definition: JSON.stringify({ type: "object", properties: { a: { type: "string" } } }) }),
    );
    const v2 = await pool.prepare({
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { a: { type: "string" } }, required: ["a"] }),
    });
    expect(await pool.checkCompatibility("BACKWARD", [v1], v2)).toEqual([
      { path: "/required", rule: "json.required-added", message: expect.any(String), against: 0 },
    ]);
    expect(await pool.diff(v1, v2)).toEqual([expect.objectContaining({ rule: "json.required-added" })]);
    expect(await pool.validate(v2, enc({ a: "x" }))).toEqual({ ok: true, value: { a: "x" } });
    expect(await pool.validate(v2, enc({}))).toEqual({ ok: false, issues: [expect.objectContaining({ keyword: "required" })] });
  });

  it("keeps the engine's errors: code and details cross the thread boundary", async () => {
    await expect(pool.prepare({ type: "json", definition: '{"type": "strin"}' })).rejects.toMatchObject({
      name: "SchemaError",
      code: "SCHEMA_INVALID",
      details: { path: "/type" },
    });
    await expect(pool.prepare({ type: "protobuf", definition: 'syntax = "proto3";\nmessage A { int32 x = }\n' })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { line: 2 },
    });
  });

  it("prepares Protobuf with buf run from the pool", async () => {
    const p = await pool.prepare({ type: "protobuf", definition: 'syntax = "proto3";\nmessage A { int32 x = 1; }\n' });
    expect(p).toMatchObject({ type: "protobuf", messageType: "A" });
  });

  it("validateAsync sends payloads over the threshold to the pool and validates small ones in place", async () => {
    const prepared = await prepareSchema({ type: "json", definition: JSON.stringify({ type: "array", items: { type: "integer" } }) });
    const s = loadSchema(prepared, { pool, asyncThresholdBytes: 16 });
    expect(await s.validateAsync(enc([1, 2]))).toEqual({ ok: true, value: [1, 2] });
    const big = Array.from({ length: 1000 }, (_, i) => i);
    expect(await s.validateAsync(enc(big))).toEqual({ ok: true, value: big });
    expect(await s.validateAsync(enc([...big, "x"]))).toEqual({
      ok: false,
      issues: [expect.objectContaining({ path: "/1000", keyword: "type" })],
    });
  });

  it("a hostile registration does not hold the caller's thread and ends in SCHEMA_TOO_COMPLEX or success", async () => {
    const values = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => `value-${i + offset}`);
    // A huge enum (as stored before limits existed) compared with another: a linear check.
    const bigEnum = (v: string[]) =>
      ({ type: "json", definition: JSON.stringify({ enum: v }), fingerprint: v.length.toString() }) as PreparedSchema;
    const hostile: [string, () => Promise<unknown>][] = [
      [
        "44,000-value enum registration",
        () =>
          pool.prepare({ type: "json", definition: JSON.stringify({ enum: values(44_000) }) }, { limits: { maxDefinitionBytes: 4 << 20 } }),
      ],
      ["44,000-value enum compatibility", () => pool.checkCompatibility("FULL", [bigEnum(values(44_000))], bigEnum(values(44_000, 1)))],
      [
        "4,000 patternProperties",
        () =>
          pool.prepare({
            type: "json",
            definition: JSON.stringify({
              patternProperties: Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`^(a+)+x${i}$`, {}])),
            }),
          }),
      ],
      ["pathological regex", () => pool.prepare({ type: "json", definition: JSON.stringify({ pattern: "((a{1000}){1000}){1000}" }) })],
      [
        "1 MiB message with 128,853 distinct items under uniqueItems",
        async () => {
          const p = await prepareSchema({ type: "json", definition: JSON.stringify({ type: "array", uniqueItems: true }) });
          const items = Array.from({ length: 128_853 }, (_, i) => ({ i }));
          return loadSchema(p, { pool }).validateAsync(enc(items));
        },
      ],
    ];
    for (const [name, work] of hostile) {
      const { result, stallMs } = await longestStall(work);
      expect(stallMs, name).toBeLessThan(1000);
      if (result.status === "rejected")
        expect(result.reason, name).toMatchObject({ code: expect.stringMatching(/^SCHEMA_(TOO_COMPLEX|INVALID)$/) });
    }
  });

  it("a job over its time budget loses its worker and fails with SCHEMA_TOO_COMPLEX; the pool goes on", async () => {
    const tight = createSchemaWorkerPool({ size: 1, jobTimeoutMs: 10 });
    try {
      // A 20 MB payload cannot be parsed and validated in 10 ms.
      const prepared = await prepareSchema({
        type: "json",
        definition: JSON.stringify({ type: "array", items: { type: "string", minLength: 1 } }),
      });
      const payload = enc(Array.from({ length: 2_000_000 }, () => "abcdefgh"));
      await expect(tight.validate(prepared, payload)).rejects.toMatchObject({
        code: "SCHEMA_TOO_COMPLEX",
        details: { limit: "jobTimeoutMs", max: 10, op: "validate" },
      });
      const s = loadSchema(prepared, { pool: tight, asyncThresholdBytes: 0 });
      expect(await s.validateAsync(payload)).toEqual({ ok: false, issues: [expect.objectContaining({ keyword: "limit" })] });
    } finally {
      await tight.close();
    }
  });

  it("refuses jobs beyond the queue bound and after close, with the retriable SCHEMA_UNAVAILABLE", async () => {
    const small = createSchemaWorkerPool({ size: 1, maxQueuedJobs: 1 });
    const src = { type: "json", definition: JSON.stringify({ type: "string" }) } as const;
    const running = small.prepare(src);
    const queued = small.prepare(src);
    await expect(small.prepare(src)).rejects.toMatchObject({ code: "SCHEMA_UNAVAILABLE", retriable: true });
    await expect(running).resolves.toMatchObject({ type: "json" });
    await expect(queued).resolves.toMatchObject({ type: "json" });
    const closing = small.close();
    expect(small.close()).toBe(closing);
    await closing;
    await expect(small.prepare(src)).rejects.toMatchObject({ code: "SCHEMA_UNAVAILABLE", retriable: true });
    expect(small.pending).toBe(0);
  });

  it("close fails the jobs still running or waiting", async () => {
    const p = createSchemaWorkerPool({ size: 1 });
    const prepared = await prepareSchema({ type: "json", definition: "{}" });
    const outcomes = Promise.allSettled([p.validate(prepared, enc(1)), p.validate(prepared, enc(2))]);
    await p.close();
    for (const o of await outcomes) expect(o).toMatchObject({ status: "rejected", reason: { code: "SCHEMA_UNAVAILABLE" } });
  });

  it("resolves options and refuses bad ones naming them", () => {
    expect(resolveSchemaWorkerPoolOptions({ size: 3 }).size).toBe(3);
    expect(() => resolveSchemaWorkerPoolOptions({ jobTimeoutMs: 0 })).toThrow(
      expect.objectContaining({ code: "SCHEMA_OPTIONS_INVALID", details: expect.objectContaining({ option: "jobTimeoutMs" }) }),
    );
    expect(() => resolveSchemaWorkerPoolOptions({ limits: { maxDepth: -1 } })).toThrow(/limits.maxDepth/);
  });
});
