import { describe, expect, it } from "vitest";
import { runStages, type ProduceStage, type StageMessage } from "./stages.js";
import type { StationRecord } from "../stations/index.js";
import { defaultScope } from "../protocol/index.js";

const station = { name: "s" } as StationRecord;
const msg = (id: string, text: string): StageMessage => ({ id, headers: {}, payload: new TextEncoder().encode(text) });
const text = (m: StageMessage) => new TextDecoder().decode(m.payload);

/** A stage from a per-message rule: a string list = fan-out, null = drop, Error = refuse. */
function stage(name: string, rule: (t: string) => string[] | null | Error, applies = true): ProduceStage {
  return {
    name,
    applies: () => applies,
    run: (_ctx, ms) =>
      ms.map((m) => {
        const r = rule(text(m));
        if (r instanceof Error) return { ok: false, error: { code: "FUNCTION_FAILED", message: r.message } };
        return { ok: true, messages: (r ?? []).map((t) => ({ ...m, payload: new TextEncoder().encode(t) })) };
      }),
  };
}

describe("runStages", () => {
  it("feeds each stage the survivors of the previous one, keeping input indexes and suffixing fanned-out ids", async () => {
    const split = stage("split", (t) => (t === "ab" ? ["a", "b"] : [t]));
    const drop = stage("drop", (t) => (t === "x" ? null : [t]));
    const upper = stage("upper", (t) => [t.toUpperCase()]);
    const { survivors, failed } = await runStages([split, drop, upper], { scope: defaultScope, station, producer: undefined }, [
      { index: 0, msg: msg("m0", "ab") },
      { index: 1, msg: msg("m1", "x") },
      { index: 2, msg: msg("m2", "c") },
    ]);
    expect(failed.size).toBe(0);
    expect(survivors.map((s) => [s.index, s.msg.id, text(s.msg)])).toEqual([
      [0, "m0", "A"],
      [0, "m0:1", "B"],
      [2, "m2", "C"],
    ]);
  });

  it("refuses a message whole when one of its fanned-out parts fails", async () => {
    const split = stage("split", (t) => (t === "ab" ? ["a", "b"] : [t]));
    const check = stage("check", (t) => (t === "b" ? new Error("b is bad") : [t]));
    const { survivors, failed } = await runStages([split, check], { scope: defaultScope, station, producer: undefined }, [
      { index: 0, msg: msg("m0", "ab") },
      { index: 1, msg: msg("m1", "c") },
    ]);
    expect([...failed.entries()].map(([i, f]) => [i, f.error, new TextDecoder().decode(f.msg.payload)])).toEqual([
      [0, { code: "FUNCTION_FAILED", message: "b is bad" }, "b"],
    ]);
    expect(survivors.map((s) => text(s.msg))).toEqual(["c"]);
  });

  it("skips stages that do not apply to the station", async () => {
    const never = stage("never", () => new Error("should not run"), false);
    const { survivors, failed } = await runStages([never], { scope: defaultScope, station, producer: undefined }, [
      { index: 0, msg: msg("m0", "a") },
    ]);
    expect(failed.size).toBe(0);
    expect(survivors).toHaveLength(1);
  });
});
