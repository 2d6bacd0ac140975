import { describe, expect, it } from "vitest";
import { checkFunctionSource, DEFAULT_FUNCTION_LIMITS, FunctionError, resolveFunctionLimits } from "./index.js";

async function invalid(source: string, limits = {}): Promise<FunctionError> {
  const e = await checkFunctionSource(source, limits).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(FunctionError);
  expect((e as FunctionError).code).toBe("FUNCTION_INVALID");
  return e as FunctionError;
}

describe("checkFunctionSource", () => {
  it("accepts a module with a default export function (sync or async)", async () => {
    await expect(checkFunctionSource("export default (m) => m")).resolves.toBeUndefined();
    await expect(checkFunctionSource("export default async function f(m, c) { return [m]; }")).resolves.toBeUndefined();
  });

  it("reports syntax errors with line and column", async () => {
    const e = await invalid("export default (m) => {\n  return m +;\n}");
    expect(e.message).toContain("SyntaxError");
    expect(e.details).toEqual({ line: 2, column: 13 });
  });

  it("refuses imports", async () => {
    const e = await invalid("import fs from 'node:fs'; export default () => fs");
    expect(e.message).toContain("cannot import");
    expect(e.details).toEqual({ import: "node:fs" });
  });

  it("refuses a module without a default export function", async () => {
    expect((await invalid("export const f = () => 1")).message).toContain("no default export function");
    expect((await invalid("export default 42")).message).toContain("no default export function");
  });

  it("refuses a module whose top-level code throws or never ends", async () => {
    expect((await invalid("throw new Error('boom'); export default () => 1")).message).toContain("boom");
    const e = await invalid("for (;;) {} export default () => 1", { timeoutMs: 50 });
    expect(e.details).toEqual({ kind: "timeout" });
  });

  it("refuses a module whose top-level code tampers with intrinsics", async () => {
    expect((await invalid("Array.prototype.map = null; export default () => 1")).message).toContain("read only");
  });

  it("validates limits, naming the bad option", async () => {
    for (const [limits, option] of [
      [{ timeoutMs: 0 }, "timeoutMs"],
      [{ timeoutMs: 60_001 }, "timeoutMs"],
      [{ memoryMb: 7 }, "memoryMb"],
      [{ memoryMb: 1.5 }, "memoryMb"],
      [{ memoryMb: "32" }, "memoryMb"],
    ] as const) {
      const e = await invalid("export default (m) => m", limits);
      expect(e.details?.option).toBe(option);
      expect(e.message).toContain(option);
    }
  });
});

describe("limits", () => {
  it("has frozen defaults of 1000 ms and 32 MB", () => {
    expect(DEFAULT_FUNCTION_LIMITS).toEqual({ timeoutMs: 1000, memoryMb: 32 });
    expect(Object.isFrozen(DEFAULT_FUNCTION_LIMITS)).toBe(true);
    expect(resolveFunctionLimits({ memoryMb: 64 })).toEqual({ timeoutMs: 1000, memoryMb: 64 });
  });
});
