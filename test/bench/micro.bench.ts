/**
 * Scenario 10, micro-benchmarks without a server: schema validation per second (JSON Schema via
 * ajv, Protobuf via @bufbuild/protobuf, both through the schemas/ engine) and the cost per message
 * of one sandbox call over a batch (functions/ runtime). Runs alone with
 * `node --no-node-snapshot --import tsx test/bench/micro.bench.ts`; `npm run bench` runs it too.
 */
import { fileURLToPath } from "node:url";
import { createFunctionRuntime, type FnMessage } from "../../functions/index.js";
import { DEFAULT_FUNCTION_LIMITS } from "../../functions/limits.js";
import { loadSchema, prepareSchema } from "../../schemas/index.js";
import { ORDER_JSON_SCHEMA, jsonPayload, orderOfSize } from "./load.js";
import { protobufOrder, protobufPayload } from "./gateway.js";
import { fmtInt, table } from "./stats.js";

/** Results of the micro-benchmarks. */
export interface MicroResults {
  payloadBytes: number;
  jsonValidationsPerSec: number;
  protobufValidationsPerSec: number;
  /** Sandbox batch size and the cost of one identity-function call per message, µs. */
  sandbox: { batch: number; usPerMessage: number; batchesPerSec: number };
}

/** Runs `fn` repeatedly for about `ms`; returns calls per second. */
function perSecond(fn: () => void, ms: number): number {
  for (let i = 0; i < 1000; i++) fn(); // warm up (JIT)
  let n = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    now = performance.now();
  }
  return (n * 1000) / (now - t0);
}

/** Runs the micro-benchmarks; each measurement takes about `ms`. */
export async function runMicro(size: number, ms: number): Promise<MicroResults> {
  const json = loadSchema(await prepareSchema({ type: "json", definition: ORDER_JSON_SCHEMA }));
  const jp = jsonPayload(size);
  if (!json.validate(jp).ok) throw new Error("the JSON payload does not match its schema");
  const jsonRate = perSecond(() => void json.validate(jp), ms);

  const proto = await protobufOrder();
  const pp = protobufPayload(proto, size);
  if (!proto.validate(pp).ok) throw new Error("the Protobuf payload does not match its schema");
  const protoRate = perSecond(() => void proto.validate(pp), ms);

  const batch = 500;
  const runtime = createFunctionRuntime();
  try {
    const spec = { name: "identity", version: 1, source: "export default (m) => m", ...DEFAULT_FUNCTION_LIMITS };
    const ctx = { station: "bench", inputs: {}, function: { name: "identity", version: 1 } };
    const order = orderOfSize(size);
    const msgs: FnMessage[] = Array.from({ length: batch }, () => ({ payload: order, headers: { "Jn-Producer": "bench" } }));
    for (let i = 0; i < 5; i++) await runtime.runBatch(spec, ctx, msgs);
    let calls = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      const out = await runtime.runBatch(spec, ctx, msgs);
      if (out.length !== batch) throw new Error("sandbox returned the wrong number of outcomes");
      calls++;
    }
    const elapsed = performance.now() - t0;
    return {
      payloadBytes: size,
      jsonValidationsPerSec: jsonRate,
      protobufValidationsPerSec: protoRate,
      sandbox: { batch, usPerMessage: (elapsed * 1000) / (calls * batch), batchesPerSec: (calls * 1000) / elapsed },
    };
  } finally {
    await runtime.close();
  }
}

/** The micro results as a printable table. */
export function microTable(r: MicroResults): string {
  return table([
    ["micro (one core, no server)", "result"],
    [`JSON Schema validate, ${r.payloadBytes} B (ajv)`, `${fmtInt(r.jsonValidationsPerSec)} /s`],
    [`Protobuf validate, ${r.payloadBytes} B`, `${fmtInt(r.protobufValidationsPerSec)} /s`],
    [`sandbox identity fn, batch ${r.sandbox.batch}`, `${r.sandbox.usPerMessage.toFixed(2)} µs/msg`],
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(microTable(await runMicro(1024, 1000)));
}
