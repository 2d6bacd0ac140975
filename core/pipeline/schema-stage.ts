import { DeadLetterReason, Headers, JunctionError } from "../protocol/index.js";
import type { SchemaRegistry } from "../registry/index.js";
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
    return messages.map((m, i): StageOutcome => {
      const r = compiled.validate(m.payload);
      if (r.ok) {
        m.headers[Headers.Schema] = tag;
        m.value = r.value;
        return { ok: true, messages: [m] };
      }
      const summary = r.issues
        .slice(0, 3)
        .map((x) => `${x.path || "/"}: ${x.message}`)
        .join("; ");
      const error = new JunctionError("SCHEMA_VALIDATION_FAILED", `message does not match schema ${tag}: ${summary}`, {
        details: { schema: at.name, version: at.version, issues: r.issues, index: i },
      }).toBody();
      return { ok: false, error, deadLetter: DeadLetterReason.Schema };
    });
  }
}
