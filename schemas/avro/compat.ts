// Avro schema resolution (the specification's rules, as avsc's resolver applies them), walked
// field by field so that each problem gets a stable rule id and a path.
import type { Type } from "avsc";
import type { BreakingChange, PreparedSchema } from "../types.js";
import { avroTypeOf } from "./schema.js";

type Direction = "backward" | "forward";

interface AnyType {
  typeName: string;
  name?: string | undefined;
  aliases?: string[] | undefined;
  branchName?: string | undefined;
  fields?: { name: string; type: AnyType; aliases?: string[] }[];
  symbols?: string[];
  default?: unknown;
  types?: AnyType[];
  itemsType?: AnyType;
  valuesType?: AnyType;
  size?: number;
  createResolver?: (writer: unknown) => unknown;
}

// What a reader type can read besides its own type (Avro specification, "Schema Resolution").
const PROMOTIONS: Record<string, readonly string[]> = {
  long: ["int"],
  float: ["int", "long"],
  double: ["int", "long", "float"],
  string: ["bytes"],
  bytes: ["string"],
};

const NAMED = new Set(["record", "error", "enum", "fixed"]);

function kind(t: AnyType): string {
  if (t.typeName.startsWith("union")) return "union";
  return t.typeName === "error" ? "record" : t.typeName;
}

function shortName(n: string): string {
  const i = n.lastIndexOf(".");
  return i < 0 ? n : n.slice(i + 1);
}

function namesMatch(reader: AnyType, writer: AnyType): boolean {
  if (reader.name === undefined || writer.name === undefined) return true;
  if (reader.name === writer.name) return true;
  return (reader.aliases ?? []).some((a) => a === writer.name || shortName(a) === writer.name);
}

/** Whether `reader` can read data written with `writer`, without looking inside records. */
function matches(reader: AnyType, writer: AnyType): boolean {
  const rk = kind(reader);
  const wk = kind(writer);
  if (rk === wk) return NAMED.has(rk) ? namesMatch(reader, writer) : true;
  return (PROMOTIONS[rk] ?? []).includes(wk);
}

interface Ctx {
  dir: Direction;
  out: BreakingChange[];
  seen: Set<string>;
  ids: WeakMap<object, number>;
  next: number;
}

function idOf(ctx: Ctx, t: object): number {
  let id = ctx.ids.get(t);
  if (id === undefined) {
    id = ctx.next++;
    ctx.ids.set(t, id);
  }
  return id;
}

function describe(t: AnyType): string {
  return t.name ?? kind(t);
}

function report(ctx: Ctx, rule: string, path: string, message: string): void {
  if (!ctx.out.some((c) => c.rule === rule && c.path === path)) ctx.out.push({ path, rule, message });
}

function typeChange(ctx: Ctx, reader: AnyType, writer: AnyType, path: string): void {
  // One direction may still work: a promotion the other way round.
  const reverse = matches(writer, reader);
  const rule = reverse ? (ctx.dir === "backward" ? "avro.type-narrowed" : "avro.type-widened") : "avro.type-changed";
  const [older, newer] = ctx.dir === "backward" ? [writer, reader] : [reader, writer];
  report(ctx, rule, path, `the type changed from ${describe(older)} to ${describe(newer)}`);
}

