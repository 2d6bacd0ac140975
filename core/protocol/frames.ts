import { JunctionError, type ErrorBody } from "./errors.js";

/**
 * The batch frame: many messages in one produce request (header `Jn-Batch: 1`).
 *
 * ```
 * "JNB1"                      4 bytes magic
 * count                        u32 big-endian
 * count times:
 *   idLen   u16, id            UTF-8 (the producer's message id; may be empty)
 *   hdrLen  u32, headers       UTF-8 JSON object of string -> string (0 bytes = none)
 *   dataLen u32, payload       raw bytes
 * ```
 */
export const BATCH_MAGIC = "JNB1";

/** One message of a produce request. */
export interface ProduceMessage {
  /** The producer's message id, used for de-duplication. Empty = none. */
  id: string;
  headers: Record<string, string> | undefined;
  payload: Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });
const MAGIC_BYTES = enc.encode(BATCH_MAGIC);

/** Encodes messages as a batch frame. */
export function encodeBatch(messages: readonly ProduceMessage[]): Uint8Array {
  const parts: { id: Uint8Array; hdr: Uint8Array; data: Uint8Array }[] = [];
  let size = 8;
  for (const m of messages) {
    const id = enc.encode(m.id);
    if (id.length > 0xffff) throw new JunctionError("INVALID_ARGUMENT", "message id longer than 65535 bytes");
    const hdr = m.headers && Object.keys(m.headers).length > 0 ? enc.encode(JSON.stringify(m.headers)) : new Uint8Array(0);
    parts.push({ id, hdr, data: m.payload });
    size += 2 + id.length + 4 + hdr.length + 4 + m.payload.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(enc.encode(BATCH_MAGIC), 0);
  view.setUint32(4, messages.length);
  let o = 8;
  for (const p of parts) {
    view.setUint16(o, p.id.length);
    o += 2;
    out.set(p.id, o);
    o += p.id.length;
    view.setUint32(o, p.hdr.length);
    o += 4;
    out.set(p.hdr, o);
    o += p.hdr.length;
    view.setUint32(o, p.data.length);
    o += 4;
    out.set(p.data, o);
    o += p.data.length;
  }
  return out;
}

function bad(message: string, offset: number): JunctionError {
  return new JunctionError("INVALID_FRAME", `malformed batch frame: ${message} at byte ${offset}`, { details: { offset } });
}

/**
 * Decodes a batch frame. Payloads are views into `frame` (no copy).
 * Throws `INVALID_FRAME` saying what is wrong and where.
 */
export function decodeBatch(frame: Uint8Array, maxMessages = 100_000): ProduceMessage[] {
  if (frame.length < 8) throw bad("shorter than its 8-byte header", 0);
  // Compared as bytes: the first four bytes of a hostile frame need not be UTF-8.
  for (let i = 0; i < 4; i++) if (frame[i] !== MAGIC_BYTES[i]) throw bad(`magic is not ${BATCH_MAGIC}`, 0);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = view.getUint32(4);
  if (count === 0) throw bad("a batch must hold at least one message (count is 0)", 4);
  if (count > maxMessages) {
    throw new JunctionError("BATCH_TOO_LARGE", `batch holds ${count} messages; at most ${maxMessages} allowed`, {
      details: { count, max: maxMessages },
    });
  }
  const out: ProduceMessage[] = [];
  let o = 8;
  const need = (n: number, what: string) => {
    if (o + n > frame.length) throw bad(`${what} runs past the end (message ${out.length})`, o);
  };
  for (let i = 0; i < count; i++) {
    need(2, "id length");
    const idLen = view.getUint16(o);
    o += 2;
    need(idLen, "id");
    let id: string;
    try {
      id = dec.decode(frame.subarray(o, o + idLen));
    } catch {
      throw bad(`id is not UTF-8 (message ${i})`, o);
    }
    o += idLen;
    need(4, "headers length");
    const hdrLen = view.getUint32(o);
    o += 4;
    need(hdrLen, "headers");
    let headers: Record<string, string> | undefined;
    if (hdrLen > 0) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(dec.decode(frame.subarray(o, o + hdrLen)));
      } catch {
        throw bad(`headers are not a JSON object (message ${i})`, o);
      }
      if (!isStringRecord(parsed)) throw bad(`headers must map strings to strings (message ${i})`, o);
      headers = parsed;
    }
    o += hdrLen;
    need(4, "payload length");
    const dataLen = view.getUint32(o);
    o += 4;
    need(dataLen, "payload");
    out.push({ id, headers, payload: frame.subarray(o, o + dataLen) });
    o += dataLen;
  }
  if (o !== frame.length) throw bad(`${frame.length - o} trailing bytes after ${count} messages`, o);
  return out;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  for (const x of Object.values(v)) if (typeof x !== "string") return false;
  return true;
}

/** The result of one produced message. */
export type ProduceResult =
  | {
      /** Stream sequence of the stored message (of the first, on fan-out). */
      seq: number;
      /** True when the message id was already stored: nothing new was written. */
      duplicate: boolean;
      /** Sequences of every stored message when a function fanned out. */
      seqs?: number[];
      /** True when a function dropped the message: nothing was stored, and that is success. */
      dropped?: boolean;
    }
  | { error: ErrorBody };

/** The reply to a produce request: one result per message, in order. */
export interface ProduceReply {
  results: ProduceResult[];
}

/** Every reply of the admin API and of produce. */
export type ApiReply<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
