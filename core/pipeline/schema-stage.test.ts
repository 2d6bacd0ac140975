import { describe, expect, it } from "vitest";
import { SchemaError, loadSchema, prepareSchema, type CompiledSchema, type ValidationResult } from "../../schemas/index.js";
import { defaultScope } from "../protocol/index.js";
import type { SchemaRegistry } from "../registry/index.js";
import type { StationRecord } from "../stations/index.js";
import { SchemaStage } from "./schema-stage.js";
import type { StageMessage } from "./stages.js";

const station = { name: "s", schema: { name: "order", version: 2 } } as StationRecord;
const ctx = { scope: defaultScope, station, producer: undefined };
const msg = (text: string): StageMessage => ({ id: text.slice(0, 8), headers: {}, payload: new TextEncoder().encode(text) });

/** A stage over one compiled schema, recording which messages went to the worker pool. */
async function stageWith(threshold: number, poolResult?: (p: Uint8Array) => Promise<ValidationResult>) {
  const real = loadSchema(await prepareSchema({ type: "json", definition: JSON.stringify({ type: "array", maxItems: 3 }) }));
  const inPlace: number[] = [];
  const inPool: number[] = [];
  const compiled: CompiledSchema = {
    ...real,
    type: real.type,
    messageType: undefined,
    validate: (p) => {
      inPlace.push(p.byteLength);
      return real.validate(p);
    },
    validateAsync: (p) => {
      inPool.push(p.byteLength);
      return poolResult ? poolResult(p) : Promise.resolve(real.validate(p));
    },
  };
  const schemas = { asyncThresholdBytes: threshold, compiled: () => Promise.resolve(compiled) } as unknown as SchemaRegistry;
  return { stage: new SchemaStage({ registries: () => Promise.resolve({ schemas }) }), inPlace, inPool };
}

describe("the schema stage", () => {
  it("validates messages up to the threshold in place and larger ones through validateAsync, keeping the order of outcomes", async () => {
    const { stage, inPlace, inPool } = await stageWith(8);
    const out = await stage.run(ctx, [msg("[1]"), msg("[1,2,3,4,5]"), msg("[1,2,3,4]"), msg("[]")]);
    expect(inPlace).toEqual([3, 2]);
    expect(inPool).toEqual([11, 9]);
    expect(out.map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(out[1]).toMatchObject({ ok: false, deadLetter: "schema", error: { code: "SCHEMA_VALIDATION_FAILED", details: { index: 1 } } });
    expect(out[0]).toMatchObject({ ok: true, messages: [{ headers: { "Jn-Schema": "order@2" }, value: [1] }] });
  });

  it("a message the pool cannot take now is refused alone with the retriable SCHEMA_UNAVAILABLE, and no dead letter", async () => {
    const { stage } = await stageWith(0, () => Promise.reject(new SchemaError("SCHEMA_UNAVAILABLE", "the schema worker pool is busy")));
    const [o] = await stage.run(ctx, [msg("[1]")]);
    expect(o).toEqual({ ok: false, error: expect.objectContaining({ code: "SCHEMA_UNAVAILABLE", retriable: true }) });
  });
});
