import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT_CONTEXT, SpanKind, TraceFlags, context, createTraceState, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { messageTrace, type DeadLetter, type JunctionClient, type Message } from "../../sdk/index.js";
import { formatTraceparent, headersProblem } from "../../core/protocol/index.js";

// One OpenTelemetry SDK for the whole process: the in-process gateway and the SDK both use the
// global provider, as an application that registers OpenTelemetry would.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
  await provider.shutdown();
  trace.disable();
  context.disable();
});

/** Takes one message from a new member of `group`, acting on it. */
async function takeOne(station: string, group: string, act: (m: Message) => Promise<void> | void): Promise<Message> {
  const c = await client.consumer({ station, group, maxAckTimeMs: 30_000 });
  try {
    for await (const m of c) {
      await act(m);
      return m;
    }
  } finally {
    await c.close();
  }
  throw new Error(`no message for group ${group}`);
}

const traceparentOf = (s: ReadableSpan) =>
  formatTraceparent({ traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, flags: s.spanContext().traceFlags });

describe("tracing", () => {
  it("follows one message producer → gateway → consumers → dead letter → resend in one trace", async () => {
    const st = uniqueName();
    await client.stations.create(st);
    const schema = uniqueName("order");
    await client.schemas.create({
      name: schema,
      type: "json",
      definition: JSON.stringify({ type: "object", required: ["order"], properties: { order: { type: "number" } } }),
    });
    await client.schemas.attach(schema, st);
    // The function tries to forge the trace context: the gateway keeps the producer's.
    const fn = uniqueName("fn");
    await client.functions.create({
      name: fn,
      source: `export default function (m) {
        m.headers["x-seen"] = "1";
        m.headers["traceparent"] = "00-11111111111111111111111111111111-2222222222222222-01";
        return m;
      }`,
    });
    await client.functions.attach(fn, st);
    // Both groups exist before the message is stored.
    await client.groups.create(st, "billing", { maxAckTimeMs: 30_000 });
    await client.groups.create(st, "shipping", { maxAckTimeMs: 30_000 });

    const tracer = trace.getTracer("test");
    // The application's span continues an upstream trace whose tracestate must travel along.
    const upstream = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: randomBytes(16).toString("hex"),
      spanId: randomBytes(8).toString("hex"),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState("shop=1"),
    });
    const root = tracer.startSpan("checkout", {}, upstream);
    const producer = client.producer({ station: st, name: "shop" });
    const sent = await context.with(trace.setSpan(ROOT_CONTEXT, root), () => producer.send({ order: 1 }, { id: "order-1" }));
    root.end();
    expect(sent.duplicate).toBe(false);
    const traceId = root.spanContext().traceId;

    // billing acks; shipping dead-letters it, gets it again by a resend, and acks.
    const billed = await takeOne(st, "billing", (m) => m.ackAndWait());
    const failed = await takeOne(st, "shipping", (m) => m.deadLetter("address service down"));
    const dl = (await waitFor(async () => (await client.dls.list({ station: st })).items[0], 20_000)) as DeadLetter;
    expect(await client.dls.resend({ id: dl.id })).toEqual({ resent: 1, failed: 0 });
    const resent = await takeOne(st, "shipping", (m) => m.ackAndWait());

    const mine = (): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const expected = ["checkout", "send", "produce", "validate", "function", "store", "deliver", "ack", "term", "dead-letter", "resend"];
    const spans = await waitFor(() => {
      const s = mine();
      const deliveries = s.filter((x) => x.name.startsWith("deliver ")).length;
      const acks = s.filter((x) => x.name.startsWith("ack ")).length;
      return expected.every((n) => s.some((x) => x.name.split(" ")[0] === n)) && deliveries >= 3 && acks >= 2 ? s : undefined;
    }, 20_000);
    const named = (name: string) => spans.filter((s) => s.name === `${name} ${st}`);
    const one = (name: string): ReadableSpan => {
      const found = named(name);
      expect(found, `spans named '${name} ${st}'`).toHaveLength(1);
      return found[0]!;
    };
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
    const idOf = (s: ReadableSpan) => s.spanContext().spanId;

    // Producer: a child of the application's active span.
    const send = one("send");
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.instrumentationScope.name).toBe("junction-sdk");
    expect(parentOf(send)).toBe(root.spanContext().spanId);
    expect(send.attributes["messaging.message.id"]).toBe("order-1");

    // Gateway: produce is the send's child; validate, function and store are produce's.
    const produce = one("produce");
    expect(produce.kind).toBe(SpanKind.SERVER);
    expect(produce.instrumentationScope.name).toBe("junction-gateway");
    expect(parentOf(produce)).toBe(idOf(send));
    for (const stage of ["validate", "function", "store"]) expect(parentOf(one(stage)), stage).toBe(idOf(produce));
    expect(one("validate").attributes["messaging.junction.schema"]).toBe(`${schema}@1`);
    expect(one("store").attributes["messaging.junction.stored"]).toBe(1);

    // The stored message carries the send span's context (and the producer's tracestate), not the
    // function's forgery; the headers passed the gateway's header rules.
    expect(messageTrace(billed)).toEqual({ traceparent: traceparentOf(send), tracestate: "shop=1" });
    expect(billed.headers["x-seen"]).toBe("1");
    expect(headersProblem(messageTrace(billed) as unknown as Record<string, string>, "")).toBeUndefined();

    // Consumers: each delivery is a child of (and linked to) the send; settlements are children of their delivery.
    const deliveries = named("deliver");
    expect(deliveries).toHaveLength(3);
    const byGroup = (g: string, resentToo: boolean) =>
      deliveries.find(
        (d) => d.attributes["messaging.consumer.group.name"] === g && (d.attributes["messaging.junction.resent"] === true) === resentToo,
      )!;
    const billing = byGroup("billing", false);
    const shipping = byGroup("shipping", false);
    for (const d of [billing, shipping]) {
      expect(d.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(d)).toBe(idOf(send));
      expect(d.links.map((l) => l.context.spanId)).toEqual([idOf(send)]);
    }
    const acks = named("ack");
    expect(acks.map(parentOf)).toContain(idOf(billing));
    const term = one("term");
    expect(parentOf(term)).toBe(idOf(shipping));
    expect(term.attributes["messaging.junction.reason"]).toBe("address service down");
    expect(failed.seq).toBe(billed.seq);

    // Dead letter: in the message's trace (a child of the send), recorded on the entry.
    const dead = one("dead-letter");
    expect(parentOf(dead)).toBe(idOf(send));
    expect(dead.attributes).toMatchObject({
      "messaging.junction.dead_letter.id": dl.id,
      "messaging.junction.dead_letter.reason": "terminated",
      "messaging.consumer.group.name": "shipping",
    });
    expect(dl.headers["traceparent"]).toBe(traceparentOf(send));
    expect(dl.trace?.traceparent).toBe(traceparentOf(dead));

    // Resend: a child of the send, linked to the dead-lettering; the resent message continues from it.
    const resend = one("resend");
    expect(resend.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(resend)).toBe(idOf(send));
    expect(resend.links.map((l) => l.context.spanId)).toContain(idOf(dead));
    expect(messageTrace(resent)).toEqual({ traceparent: traceparentOf(resend), tracestate: "shop=1" });
    const again = byGroup("shipping", true);
    expect(parentOf(again)).toBe(idOf(resend));
    expect(acks.map(parentOf)).toContain(idOf(again));

    // Every span of the run is in the one trace, none went unended.
    expect(exporter.getFinishedSpans().filter((s) => s.name.endsWith(` ${st}`) && s.spanContext().traceId !== traceId)).toEqual([]);
  });

  it("traces a message the schema refuses: the dead letter joins the message's trace, linked to the request", async () => {
    const st = uniqueName();
    await client.stations.create(st);
    const schema = uniqueName("order");
    await client.schemas.create({ name: schema, type: "json", definition: JSON.stringify({ type: "object", required: ["order"] }) });
    await client.schemas.attach(schema, st);
    await expect(client.producer({ station: st }).send({ nope: 1 })).rejects.toMatchObject({ code: "SCHEMA_VALIDATION_FAILED" });
    const ofStation = (name: string) => exporter.getFinishedSpans().find((s) => s.name === `${name} ${st}`);
    const [send, produce, validate, dead] = await waitFor(() => {
      const all = ["send", "produce", "validate", "dead-letter"].map(ofStation);
      return all.every((s) => s !== undefined) ? (all as ReadableSpan[]) : undefined;
    }, 20_000);
    const traceId = send!.spanContext().traceId;
    for (const s of [produce!, validate!, dead!]) expect(s.spanContext().traceId).toBe(traceId);
    expect(send!.attributes["error.type"]).toBe("SCHEMA_VALIDATION_FAILED");
    expect(validate!.attributes["messaging.junction.rejected"]).toBe(1);
    expect(validate!.events.map((e) => e.name)).toEqual(["message refused"]);
    expect(dead!.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
    expect(dead!.links.map((l) => l.context.spanId)).toEqual([produce!.spanContext().spanId]);
    expect(dead!.attributes["messaging.junction.dead_letter.reason"]).toBe("schema");
    const [dl] = (await waitFor(async () => {
      const items = (await client.dls.list({ station: st })).items;
      return items.length > 0 ? items : undefined;
    }, 20_000)) as DeadLetter[];
    expect(dl!.headers["traceparent"]).toBe(traceparentOf(send!));
    expect(dl!.trace?.traceparent).toBe(traceparentOf(dead!));
  });

  it("an HTTP produce's traceparent parents the gateway's produce span; the messages' own contexts are links", async () => {
    const gw = await broker.addGateway({ httpPort: -1, httpHost: "127.0.0.1" });
    try {
      const st = uniqueName();
      await client.stations.create(st);
      const hex = (n: number) => randomBytes(n).toString("hex");
      const request = { traceId: hex(16), spanId: hex(8), flags: 1 };
      const message = { traceId: hex(16), spanId: hex(8), flags: 1 };
      const { user, password } = broker.users.app;
      const res = await fetch(`${gw.httpUrl}/v1/stations/${st}/messages`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
          "content-type": "application/json",
          traceparent: formatTraceparent(request),
          tracestate: "vendor=1",
        },
        body: JSON.stringify({
          messages: [{ payload: { n: 1 }, headers: { traceparent: formatTraceparent(message) } }, { payload: { n: 2 } }],
        }),
      });
      expect(res.status).toBe(200);
      const produce = await waitFor(() => exporter.getFinishedSpans().find((x) => x.name === `produce ${st}`), 20_000);
      expect(produce.spanContext().traceId).toBe(request.traceId);
      expect(produce.parentSpanContext?.spanId).toBe(request.spanId);
      expect(produce.links.map((l) => l.context.spanId)).toContain(message.spanId);
      // A traceparent that is not valid is ignored: the span starts a trace of its own.
      const bad = await fetch(`${gw.httpUrl}/v1/stations/${st}/messages`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
          "content-type": "application/json",
          traceparent: "00-zz-not-valid",
        },
        body: JSON.stringify({ messages: [{ payload: { n: 3 } }, { payload: { n: 4 } }] }),
      });
      expect(bad.status).toBe(200);
      const second = await waitFor(() => {
        const all = exporter.getFinishedSpans().filter((x) => x.name === `produce ${st}`);
        return all.length >= 2 ? all[1] : undefined;
      }, 20_000);
      expect(second.spanContext().traceId).not.toBe(request.traceId);
      expect(second.parentSpanContext).toBeUndefined();
    } finally {
      await gw.close();
    }
  });
});