function resolve(ctx: Ctx, reader: AnyType, writer: AnyType, path: string): void {
  const key = `${idOf(ctx, reader)}:${idOf(ctx, writer)}`;
  if (ctx.seen.has(key)) return;
  ctx.seen.add(key);
  const rk = kind(reader);
  const wk = kind(writer);
  if (wk === "union") {
    for (const branch of writer.types ?? []) {
      if (rk === "union") {
        const target = (reader.types ?? []).find((r) => matches(r, branch));
        if (target === undefined) {
          const rule = ctx.dir === "backward" ? "avro.union-branch-removed" : "avro.union-branch-added";
          report(
            ctx,
            rule,
            path,
            `the union branch ${describe(branch)} has no counterpart in the ${ctx.dir === "backward" ? "new" : "old"} schema`,
          );
        } else resolve(ctx, target, branch, path);
      } else if (matches(reader, branch)) resolve(ctx, reader, branch, path);
      else {
        const rule = ctx.dir === "backward" ? "avro.union-branch-removed" : "avro.union-branch-added";
        report(ctx, rule, path, `the union branch ${describe(branch)} cannot be read as ${describe(reader)}`);
      }
    }
    return;
  }
  if (rk === "union") {
    const target = (reader.types ?? []).find((r) => matches(r, writer));
    if (target === undefined) typeChange(ctx, reader, writer, path);
    else resolve(ctx, target, writer, path);
    return;
  }
  if (!matches(reader, writer)) {
    if (rk === wk && NAMED.has(rk)) {
      const [older, newer] = ctx.dir === "backward" ? [writer, reader] : [reader, writer];
      report(
        ctx,
        "avro.name-changed",
        path,
        `the ${rk} ${older.name ?? ""} is now named ${newer.name ?? ""} (add an alias to keep it readable)`,
      );
    } else typeChange(ctx, reader, writer, path);
    return;
  }
  switch (rk) {
    case "record": {
      const wFields = writer.fields ?? [];
      for (const rf of reader.fields ?? []) {
        const wf = wFields.find((f) => f.name === rf.name) ?? wFields.find((f) => (rf.aliases ?? []).includes(f.name));
        const fpath = `${path}/${rf.name}`;
        if (wf !== undefined) resolve(ctx, rf.type, wf.type, fpath);
        else if (!Object.hasOwn(rf, "defaultValue")) {
          if (ctx.dir === "backward")
            report(ctx, "avro.field-added-without-default", fpath, `field ${rf.name} was added without a default`);
          else report(ctx, "avro.field-removed-without-default", fpath, `field ${rf.name}, which has no default, was removed`);
        }
      }
      return;
    }
    case "enum": {
      const symbols = new Set(reader.symbols ?? []);
      const missing = (writer.symbols ?? []).filter((s) => !symbols.has(s));
      if (missing.length > 0 && reader.default === undefined) {
        const rule = ctx.dir === "backward" ? "avro.enum-symbol-removed" : "avro.enum-symbol-added";
        const verb = ctx.dir === "backward" ? "was removed" : "was added";
        report(
          ctx,
          rule,
          path,
          `enum ${reader.name ?? ""}: ${missing.map((s) => JSON.stringify(s)).join(", ")} ${verb} and the enum has no default`,
        );
      }
      return;
    }
    case "fixed":
      if (reader.size !== writer.size) {
        const [older, newer] = ctx.dir === "backward" ? [writer, reader] : [reader, writer];
        report(
          ctx,
          "avro.fixed-size-changed",
          path,
          `fixed ${reader.name ?? ""} was ${older.size ?? 0} bytes and is now ${newer.size ?? 0}`,
        );
      }
      return;
    case "array":
      resolve(ctx, reader.itemsType as AnyType, writer.itemsType as AnyType, `${path}/items`);
      return;
    case "map":
      resolve(ctx, reader.valuesType as AnyType, writer.valuesType as AnyType, `${path}/values`);
      return;
    default:
      return;
  }
}

/**
 * Breaking changes between two Avro schema versions in one direction: `backward` checks that the
 * new schema (reader) resolves data written with the old one, `forward` the reverse. avsc's own
 * resolver confirms the verdict; a refusal only it finds is reported as `avro.type-changed`.
 */
export function avroBreakingChanges(direction: Direction, previous: PreparedSchema, next: PreparedSchema): BreakingChange[] {
  const older = avroTypeOf(previous) as unknown as AnyType;
  const newer = avroTypeOf(next) as unknown as AnyType;
  const [reader, writer] = direction === "backward" ? [newer, older] : [older, newer];
  const ctx: Ctx = { dir: direction, out: [], seen: new Set(), ids: new WeakMap(), next: 0 };
  resolve(ctx, reader, writer, "");
  if (ctx.out.length === 0) {
    try {
      (reader as unknown as Type).createResolver(writer as unknown as Type);
    } catch (err) {
      report(ctx, "avro.type-changed", "", `Avro cannot resolve the schemas: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return ctx.out;
}
