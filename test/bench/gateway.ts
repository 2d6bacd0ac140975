/** The gateway scenarios: produce through the SDK and the gateway, consume through the SDK, latency. */
import { loadSchema, prepareSchema, type CompiledSchema } from "../../schemas/index.js";
import type { JunctionClient, ProducerOptions } from "../../sdk/index.js";
import { BLOB_JSON_SCHEMA, ORDER_JSON_SCHEMA, ORDER_PROTO, orderOfSize, runWindow, type Throughput } from "./load.js";

/** What a produce scenario's station enforces. */
export type StationKind = "none" | "json" | "protobuf" | "json+fn" | "blob";

let stationCounter = 0;

/** Creates a station of the given kind; returns its name. */
export async function createStation(client: JunctionClient, kind: StationKind): Promise<string> {
  const name = `bench-${kind.replace(/\W/g, "")}-${process.pid.toString(36)}-${stationCounter++}`;
  await client.stations.create(name);
  if (kind === "json" || kind === "json+fn") {
    await client.schemas.create({ name: `${name}-order`, type: "json", definition: ORDER_JSON_SCHEMA, compatibility: "none" });
    await client.schemas.attach(`${name}-order`, name);
  }
  if (kind === "blob") {
    await client.schemas.create({ name: `${name}-blob`, type: "json", definition: BLOB_JSON_SCHEMA, compatibility: "none" });
    await client.schemas.attach(`${name}-blob`, name);
  }
  if (kind === "protobuf") {
    await client.schemas.create({
      name: `${name}-order`,
      type: "protobuf",
      definition: ORDER_PROTO,
      messageType: "bench.Order",
      compatibility: "none",
    });
    await client.schemas.attach(`${name}-order`, name);
  }
  if (kind === "json+fn") {
    await client.functions.create({ name: `${name}-identity`, source: "export default (m) => m" });
    await client.functions.attach(`${name}-identity`, name);
  }
  return name;
}

/** Deletes a station (and its stream) once its scenario is done. */
export async function deleteStation(client: JunctionClient, name: string): Promise<void> {
  await client.stations.delete(name).catch(() => {});
}

/** The compiled Protobuf schema of the bench order (the SDK sends bytes: encode on the client). */
export async function protobufOrder(): Promise<CompiledSchema> {
  return loadSchema(await prepareSchema({ type: "protobuf", definition: ORDER_PROTO, messageType: "bench.Order" }));
}

/** A Protobuf-encoded order of exactly `size` bytes. */
export function protobufPayload(codec: CompiledSchema, size: number): Uint8Array {
  const order = orderOfSize(size);
  // Protobuf is more compact than JSON: resize the note (its length prefix is a varint, so
  // this may take a few rounds) until the encoding is exactly `size` bytes.
  let noteLen = (order["note"] as string).length;
  for (let i = 0; i < 8; i++) {
    const b = codec.encode({ ...order, note: "n".repeat(noteLen) });
    if (b.length === size) return b;
    noteLen = Math.max(0, noteLen - (b.length - size));
  }
  throw new Error(`cannot make a ${size}-byte Protobuf order`);
}

/**
 * Producer settings of the throughput scenarios: the SDK's default batch size (1,000, the
 * largest atomic batch), a 2 ms linger (the default is 0, tuned for latency), 4 batches in
 * flight, and enough sends outstanding to fill them.
 */
export const PRODUCE_SETTINGS = { maxBatchMessages: 1000, lingerMs: 2, maxInFlight: 4, window: 8000 } as const;

/** Scenarios 3–6: SDK producer with automatic batching, `window` unacknowledged sends at most. */
export async function sdkProduce(
  client: JunctionClient,
  station: string,
  payload: Uint8Array,
  durationMs: number,
  o: Partial<ProducerOptions> & { window?: number; keys?: readonly string[] } = {},
): Promise<Throughput> {
  const { window = PRODUCE_SETTINGS.window, keys, ...po } = o;
  const producer = client.producer({
    station,
    maxBatchMessages: PRODUCE_SETTINGS.maxBatchMessages,
    lingerMs: PRODUCE_SETTINGS.lingerMs,
    maxInFlight: PRODUCE_SETTINGS.maxInFlight,
    ...po,
  });
  try {
    let i = 0;
    const issue = keys ? () => producer.send(payload, { key: keys[i++ % keys.length]! }) : () => producer.send(payload);
    return await runWindow({ window, durationMs, unit: 1, issue });
  } finally {
    await producer.close();
  }
}

/** Scenario 7 (SDK): a consumer group member reading `count` messages, acking each. */
export async function sdkConsume(
  client: JunctionClient,
  station: string,
  group: string,
  count: number,
  batchSize: number,
): Promise<Throughput> {
  // The group is made first, so both SDK rows time the same thing: starting a member and reading.
  await client.groups.create(station, group);
  const t0 = performance.now();
  const consumer = await client.consumer({ station, group, batchSize });
  let got = 0;
  for await (const m of consumer) {
    m.ack();
    if (++got === count) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { messages: got, seconds, rate: got / seconds };
}

/** Scenario 7 (SDK, handler): the same with `onMessage` instead of the async iterator. */
export async function sdkConsumeHandler(
  client: JunctionClient,
  station: string,
  group: string,
  count: number,
  batchSize: number,
): Promise<Throughput> {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await client.groups.create(station, group);
  const t0 = performance.now();
  const consumer = await client.consumer({
    station,
    group,
    batchSize,
    onMessage: (m) => {
      m.ack();
      if (++got === count) done();
    },
  });
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await consumer.close();
  return { messages: got, seconds, rate: got / seconds };
}

/** Scenario 9: one message at a time through the gateway, awaiting each ack; latencies, ms. */
export async function sdkSerial(client: JunctionClient, station: string, payload: Uint8Array, count: number): Promise<number[]> {
  const producer = client.producer({ station, lingerMs: 0, maxInFlight: 1 });
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await producer.send(payload);
    out.push(performance.now() - t);
  }
  await producer.close();
  return out;
}
