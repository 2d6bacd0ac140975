import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { checkFunctionSource, createFunctionRuntime } from "./index.js";
import type { FnMessage, FunctionSpec } from "./index.js";

const runtime = createFunctionRuntime();
afterAll(() => runtime.close());

function example(name: string): FunctionSpec {
  const source = readFileSync(new URL(`./examples/${name}.js`, import.meta.url), "utf8");
  return { name, version: 1, source, timeoutMs: 1000, memoryMb: 32 };
}

async function run(name: string, inputs: Record<string, string>, messages: FnMessage[]) {
  return runtime.runBatch(example(name), { station: "orders", inputs, function: { name, version: 1 } }, messages);
}

describe("examples", () => {
  it.each(["add-timestamp", "redact-fields", "filter", "enrich-from-inputs", "split"])("%s passes checkFunctionSource", async (name) => {
    await expect(checkFunctionSource(example(name).source)).resolves.toBeUndefined();
  });

  it("add-timestamp stamps a header and an object payload, leaves bytes alone", async () => {
    const [a, b] = await run("add-timestamp", { field: "at" }, [
      { payload: { id: 1 }, headers: {} },
      { payload: new Uint8Array([1, 2]), headers: { k: "v" } },
    ]);
    expect(a?.ok && a.messages[0]?.headers["x-received-at"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(a?.ok && (a.messages[0]?.payload as { at: string }).at).toMatch(/^\d{4}-/);
    expect(b?.ok && b.messages[0]?.payload).toEqual(new Uint8Array([1, 2]));
    expect(b?.ok && b.messages[0]?.headers.k).toBe("v");
  });

  it("examples read JSON text on schemaless stations through message.json()", async () => {
    const [stamped, plain] = await run("add-timestamp", {}, [
      { payload: '{"id":2}', headers: {} },
      { payload: "not json", headers: {} },
    ]);
    expect(stamped?.ok && (stamped.messages[0]?.payload as { receivedAt: string }).receivedAt).toMatch(/^\d{4}-/);
    expect(plain?.ok && plain.messages[0]?.payload).toBe("not json");
    const [redacted] = await run("redact-fields", { fields: "email" }, [{ payload: '{"email":"a@b.c","n":1}', headers: {} }]);
    expect(redacted).toEqual({ ok: true, messages: [{ payload: { email: "***", n: 1 }, headers: {} }] });
    const kept = await run("filter", { field: "type", equals: "order" }, [
      { payload: '{"type":"order"}', headers: {} },
      { payload: new TextEncoder().encode('{"type":"refund"}'), headers: {} },
    ]);
    expect(kept.map((o) => o.ok && o.messages.length)).toEqual([1, 0]);
    const [parts] = await run("split", {}, [{ payload: '{"items":[1,2]}', headers: {} }]);
    expect(parts?.ok && parts.messages.map((m) => m.payload)).toEqual([1, 2]);
    const [enriched] = await run("enrich-from-inputs", { region: "eu" }, [{ payload: '{"id":1}', headers: {} }]);
    expect(enriched).toEqual({ ok: true, messages: [{ payload: { region: "eu", id: 1 }, headers: {} }] });
  });

  it("redact-fields masks the configured fields at any depth", async () => {
    const [out] = await run("redact-fields", { fields: "email, ssn" }, [
      { payload: { name: "Ada", email: "ada@example.com", nested: { ssn: "123", list: [{ email: "x" }] } }, headers: {} },
    ]);
    expect(out).toEqual({
      ok: true,
      messages: [{ payload: { name: "Ada", email: "***", nested: { ssn: "***", list: [{ email: "***" }] } }, headers: {} }],
    });
  });

  it("filter keeps matches (or drops them in exclude mode) and fails without inputs.field", async () => {
    const messages = [
      { payload: { type: "order" }, headers: {} },
      { payload: { type: "refund" }, headers: {} },
    ];
    const kept = await run("filter", { field: "type", equals: "order" }, messages);
    expect(kept.map((o) => o.ok && o.messages.length)).toEqual([1, 0]);
    const excluded = await run("filter", { field: "type", equals: "order", mode: "exclude" }, messages);
    expect(excluded.map((o) => o.ok && o.messages.length)).toEqual([0, 1]);
    const [bad] = await run("filter", {}, messages.slice(0, 1));
    expect(bad).toMatchObject({ ok: false, kind: "threw", message: expect.stringContaining("inputs.field is required") });
  });

  it("enrich-from-inputs merges inputs, payload fields win unless overwrite", async () => {
    const [a] = await run("enrich-from-inputs", { region: "eu", id: "x" }, [{ payload: { id: 7 }, headers: {} }]);
    expect(a).toEqual({ ok: true, messages: [{ payload: { region: "eu", id: 7 }, headers: {} }] });
    const [b] = await run("enrich-from-inputs", { region: "eu", id: "x", overwrite: "true" }, [{ payload: { id: 7 }, headers: {} }]);
    expect(b).toEqual({ ok: true, messages: [{ payload: { region: "eu", id: "x" }, headers: {} }] });
  });

  it("split fans out payload.items, passes others through, drops empty lists", async () => {
    const [a, b, c] = await run("split", {}, [
      { payload: { items: [{ sku: "a" }, { sku: "b" }] }, headers: { trace: "t1" } },
      { payload: { other: true }, headers: {} },
      { payload: { items: [] }, headers: {} },
    ]);
    expect(a).toEqual({
      ok: true,
      messages: [
        { payload: { sku: "a" }, headers: { trace: "t1", "x-split-index": "0", "x-split-count": "2" } },
        { payload: { sku: "b" }, headers: { trace: "t1", "x-split-index": "1", "x-split-count": "2" } },
      ],
    });
    expect(b).toEqual({ ok: true, messages: [{ payload: { other: true }, headers: {} }] });
    expect(c).toEqual({ ok: true, messages: [] });
  });
});
