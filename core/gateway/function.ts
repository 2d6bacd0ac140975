import type { FnMessage, FunctionRuntime, PipelineStep } from "../../functions/index.js";
import { DeadLetterReason, type DeadLetterWriter } from "../dls/index.js";
import { Headers, JunctionError, assertName } from "../protocol/index.js";
import type { FunctionRegistry, SchemaRegistry } from "../registry/index.js";
import type { StationRecord, StationRegistry } from "../stations/index.js";
import type { ApiHandler } from "./admin.js";
import { produceDeadLetter, resolveAttachment } from "./schema.js";
import type { ProduceStage, StageContext, StageMessage, StageOutcome } from "./stages.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0
  );
}
const enc = new TextEncoder();

/** The payload a function sees: the decoded object on schema stations, else a string (UTF-8) or bytes. */
function toFnPayload(m: StageMessage): unknown {
  if (m.value !== undefined) return m.value;
  try {
    return utf8.decode(m.payload);
  } catch {
    return m.payload;
  }
}

/** One run of a station's function pipeline over a batch (see {@link FunctionStage.onRun}). */
export interface FunctionRunEvent {
  station: string;
  /** Messages in the batch. */
  messages: number;
  /** Time spent in the sandbox for the whole pipeline. */
  durationMs: number;
}

/**
 * The function stage: runs the station's pipeline over the batch (one sandbox call per function
 * per batch). Output is re-encoded (JSON, or Protobuf with the station's schema) and checked
 * against the station's schema. A failure is FUNCTION_FAILED for that message, with a copy in
 * the DLS (reason `function`).
 */
export class FunctionStage implements ProduceStage {
  readonly name = "functions";
  failures = 0;
  /** Told how long each pipeline run over a batch took (metrics). */
  onRun: ((e: FunctionRunEvent) => void) | undefined;
  readonly #functions: FunctionRegistry;
  readonly #schemas: SchemaRegistry;
  readonly #runtime: FunctionRuntime;
  readonly #dls: DeadLetterWriter;

  constructor(functions: FunctionRegistry, schemas: SchemaRegistry, runtime: FunctionRuntime, dls: DeadLetterWriter) {
    this.#functions = functions;
    this.#schemas = schemas;
    this.#runtime = runtime;
    this.#dls = dls;
  }

  applies(station: StationRecord): boolean {
    return (station.functions?.length ?? 0) > 0;
  }

