/**
 * OpenTelemetry in the SDK, through `@opentelemetry/api` only: spans for send (producer), deliver,
 * ack, nak and term (consumer), and the W3C `traceparent` / `tracestate` headers that carry a
 * message's creation context from the producer to its consumers. Without a registered
 * OpenTelemetry SDK (or a given tracer provider) nothing is traced and the only work per message
 * is one cached check.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  createTraceState,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { DeadLetterReason, formatTraceparent, parseTraceparent, traceHeadersOf, type TraceHeaders } from "../core/protocol/index.js";

/** The instrumentation scope of the SDK's spans. */
export const SDK_TRACER_NAME = "junction-sdk";

const SYSTEM = "junction";

/** Whether tracing is on (a tracer provider is registered or given), and the tracer when it is. */
export class SdkTracing {
  readonly #provider: TracerProvider | undefined;
  #delegate: unknown;
  #tracer: Tracer | undefined;

  /** `provider`: a given tracer provider (always on); @default the global one (on once an SDK is registered) */
  constructor(provider?: TracerProvider) {
    this.#provider = provider;
  }

  /** The tracer, or undefined when nothing is traced. Cached per registered provider. */
  tracer(): Tracer | undefined {
    if (this.#provider) return (this.#tracer ??= this.#provider.getTracer(SDK_TRACER_NAME));
    const p = trace.getTracerProvider() as TracerProvider & {
      getDelegate?: () => TracerProvider;
      getDelegateTracer?: (name: string) => Tracer | undefined;
    };
    if (typeof p.getDelegate !== "function" || typeof p.getDelegateTracer !== "function") return p.getTracer(SDK_TRACER_NAME);
    const d = p.getDelegate();
    if (d !== this.#delegate) {
      this.#delegate = d;
      this.#tracer = p.getDelegateTracer(SDK_TRACER_NAME);
    }
    return this.#tracer;
  }
}

/** A carried trace context as a remote span context; undefined when there is none. */
export function spanContextOf(h: TraceHeaders | undefined): SpanContext | undefined {
  const t = h ? parseTraceparent(h.traceparent) : undefined;
  if (!t) return undefined;
  const sc: SpanContext = { traceId: t.traceId, spanId: t.spanId, traceFlags: t.flags & TraceFlags.SAMPLED, isRemote: true };
  if (h!.tracestate) {
    try {
      sc.traceState = createTraceState(h!.tracestate);
    } catch {
      /* an unreadable tracestate is dropped, as W3C allows */
    }
  }
  return sc;
}

/** A context whose parent is a message's trace context, or undefined when it carries none. */
export function contextOfMessage(t: TraceHeaders | undefined): Context | undefined {
  const sc = spanContextOf(t);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : undefined;
}

/** The W3C headers of a span, or undefined when its context is not valid. */
export function traceHeadersOfSpan(span: Span): TraceHeaders | undefined {
  const sc = span.spanContext();
  if (!trace.isSpanContextValid(sc)) return undefined;
  const traceparent = formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags });
  const tracestate = sc.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

