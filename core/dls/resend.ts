import type { StreamAdmin, StreamReader, StoreMessage, StoreWriter } from "../nats/index.js";
import {
  DLS_STREAM,
  EventKind,
  Headers,
  isConsumerReason,
  isReservedHeader,
  messagePartition,
  messageSubject,
  partitionConsumer,
  type DeadLetter,
  type ErrorBody,
  type Scope,
  type TraceHeaders,
} from "../protocol/index.js";
import { recordFailures, runStages, storeMessages, type ProduceStage } from "../pipeline/index.js";
import type { StationRegistry } from "../stations/index.js";
import {
  ROOT_TRACE_CONTEXT,
  SpanKind,
  TraceAttr,
  contextOf,
  contextOfHeaders,
  endSpan,
  gatewayTracing,
  linkTo,
  stationAttributes,
  traceHeadersOfSpan,
  withSpan,
  type Clock,
  type EventPublisher,
  type Span,
  type SpanLink,
  type TraceScope,
  type Tracing,
} from "../support/index.js";
import type { DeadLetterWriter } from "./writer.js";

/** Most errors one resend reports. */
const MAX_REPORTED_ERRORS = 100;

/** What resending needs. */
export interface ResenderDeps {
  admin: StreamAdmin;
  reader: StreamReader;
  /** The gateway's store writer (resends are published on the gateway connection). */
  writer: StoreWriter;
  /** The dead-letter writer (a resend that fails again on produce becomes a new, linked dead letter). */
  dls: DeadLetterWriter;
  events: EventPublisher;
  /** The gateway's produce stages (schema, functions): a schema/function dead letter goes through them again. */
  stages: readonly ProduceStage[];
  clock: Clock;
  /** Requests of at most this many messages are stored message by message, as on produce. */
  smallBatchMessages?: number | undefined;
  /** Where `resend` spans go. @default the global OpenTelemetry tracer provider */
  tracing?: Tracing | undefined;
}

/** What a resend did. */
export interface ResendReport {
  resent: number;
  failed: number;
  errors?: { id: string; code: string; message: string }[];
}

type ResendOutcome = { ok: true } | { ok: false; error: ErrorBody; keep: boolean };

/**
 * The headers a resent message keeps: the producer's own (its trace context included), the
 * producer name, and the link. When the resend is traced, the resend span becomes the message's
 * trace context: the resent message continues the trace from there.
 */
function resendHeaders(dl: DeadLetter, span: Span | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(dl.headers)) if (!isReservedHeader(k) || k === Headers.Key) h[k] = v;
  if (dl.producer) h[Headers.Producer] = dl.producer;
  h[Headers.ResentFrom] = dl.id;
  const here = span ? traceHeadersOfSpan(span) : undefined;
  if (here) {
    h[Headers.Traceparent] = here.traceparent;
    if (here.tracestate) h[Headers.Tracestate] = here.tracestate;
    else delete h[Headers.Tracestate];
  }
  return h;
}

/** The partition a consumer dead letter failed in (recorded from its consumer), else its key's. */
function resendPartition(dl: DeadLetter, partitions: number): number {
  const p = dl.error?.details?.["partition"];
  if (typeof p === "number" && Number.isInteger(p) && p >= 0 && p < partitions) return p;
  return messagePartition(dl.headers[Headers.Key], dl.headers[Headers.NatsMsgId], partitions);
}

/**
 * Resends dead letters. Poison and terminated ones go back only to the group(s) that failed them
 * (on the group's resend subject); schema and function ones go through today's produce stages
 * again, and a new failure is recorded as a dead letter linked to the one resent. A resent entry
 * leaves the DLS.
 */
export class Resender {
  readonly #d: ResenderDeps;

  constructor(d: ResenderDeps) {
    this.#d = d;
  }

  /**
   * Starts the `resend` span of a dead letter: a child of the message's own trace context (the
   * message's story stays one trace), linked to the dead-lettering (`dl.trace`) and to the
   * request that asked for the resend. Without a message context, the request is the parent.
   */
  #startSpan(scope: Scope, dl: DeadLetter, request: TraceHeaders | undefined): { span: Span; trace: TraceScope } | undefined {
    const tracer = (this.#d.tracing ?? gatewayTracing).tracer();
    if (!tracer) return undefined;
    const own = contextOfHeaders(dl.headers);
    const links: SpanLink[] = [];
    const toDeadLetter = linkTo(dl.trace, { [TraceAttr.DeadLetterId]: dl.id });
    if (toDeadLetter) links.push(toDeadLetter);
    const toRequest = own ? linkTo(request) : undefined;
    if (toRequest) links.push(toRequest);
    const attributes = stationAttributes("resend", dl.station, scope.tenant);
    attributes[TraceAttr.DeadLetterId] = dl.id;
    attributes[TraceAttr.DeadLetterReason] = dl.reason;
    if (dl.groups.length > 0) attributes[TraceAttr.Group] = dl.groups.join(",");
    const span = tracer.startSpan(
      `resend ${dl.station}`,
      { kind: SpanKind.PRODUCER, attributes, links },
      own ?? contextOf(request) ?? ROOT_TRACE_CONTEXT,
    );
    return { span, trace: { tracer, parent: withSpan(span), station: dl.station, tenant: scope.tenant } };
  }

