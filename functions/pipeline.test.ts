import { afterAll, describe, expect, it } from "vitest";
import { createFunctionRuntime } from "./index.js";
import type { FunctionSpec, PipelineStep } from "./index.js";

const runtime = createFunctionRuntime();
afterAll(() => runtime.close());

const fn = (name: string, source: string, version = 1): FunctionSpec => ({ name, version, source, timeoutMs: 200, memoryMb: 32 });
const step = (spec: FunctionSpec, inputs: Record<string, string> = {}): PipelineStep => ({ spec, inputs });

const split = fn(
  "split",
  "export default (m) => m.payload.items ? m.payload.items.map((payload) => ({ payload, headers: m.headers })) : m",
);
const double = fn(
  "double",
  "export default (m, c) => ({ payload: m.payload * Number(c.inputs.factor), headers: { ...m.headers, by: c.function.name } })",
);
const dropOdd = fn("drop-odd", "export default (m) => (m.payload % 2 ? null : m)");
const failOn = fn(
  "fail-on",
  "export default (m, c) => { if (m.payload === Number(c.inputs.bad)) throw new Error('no ' + m.payload); return m; }",
  7,
);

describe("runPipeline", () => {
  it("feeds each step's output to the next, with fan-out and drops, grouped per input message", async () => {
    const out = await runtime.runPipeline([step(split), step(dropOdd), step(double, { factor: "10" })], "s", [
      { payload: { items: [1, 2, 3, 4] }, headers: { t: "a" } },
      { payload: 6, headers: {} },
      { payload: 5, headers: {} },
    ]);
    expect(out).toEqual([
      {
        ok: true,
        messages: [
          { payload: 20, headers: { t: "a", by: "double" } },
          { payload: 40, headers: { t: "a", by: "double" } },
        ],
      },
      { ok: true, messages: [{ payload: 60, headers: { by: "double" } }] },
      { ok: true, messages: [] },
    ]);
  });

  it("reports the first failure per input with the failing function, siblings of other inputs continue", async () => {
    const out = await runtime.runPipeline([step(split), step(failOn, { bad: "2" }), step(double, { factor: "2" })], "s", [
      { payload: { items: [1, 2, 3] }, headers: {} },
      { payload: { items: [3] }, headers: {} },
    ]);
    expect(out).toEqual([
      { ok: false, kind: "threw", message: "Error: no 2 (line 1, column 74)", function: "fail-on", version: 7 },
      { ok: true, messages: [{ payload: 6, headers: { by: "double" } }] },
    ]);
  });

  it("with no steps returns the messages unchanged", async () => {
    const messages = [{ payload: 1, headers: {} }];
    expect(await runtime.runPipeline([], "s", messages)).toEqual([{ ok: true, messages }]);
  });
});