function fail(span: Span, code: string, message: string): void {
  span.setAttribute("error.type", code);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

function base(operation: string, type: string, station: string): Attributes {
  return {
    "messaging.system": SYSTEM,
    "messaging.operation.name": operation,
    "messaging.operation.type": type,
    "messaging.destination.name": station,
  };
}

// ---- producer -----------------------------------------------------------------------------------

/** A message's `send` span and the headers it is sent with. */
export interface SendTrace {
  /** Undefined when tracing is off (only an explicit context was copied into the headers). */
  span: Span | undefined;
  headers: Record<string, string> | undefined;
}

/**
 * Starts the `send <station>` span of one message (kind PRODUCER; it lasts until the store
 * acknowledged the message or it failed) and gives the headers to send it with.
 *
 * - A trace context given with the message (`explicit`, else a `traceparent` header) is the
 *   message's creation context: it is sent as it is, never replaced, and the span is its child.
 * - Otherwise the span is a child of the active context, and its own context is injected as the
 *   message's `traceparent` / `tracestate`: consumers continue from it.
 *
 * Without a tracer (tracing off) only an explicit context is copied into the headers.
 */
export function startSend(
  tracer: Tracer | undefined,
  station: string,
  id: string,
  bodySize: number,
  headers: Record<string, string> | undefined,
  explicit: TraceHeaders | undefined,
): SendTrace | undefined {
  const valid = explicit && parseTraceparent(explicit.traceparent) ? explicit : undefined;
  if (!tracer) return valid ? { span: undefined, headers: withTrace(headers, valid) } : undefined;
  const given = valid ?? traceHeadersOf(headers);
  const givenSc = given ? spanContextOf(given) : undefined;
  const parent = givenSc ? trace.setSpanContext(ROOT_CONTEXT, givenSc) : context.active();
  const attributes = base("send", "send", station);
  attributes["messaging.message.id"] = id;
  attributes["messaging.message.body.size"] = bodySize;
  const span = tracer.startSpan(`send ${station}`, { kind: SpanKind.PRODUCER, attributes }, parent);
  if (given) return { span, headers: withTrace(headers, given) };
  const own = traceHeadersOfSpan(span);
  return { span, headers: own ? withTrace(headers, own) : headers };
}

function withTrace(headers: Record<string, string> | undefined, t: TraceHeaders): Record<string, string> {
  const h: Record<string, string> = { ...headers, traceparent: t.traceparent };
  if (t.tracestate) h["tracestate"] = t.tracestate;
  else delete h["tracestate"];
  return h;
}

/** Ends a `send` span with the message's outcome. */
export function endSend(
  span: Span,
  outcome: { seq: number; duplicate: boolean; dropped?: boolean | undefined } | { code: string; message: string },
): void {
  if ("code" in outcome) fail(span, outcome.code, outcome.message);
  else {
    span.setAttribute("messaging.junction.seq", outcome.seq);
    if (outcome.duplicate) span.setAttribute("messaging.junction.duplicate", true);
    if (outcome.dropped) span.setAttribute("messaging.junction.dropped", true);
  }
  span.end();
}

/** Records on a `send` span that its request is sent again. */
export function retrySend(span: Span, code: string | undefined): void {
  if (span.isRecording()) span.addEvent("retry", code ? { "error.type": code } : undefined);
}

// ---- consumer -----------------------------------------------------------------------------------

/** How a delivery was settled. */
export type Settlement = "ack" | "nak" | "term";

/** What consumer tracing needs of a delivered message (the consumer's `Message`). */
export interface DeliveredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly deliveryCount: number;
  readonly headers: Record<string, string>;
  ack(): void;
  ackAndWait(): Promise<void>;
  nak(delayMs?: number): void;
  term(reason?: string): void;
  deadLetter(reason: string): void;
}

/**
 * One delivery's `deliver <station>` span (kind CONSUMER, operation type `process`): a child of
 * the message's trace context, and linked to it. It starts when the message is handed to the
 * application and ends when the message is settled (ack, nak, term), when the next message is
 * handed out, or when the consumer closes.
 */
class Delivery {
  readonly span: Span;
  readonly context: Context;
  readonly #station: string;
  readonly #group: string;
  readonly #tracer: Tracer;
  #open = true;

  constructor(tracer: Tracer, station: string, group: string, span: Span, ctx: Context) {
    this.#tracer = tracer;
    this.#station = station;
    this.#group = group;
    this.span = span;
    this.context = ctx;
  }

  /** Starts an `ack|nak|term <station>` span (a child of the delivery; kind CLIENT) and ends the delivery. */
  settle(how: Settlement, extra?: Attributes): Span {
    const attributes = base(how, "settle", this.#station);
    attributes["messaging.consumer.group.name"] = this.#group;
    if (extra) Object.assign(attributes, extra);
    const s = this.#tracer.startSpan(`${how} ${this.#station}`, { kind: SpanKind.CLIENT, attributes }, this.context);
    this.end();
    return s;
  }

  /** Ends the delivery span (idempotent). */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    this.span.end();
  }
}

/** The delivery of each traced message (for {@link messageContext}). */
const deliveries = new WeakMap<object, Delivery>();

/**
 * The trace context a delivered message carries (W3C `traceparent` / `tracestate` as the
 * producer, or a resend, set them), or undefined.
 */
export function messageTrace(msg: { readonly headers: Record<string, string> }): TraceHeaders | undefined {
  return traceHeadersOf(msg.headers);
}