  async #traced(scope: Scope, stations: StationRegistry, dl: DeadLetter, request: TraceHeaders | undefined): Promise<ResendOutcome> {
    const t = this.#startSpan(scope, dl, request);
    if (!t) return this.#one(scope, stations, dl, undefined);
    try {
      const out = await this.#one(scope, stations, dl, t);
      endSpan(t.span, out.ok ? undefined : out.error);
      return out;
    } catch (err) {
      endSpan(t.span, { code: "INTERNAL", message: (err as Error).message });
      throw err;
    }
  }

  async #one(
    scope: Scope,
    stations: StationRegistry,
    dl: DeadLetter,
    traced: { span: Span; trace: TraceScope } | undefined,
  ): Promise<ResendOutcome> {
    const span = traced?.span;
    const trace = traced?.trace;
    const rec = await stations.fresh(dl.station);
    if (!rec) return { ok: false, keep: true, error: { code: "STATION_NOT_FOUND", message: `station '${dl.station}' not found` } };
    const payload = Buffer.from(dl.payload, "base64");
    if (isConsumerReason(dl.reason)) {
      if (dl.groups.length === 0)
        return { ok: false, keep: true, error: { code: "INVALID_ARGUMENT", message: `dead letter '${dl.id}' names no group` } };
      const partitions = rec.config.partitions ?? 1;
      for (const g of dl.groups) {
        if (!(await this.#d.admin.groupState(scope, dl.station, g, partitions))) {
          return {
            ok: false,
            keep: true,
            error: { code: "GROUP_NOT_FOUND", message: `consumer group '${g}' not found on '${dl.station}'` },
          };
        }
      }
      // Each failing group gets it on its own resend subject; no other group sees it again.
      for (const g of dl.groups) {
        const msg: StoreMessage = {
          id: dl.groups.length > 1 ? `resend:${dl.id}:${g}` : `resend:${dl.id}`,
          headers: resendHeaders(dl, span),
          payload,
        };
        // On a partitioned station, to the consumer of the partition the message failed in, so it
        // is ordered again with its key's other messages.
        const consumer = partitions > 1 ? partitionConsumer(g, resendPartition(dl, partitions)) : g;
        const ack = await this.#d.writer.publish(scope.stationResend(dl.station, consumer), msg);
        if (!ack.ok) return { ok: false, keep: true, error: { code: "STORE_FAILED", message: ack.description } };
      }
      return { ok: true };
    }
    const input = [{ index: 0, msg: { id: `resend:${dl.id}`, headers: resendHeaders(dl, span), payload } }];
    const ctx = { scope, station: rec, producer: dl.producer, trace };
    const { survivors, failed } = await runStages(this.#d.stages, ctx, input);
    const failure = failed.get(0);
    if (failure) {
      await recordFailures(this.#d.dls.linkedTo(dl), ctx, failed, this.#d.clock);
      return { ok: false, keep: false, error: failure.error };
    }
    const partitions = rec.config.partitions ?? 1;
    const acks = await storeMessages(
      this.#d.writer,
      scope.stationMsg(dl.station),
      survivors.map((s) =>
        partitions > 1
          ? { ...s.msg, subject: messageSubject(scope, dl.station, partitions, s.msg.headers?.[Headers.Key], s.msg.id) }
          : s.msg,
      ),
      { smallBatchMessages: this.#d.smallBatchMessages, groups: survivors.map((s) => s.index), trace },
    );
    const bad = acks.find((a) => !a.ok);
    if (bad && !bad.ok) return { ok: false, keep: true, error: { code: bad.code, message: bad.description } };
    return { ok: true };
  }

  /**
   * Resends each target; reports counts and the first errors. `request`: the trace context of
   * the request that asked (each resend span links to it).
   */
  async resend(
    scope: Scope,
    stations: StationRegistry,
    targets: readonly DeadLetter[],
    request?: TraceHeaders | undefined,
  ): Promise<ResendReport> {
    let resent = 0;
    let failed = 0;
    const errors: { id: string; code: string; message: string }[] = [];
    for (const dl of targets) {
      let out: ResendOutcome;
      try {
        out = await this.#traced(scope, stations, dl, request);
      } catch (err) {
        out = { ok: false, keep: true, error: { code: "INTERNAL", message: (err as Error).message } };
      }
      // A resent entry leaves the DLS; one that failed again on produce was replaced by a linked entry.
      if (out.ok || !out.keep) await this.#d.reader.delete(DLS_STREAM, dl.dlsSeq!);
      if (out.ok) {
        resent++;
        this.#d.events.publish(
          dl.station,
          EventKind.Resent,
          { id: dl.id, reason: dl.reason, groups: dl.groups, seq: dl.seq },
          scope.tenant,
        );
      } else {
        failed++;
        if (errors.length < MAX_REPORTED_ERRORS) errors.push({ id: dl.id, code: out.error.code, message: out.error.message });
      }
    }
    return errors.length > 0 ? { resent, failed, errors } : { resent, failed };
  }
}
