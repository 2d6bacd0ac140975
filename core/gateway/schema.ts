import { randomUUID } from "node:crypto";
import { DeadLetterReason, DeadLetterWriter, toBase64, type DeadLetter } from "../dls/index.js";
import { Headers, JunctionError, assertName, type ErrorBody } from "../protocol/index.js";
import { SchemaRegistry, type SchemaMeta } from "../registry/index.js";
import type { StationRecord, StationRegistry } from "../stations/index.js";
import type { ApiHandler } from "./admin.js";
import type { ProduceStage, StageContext, StageMessage, StageOutcome } from "./stages.js";

/** Where a station's schema resolves to now. */
export async function resolveAttachment(reg: SchemaRegistry, rec: StationRecord): Promise<{ name: string; version: number } | undefined> {
  const s = rec.schema;
  if (!s) return undefined;
  const version = s.version === "latest" ? (reg.cachedLatest(s.name) ?? (await reg.meta(s.name)).latest) : s.version;
  return { name: s.name, version };
}

/** Builds a dead-letter record of a message refused on produce. */
export function produceDeadLetter(reason: DeadLetterReason, ctx: StageContext, m: StageMessage, error: ErrorBody): DeadLetter {
  return {
    // A retried produce of the same message id records one dead letter.
    id: m.id ? `${reason}:${ctx.station.name}:${m.id}` : `${reason}:${ctx.station.name}:${randomUUID()}`,
    station: ctx.station.name,
    reason,
    groups: [],
    payload: toBase64(m.payload),
    headers: m.headers,
    error,
    producer: ctx.producer,
    createdAt: new Date().toISOString(),
  };
}

/**
 * The schema stage: validates each message against the station's schema version, stamps
 * `Jn-Schema: <name>@<version>` on valid ones, and refuses invalid ones with
 * SCHEMA_VALIDATION_FAILED (a copy goes to the DLS with reason `schema`).
 */
export class SchemaStage implements ProduceStage {
  readonly name = "schema";
  readonly #reg: SchemaRegistry;
  readonly #dls: DeadLetterWriter;
  /** Invalid messages seen (for metrics). */
  failures = 0;

  constructor(reg: SchemaRegistry, dls: DeadLetterWriter) {
    this.#reg = reg;
    this.#dls = dls;
  }

  applies(station: StationRecord): boolean {
    return station.schema !== undefined;
  }

