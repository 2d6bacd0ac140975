/**
 * The wire between the runtime and its worker processes: length-prefixed frames over a socket,
 * each a small JSON meta object followed by raw parts: a batch's headers as one JSON array, the
 * texts of its JSON and string payloads back to back in one part (one string to decode, one to
 * copy into the isolate), then each other payload. JSON payloads travel as their UTF-8 text, so
 * a caller that holds the bytes (a JSON station) sends them without encoding anything, and output
 * comes back as bytes the gateway can publish as they are; the decoded object is only built if
 * someone reads it. Bytes travel raw; anything else (objects holding byte arrays, say) goes
 * through V8's serializer.
 */
import { deserialize, serialize } from "node:v8";
import { prepareValue } from "./copy.js";
import { FnFailureKinds } from "./types.js";
import type { FnFailureKind, FnMessage, FnOutcome } from "./types.js";
import type { PackedOutcomes, PackedPayloads, PayloadTag } from "./sandbox.js";

/** Bytes, or a string written as UTF-8. */
export type Segment = Uint8Array | string;
/** A part of a frame: one segment, or several back to back. */
export type Part = Segment | Segment[];

const MAX_DEPTH = 200;

/**
 * Builds one frame: `[u32 length of the rest][u32 meta length][meta JSON][parts…]`. `lens` (the
 * byte length of each part) is added to the meta.
 */
export function encodeFrame(meta: Record<string, unknown>, parts: readonly Part[] = []): Buffer {
  const lens = new Array<number>(parts.length);
  let bodyBytes = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as Part;
    let len = 0;
    if (Array.isArray(p)) for (const seg of p) len += segmentBytes(seg);
    else len = segmentBytes(p as Segment);
    lens[i] = len;
    bodyBytes += len;
  }
  const metaText = JSON.stringify(parts.length > 0 ? { ...meta, lens } : meta);
  const metaBytes = Buffer.byteLength(metaText);
  const total = 8 + metaBytes + bodyBytes;
  const buf = Buffer.allocUnsafeSlow(total);
  buf.writeUInt32LE(total - 4, 0);
  buf.writeUInt32LE(metaBytes, 4);
  buf.write(metaText, 8, metaBytes, "utf8");
  let off = 8 + metaBytes;
  for (const p of parts) {
    if (Array.isArray(p)) for (const seg of p) off += writeSegment(buf, seg, off);
    else off += writeSegment(buf, p as Segment, off);
  }
  return buf;
}

function segmentBytes(seg: Segment): number {
  return typeof seg === "string" ? Buffer.byteLength(seg) : seg.byteLength;
}

function writeSegment(buf: Buffer, seg: Segment, off: number): number {
  if (typeof seg === "string") return buf.write(seg, off, "utf8");
  buf.set(seg, off);
  return seg.byteLength;
}

/** A decoded frame: its meta object, and the bytes of its parts. */
export interface Frame {
  meta: Record<string, unknown>;
  /** The whole frame (after the length prefix). */
  bytes: Buffer;
  /** Where the parts start in `bytes`. */
  body: number;
  /** Byte length of each part. */
  lens: number[];
}

/**
 * Reassembles frames from socket chunks and hands each to `onFrame`. Throws on a frame larger
 * than `maxFrameBytes` or a meta that is not a JSON object (the peer is then not to be trusted).
 */
export class FrameReader {
  readonly #onFrame: (frame: Frame) => void;
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #have = 0;
  #need = -1;

