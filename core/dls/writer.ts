import type { StreamAdmin, StreamReader, StoreWriter } from "../nats/index.js";
import {
  DEFAULT_TENANT,
  DLS_STREAM,
  DLS_STREAM_SUBJECTS,
  EventKind,
  Headers,
  deadLetterId,
  scopeOf,
  traceHeadersOf,
  type DeadLetter,
} from "../protocol/index.js";
import type { DeadLetterSink } from "../pipeline/index.js";
import {
  ROOT_TRACE_CONTEXT,
  SpanKind,
  TraceAttr,
  endSpan,
  remoteContext,
  spanContextOf,
  gatewayTracing,
  spanOf,
  stationAttributes,
  traceHeadersOfSpan,
  noEvents,
  type EventPublisher,
  type Span,
  type SpanLink,
  type TraceScope,
  type Tracing,
} from "../support/index.js";
import { DEFAULT_DLS_OPTIONS } from "./options.js";
import type { DlsRetention } from "./retention.js";

/** Time within which writing the same dead-letter id again is recognised as a duplicate. */
export const DLS_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** The subject a dead letter is stored on (see the grammar: produce reasons have no group). */
export function dlsSubject(dl: Pick<DeadLetter, "tenant" | "station" | "reason" | "groups">): string {
  return scopeOf(dl.tenant ?? DEFAULT_TENANT).dls(dl.station, dl.reason, dl.groups[0]);
}

/**
 * Creates (or upgrades) the dead-letter stream. Entries carry their own TTL (the station's
 * retention), so the stream has no age limit of its own; `maxMessages` caps it.
 */
export async function ensureDlsStream(
  admin: StreamAdmin,
  replicas = 1,
  maxMessages: number = DEFAULT_DLS_OPTIONS.maxEntries,
): Promise<void> {
  await admin.ensureTtlStream({
    name: DLS_STREAM,
    subjects: [...DLS_STREAM_SUBJECTS],
    replicas,
    maxMessages,
    maxMessagesPerSubject: -1,
    duplicateWindowMs: DLS_DUPLICATE_WINDOW_MS,
  });
}

/** What {@link DeadLetterWriter} needs. */
export interface DeadLetterWriterOptions {
  writer: StoreWriter;
  /** To apply the per-station cap. */
  reader: StreamReader;
  /** The station's retention. */
  retention: (station: string, tenant: string) => Promise<DlsRetention>;
  /** Live `dead-lettered` events. @default none */
  events?: EventPublisher | undefined;
  /** Where `dead-letter` spans go. @default the global OpenTelemetry tracer provider */
  tracing?: Tracing | undefined;
}

const enc = new TextEncoder();

/** The TTL header value of an age in seconds (nats-server 2.11+: `Nats-TTL`). */
function ttl(maxAgeSeconds: number): string {
  return maxAgeSeconds === 0 ? "never" : `${maxAgeSeconds}s`;
}

/** Removes a station's oldest dead letters beyond `maxEntries`. Returns how many went. */
export function applyStationCap(reader: StreamReader, tenant: string, station: string, maxEntries: number): Promise<number> {
  return reader.purgeKeep(DLS_STREAM, scopeOf(tenant).dlsFilter({ station })!, maxEntries);
}

/**
 * Writes dead letters, idempotently: the id is the Nats-Msg-Id, so writing the same dead letter
 * again within 10 minutes stores it once. Each entry carries the station's max age as its TTL;
 * after writes the station's cap is applied (checked every ~1% of the cap, so it may overshoot
 * by about 1%).
 */
export class DeadLetterWriter implements DeadLetterSink {
  readonly #o: DeadLetterWriterOptions;
  readonly #sinceCheck: Map<string, number>;
  readonly #transform: ((dl: DeadLetter) => DeadLetter) | undefined;

  constructor(o: DeadLetterWriterOptions, transform?: (dl: DeadLetter) => DeadLetter, sinceCheck = new Map<string, number>()) {
    this.#o = o;
    this.#transform = transform;
    this.#sinceCheck = sinceCheck;
  }

  /**
   * A writer that records dead letters as resends of `from`: `resentFrom` is set and the id is
   * derived from `from` (a new id, stable for the same resend).
   */
  linkedTo(from: DeadLetter): DeadLetterWriter {
    return new DeadLetterWriter(
      this.#o,
      (dl) => ({
        ...dl,
        id: deadLetterId(dl.tenant ?? DEFAULT_TENANT, dl.reason, dl.station, "resent", from.dlsSeq ?? from.id),
        resentFrom: from.id,
      }),
      this.#sinceCheck,
    );
  }