  async run(ctx: StageContext, messages: StageMessage[]): Promise<StageOutcome[]> {
    const at = await resolveAttachment(this.#reg, ctx.station);
    if (!at) return messages.map((m) => ({ ok: true, messages: [m] }));
    const compiled = await this.#reg.compiled(at.name, at.version, ctx.station.schema?.allowUnknownFields === true);
    const tag = `${at.name}@${at.version}`;
    const dead: Promise<boolean>[] = [];
    const out = messages.map((m, i): StageOutcome => {
      const r = compiled.validate(m.payload);
      if (r.ok) {
        m.headers[Headers.Schema] = tag;
        m.value = r.value;
        return { ok: true, messages: [m] };
      }
      this.failures++;
      const summary = r.issues
        .slice(0, 3)
        .map((x) => `${x.path || "/"}: ${x.message}`)
        .join("; ");
      const error = new JunctionError("SCHEMA_VALIDATION_FAILED", `message does not match schema ${tag}: ${summary}`, {
        details: { schema: at.name, version: at.version, issues: r.issues, index: i },
      }).toBody();
      dead.push((ctx.deadLetters ?? this.#dls).write(produceDeadLetter(DeadLetterReason.Schema, ctx, m, error)));
      return { ok: false, error };
    });
    await Promise.all(dead);
    return out;
  }
}

/** The `schema.*` admin handlers. */
export function schemaHandlers(reg: SchemaRegistry, stations: StationRegistry): Record<string, ApiHandler> {
  const usedBy = async (name: string): Promise<string[]> => {
    const out: string[] = [];
    for (const s of await stations.names()) if ((await stations.fresh(s))?.schema?.name === name) out.push(s);
    return out;
  };
  const station = async (name: unknown): Promise<StationRecord> => {
    assertName("station", name);
    const rec = await stations.fresh(name);
    if (!rec) throw new JunctionError("STATION_NOT_FOUND", `station '${name}' not found`, { details: { station: name } });
    return rec;
  };
  const str = (b: Record<string, unknown>, k: string, required = true): string | undefined => {
    const v = b[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string") throw new JunctionError("INVALID_ARGUMENT", `'${k}' must be a string`, { details: { field: k } });
    return v;
  };
  const withUse = async (m: SchemaMeta) => ({ ...m, usedBy: await usedBy(m.name) });
  return {
    "schema.create": async (b) => {
      const type = str(b, "type");
      if (type !== "json" && type !== "protobuf")
        throw new JunctionError("INVALID_ARGUMENT", `'type' must be json or protobuf (got ${JSON.stringify(type)})`, {
          details: { field: "type" },
        });
      const r = await reg.create({
        name: str(b, "name")!,
        type,
        definition: str(b, "definition")!,
        messageType: str(b, "messageType", false),
        compatibility: str(b, "compatibility", false) as SchemaMeta["compatibility"] | undefined,
        description: str(b, "description", false),
      });
      return { ...r.meta, version: r.version.version, created: r.created };
    },
    "schema.get": async (b) => {
      const name = str(b, "name")!;
      assertName("schema", name);
      const v = b["version"] === undefined ? "latest" : b["version"];
      if (v !== "latest" && (typeof v !== "number" || !Number.isInteger(v) || v < 1))
        throw new JunctionError("INVALID_ARGUMENT", "'version' must be a positive integer", { details: { field: "version" } });
      const meta = await reg.meta(name, true);
      const version = await reg.version(name, v);
      return { meta: await withUse(meta), version };
    },
    "schema.list": async () => Promise.all((await reg.list()).map(withUse)),
    "schema.versions": async (b) => {
      const name = str(b, "name")!;
      assertName("schema", name);
      return reg.versions(name);
    },
    "schema.delete": async (b) => {
      const name = str(b, "name")!;
      assertName("schema", name);
      await reg.meta(name, true);
      const users = await usedBy(name);
      if (users.length > 0 && b["force"] !== true) {
        throw new JunctionError(
          "SCHEMA_IN_USE",
          `schema '${name}' is attached to ${users.join(", ")}; detach it first or delete with force`,
          {
            details: { schema: name, stations: users },
          },
        );
      }
      for (const s of users) {
        const rec = await stations.fresh(s);
        if (rec) await stations.put({ ...rec, schema: undefined });
      }
      await reg.delete(name);
      return { deleted: true, detachedFrom: users };
    },
    "schema.attach": async (b) => {
      const name = str(b, "name")!;
      assertName("schema", name);
      const rec = await station(b["station"]);
      const v = b["version"] === undefined ? "latest" : b["version"];
      if (v !== "latest" && (typeof v !== "number" || !Number.isInteger(v) || v < 1))
        throw new JunctionError("INVALID_ARGUMENT", "'version' must be a positive integer or \"latest\"", {
          details: { field: "version" },
        });
      await reg.version(name, v); // SCHEMA_NOT_FOUND / SCHEMA_VERSION_NOT_FOUND
      const schema = { name, version: v as number | "latest", ...(b["allowUnknownFields"] === true ? { allowUnknownFields: true } : {}) };
      await stations.put({ ...rec, schema });
      return { station: rec.name, schema };
    },
    "schema.detach": async (b) => {
      const rec = await station(b["station"]);
      await stations.put({ ...rec, schema: undefined });
      return { station: rec.name, detached: rec.schema?.name ?? null };
    },
  };
}
