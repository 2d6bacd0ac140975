/**
 * The Avro scenario: the bench order as an Avro record, a station that enforces it, a payload
 * of exactly the bench's size in Avro binary, and the micro-benchmark of its validation. The
 * runner plugs it in beside the JSON and Protobuf rows:
 *
 *   const avro = await avroOrder();
 *   const avroBytes = avroPayload(avro, METHOD.payloadBytes);
 *   if (want("5b")) {
 *     const station = await createAvroStation(client);
 *     await timed("5b", "gateway produce, Avro schema", (ms) => sdkProduce(client, station, avroBytes, ms));
 *     await deleteStation(client, station);
 *   }
 *
 * and, in the micro table, `avroValidationsPerSec(avro, avroBytes, METHOD.microMs)`. Alone:
 * `node --import tsx test/bench/avro.ts` prints the micro numbers of JSON, Protobuf and Avro.
 */
import { fileURLToPath } from "node:url";
import { loadSchema, prepareSchema, type CompiledSchema } from "../../schemas/index.js";
import type { JunctionClient } from "../../sdk/index.js";
import { protobufOrder, protobufPayload } from "./gateway.js";
import { ORDER_JSON_SCHEMA, jsonPayload, orderOfSize } from "./load.js";
import { fmtInt, table } from "./stats.js";

/** The bench order (see ORDER_JSON_SCHEMA and ORDER_PROTO) as an Avro schema. */
export const ORDER_AVSC = JSON.stringify({
  type: "record",
  name: "Order",
  namespace: "bench",
  fields: [
    { name: "id", type: "string" },
    { name: "ts", type: "long" },
    {
      name: "customer",
      type: {
        type: "record",
        name: "Customer",
        fields: [
          { name: "name", type: "string" },
          { name: "email", type: "string" },
        ],
      },
    },
    { name: "amount", type: "double" },
    { name: "currency", type: { type: "enum", name: "Currency", symbols: ["EUR", "USD", "GBP"] } },
    { name: "tags", type: { type: "array", items: "string" } },
    { name: "note", type: "string" },
  ],
});

let stationCounter = 0;

/** Creates a station enforcing the Avro order; returns its name. */
export async function createAvroStation(client: JunctionClient): Promise<string> {
  const name = `bench-avro-${process.pid.toString(36)}-${stationCounter++}`;
  await client.stations.create(name);
  await client.schemas.create({ name: `${name}-order`, type: "avro", definition: ORDER_AVSC, compatibility: "NONE" });
  await client.schemas.attach(`${name}-order`, name);
  return name;
}

/** The compiled Avro order (the bench sends bytes: encode on the client). */
export async function avroOrder(): Promise<CompiledSchema> {
  return loadSchema(await prepareSchema({ type: "avro", definition: ORDER_AVSC }));
}

/** An Avro-encoded order of exactly `size` bytes (the note is resized until it fits). */
export function avroPayload(codec: CompiledSchema, size: number): Uint8Array {
  const order = orderOfSize(size);
  let noteLen = (order["note"] as string).length;
  for (let i = 0; i < 8; i++) {
    const b = codec.encode({ ...order, note: "n".repeat(noteLen) });
    if (b.length === size) return b;
    noteLen = Math.max(0, noteLen - (b.length - size));
  }
  throw new Error(`cannot make a ${size}-byte Avro order`);
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

/** Avro validations (strict decode) per second of one payload, in this thread. */
export function avroValidationsPerSec(codec: CompiledSchema, payload: Uint8Array, ms: number): number {
  if (!codec.validate(payload).ok) throw new Error("the Avro payload does not match its schema");
  return perSecond(() => void codec.validate(payload), ms);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const size = 1024;
  const ms = 1000;
  const json = loadSchema(await prepareSchema({ type: "json", definition: ORDER_JSON_SCHEMA }));
  const jp = jsonPayload(size);
  const proto = await protobufOrder();
  const pp = protobufPayload(proto, size);
  const avro = await avroOrder();
  const ap = avroPayload(avro, size);
  console.log(
    table([
      ["validate, one core, no server", "result"],
      [`JSON Schema, ${size} B`, `${fmtInt(perSecond(() => void json.validate(jp), ms))} /s`],
      [`Protobuf, ${size} B`, `${fmtInt(perSecond(() => void proto.validate(pp), ms))} /s`],
      [`Avro, ${size} B`, `${fmtInt(avroValidationsPerSec(avro, ap, ms))} /s`],
    ]),
  );
}