  /**
   * Stores one dead letter; resolves true when stored (or already there). Traced as a
   * `dead-letter` span in the message's own trace (its headers' context), linked to `cause` (the
   * produce request that refused it) when given; the entry records that span's context in `trace`.
   */
  async write(input: DeadLetter, cause?: TraceScope): Promise<boolean> {
    let dl = this.#transform ? this.#transform(input) : input;
    const span = this.#startSpan(dl, cause);
    if (!span) return this.#write(dl);
    const here = traceHeadersOfSpan(span);
    if (here) dl = { ...dl, trace: here };
    try {
      const ok = await this.#write(dl);
      endSpan(span, ok ? undefined : { code: "STORE_FAILED", message: "the dead-letter write was not acknowledged" });
      return ok;
    } catch (err) {
      endSpan(span, { code: "INTERNAL", message: (err as Error).message });
      throw err;
    }
  }

  #startSpan(dl: DeadLetter, cause: TraceScope | undefined): Span | undefined {
    const tracer = cause?.tracer ?? (this.#o.tracing ?? gatewayTracing).tracer();
    if (!tracer) return undefined;
    const own = spanContextOf(traceHeadersOf(dl.headers));
    const causeSc = cause ? spanOf(cause)?.spanContext() : undefined;
    // The cause is linked unless it is the parent already (a resent message refused again).
    const links: SpanLink[] = own && causeSc && causeSc.spanId !== own.spanId ? [{ context: causeSc }] : [];
    const attributes = stationAttributes("dead-letter", dl.station, dl.tenant);
    attributes[TraceAttr.DeadLetterId] = dl.id;
    attributes[TraceAttr.DeadLetterReason] = dl.reason;
    if (dl.groups[0] !== undefined) attributes[TraceAttr.Group] = dl.groups[0];
    if (dl.deliveries !== undefined) attributes[TraceAttr.Deliveries] = dl.deliveries;
    if (dl.seq !== undefined) attributes[TraceAttr.Seq] = dl.seq;
    if (dl.error) attributes[TraceAttr.DeadLetterError] = dl.error.code;
    return tracer.startSpan(
      `dead-letter ${dl.station}`,
      { kind: SpanKind.PRODUCER, attributes, links },
      own ? remoteContext(own) : (cause?.parent ?? ROOT_TRACE_CONTEXT),
    );
  }

  async #write(dl: DeadLetter): Promise<boolean> {
    const tenant = dl.tenant ?? DEFAULT_TENANT;
    const retention = await this.#o.retention(dl.station, tenant);
    const { dlsSeq: _seq, decoded: _decoded, ...stored } = dl;
    const ack = await this.#o.writer.publish(dlsSubject(dl), {
      id: dl.id,
      headers: { [Headers.DlsReason]: dl.reason, [Headers.DlsStation]: dl.station, "Nats-TTL": ttl(retention.maxAgeSeconds) },
      payload: enc.encode(JSON.stringify(stored)),
    });
    if (!ack.ok) return false;
    if (!ack.duplicate) {
      (this.#o.events ?? noEvents).publish(
        dl.station,
        EventKind.DeadLettered,
        {
          id: dl.id,
          reason: dl.reason,
          groups: dl.groups,
          seq: dl.seq,
          dlsSeq: ack.seq,
          ...(dl.resentFrom !== undefined ? { resentFrom: dl.resentFrom } : {}),
        },
        tenant,
      );
      await this.#applyCap(tenant, dl.station, retention.maxEntries);
    }
    return true;
  }

  async #applyCap(tenant: string, station: string, maxEntries: number): Promise<void> {
    const k = `${tenant}/${station}`;
    const n = (this.#sinceCheck.get(k) ?? 0) + 1;
    if (n < Math.max(1, Math.floor(maxEntries / 100))) {
      this.#sinceCheck.set(k, n);
      return;
    }
    this.#sinceCheck.set(k, 0);
    try {
      await applyStationCap(this.#o.reader, tenant, station, maxEntries);
    } catch {
      /* the cap is applied again after the next writes */
    }
  }
}
