import { ensureTtlStream, purgeKeep, type JetStreamManager, type StoreWriter } from "../nats/index.js";
import { DLS_STREAM, DeadLetterReason, EventKind, subjects, type DeadLetter } from "../protocol/index.js";
import { noEvents, type EventPublisher } from "./events.js";
import { DEFAULT_DLS_OPTIONS } from "./options.js";
import type { DlsRetention } from "./retention.js";

export { DeadLetterReason };
export type { DeadLetter };

/** Default DLS retention: 7 days, at most 100,000 entries per station and 1,000,000 in all. */
export const DEFAULT_DLS_RETENTION = {
  maxAgeSeconds: DEFAULT_DLS_OPTIONS.maxAgeSeconds,
  maxEntriesPerStation: DEFAULT_DLS_OPTIONS.maxEntriesPerStation,
  maxMessages: DEFAULT_DLS_OPTIONS.maxEntries,
} as const;

/** Time within which writing the same dead-letter id again is recognised as a duplicate. */
export const DLS_DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/**
 * The subject of a dead letter: `jn.dls.<station>.<reason>` for produce failures (schema,
 * function) and `jn.dls.<station>.<reason>.<group>` for consumer failures (poison, terminated),
 * so counts per station, reason and group come from the stream's subject counts.
 */
export function dlsSubject(dl: Pick<DeadLetter, "station" | "reason" | "groups">): string {
  const base = subjects.dls(dl.station, dl.reason);
  const g = dl.groups[0];
  return g !== undefined && (dl.reason === DeadLetterReason.Poison || dl.reason === DeadLetterReason.Terminated) ? `${base}.${g}` : base;
}

/**
 * Creates (or upgrades) the dead-letter stream. Entries carry their own TTL (the station's
 * retention), so the stream has no age limit of its own; `maxMessages` caps it.
 */
export async function ensureDlsStream(
  jsm: JetStreamManager,
  replicas = 1,
  maxMessages: number = DEFAULT_DLS_RETENTION.maxMessages,
): Promise<void> {
  await ensureTtlStream(jsm, {
    name: DLS_STREAM,
    subjects: ["jn.dls.>"],
    replicas,
    maxMessages,
    maxMessagesPerSubject: -1,
    duplicateWindowMs: DLS_DUPLICATE_WINDOW_MS,
  });
}

/** Options of {@link DeadLetterWriter}. */
export interface DeadLetterWriterOptions {
  /** The station's retention; @default 7 days, 100,000 entries */
  retention?: (station: string) => Promise<DlsRetention>;
  /** Needed to apply the per-station cap. */
  jsm?: JetStreamManager;
  /** Live `dead-lettered` events. @default none */
  events?: EventPublisher;
}

const enc = new TextEncoder();

/** The TTL header value of an age in seconds (nats-server 2.11+: `Nats-TTL`). */
function ttl(maxAgeSeconds: number): string {
  return maxAgeSeconds === 0 ? "never" : `${maxAgeSeconds}s`;
}

/**
 * Writes dead letters, idempotently: the id is the Nats-Msg-Id, so writing the same dead letter
 * again within 10 minutes stores it once. Each entry carries the station's max age as its TTL;
 * after writes the station's cap is applied (checked every ~1% of the cap, so it may overshoot
 * by about 1%).
 */
export class DeadLetterWriter {
  readonly #writer: StoreWriter;
  readonly #o: DeadLetterWriterOptions;
  readonly #sinceCheck = new Map<string, number>();
  readonly #transform: ((dl: DeadLetter) => DeadLetter) | undefined;

  constructor(writer: StoreWriter, o: DeadLetterWriterOptions = {}, transform?: (dl: DeadLetter) => DeadLetter) {
    this.#writer = writer;
    this.#o = o;
    this.#transform = transform;
  }

  /**
   * A writer that records dead letters as resends of `from`: `resentFrom` is set and the id is
   * derived from `from` (a new id, stable for the same resend).
   */
  linkedTo(from: DeadLetter): DeadLetterWriter {
    return new DeadLetterWriter(this.#writer, this.#o, (dl) => ({
      ...dl,
      id: `${dl.reason}:${dl.station}:resent:${from.dlsSeq ?? from.id}`,
      resentFrom: from.id,
    }));
  }

  /** Stores one dead letter; resolves true when stored (or already there). */
  async write(input: DeadLetter): Promise<boolean> {
    const dl = this.#transform ? this.#transform(input) : input;
    const retention = this.#o.retention
      ? await this.#o.retention(dl.station)
      : { maxAgeSeconds: DEFAULT_DLS_RETENTION.maxAgeSeconds, maxEntries: DEFAULT_DLS_RETENTION.maxEntriesPerStation };
    const { dlsSeq: _seq, decoded: _decoded, ...stored } = dl;
    const ack = await this.#writer.publish(dlsSubject(dl), {
      id: dl.id,
      headers: { "Jn-Dls-Reason": dl.reason, "Jn-Dls-Station": dl.station, "Nats-TTL": ttl(retention.maxAgeSeconds) },
      payload: enc.encode(JSON.stringify(stored)),
    });
    if (!ack.ok) return false;
    if (!ack.duplicate) {
      (this.#o.events ?? noEvents).publish(dl.station, EventKind.DeadLettered, {
        id: dl.id,
        reason: dl.reason,
        groups: dl.groups,
        seq: dl.seq,
        dlsSeq: ack.seq,
        ...(dl.resentFrom !== undefined ? { resentFrom: dl.resentFrom } : {}),
      });
      await this.#applyCap(dl.station, retention.maxEntries);
    }
    return true;
  }

  async #applyCap(station: string, maxEntries: number): Promise<void> {
    if (!this.#o.jsm) return;
    const n = (this.#sinceCheck.get(station) ?? 0) + 1;
    if (n < Math.max(1, Math.floor(maxEntries / 100))) {
      this.#sinceCheck.set(station, n);
      return;
    }
    this.#sinceCheck.set(station, 0);
    try {
      await applyStationCap(this.#o.jsm, station, maxEntries);
    } catch {
      /* the cap is applied again after the next writes */
    }
  }
}

/** Removes a station's oldest dead letters beyond `maxEntries`. Returns how many went. */
export function applyStationCap(jsm: JetStreamManager, station: string, maxEntries: number): Promise<number> {
  return purgeKeep(jsm, DLS_STREAM, `jn.dls.${station}.>`, maxEntries);
}

/** Base64 of bytes. */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}
