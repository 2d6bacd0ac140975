// A strict Avro binary codec driven by avsc's parsed types. avsc's own reader is lenient where a
// broker must not be (it accepts invalid UTF-8, any non-zero boolean byte, unbounded block
// counts) and reports no paths; this one reads exactly the encoding the specification defines
// and says where a payload goes wrong. Values use the JSON form documented in docs/schemas.md.
import type { Type } from "avsc";
import { pointerSegment } from "../common.js";
import type { SchemaIssue } from "../types.js";

/** A payload does not decode, or a value does not encode; `path` says where. */
export class AvroDataError extends Error {
  readonly path: string;
  readonly keyword: string;
  constructor(path: string, keyword: string, message: string) {
    super(message);
    this.name = "AvroDataError";
    this.path = path;
    this.keyword = keyword;
  }
  toIssue(): SchemaIssue {
    return { path: this.path, message: this.message, keyword: this.keyword };
  }
}

/** Deepest nesting of records, arrays, maps and unions read or written. */
export const MAX_AVRO_DEPTH = 100;
/** Most items of zero-size types (null, empty records) in one payload. */
const MAX_EMPTY_ITEMS = 1_000_000;

interface Field {
  name: string;
  type: Type;
}
type AnyType = Type & {
  fields?: Field[];
  symbols?: string[];
  types?: Type[];
  itemsType?: Type;
  valuesType?: Type;
  size?: number;
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** The smallest number of bytes a value of the type takes (0 for null and empty records). */
function minSize(t: AnyType, seen = new Set<Type>()): number {
  switch (t.typeName) {
    case "null":
      return 0;
    case "float":
      return 4;
    case "double":
      return 8;
    case "fixed":
      return t.size ?? 0;
    case "record":
    case "error": {
      if (seen.has(t)) return 1;
      seen.add(t);
      return (t.fields ?? []).reduce((n, f) => n + minSize(f.type as AnyType, seen), 0);
    }
    default:
      return 1;
  }
}

class Reader {
  pos = 0;
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private truncated(path: string): never {
    throw new AvroDataError(path, "truncated", "the payload ends in the middle of a value");
  }

  /** A zig-zag varint as a bigint when it does not fit a safe number. */
  long(path: string): number | bigint {
    let result = 0;
    let shift = 0;
    let b: number;
    let i = 0;
    // Up to 7 bytes (49 bits) in plain numbers; beyond that, bigint.
    do {
      if (this.pos >= this.buf.length) this.truncated(path);
      b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      i++;
      if ((b & 0x80) === 0) {
        // zig-zag: (n >>> 1) ^ -(n & 1)
        return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      }
    } while (i < 7);
    let big = BigInt(result);
    let bigShift = 49n;
    for (;;) {
      if (this.pos >= this.buf.length) this.truncated(path);
      b = this.buf[this.pos++] as number;
      big += BigInt(b & 0x7f) << bigShift;
      bigShift += 7n;
      i++;
      if ((b & 0x80) === 0) break;
      if (i >= 10) throw new AvroDataError(path, "varint", "a long is longer than 10 bytes");
    }
    if (big >= 2n ** 64n) throw new AvroDataError(path, "varint", "a long is out of range");
    const n = (big & 1n) === 0n ? big >> 1n : -((big + 1n) >> 1n);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }

  int(path: string): number {
    const start = this.pos;
    const n = this.long(path);
    if (typeof n !== "number" || n < INT_MIN || n > INT_MAX || this.pos - start > 5) {
      throw new AvroDataError(path, "int", "an int is out of range");
    }
    return n;
  }

  count(path: string): number {
    const n = this.long(path);
    if (typeof n !== "number") throw new AvroDataError(path, "length", "a length or count is out of range");
    return n;
  }

  bytes(path: string): Uint8Array {
    const n = this.count(path);
    if (n < 0) throw new AvroDataError(path, "length", `negative length ${n}`);
    if (n > this.remaining) this.truncated(path);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  fixed(n: number, path: string): Uint8Array {
    if (n > this.remaining) this.truncated(path);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  float(path: string): number {
    if (this.remaining < 4) this.truncated(path);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(path: string): number {
    if (this.remaining < 8) this.truncated(path);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  byte(path: string): number {
    if (this.pos >= this.buf.length) this.truncated(path);
    return this.buf[this.pos++] as number;
  }
}

// A plain data property, even for the key "__proto__" (a valid Avro name and map key).
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function jsonNumber(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
}

function read(r: Reader, t: AnyType, path: string, depth: number, budget: { empty: number }): unknown {
  switch (t.typeName) {
    case "null":
      return null;
    case "boolean": {
      const b = r.byte(path);
      if (b > 1) throw new AvroDataError(path, "boolean", `a boolean byte is ${b}, not 0 or 1`);
      return b === 1;
    }
    case "int":
      return r.int(path);
    case "long": {
      const n = r.long(path);
      return typeof n === "bigint" ? n.toString() : n;
    }
    case "float":
      return jsonNumber(r.float(path));
    case "double":
      return jsonNumber(r.double(path));
    case "bytes":
      return Buffer.from(r.bytes(path)).toString("base64");
    case "string": {
      const b = r.bytes(path);
      try {
        return utf8.decode(b);
      } catch {
        throw new AvroDataError(path, "utf8", "a string holds invalid UTF-8");
      }
    }
    case "fixed":
      return Buffer.from(r.fixed(t.size ?? 0, path)).toString("base64");
    case "enum": {
      const i = r.int(path);
      const sym = t.symbols?.[i];
      if (sym === undefined || i < 0) throw new AvroDataError(path, "enum", `enum index ${i} is not a symbol of ${t.name ?? "the enum"}`);
      return sym;
    }
    default:
      break;
  }
  if (depth >= MAX_AVRO_DEPTH) throw new AvroDataError(path, "depth", `values nest deeper than ${MAX_AVRO_DEPTH}`);
  if (t.typeName === "record" || t.typeName === "error") {
    const out: Record<string, unknown> = {};
    for (const f of t.fields ?? []) put(out, f.name, read(r, f.type as AnyType, `${path}/${pointerSegment(f.name)}`, depth + 1, budget));
    return out;
  }
  if (t.typeName === "array" || t.typeName === "map") {
    const isMap = t.typeName === "map";
    const item = (isMap ? t.valuesType : t.itemsType) as AnyType;
    const size = minSize(item) + (isMap ? 1 : 0);
    const arr: unknown[] = [];
    const obj: Record<string, unknown> = {};
    for (;;) {
      let n = r.count(path);
      if (n === 0) break;
      if (n < 0) {
        n = -n;
        const bytes = r.count(path);
        if (bytes < 0 || bytes > r.remaining) throw new AvroDataError(path, "length", `block size ${bytes} is out of range`);
      }
      // Items cost at least `size` bytes each; zero-size items are capped instead.
      if (size > 0 ? n > r.remaining / size : (budget.empty -= n) < 0) {
        throw new AvroDataError(path, "length", `a block of ${n} items does not fit the payload`);
      }
      for (let i = 0; i < n; i++) {
        if (isMap) {
          const kb = r.bytes(path);
          let key: string;
          try {
            key = utf8.decode(kb);
          } catch {
            throw new AvroDataError(path, "utf8", "a map key holds invalid UTF-8");
          }
          if (Object.hasOwn(obj, key)) throw new AvroDataError(path, "map", `the map key ${JSON.stringify(key)} appears twice`);
          put(obj, key, read(r, item, `${path}/${pointerSegment(key)}`, depth + 1, budget));
        } else arr.push(read(r, item, `${path}/${arr.length}`, depth + 1, budget));
      }
    }
    return isMap ? obj : arr;
  }
  if (t.typeName.startsWith("union")) {
    const i = r.count(path);
    const branch = t.types?.[i] as AnyType | undefined;
    if (branch === undefined || i < 0)
      throw new AvroDataError(path, "union", `union index ${i} is out of range (${t.types?.length ?? 0} branches)`);
    if (branch.typeName === "null") return null;
    const name = branch.branchName as string;
    const wrapped: Record<string, unknown> = {};
    put(wrapped, name, read(r, branch, `${path}/${pointerSegment(name)}`, depth + 1, budget));
    return wrapped;
  }
  throw new AvroDataError(path, "type", `unsupported Avro type ${t.typeName}`);
}

/** Decodes one Avro binary datum; throws {@link AvroDataError} unless it is exactly one valid value. */
export function decodeAvro(type: Type, bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const value = read(r, type as AnyType, "", 0, { empty: MAX_EMPTY_ITEMS });
  if (r.remaining > 0) throw new AvroDataError("", "trailing", `${r.remaining} bytes are left after the value`);
  return value;
}

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  long(n: number | bigint): void {
    this.reserve(10);
    if (typeof n === "number" && Number.isSafeInteger(n) && Math.abs(n) < 2 ** 48) {
      let z = n >= 0 ? n * 2 : -n * 2 - 1;
      while (z >= 0x80) {
        this.buf[this.pos++] = (z % 0x80) | 0x80;
        z = Math.floor(z / 0x80);
      }
      this.buf[this.pos++] = z;
      return;
    }
    const b = BigInt(n);
    let z = b >= 0n ? b << 1n : (-b << 1n) - 1n;
    while (z >= 0x80n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
  }

  bytes(b: Uint8Array): void {
    this.long(b.length);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  byte(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  float(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  double(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function floatValue(v: unknown, path: string, what: string): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  throw new AvroDataError(path, "type", `must be a number (${what})`);
}

function longValue(v: unknown, path: string): number | bigint {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v))
      throw new AvroDataError(path, "type", "must be an integer within ±2^53 (write larger longs as decimal strings)");
    return v;
  }
  if (typeof v === "bigint" || (typeof v === "string" && /^-?(0|[1-9][0-9]*)$/.test(v))) {
    const b = BigInt(v);
    if (b < LONG_MIN || b > LONG_MAX) throw new AvroDataError(path, "type", "a long is out of range");
    return b;
  }
  throw new AvroDataError(path, "type", "must be a long (a number, or a decimal string)");
}

function base64Value(v: unknown, path: string): Uint8Array {
  if (typeof v !== "string" || !BASE64.test(v)) throw new AvroDataError(path, "type", "must be base64 text");
  return Buffer.from(v, "base64");
}

function write(w: Writer, t: AnyType, v: unknown, path: string, depth: number): void {
  switch (t.typeName) {
    case "null":
      if (v !== null) throw new AvroDataError(path, "type", "must be null");
      return;
    case "boolean":
      if (typeof v !== "boolean") throw new AvroDataError(path, "type", "must be a boolean");
      w.byte(v ? 1 : 0);
      return;
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v) || v < INT_MIN || v > INT_MAX) {
        throw new AvroDataError(path, "type", "must be an int (a 32-bit integer)");
      }
      w.long(v);
      return;
    case "long":
      w.long(longValue(v, path));
      return;
    case "float":
      w.float(floatValue(v, path, "float"));
      return;
    case "double":
      w.double(floatValue(v, path, "double"));
      return;
    case "bytes":
      w.bytes(base64Value(v, path));
      return;
    case "string":
      if (typeof v !== "string") throw new AvroDataError(path, "type", "must be a string");
      if (LONE_SURROGATE.test(v)) throw new AvroDataError(path, "utf8", "the string has a lone surrogate");
      w.bytes(encoder.encode(v));
      return;
    case "fixed": {
      const b = base64Value(v, path);
      if (b.length !== t.size) throw new AvroDataError(path, "type", `must be ${t.size ?? 0} bytes (base64), got ${b.length}`);
      w.raw(b);
      return;
    }
    case "enum": {
      const i = typeof v === "string" ? (t.symbols ?? []).indexOf(v) : -1;
      if (i < 0) throw new AvroDataError(path, "enum", `must be one of ${(t.symbols ?? []).join(", ")}`);
      w.long(i);
      return;
    }
    default:
      break;
  }
  if (depth >= MAX_AVRO_DEPTH) throw new AvroDataError(path, "depth", `values nest deeper than ${MAX_AVRO_DEPTH}`);
  if (t.typeName === "record" || t.typeName === "error") {
    if (!isObject(v)) throw new AvroDataError(path, "type", `must be an object (record ${t.name ?? ""})`);
    const fields = t.fields ?? [];
    for (const f of fields) {
      if (!Object.hasOwn(v, f.name)) throw new AvroDataError(path, "required", `must have field '${f.name}'`);
      write(w, f.type as AnyType, v[f.name], `${path}/${pointerSegment(f.name)}`, depth + 1);
    }
    for (const k of Object.keys(v)) {
      if (!fields.some((f) => f.name === k))
        throw new AvroDataError(`${path}/${pointerSegment(k)}`, "unknown-field", `record ${t.name ?? ""} has no field '${k}'`);
    }
    return;
  }
  if (t.typeName === "array") {
    if (!Array.isArray(v)) throw new AvroDataError(path, "type", "must be an array");
    if (v.length > 0) {
      w.long(v.length);
      v.forEach((x, i) => write(w, t.itemsType as AnyType, x, `${path}/${i}`, depth + 1));
    }
    w.long(0);
    return;
  }
  if (t.typeName === "map") {
    if (!isObject(v)) throw new AvroDataError(path, "type", "must be an object (map)");
    const keys = Object.keys(v);
    if (keys.length > 0) {
      w.long(keys.length);
      for (const k of keys) {
        w.bytes(encoder.encode(k));
        write(w, t.valuesType as AnyType, v[k], `${path}/${pointerSegment(k)}`, depth + 1);
      }
    }
    w.long(0);
    return;
  }
  if (t.typeName.startsWith("union")) {
    const types = (t.types ?? []) as AnyType[];
    if (v === null) {
      const i = types.findIndex((b) => b.typeName === "null");
      if (i < 0) throw new AvroDataError(path, "union", "null is not a branch of this union");
      w.long(i);
      return;
    }
    const keys = isObject(v) ? Object.keys(v) : [];
    if (keys.length !== 1) {
      throw new AvroDataError(
        path,
        "union",
        `must be null or an object with one key naming the branch (${types.map((b) => b.branchName).join(", ")})`,
      );
    }
    const name = keys[0] as string;
    const i = types.findIndex((b) => b.branchName === name && b.typeName !== "null");
    if (i < 0)
      throw new AvroDataError(path, "union", `"${name}" is not a branch of this union (${types.map((b) => b.branchName).join(", ")})`);
    w.long(i);
    write(w, types[i] as AnyType, (v as Record<string, unknown>)[name], `${path}/${pointerSegment(name)}`, depth + 1);
    return;
  }
  throw new AvroDataError(path, "type", `unsupported Avro type ${t.typeName}`);
}

/** Encodes a value in the JSON form; throws {@link AvroDataError} naming where it does not fit. */
export function encodeAvro(type: Type, value: unknown): Uint8Array {
  const w = new Writer();
  write(w, type as AnyType, value, "", 0);
  return w.result();
}
