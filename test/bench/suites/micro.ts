/** Scenario 10: micro-benchmarks without the broker (schema validation, the sandbox, the store writer). */
import { runMicro } from "../micro.bench.js";
import { CellFormat, fmtInt, section } from "../report/index.js";
import { runWriterBench } from "../writer.bench.js";
import type { BenchContext } from "./common.js";
import { PAYLOAD_BYTES } from "./throughput.js";

/** Runs the micro-benchmarks and adds their section. */
export async function runMicroSuite(ctx: BenchContext): Promise<void> {
  ctx.log("\n=== micro ===");
  const m = await runMicro(PAYLOAD_BYTES, ctx.plan.settings.microMs);
  const w = await runWriterBench(ctx.plan.settings.writerBatches);
  const s = section("micro", "Micro-benchmarks (one core, no broker)", [
    `validate() of the schemas/ engine per second on the 1 KiB order (JSON Schema via ajv, Protobuf via @bufbuild/protobuf); the cost per message of one function runtime call with an identity function over batches of ${m.sandbox.batch}; the gateway's store writer: CPU per message of one atomic batch of ${w.batch} published to a subject no stream listens on (client side only), against the same batch built with nats.js MsgHdrs.`,
  ]);
  s.tables.push({
    caption: "micro-benchmarks",
    columns: [
      { label: "measurement", format: CellFormat.Text },
      { label: "result", format: CellFormat.Text },
    ],
    rows: [
      [`JSON Schema validate, ${m.payloadBytes} B (ajv)`, `${fmtInt(m.jsonValidationsPerSec)} /s`],
      [`Protobuf validate, ${m.payloadBytes} B`, `${fmtInt(m.protobufValidationsPerSec)} /s`],
      [`sandbox identity function, batch ${m.sandbox.batch}`, `${m.sandbox.usPerMessage.toFixed(2)} µs/msg`],
      [`store writer, atomic batch of ${w.batch}`, `${w.writerUsPerMessage.toFixed(2)} CPU µs/msg`],
      [`same batch with nats.js MsgHdrs`, `${w.natsHeadersUsPerMessage.toFixed(2)} CPU µs/msg`],
    ],
  });
  ctx.sections.push(s);
  for (const r of s.tables[0]!.rows) ctx.log(`  ${String(r[0]).padEnd(48)} ${String(r[1])}`);
}
