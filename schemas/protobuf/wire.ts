import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { pointerSegment } from "../common.js";
import type { SchemaIssue } from "../types.js";

// Wire types (protobuf encoding spec).
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;
const WIRE_NAMES = ["varint", "i64", "len", "start-group", "end-group", "i32"];

/** Nesting depth at which decoding stops, as in @bufbuild/protobuf. */
const MAX_DEPTH = 100;
const MAX_ISSUES = 50;

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

/** The data is malformed beyond the point where scanning can go on. */
class Malformed extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

interface Ctx {
  buf: Uint8Array;
  allowUnknown: boolean;
  issues: SchemaIssue[];
  depth: number;
}

function scalarWireType(t: ScalarType): number {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return I64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return I32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return LEN;
    default:
      return VARINT;
  }
}

const fieldMaps = new WeakMap<DescMessage, Map<number, DescField>>();
function fieldsOf(desc: DescMessage): Map<number, DescField> {
  let m = fieldMaps.get(desc);
  if (m === undefined) {
    m = new Map(desc.fields.map((f) => [f.number, f]));
    fieldMaps.set(desc, m);
  }
  return m;
}

/** Reads a varint at pos; returns [low 32 bits as unsigned, next pos]. */
function varint(ctx: Ctx, pos: number, end: number, path: string): [number, number] {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new Malformed(path, "truncated varint");
    const b = ctx.buf[pos++] as number;
    if (i < 5) value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return [value % 2 ** 32, pos];
  }
  throw new Malformed(path, "varint longer than 10 bytes");
}

function length(ctx: Ctx, pos: number, end: number, path: string): [number, number] {
  const [len, next] = varint(ctx, pos, end, path);
  if (next + len > end) throw new Malformed(path, `length ${len} runs past the end of the data`);
  return [len, next];
}

function issue(ctx: Ctx, path: string, message: string, keyword: string): void {
  if (ctx.issues.length < MAX_ISSUES) ctx.issues.push({ path, message, keyword });
}

/** Skips one value of the given wire type; returns the next position. */
function skip(ctx: Ctx, wt: number, fieldNo: number, pos: number, end: number, path: string): number {
  switch (wt) {
    case VARINT:
      return varint(ctx, pos, end, path)[1];
    case I64:
    case I32: {
      const next = pos + (wt === I64 ? 8 : 4);
      if (next > end) throw new Malformed(path, "truncated fixed-width value");
      return next;
    }
    case LEN: {
      const [len, next] = length(ctx, pos, end, path);
      return next + len;
    }
    case SGROUP: {
      if (++ctx.depth > MAX_DEPTH) throw new Malformed(path, "nesting too deep");
      for (;;) {
        const [tag, next] = varint(ctx, pos, end, path);
        const no = Math.floor(tag / 8);
        const t = tag % 8;
        if (t === EGROUP) {
          if (no !== fieldNo) throw new Malformed(path, "end-group tag does not match its start-group");
          ctx.depth--;
          return next;
        }
        if (no === 0 || t > 5) throw new Malformed(path, `invalid tag (field ${no}, wire type ${t})`);
        pos = skip(ctx, t, no, next, end, path);
      }
    }
    default:
      throw new Malformed(path, `invalid wire type ${wt}`);
  }
}

function checkString(ctx: Ctx, start: number, end: number, path: string): void {
  for (let i = start; i < end; i++) {
    if ((ctx.buf[i] as number) >= 0x80) {
      try {
        utf8Fatal.decode(ctx.buf.subarray(start, end));
      } catch {
        issue(ctx, path, "string field holds invalid UTF-8", "utf8");
      }
      return;
    }
  }
}

/** Scans one scalar or enum value of the expected wire type; returns the next position. */
function scanScalar(ctx: Ctx, scalar: ScalarType | undefined, field: DescField, pos: number, end: number, path: string): number {
  if (scalar === ScalarType.STRING || scalar === ScalarType.BYTES) {
    const [len, next] = length(ctx, pos, end, path);
    if (scalar === ScalarType.STRING) checkString(ctx, next, next + len, path);
    return next + len;
  }
  if (scalar === undefined) {
    // enum: closed (proto2) enums only accept declared numbers
    const [raw, next] = varint(ctx, pos, end, path);
    const desc = field.enum;
    if (desc !== undefined && !desc.open && desc.value[raw | 0] === undefined) {
      issue(ctx, path, `${raw | 0} is not a value of enum ${desc.typeName}`, "enum");
    }
    return next;
  }
  return skip(ctx, scalarWireType(scalar), field.number, pos, end, path);
}

function wrongWireType(ctx: Ctx, field: DescField, wt: number, expected: string, path: string): void {
  issue(ctx, path, `field ${field.name} (${field.number}) has wire type ${WIRE_NAMES[wt] ?? wt}, expected ${expected}`, "wire-type");
}