  constructor(onFrame: (frame: Frame) => void, maxFrameBytes = 2 ** 31) {
    this.#onFrame = onFrame;
    this.#maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#have += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#have < 4) return;
        const head = this.#flat();
        const len = head.readUInt32LE(0);
        if (len > this.#maxFrameBytes || len < 4) throw new Error(`bad frame length ${len}`);
        this.#need = len + 4;
      }
      if (this.#have < this.#need) return;
      const all = this.#flat();
      const bytes = all.subarray(4, this.#need);
      const rest = all.subarray(this.#need);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#have = rest.length;
      this.#need = -1;
      this.#onFrame(decodeFrame(bytes));
    }
  }

  #flat(): Buffer {
    if (this.#chunks.length !== 1) this.#chunks = [Buffer.concat(this.#chunks, this.#have)];
    return this.#chunks[0] as Buffer;
  }
}

function decodeFrame(bytes: Buffer): Frame {
  const metaBytes = bytes.readUInt32LE(0);
  if (4 + metaBytes > bytes.length) throw new Error("bad frame meta length");
  const meta = JSON.parse(bytes.toString("utf8", 4, 4 + metaBytes)) as unknown;
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) throw new Error("bad frame meta");
  const m = meta as Record<string, unknown>;
  const lens = Array.isArray(m.lens) ? (m.lens as number[]) : [];
  let sum = 0;
  for (const l of lens) {
    if (typeof l !== "number" || !Number.isInteger(l) || l < 0) throw new Error("bad frame part length");
    sum += l;
  }
  if (4 + metaBytes + sum !== bytes.length) throw new Error("frame parts do not add up");
  return { meta: m, bytes, body: 4 + metaBytes, lens };
}

/** Reads the parts of a frame in order. */
export class PartCursor {
  readonly #frame: Frame;
  #offset: number;
  #index = 0;
  constructor(frame: Frame) {
    this.#frame = frame;
    this.#offset = frame.body;
  }
  /** The next part's bytes (a view into the frame). */
  next(): Buffer {
    const len = this.#frame.lens[this.#index++];
    if (len === undefined) throw new Error("frame has fewer parts than announced");
    const b = this.#frame.bytes.subarray(this.#offset, this.#offset + len);
    this.#offset += len;
    return b;
  }
}

// ---- runtime → worker: a batch of messages --------------------------------------------------

/** A batch of messages encoded for a frame. */
export interface EncodedBatch {
  /** One {@link PayloadTag} per message. */
  kinds: string;
  /** Each `J` message's JSON text (bytes or string), by message index: output tagged `R<i>` reuses it. */
  jsonTexts: (Uint8Array | string | undefined)[];
  /** Byte length of each `J` and `S` payload's text, in order. */
  textBytes: number[];
  /** The headers JSON, the texts, then one part per other payload. */
  parts: Part[];
}

/** Encodes messages for the trip to a worker (see the module comment). */
export function encodeBatch(messages: readonly FnMessage[]): EncodedBatch {
  let kinds = "";
  const headers = new Array<Record<string, string>>(messages.length);
  const texts: Segment[] = [];
  const textBytes: number[] = [];
  const jsonTexts = new Array<Uint8Array | string | undefined>(messages.length);
  const parts: Part[] = ["", texts];
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as FnMessage;
    headers[i] = m.headers;
    const p = m.payload;
    const json = m.json;
    if (json instanceof Uint8Array) {
      kinds += "J";
      texts.push(json);
      textBytes.push(json.byteLength);
      jsonTexts[i] = json;
    } else if (typeof p === "string") {
      kinds += "S";
      texts.push(p);
      textBytes.push(Buffer.byteLength(p));
    } else if (p instanceof Uint8Array) {
      kinds += "B";
      parts.push(p);
    } else if (isJsonData(p, 0)) {
      kinds += "J";
      const text = JSON.stringify(p);
      texts.push(text);
      textBytes.push(Buffer.byteLength(text));
      jsonTexts[i] = text;
    } else {
      kinds += "V";
      parts.push(serialize(p));
    }
  }
  parts[0] = JSON.stringify(headers);
  return { kinds, jsonTexts, textBytes, parts };
}

/** Whether `v` survives JSON unchanged: plain objects and arrays of strings, finite numbers, booleans and null. */
function isJsonData(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v);
    case "object":
      break;
    default:
      return false;
  }
  if (v === null) return true;
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isJsonData(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  const obj = v as Record<string, unknown>;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    if (!isJsonData(obj[key], depth + 1)) return false;
  }
  return true;
}

/** Decodes the texts part: one string, and each piece's length in UTF-16 units. */
function decodeTexts(bytes: Buffer, byteLens: readonly number[]): { text: string; textLens: number[] } {
  const text = bytes.toString("utf8");
  // All ASCII (the usual case): characters and bytes line up.
  if (text.length === bytes.length) return { text, textLens: [...byteLens] };
  const textLens = new Array<number>(byteLens.length);
  let off = 0;
  for (let i = 0; i < byteLens.length; i++) {
    const len = byteLens[i] as number;
    textLens[i] = bytes.toString("utf8", off, off + len).length;
    off += len;
  }
  return { text, textLens };
}

/** Byte length of each piece of `text`. */
function textByteLens(text: string, textLens: readonly number[]): number[] {
  if (Buffer.byteLength(text) === text.length) return [...textLens];
  const out = new Array<number>(textLens.length);
  let at = 0;
  for (let i = 0; i < textLens.length; i++) {
    const len = textLens[i] as number;
    out[i] = Buffer.byteLength(text.slice(at, at + len));
    at += len;
  }
  return out;
}

function checkTextBytes(textBytes: unknown, part: Buffer): number[] {
  if (!Array.isArray(textBytes)) throw new Error("frame lacks its text lengths");
  let sum = 0;
  for (const l of textBytes) {
    if (typeof l !== "number" || !Number.isInteger(l) || l < 0) throw new Error("bad text length");
    sum += l;
  }
  if (sum !== part.length) throw new Error("text lengths do not add up");
  return textBytes as number[];
}

