import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { BreakingChange, PreparedSchema } from "../types.js";
import { registryOf, resolveMessage } from "./schema.js";

function scalarName(t: ScalarType): string {
  return (ScalarType[t] as string | undefined)?.toLowerCase() ?? String(t);
}

function labelOf(f: DescField): "singular" | "repeated" | "map" {
  return f.fieldKind === "list" ? "repeated" : f.fieldKind === "map" ? "map" : "singular";
}

function valueType(kind: "scalar" | "enum" | "message", f: DescField): string {
  if (kind === "enum") return `enum ${f.enum?.typeName ?? "?"}`;
  if (kind === "message") return `message ${f.message?.typeName ?? "?"}`;
  return f.scalar === undefined ? "?" : scalarName(f.scalar);
}

function typeOf(f: DescField): string {
  switch (f.fieldKind) {
    case "scalar":
    case "enum":
    case "message":
      return valueType(f.fieldKind, f);
    case "list":
      return valueType(f.listKind, f);
    case "map":
      return `map<${scalarName(f.mapKey)}, ${valueType(f.mapKind, f)}>`;
  }
}

function inRanges(ranges: readonly { start: number; end: number }[], n: number, endInclusive: boolean): boolean {
  return ranges.some((r) => n >= r.start && (endInclusive ? n <= r.end : n < r.end));
}

interface Ctx {
  seen: Set<string>;
  out: BreakingChange[];
}

function compareEnum(ctx: Ctx, prev: DescEnum, next: DescEnum): void {
  const key = `enum ${prev.typeName}|${next.typeName}`;
  if (ctx.seen.has(key)) return;
  ctx.seen.add(key);
  for (const pv of prev.values) {
    const nv = next.value[pv.number];
    const path = `${next.typeName}.${pv.name}`;
    if (nv === undefined) {
      if (!inRanges(next.proto.reservedRange, pv.number, true)) {
        ctx.out.push({
          path,
          rule: "protobuf.enum-value-removed",
          message: `enum value ${pv.name} = ${pv.number} was removed and its number is not reserved`,
        });
      }
    } else if (nv.name !== pv.name) {
      ctx.out.push({
        path,
        rule: "protobuf.enum-value-name-changed",
        message: `enum number ${pv.number} was ${pv.name} and is now ${nv.name}`,
      });
    }
  }
}

function compareMessage(ctx: Ctx, prev: DescMessage, next: DescMessage): void {
  const key = `${prev.typeName}|${next.typeName}`;
  if (ctx.seen.has(key)) return;
  ctx.seen.add(key);
  const nextByNumber = new Map(next.fields.map((f) => [f.number, f]));
  const prevByNumber = new Map(prev.fields.map((f) => [f.number, f]));
  for (const pf of prev.fields) {
    const path = `${next.typeName}.${pf.name}`;
    const nf = nextByNumber.get(pf.number);
    if (nf === undefined) {
      if (!inRanges(next.proto.reservedRange, pf.number, false)) {
        ctx.out.push({
          path,
          rule: "protobuf.field-number-not-reserved",
          message: `field ${pf.name} = ${pf.number} was removed; reserve ${pf.number} so it is never reused`,
        });
      }
      if (!next.proto.reservedName.includes(pf.name)) {
        ctx.out.push({
          path,
          rule: "protobuf.field-name-not-reserved",
          message: `field ${pf.name} = ${pf.number} was removed; reserve "${pf.name}" so it is never reused`,
        });
      }
      continue;
    }
    if (nf.name !== pf.name) {
      ctx.out.push({
        path,
        rule: "protobuf.field-name-changed",
        message: `field number ${pf.number} was "${pf.name}" and is now "${nf.name}"`,
      });
    }
    const [pl, nl] = [labelOf(pf), labelOf(nf)];
    const [pt, nt] = [typeOf(pf), typeOf(nf)];
    if (pl !== nl) {
      ctx.out.push({ path, rule: "protobuf.field-label-changed", message: `field ${pf.name} = ${pf.number} was ${pl} and is now ${nl}` });
    } else if (pt !== nt) {
      ctx.out.push({ path, rule: "protobuf.field-type-changed", message: `field ${pf.name} = ${pf.number} was ${pt} and is now ${nt}` });
    }
    if (pf.oneof?.name !== nf.oneof?.name) {
      const describe = (name: string | undefined): string => (name === undefined ? "no oneof" : `oneof ${name}`);
      ctx.out.push({
        path,
        rule: "protobuf.field-oneof-changed",
        message: `field ${pf.name} = ${pf.number} moved from ${describe(pf.oneof?.name)} to ${describe(nf.oneof?.name)}`,
      });
    }
    if (pl === nl && pt === nt) {
      if (pf.message !== undefined && nf.message !== undefined) compareMessage(ctx, pf.message, nf.message);
      if (pf.enum !== undefined && nf.enum !== undefined) compareEnum(ctx, pf.enum, nf.enum);
    }
  }
  for (const nf of next.fields) {
    if (prevByNumber.has(nf.number)) continue;
    const path = `${next.typeName}.${nf.name}`;
    if (inRanges(prev.proto.reservedRange, nf.number, false)) {
      ctx.out.push({
        path,
        rule: "protobuf.reserved-number-reused",
        message: `new field ${nf.name} uses number ${nf.number}, which the old version reserved`,
      });
    }
    if (prev.proto.reservedName.includes(nf.name)) {
      ctx.out.push({ path, rule: "protobuf.reserved-name-reused", message: `new field ${nf.name} uses a name the old version reserved` });
    }
  }
}

/** Compares the payload messages of two prepared protobuf schemas (and every message they reach). */
export function protobufBreakingChanges(previous: PreparedSchema, next: PreparedSchema): BreakingChange[] {
  const prevMsg = resolveMessage(registryOf(previous), previous.messageType);
  const nextMsg = resolveMessage(registryOf(next), next.messageType);
  const ctx: Ctx = { seen: new Set(), out: [] };
  if (prevMsg.typeName !== nextMsg.typeName) {
    ctx.out.push({
      path: nextMsg.typeName,
      rule: "protobuf.message-type-changed",
      message: `the message type was ${prevMsg.typeName} and is now ${nextMsg.typeName}`,
    });
  }
  compareMessage(ctx, prevMsg, nextMsg);
  return ctx.out;
}