function scanField(ctx: Ctx, field: DescField, wt: number, pos: number, end: number, path: string): number {
  switch (field.fieldKind) {
    case "scalar":
    case "enum": {
      const expected = field.fieldKind === "enum" ? VARINT : scalarWireType(field.scalar);
      if (wt !== expected) {
        wrongWireType(ctx, field, wt, WIRE_NAMES[expected] ?? "", path);
        return skip(ctx, wt, field.number, pos, end, path);
      }
      return scanScalar(ctx, field.fieldKind === "enum" ? undefined : field.scalar, field, pos, end, path);
    }
    case "message":
      return scanSubMessage(ctx, field, field.message, field.delimitedEncoding, wt, pos, end, path);
    case "list": {
      if (field.listKind === "message") {
        return scanSubMessage(ctx, field, field.message, field.delimitedEncoding, wt, pos, end, path);
      }
      const scalar = field.listKind === "enum" ? undefined : field.scalar;
      const expected = scalar === undefined ? VARINT : scalarWireType(scalar);
      if (wt === expected) return scanScalar(ctx, scalar, field, pos, end, path);
      if (wt === LEN && expected !== LEN) {
        // packed: a run of values without tags
        const [len, next] = length(ctx, pos, end, path);
        let p = next;
        while (p < next + len) p = scanScalar(ctx, scalar, field, p, next + len, path);
        return p;
      }
      wrongWireType(ctx, field, wt, `${WIRE_NAMES[expected] ?? ""} or packed`, path);
      return skip(ctx, wt, field.number, pos, end, path);
    }
    case "map": {
      if (wt !== LEN) {
        wrongWireType(ctx, field, wt, "len", path);
        return skip(ctx, wt, field.number, pos, end, path);
      }
      const [len, next] = length(ctx, pos, end, path);
      const entryEnd = next + len;
      let p = next;
      while (p < entryEnd) {
        const [tag, afterTag] = varint(ctx, p, entryEnd, path);
        const no = Math.floor(tag / 8);
        const t = tag % 8;
        if (no === 0 || t > 5 || t === EGROUP) throw new Malformed(path, `invalid tag (field ${no}, wire type ${t})`);
        if (no === 1) {
          const expected = scalarWireType(field.mapKey);
          if (t !== expected) {
            wrongWireType(ctx, field, t, `${WIRE_NAMES[expected] ?? ""} (map key)`, path);
            p = skip(ctx, t, no, afterTag, entryEnd, path);
          } else p = scanScalar(ctx, field.mapKey, field, afterTag, entryEnd, path);
        } else if (no === 2) {
          if (field.mapKind === "message") {
            p = scanSubMessage(ctx, field, field.message, false, t, afterTag, entryEnd, path);
          } else {
            const scalar = field.mapKind === "enum" ? undefined : field.scalar;
            const expected = scalar === undefined ? VARINT : scalarWireType(scalar);
            if (t !== expected) {
              wrongWireType(ctx, field, t, `${WIRE_NAMES[expected] ?? ""} (map value)`, path);
              p = skip(ctx, t, no, afterTag, entryEnd, path);
            } else p = scanScalar(ctx, scalar, field, afterTag, entryEnd, path);
          }
        } else {
          if (!ctx.allowUnknown) issue(ctx, path, `unknown field ${no} in a map entry`, "unknown-field");
          p = skip(ctx, t, no, afterTag, entryEnd, path);
        }
      }
      return p;
    }
  }
}

function scanSubMessage(
  ctx: Ctx,
  field: DescField,
  desc: DescMessage,
  delimited: boolean,
  wt: number,
  pos: number,
  end: number,
  path: string,
): number {
  if (delimited) {
    if (wt !== SGROUP) {
      wrongWireType(ctx, field, wt, "start-group", path);
      return skip(ctx, wt, field.number, pos, end, path);
    }
    return scanMessage(ctx, desc, pos, end, path, field.number);
  }
  if (wt !== LEN) {
    wrongWireType(ctx, field, wt, "len", path);
    return skip(ctx, wt, field.number, pos, end, path);
  }
  const [len, next] = length(ctx, pos, end, path);
  scanMessage(ctx, desc, next, next + len, path, undefined);
  return next + len;
}

function scanMessage(ctx: Ctx, desc: DescMessage, start: number, end: number, path: string, groupNo: number | undefined): number {
  if (++ctx.depth > MAX_DEPTH) throw new Malformed(path, `nesting deeper than ${MAX_DEPTH}`);
  const fields = fieldsOf(desc);
  const counts = new Map<number, number>();
  let pos = start;
  while (pos < end) {
    const [tag, next] = varint(ctx, pos, end, path);
    const no = Math.floor(tag / 8);
    const wt = tag % 8;
    if (wt === EGROUP) {
      if (groupNo === no) {
        ctx.depth--;
        return next;
      }
      throw new Malformed(path, "unexpected end-group tag");
    }
    if (no === 0 || wt > 5) throw new Malformed(path, `invalid tag (field ${no}, wire type ${wt})`);
    const field = fields.get(no);
    if (field === undefined) {
      if (!ctx.allowUnknown)
        issue(ctx, path, `unknown field ${no} (wire type ${WIRE_NAMES[wt] ?? wt}) in ${desc.typeName}`, "unknown-field");
      pos = skip(ctx, wt, no, next, end, path);
      continue;
    }
    let fieldPath = `${path}/${pointerSegment(field.jsonName)}`;
    if (field.fieldKind === "list") {
      const i = counts.get(no) ?? 0;
      counts.set(no, i + 1);
      if (field.listKind === "message" || wt !== LEN) fieldPath += `/${i}`;
    }
    pos = scanField(ctx, field, wt, next, end, fieldPath);
  }
  if (groupNo !== undefined) throw new Malformed(path, "group is missing its end-group tag");
  ctx.depth--;
  return pos;
}

/**
 * Checks binary protobuf data against a message descriptor more strictly than the decoder:
 * truncated or malformed data, wire types that do not match the field, invalid UTF-8 in string
 * fields (proto2 too), undeclared numbers of closed enums, and — unless allowed — unknown fields.
 */
export function scanWire(desc: DescMessage, bytes: Uint8Array, allowUnknown: boolean): SchemaIssue[] {
  const ctx: Ctx = { buf: bytes, allowUnknown, issues: [], depth: 0 };
  try {
    scanMessage(ctx, desc, 0, bytes.length, "", undefined);
  } catch (err) {
    if (!(err instanceof Malformed)) throw err;
    ctx.issues.push({ path: err.path, message: `malformed protobuf data: ${err.message}`, keyword: "wire" });
  }
  return ctx.issues;
}
