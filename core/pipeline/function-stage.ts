import type { FnMessage, FunctionRuntime, PipelineStep } from "../../functions/index.js";
import { DEFAULT_TENANT, DeadLetterReason, Headers, JunctionError, headersProblem, type Scope } from "../protocol/index.js";
import type { StationRecord } from "../stations/index.js";
import type { TenantRecords } from "./api.js";
import { resolveAttachment } from "./schema-stage.js";
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

/**
 * The name a tenant's function has in the runtime: isolates, logs, counters and quarantine are
 * kept per name, so two tenants' functions of the same name never share an isolate (nor its
 * global state).
 */
export function functionRuntimeName(scope: Pick<Scope, "tenant">, name: string): string {
  return scope.tenant === DEFAULT_TENANT ? name : `${scope.tenant}/${name}`;
}

/** One run of a station's function pipeline over a batch (see {@link FunctionStageOptions.onRun}). */
export interface FunctionRunEvent {
  station: string;
  /** Messages in the batch. */
  messages: number;
  /** Time spent in the sandbox for the whole pipeline. */
  durationMs: number;
}

/** What the function stage needs. */
export interface FunctionStageOptions {
  /** The registries of a tenant (the station's). */
  registries: (tenant: string) => Promise<Pick<TenantRecords, "functions" | "schemas">>;
  runtime: FunctionRuntime;
  /** Told how long each pipeline run over a batch took (metrics). @default nothing */
  onRun?: ((e: FunctionRunEvent) => void) | undefined;
}

/**
 * The function stage: runs the station's pipeline over the batch (one sandbox call per function
 * per batch). Output is re-encoded (JSON, or Protobuf/Avro with the station's schema) and checked
 * against the station's schema. A failure is FUNCTION_FAILED for that message, with a copy in
 * the DLS (reason `function`).
 */
export class FunctionStage implements ProduceStage {
  readonly name = "functions";
  readonly #registries: FunctionStageOptions["registries"];
  readonly #runtime: FunctionRuntime;
  readonly #onRun: (e: FunctionRunEvent) => void;

  constructor(o: FunctionStageOptions) {
    this.#registries = o.registries;
    this.#runtime = o.runtime;
    this.#onRun = o.onRun ?? (() => {});
  }

  applies(station: StationRecord): boolean {
    return (station.functions?.length ?? 0) > 0;
  }

  async run(ctx: StageContext, messages: StageMessage[]): Promise<StageOutcome[]> {
    const { functions, schemas } = await this.#registries(ctx.scope.tenant);
    const steps: PipelineStep[] = [];
    for (const f of ctx.station.functions ?? []) {
      const spec = await functions.spec(f.name, f.version);
      steps.push({ spec: { ...spec, name: functionRuntimeName(ctx.scope, spec.name) }, inputs: f.inputs });
    }
    const at = await resolveAttachment(schemas, ctx.station);
    const compiled = at ? await schemas.compiled(at.name, at.version, ctx.station.schema?.allowUnknownFields === true) : undefined;
    // On JSON stations the validated bytes are the payload's JSON text: the runtime sends them as
    // they are instead of encoding the decoded value again.
    const jsonText = compiled?.type === "json";
    const input: FnMessage[] = messages.map((m) =>
      jsonText && m.value !== undefined
        ? { payload: m.value, headers: { ...m.headers }, json: m.payload }
        : { payload: toFnPayload(m), headers: { ...m.headers } },
    );
    const started = performance.now();
    const outcomes = await this.#runtime.runPipeline(steps, ctx.station.name, input);
    this.#onRun({ station: ctx.station.name, messages: messages.length, durationMs: performance.now() - started });
    const fail = (details: Record<string, unknown>, text: string): StageOutcome => {
      const error = new JunctionError("FUNCTION_FAILED", text, { details }).toBody();
      return { ok: false, error, deadLetter: DeadLetterReason.Function };
    };
    const out = outcomes.map((o, i): StageOutcome => {
      const m = messages[i]!;
      if (!o.ok) {
        const name = o.function.slice(o.function.indexOf("/") + 1);
        const details = { function: name, version: o.version, kind: o.kind, error: o.message };
        // Out of capacity is the runtime's passing state, not the message's fault: retriable, no dead letter.
        if (o.kind === "capacity") {
          return {
            ok: false,
            error: new JunctionError("FUNCTION_UNAVAILABLE", `function ${name}@${o.version} could not run now: ${o.message}`, {
              details,
            }).toBody(),
          };
        }
        if (o.kind === "quarantined") {
          const error = new JunctionError("FUNCTION_QUARANTINED", `function ${name}@${o.version} is quarantined: ${o.message}`, {
            details,
          }).toBody();
          return { ok: false, error, deadLetter: DeadLetterReason.Function };
        }
        return fail(details, `function ${name}@${o.version} failed (${o.kind}): ${o.message}`);
      }
      const produced: StageMessage[] = [];
      for (const r of o.messages) {
        let bytes: Uint8Array;
        let encoded = false;
        try {
          // Returned as JSON data: its JSON text came back with it (the input's own bytes when untouched);
          // schemaless and JSON stations store that text, Protobuf and Avro stations encode below.
          if (r.json !== undefined && (compiled === undefined || compiled.type === "json")) bytes = r.json;
          else if (r.payload instanceof Uint8Array) bytes = r.payload;
          else if (typeof r.payload === "string" && !compiled) bytes = enc.encode(r.payload);
          // JSON stations: serialize here and validate the bytes below (once); Protobuf and Avro need the schema to encode.
          else if (compiled && compiled.type !== "json") {
            bytes = compiled.encode(typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload);
            encoded = true;
          } else if (typeof r.payload === "string") bytes = enc.encode(r.payload);
          else {
            const text = JSON.stringify(r.payload) as string | undefined;
            if (text === undefined) throw new Error("the payload has no JSON form");
            bytes = enc.encode(text);
          }
        } catch (err) {
          return fail(
            { kind: "bad-output", error: (err as Error).message },
            `function output cannot be encoded: ${(err as Error).message}`,
          );
        }
        // Output byte-identical to the input was validated already (the schema stage ran first);
        // encode() checks what it writes. Bytes a function returns as they are are checked here.
        if (compiled && !encoded && !sameBytes(bytes, m.payload)) {
          const v = compiled.validate(bytes);
          if (!v.ok) {
            return fail(
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
        // Headers NATS cannot carry fail this message alone (never the whole request).
        const hp = headersProblem(headers, "");
        if (hp) return fail({ kind: "bad-output", header: hp.header, error: hp.problem }, `function output: ${hp.problem}`);
        for (const [k, val] of Object.entries(m.headers)) if (/^jn-/i.test(k)) headers[k] = val;
        if (at) headers[Headers.Schema] = `${at.name}@${at.version}`;
        produced.push({ id: m.id, headers, payload: bytes });
      }
      return { ok: true, messages: produced };
    });
    return out;
  }
}