  async run(ctx: StageContext, messages: StageMessage[]): Promise<StageOutcome[]> {
    const steps: PipelineStep[] = [];
    for (const f of ctx.station.functions ?? []) steps.push({ spec: await this.#functions.spec(f.name, f.version), inputs: f.inputs });
    const at = await resolveAttachment(this.#schemas, ctx.station);
    const compiled = at ? await this.#schemas.compiled(at.name, at.version, ctx.station.schema?.allowUnknownFields === true) : undefined;
    const input: FnMessage[] = messages.map((m) => ({ payload: toFnPayload(m), headers: { ...m.headers } }));
    const started = performance.now();
    const outcomes = await this.#runtime.runPipeline(steps, ctx.station.name, input);
    this.onRun?.({ station: ctx.station.name, messages: messages.length, durationMs: performance.now() - started });
    const dead: Promise<boolean>[] = [];
    const fail = (m: StageMessage, i: number, details: Record<string, unknown>, text: string): StageOutcome => {
      this.failures++;
      const error = new JunctionError("FUNCTION_FAILED", text, { details: { ...details, index: i } }).toBody();
      dead.push((ctx.deadLetters ?? this.#dls).write(produceDeadLetter(DeadLetterReason.Function, ctx, m, error)));
      return { ok: false, error };
    };
    const out = outcomes.map((o, i): StageOutcome => {
      const m = messages[i]!;
      if (!o.ok) {
        return fail(
          m,
          i,
          { function: o.function, version: o.version, kind: o.kind, error: o.message },
          `function ${o.function}@${o.version} failed (${o.kind}): ${o.message}`,
        );
      }
      const produced: StageMessage[] = [];
      for (const r of o.messages) {
        let bytes: Uint8Array;
        try {
          if (r.payload instanceof Uint8Array) bytes = r.payload;
          else if (typeof r.payload === "string" && !compiled) bytes = enc.encode(r.payload);
          // JSON stations: serialize here and validate the bytes below (once); Protobuf needs the schema to encode.
          else if (compiled && compiled.type === "protobuf")
            bytes = compiled.encode(typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload);
          else if (typeof r.payload === "string") bytes = enc.encode(r.payload);
          else {
            const text = JSON.stringify(r.payload) as string | undefined;
            if (text === undefined) throw new Error("the payload has no JSON form");
            bytes = enc.encode(text);
          }
        } catch (err) {
          return fail(
            m,
            i,
            { kind: "bad-output", error: (err as Error).message },
            `function output cannot be encoded: ${(err as Error).message}`,
          );
        }
        // Output byte-identical to the input was validated already (the schema stage ran first).
        if (compiled && (compiled.type === "protobuf" ? false : !sameBytes(bytes, m.payload))) {
          const v = compiled.validate(bytes);
          if (!v.ok) {
            return fail(
              m,
              i,
              { kind: "bad-output", schema: at?.name, version: at?.version, issues: v.issues },
              `function output does not match schema ${at?.name}@${at?.version}: ${v.issues
                .slice(0, 3)
                .map((x) => `${x.path || "/"}: ${x.message}`)
                .join("; ")}`,
            );
          }
        }
        const headers: Record<string, string> = { ...r.headers };
        // Junction's own headers stay as the gateway set them.
        for (const k of Object.keys(headers)) if (/^(jn|nats)-/i.test(k)) delete headers[k];
        for (const [k, val] of Object.entries(m.headers)) if (/^jn-/i.test(k)) headers[k] = val;
        if (at) headers[Headers.Schema] = `${at.name}@${at.version}`;
        produced.push({ id: m.id, headers, payload: bytes });
      }
      return { ok: true, messages: produced };
    });
    await Promise.all(dead);
    return out;
  }
}

/** The `function.*` admin handlers. */
export function functionHandlers(reg: FunctionRegistry, runtime: FunctionRuntime, stations: StationRegistry): Record<string, ApiHandler> {
  const str = (b: Record<string, unknown>, k: string, required = true): string | undefined => {
    const v = b[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string") throw new JunctionError("INVALID_ARGUMENT", `'${k}' must be a string`, { details: { field: k } });
    return v;
  };
  const num = (b: Record<string, unknown>, k: string): number | undefined => {
    const v = b[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number") throw new JunctionError("INVALID_ARGUMENT", `'${k}' must be a number`, { details: { field: k } });
    return v;
  };
  const station = async (name: unknown): Promise<StationRecord> => {
    assertName("station", name);
    const rec = await stations.fresh(name);
    if (!rec) throw new JunctionError("STATION_NOT_FOUND", `station '${name}' not found`, { details: { station: name } });
    return rec;
  };
  const usedBy = async (name: string): Promise<string[]> => {
    const out: string[] = [];
    for (const s of await stations.names()) if ((await stations.fresh(s))?.functions?.some((f) => f.name === name)) out.push(s);
    return out;
  };
  const fname = (b: Record<string, unknown>) => {
    const n = str(b, "name")!;
    assertName("function", n);
    return n;
  };
  return {
    "function.create": async (b) => {
      const inputs = b["inputs"];
      const r = await reg.create({
        name: str(b, "name")!,
        source: str(b, "source")!,
        timeoutMs: num(b, "timeoutMs"),
        memoryMb: num(b, "memoryMb"),
        inputs: inputs as string[] | undefined,
        description: str(b, "description", false),
      });
      return { ...r.meta, version: r.version.version, created: r.created };
    },
    "function.get": async (b) => {
      const name = fname(b);
      const v = b["version"] ?? "latest";
      if (v !== "latest" && (typeof v !== "number" || !Number.isInteger(v)))
        throw new JunctionError("INVALID_ARGUMENT", "'version' must be an integer", { details: { field: "version" } });
      return { meta: { ...(await reg.meta(name, true)), usedBy: await usedBy(name) }, version: await reg.version(name, v) };
    },
    "function.list": async () =>
      Promise.all((await reg.list()).map(async (m) => ({ ...m, usedBy: await usedBy(m.name), stats: runtime.stats(m.name) }))),
    "function.versions": async (b) => reg.versions(fname(b)),
    "function.logs": async (b) => {
      const name = fname(b);
      await reg.meta(name);
      return { logs: runtime.logs(name), stats: runtime.stats(name) };
    },
    "function.delete": async (b) => {
      const name = fname(b);
      await reg.meta(name, true);
      const users = await usedBy(name);
      if (users.length > 0 && b["force"] !== true) {
        throw new JunctionError(
          "FUNCTION_IN_USE",
          `function '${name}' is attached to ${users.join(", ")}; detach it first or delete with force`,
          { details: { function: name, stations: users } },
        );
      }
      for (const s of users) {
        const rec = await stations.fresh(s);
        if (rec) await stations.put({ ...rec, functions: (rec.functions ?? []).filter((f) => f.name !== name) });
      }
      await reg.delete(name);
      runtime.evict(name);
      return { deleted: true, detachedFrom: users };
    },
    "function.attach": async (b) => {
      const name = fname(b);
      const rec = await station(b["station"]);
      const v = b["version"] ?? "latest";
      if (v !== "latest" && (typeof v !== "number" || !Number.isInteger(v)))
        throw new JunctionError("INVALID_ARGUMENT", "'version' must be an integer or \"latest\"", { details: { field: "version" } });
      const fv = await reg.version(name, v as number | "latest");
      const inputs = (b["inputs"] ?? {}) as Record<string, unknown>;
      if (typeof inputs !== "object" || inputs === null || Object.values(inputs).some((x) => typeof x !== "string")) {
        throw new JunctionError("INVALID_ARGUMENT", "'inputs' must map names to strings", { details: { field: "inputs" } });
      }
      const undeclared = Object.keys(inputs).filter((k) => !fv.inputs.includes(k));
      if (fv.inputs.length > 0 && undeclared.length > 0) {
        throw new JunctionError(
          "INVALID_ARGUMENT",
          `function '${name}' declares no input ${undeclared.map((x) => `'${x}'`).join(", ")} (declared: ${fv.inputs.join(", ")})`,
          { details: { field: "inputs", undeclared } },
        );
      }
      const list = (rec.functions ?? []).filter((f) => f.name !== name);
      const pos = b["position"] === undefined ? list.length : b["position"];
      if (typeof pos !== "number" || !Number.isInteger(pos) || pos < 0 || pos > list.length) {
        throw new JunctionError("INVALID_ARGUMENT", `'position' must be between 0 and ${list.length}`, { details: { field: "position" } });
      }
      list.splice(pos, 0, { name, version: v as number | "latest", inputs: inputs as Record<string, string> });
      await stations.put({ ...rec, functions: list });
      return { station: rec.name, functions: list };
    },
    "function.detach": async (b) => {
      const name = fname(b);
      const rec = await station(b["station"]);
      if (!(rec.functions ?? []).some((f) => f.name === name))
        throw new JunctionError("FUNCTION_NOT_FOUND", `function '${name}' is not attached to '${rec.name}'`, {
          details: { function: name, station: rec.name },
        });
      const list = (rec.functions ?? []).filter((f) => f.name !== name);
      await stations.put({ ...rec, functions: list });
      return { station: rec.name, functions: list };
    },
  };
}
