import { afterEach, describe, expect, it } from "vitest";
import { JunctionError } from "../protocol/index.js";
import { createSchemaRuntime, resolveSchemaRuntimeOptions, type SchemaRuntime } from "./runtime.js";

const runtimes: SchemaRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("schema runtime options", () => {
  it("fills defaults and names a bad option, the engine's limits and pool options included", () => {
    const o = resolveSchemaRuntimeOptions({ limits: { maxEnumValues: 20 } });
    expect(o).toMatchObject({ maxConcurrentRegistrations: 4, maxQueuedRegistrations: 32, asyncThresholdBytes: 65536 });
    expect(o.limits).toMatchObject({ maxEnumValues: 20, maxPatterns: 500 });
    expect(Object.isFrozen(o)).toBe(true);
    const fails = (x: unknown) => {
      try {
        resolveSchemaRuntimeOptions(x as never);
      } catch (err) {
        expect(err).toBeInstanceOf(JunctionError);
        return (err as JunctionError).details?.["option"];
      }
      throw new Error("expected a failure");
    };
    expect(fails({ maxQueuedRegistrations: -1 })).toBe("gateway.schemas.maxQueuedRegistrations");
    expect(fails({ limits: { maxEnumValues: 0 } })).toBe("gateway.schemas.limits.maxEnumValues");
    expect(fails({ pool: { jobTimeoutMs: 1 } })).toBe("gateway.schemas.pool.jobTimeoutMs");
    expect(fails({ pool: { limits: {} } })).toBe("gateway.schemas.pool");
    expect(fails({ nope: 1 })).toBe("gateway.schemas.nope");
  });
});

describe("registrations at once", () => {
  it("runs a bounded number, queues a bounded number, refuses the rest as retriable, and starts the next when one ends", async () => {
    const rt = createSchemaRuntime({ maxConcurrentRegistrations: 1, maxQueuedRegistrations: 1 });
    runtimes.push(rt);
    const first = deferred();
    const order: string[] = [];
    const a = rt.register(async () => {
      order.push("a");
      await first.promise;
      return "a";
    });
    const b = rt.register(async () => {
      order.push("b");
      return "b";
    });
    await expect(rt.register(async () => "c")).rejects.toMatchObject({
      code: "SCHEMA_UNAVAILABLE",
      retriable: true,
      details: { limit: "maxQueuedRegistrations", max: 1, running: 1, waiting: 1 },
    });
    expect(rt.stats()).toMatchObject({ running: 1, waiting: 1, refused: 1 });
    expect(order).toEqual(["a"]);
    first.resolve();
    expect(await Promise.all([a, b])).toEqual(["a", "b"]);
    expect(order).toEqual(["a", "b"]);
    // A failing registration frees its turn too.
    await expect(rt.register(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await rt.register(async () => "d")).toBe("d");
    expect(rt.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it("close fails the waiting registrations and refuses new ones", async () => {
    const rt = createSchemaRuntime({ maxConcurrentRegistrations: 1 });
    const hold = deferred();
    const running = rt.register(() => hold.promise);
    const waiting = rt.register(async () => "never");
    await rt.close();
    await expect(waiting).rejects.toMatchObject({ code: "SCHEMA_UNAVAILABLE" });
    await expect(rt.register(async () => "x")).rejects.toMatchObject({ code: "SCHEMA_UNAVAILABLE" });
    hold.resolve();
    await running;
  });
});
