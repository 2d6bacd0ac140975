import { describe, expect, it } from "vitest";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { ConsumerTracing, SdkTracing, endSend, messageContext, startSend } from "./tracing.js";
import { trace } from "@opentelemetry/api";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function recorded() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return { exporter, provider, tracer: new SdkTracing(provider).tracer() };
}

function delivered(headers: Record<string, string>) {
  const calls: string[] = [];
  return {
    calls,
    msg: {
      seq: 7,
      subject: "jn.st.orders.msg",
      deliveryCount: 1,
      headers,
      ack: () => void calls.push("ack"),
      ackAndWait: () => Promise.resolve(void calls.push("ackAndWait")),
      nak: (d?: number) => void calls.push(`nak ${d}`),
      term: (r?: string) => void calls.push(`term ${r}`),
      deadLetter: (r: string) => void calls.push(`deadLetter ${r}`),
    },
  };
}

describe("send", () => {
  it("is off without a registered SDK: nothing traced, headers untouched", () => {
    expect(new SdkTracing().tracer()).toBeUndefined();
    expect(startSend(undefined, "orders", "m-1", 3, { a: "1" }, undefined)).toBeUndefined();
  });

  it("copies a given trace context into the headers even when off", () => {
    expect(startSend(undefined, "orders", "m-1", 3, { a: "1", tracestate: "old=1" }, { traceparent: TP })).toEqual({
      span: undefined,
      headers: { a: "1", traceparent: TP },
    });
  });

  it("injects the send span's own context, or keeps the message's and becomes its child", () => {
    const { exporter, tracer } = recorded();
    const own = startSend(tracer, "orders", "m-1", 3, undefined, undefined)!;
    const sc = own.span!.spanContext();
    expect(own.headers).toEqual({ traceparent: `00-${sc.traceId}-${sc.spanId}-01` });
    endSend(own.span!, { seq: 1, duplicate: false });
    const kept = startSend(tracer, "orders", "m-2", 3, { traceparent: TP, tracestate: "shop=1" }, undefined)!;
    expect(kept.headers).toEqual({ traceparent: TP, tracestate: "shop=1" });
    endSend(kept.span!, { code: "STORE_FAILED", message: "no" });
    const [a, b] = exporter.getFinishedSpans();
    expect(a!.name).toBe("send orders");
    expect(a!.attributes["messaging.junction.seq"]).toBe(1);
    expect(b!.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(b!.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(b!.attributes["error.type"]).toBe("STORE_FAILED");
  });
});

describe("consumer", () => {
  it("leaves a message untouched when off", () => {
    const { msg } = delivered({ traceparent: TP });
    const ack = msg.ack;
    expect(new ConsumerTracing("orders", "g").deliver(msg).ack).toBe(ack);
    expect(trace.getSpanContext(messageContext(msg))?.spanId).toBe("00f067aa0ba902b7");
  });

  it("traces a delivery in the message's trace and each settlement as its child, then settles", async () => {
    const { exporter, provider } = recorded();
    const ct = new ConsumerTracing("orders", "g", provider);
    const one = delivered({ traceparent: TP });
    ct.deliver(one.msg).term("bad input");
    const two = delivered({});
    await ct.deliver(two.msg).ackAndWait();
    const three = delivered({});
    ct.deliver(three.msg);
    ct.close();
    expect(one.calls).toEqual(["term bad input"]);
    expect(two.calls).toEqual(["ackAndWait"]);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(["deliver orders", "term orders", "deliver orders", "ack orders", "deliver orders"]);
    const [deliver, term] = spans;
    expect(deliver!.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(deliver!.links.map((l) => l.context.spanId)).toEqual(["00f067aa0ba902b7"]);
    expect(deliver!.attributes).toMatchObject({ "messaging.consumer.group.name": "g", "messaging.junction.seq": 7 });
    expect(term!.parentSpanContext?.spanId).toBe(deliver!.spanContext().spanId);
    expect(term!.attributes["messaging.junction.reason"]).toBe("bad input");
    expect(trace.getSpanContext(messageContext(three.msg))?.spanId).toBe(spans[4]!.spanContext().spanId);
  });
});
