/**
 * Micro-benchmark of tracing's cost. Off (no OpenTelemetry SDK registered, the default): the
 * check each traced place makes (the gateway's per request and per dead letter, the producer's per
 * send, the consumer's per message handed out), beside one in-process produce request of one
 * message on the fake store (no schema, no function), so the check's share of a request shows. On (an
 * SDK with an always-on sampler and an in-memory exporter): the same request, for comparison.
 * Runs alone, a few seconds: `node --import tsx test/bench/tracing.bench.ts [ms per case, default 500]`.
 */
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { fakeGateway } from "../fakes/gateway.js";
import { gatewayTracing } from "../../core/support/index.js";
import { ConsumerTracing, SdkTracing } from "../../sdk/tracing.js";

const ms = Number(process.argv[2] ?? 500);

/** Runs `fn` repeatedly for about `ms`; returns ns per call. */
function nsPerCall(fn: () => unknown): number {
  for (let i = 0; i < 10_000; i++) fn(); // warm up (JIT)
  let n = 0;
  let sink = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 1000; i++) if (fn() !== undefined) sink++;
    n += 1000;
    now = performance.now();
  }
  if (sink < 0) console.log(sink);
  return ((now - t0) * 1e6) / n;
}

/** Runs `fn` (one request) repeatedly for about `ms`, a few in flight; returns µs per request. */
async function usPerRequest(fn: () => Promise<unknown>, inflight = 4): Promise<number> {
  for (let i = 0; i < 500; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() - t0 < ms) {
      await fn();
      n++;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return ((performance.now() - t0) * 1000) / n;
}

const g = await fakeGateway();
await g.ok("station.create", { name: "orders" });
const payload = new TextEncoder().encode(JSON.stringify({ id: 1, item: "book", qty: 2 }));
const produce = () => g.produce("orders", [{ payload }]);

const sdk = new SdkTracing();
const consumer = new ConsumerTracing("orders", "g");
const msg = {
  seq: 1,
  subject: "jn.st.orders.msg",
  deliveryCount: 1,
  headers: {},
  ack() {},
  ackAndWait: () => Promise.resolve(),
  nak() {},
  term() {},
  deadLetter() {},
};

const off = {
  gatewayCheckNs: nsPerCall(() => gatewayTracing.tracer()),
  producerCheckNs: nsPerCall(() => sdk.tracer()),
  consumerDeliverNs: nsPerCall(() => consumer.deliver(msg)),
  emptyCallNs: nsPerCall(() => undefined),
  produceRequestUs: await usPerRequest(produce),
};

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
const on = {
  produceRequestUs: await usPerRequest(async () => {
    await produce();
    if (exporter.getFinishedSpans().length > 10_000) exporter.reset();
  }),
};
trace.disable();
await g.close();

const f = (x: number, d = 1) => x.toFixed(d);
console.log(`tracing cost (${ms} ms per case, one Node process, after JIT warm-up)`);
console.log(`off: gateway check ${f(off.gatewayCheckNs)} ns/call, producer check ${f(off.producerCheckNs)} ns/send,`);
console.log(`     consumer deliver ${f(off.consumerDeliverNs)} ns/message (an empty call: ${f(off.emptyCallNs)} ns)`);
console.log(`off: produce request (1 message, fake store) ${f(off.produceRequestUs)} µs;`);
console.log(`     the check is ${f((100 * off.gatewayCheckNs) / (off.produceRequestUs * 1000), 3)} % of it`);
console.log(`on (always-on sampler, in-memory exporter): ${f(on.produceRequestUs)} µs per request (produce and store spans)`);