/** The worker's side of {@link encodeBatch}: the headers JSON and the packed payloads. */
export function decodeBatch(frame: Frame, kinds: string, textBytes: unknown): PackedPayloads & { headers: string } {
  const cursor = new PartCursor(frame);
  const headers = cursor.next().toString("utf8");
  const textPart = cursor.next();
  const { text, textLens } = decodeTexts(textPart, checkTextBytes(textBytes, textPart));
  const binary: unknown[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const tag = kinds[i] as PayloadTag;
    if (tag === "B") binary.push(exactCopy(cursor.next()));
    else if (tag === "V") binary.push(prepareValue(deserialize(cursor.next()), 0));
    else if (tag !== "J" && tag !== "S") throw new Error(`bad payload tag ${String(tag)}`);
  }
  return { kinds, text, textLens, binary, headers };
}

// ---- worker → runtime: outcomes -------------------------------------------------------------

/**
 * Encodes packed sandbox outcomes: the shape JSON, the texts (JSON and string payloads) as UTF-8,
 * then byte arrays raw and anything else through V8's serializer. Returns the parts and the byte
 * length of each text.
 */
export function encodeOutcomes(packed: PackedOutcomes): { parts: Part[]; textBytes: number[] } {
  const parts: Part[] = [packed.shape, packed.text];
  for (const d of packed.binary) parts.push(d instanceof Uint8Array ? d : serialize(d));
  return { parts, textBytes: textByteLens(packed.text, packed.textLens) };
}

/**
 * The runtime's side of {@link encodeOutcomes}. `jsonTexts` are the JSON texts of the batch's
 * input messages ({@link EncodedBatch}), for output that reuses them.
 */
export function decodeOutcomes(
  frame: Frame,
  count: number,
  textBytes: unknown,
  jsonTexts: readonly (Uint8Array | string | undefined)[] = [],
): FnOutcome[] {
  const cursor = new PartCursor(frame);
  const shape = JSON.parse(cursor.next().toString("utf8")) as unknown[][];
  if (!Array.isArray(shape) || shape.length !== count) throw new Error("the worker returned the wrong number of outcomes");
  const texts = cursor.next();
  const lens = checkTextBytes(textBytes, texts);
  let t = 0;
  let at = 0;
  const out = new Array<FnOutcome>(count);
  for (let i = 0; i < count; i++) {
    const o = shape[i] as unknown[];
    if (o[0] !== 1) {
      const kind = FnFailureKinds.includes(o[1] as FnFailureKind) ? (o[1] as FnFailureKind) : "threw";
      out[i] = { ok: false, kind, message: String(o[2]) };
      continue;
    }
    const messages: FnMessage[] = [];
    for (let j = 1; j + 1 < o.length; j += 2) {
      const tag = o[j] as PayloadTag;
      const headers = o[j + 1] as Record<string, string>;
      if (tag[0] === "R") {
        const text = jsonTexts[Number(tag.slice(1))];
        if (text === undefined) throw new Error(`the worker referred to input ${tag.slice(1)}, which has no JSON text`);
        messages.push(jsonMessage(typeof text === "string" ? Buffer.from(text) : text, headers));
      } else if (tag === "J" || tag === "S") {
        const len = lens[t++];
        if (len === undefined) throw new Error("the worker sent fewer texts than messages");
        const b = texts.subarray(at, at + len);
        at += len;
        messages.push(tag === "J" ? jsonMessage(b, headers) : { payload: b.toString("utf8"), headers });
      } else if (tag === "B") messages.push({ payload: exactCopy(cursor.next()), headers });
      else messages.push({ payload: prepareValue(deserialize(cursor.next()), 0), headers });
    }
    out[i] = { ok: true, messages };
  }
  return out;
}

/**
 * A message whose payload is JSON text: `payload` is decoded on first read, `json` (not
 * enumerable) holds the bytes. Assigning `payload` replaces it and clears `json`.
 */
export function jsonMessage(bytes: Uint8Array, headers: Record<string, string>): FnMessage {
  let value: unknown;
  let decoded = false;
  const m = {
    get payload(): unknown {
      if (!decoded) {
        // A UTF-8 byte order mark is not JSON; JSON stations accept it.
        const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
        value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8", bom ? 3 : 0));
        decoded = true;
      }
      return value;
    },
    set payload(v: unknown) {
      Object.defineProperty(m, "payload", { value: v, writable: true, enumerable: true, configurable: true });
      m.json = undefined;
    },
    headers,
  } as FnMessage;
  Object.defineProperty(m, "json", { value: bytes, writable: true, enumerable: false, configurable: true });
  return m;
}

/** A plain Uint8Array holding exactly these bytes (never a view into a larger buffer). */
function exactCopy(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.byteLength);
  out.set(b);
  return out;
}
