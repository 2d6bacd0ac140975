/**
 * OpenTelemetry in the gateway, through `@opentelemetry/api` only: the application (or the
 * process running the gateway) registers an SDK and exporter, or nothing, and then every call
 * here is a cheap no-op. Message trace context travels as W3C `traceparent` / `tracestate`
 * headers (see core/protocol/trace.ts); this module turns them into OpenTelemetry contexts and
 * links and back.
 */
import {
  ROOT_CONTEXT,
  context,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  createTraceState,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { DEFAULT_TENANT, formatTraceparent, parseTraceparent, traceHeadersOf, type TraceHeaders } from "../protocol/index.js";

export { SpanKind };
export type { Context as TraceContext, Span, SpanContext, Link as SpanLink, Tracer, TracerProvider };

/** The empty context: the parent of a span that starts a trace. */
export const ROOT_TRACE_CONTEXT: Context = ROOT_CONTEXT;

/** The instrumentation scope of the gateway's spans. */
export const GATEWAY_TRACER_NAME = "junction-gateway";

/** `messaging.system` of every Junction span. */
export const MESSAGING_SYSTEM = "junction";

/**
 * Attribute names: OpenTelemetry's messaging semantic conventions, and Junction's own under
 * `messaging.junction.*` (the conventions' namespace for a system's attributes).
 */
export const TraceAttr = {
  System: "messaging.system",
  OperationName: "messaging.operation.name",
  OperationType: "messaging.operation.type",
  Destination: "messaging.destination.name",
  BatchCount: "messaging.batch.message_count",
  MessageId: "messaging.message.id",
  BodySize: "messaging.message.body.size",
  Group: "messaging.consumer.group.name",
  ErrorType: "error.type",
  Tenant: "messaging.junction.tenant",
  Seq: "messaging.junction.seq",
  Stored: "messaging.junction.stored",
  Duplicates: "messaging.junction.duplicates",
  Rejected: "messaging.junction.rejected",
  Dropped: "messaging.junction.dropped",
  Schema: "messaging.junction.schema",
  Functions: "messaging.junction.functions",
  DeadLetterId: "messaging.junction.dead_letter.id",
  DeadLetterReason: "messaging.junction.dead_letter.reason",
  DeadLetterError: "messaging.junction.dead_letter.error_code",
  Deliveries: "messaging.junction.deliveries",
  LinksDropped: "messaging.junction.links_dropped",
} as const;

/** Most per-message links one span gets (OpenTelemetry SDKs keep 128 by default). */
export const MAX_SPAN_LINKS = 128;

/**
 * Whether tracing is on, and the tracer when it is. With the global provider (the default), the
 * check is two property reads per call until an SDK is registered: the API's proxy provider says
 * whether it has a delegate, and the tracer is cached per delegate.
 */
export class Tracing {
  readonly #name: string;
  readonly #provider: TracerProvider | undefined;
  #delegate: unknown;
  #tracer: Tracer | undefined;

  /** `provider`: a given tracer provider (always on); @default the global one (on once an SDK is registered) */
  constructor(name: string, provider?: TracerProvider) {
    this.#name = name;
    this.#provider = provider;
  }

  /** The tracer, or undefined when no OpenTelemetry SDK is registered (then nothing is traced). */
  tracer(): Tracer | undefined {
    if (this.#provider) return (this.#tracer ??= this.#provider.getTracer(this.#name));
    const p = trace.getTracerProvider() as TracerProvider & {
      getDelegate?: () => TracerProvider;
      getDelegateTracer?: (name: string) => Tracer | undefined;
    };
    // Not the API's proxy (an unusual registration): assume it traces.
    if (typeof p.getDelegate !== "function" || typeof p.getDelegateTracer !== "function") return p.getTracer(this.#name);
    const d = p.getDelegate();
    if (d !== this.#delegate) {
      this.#delegate = d;
      this.#tracer = p.getDelegateTracer(this.#name);
    }
    return this.#tracer;
  }
}

/** The gateway's tracing through the global provider. */
export const gatewayTracing: Tracing = new Tracing(GATEWAY_TRACER_NAME);

/** The span context a message or request carries, as a remote span context; undefined when none. */
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

/** A context whose parent is the carried trace context, or undefined when there is none. */
export function contextOf(h: TraceHeaders | undefined, base: Context = ROOT_CONTEXT): Context | undefined {
  const sc = spanContextOf(h);
  return sc ? trace.setSpanContext(base, sc) : undefined;
}

/** A context whose parent is a (remote) span context. */
export function remoteContext(sc: SpanContext, base: Context = ROOT_CONTEXT): Context {
  return trace.setSpanContext(base, sc);
}

/** The trace context in message headers as an OpenTelemetry context, or undefined. */
export function contextOfHeaders(headers: Readonly<Record<string, string>> | undefined): Context | undefined {
  return contextOf(traceHeadersOf(headers));
}

/** A link to a carried trace context, or undefined when there is none. */
export function linkTo(h: TraceHeaders | undefined, attributes?: Attributes): Link | undefined {
  const sc = spanContextOf(h);
  if (!sc) return undefined;
  return attributes ? { context: sc, attributes } : { context: sc };
}

/** The W3C headers of a span (to carry it on a message), or undefined when its context is not valid. */
export function traceHeadersOfSpan(span: Span): TraceHeaders | undefined {
  const sc = span.spanContext();
  if (!trace.isSpanContextValid(sc)) return undefined;
  const traceparent = formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags });
  const tracestate = sc.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The active context (the caller's span, when an in-process front runs inside one). */
export function activeContext(): Context {
  return context.active();
}

/** The context to start children of `span` in. */
export function withSpan(span: Span, base: Context = ROOT_CONTEXT): Context {
  return trace.setSpan(base, span);
}

/** Ends a span, as failed with `error` when given (its code becomes `error.type`). */
export function endSpan(span: Span, error?: { code: string; message?: string | undefined }): void {
  if (error) {
    span.setAttribute(TraceAttr.ErrorType, error.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message ?? error.code });
  }
  span.end();
}

/**
 * Links a recording span to the trace contexts of up to {@link MAX_SPAN_LINKS} messages (skipping
 * `except`, the span's parent); counts the ones left out. Called only when the span records, so
 * untraced traffic pays nothing per message.
 */
export function linkMessages(
  span: Span,
  messages: readonly { headers?: Readonly<Record<string, string>> | undefined }[],
  except?: string,
): void {
  const links: Link[] = [];
  let dropped = 0;
  for (const m of messages) {
    const h = traceHeadersOf(m.headers);
    if (!h || h.traceparent === except) continue;
    if (links.length >= MAX_SPAN_LINKS) {
      dropped++;
      continue;
    }
    const l = linkTo(h);
    if (l) links.push(l);
  }
  if (links.length > 0) span.addLinks(links);
  if (dropped > 0) span.setAttribute(TraceAttr.LinksDropped, dropped);
}

/** The attributes every gateway span about a station carries. */
export function stationAttributes(operation: string, station: string, tenant: string | undefined): Attributes {
  const a: Attributes = { [TraceAttr.System]: MESSAGING_SYSTEM, [TraceAttr.OperationName]: operation, [TraceAttr.Destination]: station };
  if (tenant !== undefined && tenant !== DEFAULT_TENANT) a[TraceAttr.Tenant] = tenant;
  return a;
}

/**
 * Where the spans of one piece of work go: the tracer, their parent and the station they are
 * about. Passed down the produce path only when tracing is on (absent = trace nothing).
 */
export interface TraceScope {
  readonly tracer: Tracer;
  /** The parent of spans started in this scope. */
  readonly parent: Context;
  /** The station: span names are `<operation> <station>`. */
  readonly station: string;
  readonly tenant?: string | undefined;
}

/** Starts a span in a scope, named `<operation> <station>`, with the station's attributes. */
export function startSpan(
  scope: TraceScope,
  operation: string,
  kind: SpanKind = SpanKind.INTERNAL,
  attributes?: Attributes,
  links?: Link[],
): Span {
  const a = stationAttributes(operation, scope.station, scope.tenant);
  if (attributes) Object.assign(a, attributes);
  return scope.tracer.startSpan(
    `${operation} ${scope.station}`,
    links ? { kind, attributes: a, links } : { kind, attributes: a },
    scope.parent,
  );
}

/** The scope for the children of `span`. */
export function scopeIn(scope: TraceScope, span: Span): TraceScope {
  return { ...scope, parent: trace.setSpan(scope.parent, span) };
}

/** The span whose children a scope starts (a stage's own span, inside the stage). */
export function spanOf(scope: TraceScope): Span | undefined {
  return trace.getSpan(scope.parent);
}

/** Records an event on a span about one message of a batch that failed (only while it records). */
export function messageFailed(span: Span, name: string, index: number, code: string): void {
  if (span.isRecording()) span.addEvent(name, { "messaging.junction.index": index, [TraceAttr.ErrorType]: code });
}
