import { ensureLimitsStream, type JetStreamManager, type StoreWriter } from "../nats/index.js";
import { DLS_STREAM, DeadLetterReason, subjects, type DeadLetter } from "../protocol/index.js";

export { DeadLetterReason };
export type { DeadLetter };

/** Default DLS retention: 7 days, at most 1,000,000 entries. */
export const DEFAULT_DLS_RETENTION = { maxAgeSeconds: 7 * 24 * 3600, maxMessages: 1_000_000 } as const;

/** Creates (or upgrades) the dead-letter stream. */
export async function ensureDlsStream(jsm: JetStreamManager, replicas = 1): Promise<void> {
  await ensureLimitsStream(jsm, {
    name: DLS_STREAM,
    subjects: ["jn.dls.>"],
    replicas,
    maxAgeSeconds: DEFAULT_DLS_RETENTION.maxAgeSeconds,
    maxMessages: DEFAULT_DLS_RETENTION.maxMessages,
    duplicateWindowMs: 10 * 60 * 1000,
  });
}

const enc = new TextEncoder();

/** Writes dead letters (idempotently: the id is the Nats-Msg-Id). */
export class DeadLetterWriter {
  readonly #writer: StoreWriter;
  constructor(writer: StoreWriter) {
    this.#writer = writer;
  }

  /** Stores one dead letter; resolves true when stored (or already there). */
  async write(dl: DeadLetter): Promise<boolean> {
    const ack = await this.#writer.publish(subjects.dls(dl.station, dl.reason), {
      id: dl.id,
      headers: { "Jn-Dls-Reason": dl.reason, "Jn-Dls-Station": dl.station },
      payload: enc.encode(JSON.stringify(dl)),
    });
    return ack.ok;
  }
}

/** Base64 of bytes. */
export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}
