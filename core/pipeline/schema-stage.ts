import type { ValidationResult } from "../../schemas/index.js";
import { DeadLetterReason, Headers, JunctionError } from "../protocol/index.js";
import { fromSchemaError, type SchemaRegistry } from "../registry/index.js";
import type { StationRecord } from "../stations/index.js";
import type { TenantRecords } from "./api.js";
import type { ProduceStage, StageContext, StageMessage, StageOutcome } from "./stages.js";

/** Where a station's schema resolves to now (`latest` through the registry's cached metadata). */
export async function resolveAttachment(reg: SchemaRegistry, rec: StationRecord): Promise<{ name: string; version: number } | undefined> {
  const s = rec.schema;
  if (!s) return undefined;
  const version = s.version === "latest" ? (reg.cachedLatest(s.name) ?? (await reg.meta(s.name)).latest) : s.version;
  return { name: s.name, version };
}

/**
 * The schema stage: validates each message against the station's schema version, stamps
 * `Jn-Schema: <name>@<version>` on valid ones, and refuses invalid ones with
 * SCHEMA_VALIDATION_FAILED (to be recorded in the DLS with reason `schema`).
 *
 * Messages up to the registry's `asyncThresholdBytes` are validated right here, synchronously
 * (the common case costs no extra promise); larger ones go to the schema worker pool, under its
 * time budget, so one huge message cannot hold the event loop and stall other stations.
 */
export class SchemaStage implements ProduceStage {
  readonly name = "schema";
  readonly #registries: (tenant: string) => Promise<Pick<TenantRecords, "schemas">>;

  /** `registries` gives the registries of a tenant (the station's). */
  constructor(o: { registries: (tenant: string) => Promise<Pick<TenantRecords, "schemas">> }) {
    this.#registries = o.registries;
  }

  applies(station: StationRecord): boolean {
    return station.schema !== undefined;
  }

  async run(ctx: StageContext, messages: StageMessage[]): Promise<StageOutcome[]> {
    const reg = (await this.#registries(ctx.scope.tenant)).schemas;
    const at = await resolveAttachment(reg, ctx.station);
    if (!at) return messages.map((m) => ({ ok: true, messages: [m] }));
    const compiled = await reg.compiled(at.name, at.version, ctx.station.schema?.allowUnknownFields === true);
    const tag = `${at.name}@${at.version}`;
    const threshold = reg.asyncThresholdBytes;
    const outcome = (m: StageMessage, i: number, r: ValidationResult): StageOutcome => {
      if (r.ok) {
        m.headers[Headers.Schema] = tag;
        m.value = r.value;
        return { ok: true, messages: [m] };
      }
      const summary = r.issues
        .slice(0, 3)
        .map((x) => `${x.path || "/"}: ${x.message}`)
        .join("; ");
      const error = new JunctionError(
        "SCHEMA_VALIDATION_FAILED",
        `message does not match schema ${tag}: ${summary}${hint(compiled.type, at.version, r)}`,
        {
          details: { schema: at.name, version: at.version, issues: r.issues, index: i },
        },
      ).toBody();
      return { ok: false, error, deadLetter: DeadLetterReason.Schema };
    };
    const out: StageOutcome[] = new Array(messages.length);
    let large: Promise<void>[] | undefined;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.payload.byteLength <= threshold) {
        out[i] = outcome(m, i, compiled.validate(m.payload));
        continue;
      }
      (large ??= []).push(
        compiled.validateAsync(m.payload).then(
          (r) => void (out[i] = outcome(m, i, r)),
          (err: unknown) => {
            // The pool could not take the job (SCHEMA_UNAVAILABLE: busy or closing): retriable, no dead letter.
            const e = fromSchemaError(err);
            out[i] = { ok: false, error: e.toBody() };
          },
        ),
      );
    }
    if (large) await Promise.all(large);
    return out;
  }
}

/**
 * Avro binary does not say which schema wrote it: a producer still encoding with an earlier
 * version usually leaves bytes over or runs short. Say so, since the issue alone looks like
 * corrupt data.
 */
function hint(type: string, version: number, r: ValidationResult): string {
  if (type !== "avro" || version === 1 || r.ok) return "";
  const framing = r.issues.some((x) => x.keyword === "trailing" || x.keyword === "truncated");
  return framing ? ` (Avro payloads must be encoded with version ${version} of the schema; was it written with an earlier one?)` : "";
}