/**
 * The OpenTelemetry context to process a delivered message in (`context.with(messageContext(m), …)`):
 * its `deliver` span while tracing is on, else the message's own trace context, else the empty context.
 */
export function messageContext(msg: { readonly headers: Record<string, string> }): Context {
  return deliveries.get(msg)?.context ?? contextOfMessage(messageTrace(msg)) ?? ROOT_CONTEXT;
}

/** The reason attributes of a term / deadLetter settlement. */
function termAttributes(reason: string | undefined, deadLetter: boolean): Attributes {
  const a: Attributes = {};
  if (reason) a["messaging.junction.reason"] = reason;
  if (deadLetter) a["messaging.junction.dead_letter.reason"] = DeadLetterReason.Terminated;
  return a;
}

/**
 * The deliveries of one consumer. {@link deliver} is the consumer's only hook: it starts a
 * message's span and, while tracing is on, wraps that one message's settle methods so each
 * settlement is a span. Untraced messages are returned untouched.
 */
export class ConsumerTracing {
  readonly #tracing: SdkTracing;
  readonly #station: string;
  readonly #group: string;
  #last: Delivery | undefined;

  constructor(station: string, group: string, provider?: TracerProvider) {
    this.#tracing = new SdkTracing(provider);
    this.#station = station;
    this.#group = group;
  }

  /**
   * Traces a message being handed to the application and returns it. The previous delivery, if
   * still open, ends: the application has come back for more.
   */
  deliver<M extends DeliveredMessage>(msg: M): M {
    if (this.#last) {
      this.#last.end();
      this.#last = undefined;
    }
    const tracer = this.#tracing.tracer();
    if (!tracer) return msg;
    const sc = spanContextOf(traceHeadersOf(msg.headers));
    const parent = sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : context.active();
    const attributes = base("deliver", "process", this.#station);
    attributes["messaging.consumer.group.name"] = this.#group;
    attributes["messaging.junction.seq"] = msg.seq;
    attributes["messaging.junction.delivery_count"] = msg.deliveryCount;
    if (msg.subject.includes(".resend.")) attributes["messaging.junction.resent"] = true;
    const span = tracer.startSpan(
      `deliver ${this.#station}`,
      sc ? { kind: SpanKind.CONSUMER, attributes, links: [{ context: sc }] } : { kind: SpanKind.CONSUMER, attributes },
      parent,
    );
    const d = new Delivery(tracer, this.#station, this.#group, span, trace.setSpan(parent, span));
    this.#last = d;
    deliveries.set(msg, d);
    // Own properties shadow the class's methods on this one instance: the consumer stays free of
    // tracing code, and untraced messages keep the plain methods.
    const { ack, ackAndWait, nak, term, deadLetter } = msg;
    msg.ack = () => {
      d.settle("ack").end();
      ack.call(msg);
    };
    msg.ackAndWait = async () => {
      const s = d.settle("ack");
      try {
        await ackAndWait.call(msg);
      } catch (err) {
        fail(s, (err as { code?: string }).code ?? "INTERNAL", (err as Error).message);
        throw err;
      } finally {
        s.end();
      }
    };
    msg.nak = (delayMs?: number) => {
      d.settle("nak", delayMs !== undefined ? { "messaging.junction.delay_ms": delayMs } : undefined).end();
      nak.call(msg, delayMs);
    };
    msg.term = (reason?: string) => {
      d.settle("term", termAttributes(reason, false)).end();
      term.call(msg, reason);
    };
    msg.deadLetter = (reason: string) => {
      d.settle("term", termAttributes(reason, true)).end();
      deadLetter.call(msg, reason);
    };
    return msg;
  }

  /**
   * Runs an onMessage handler for a message just given to {@link deliver}, with its delivery
   * span active, then ends the delivery: the span covers the handler.
   */
  run<T>(msg: DeliveredMessage, fn: () => T): T {
    const d = deliveries.get(msg);
    if (!d) return fn();
    try {
      return context.with(d.context, fn);
    } finally {
      d.end();
    }
  }

  /** Ends the open delivery (the consumer closes). */
  close(): void {
    this.#last?.end();
    this.#last = undefined;
  }
}
