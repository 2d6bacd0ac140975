import { JunctionError, assertName } from "../../protocol/index.js";
import type { SchemaMeta } from "../../registry/index.js";
import type { StationRegistry } from "../../stations/index.js";
import type { ApiHandler } from "../../pipeline/index.js";
import { mustGetStation } from "./stations.js";

/** The stations a schema is attached to. */
async function usedBy(stations: StationRegistry, name: string): Promise<string[]> {
  return (await stations.list()).filter((s) => s.schema?.name === name).map((s) => s.name);
}

/** The `schema.*` admin handlers (bodies are validated against the API schemas first). */
export function schemaHandlers(): Record<string, ApiHandler> {
  const withUse = async (stations: StationRegistry, m: SchemaMeta) => ({ ...m, usedBy: await usedBy(stations, m.name) });
  const named = (b: Record<string, unknown>): string => {
    const name = b["name"];
    assertName("schema", name);
    return name;
  };
  return {
    "schema.create": async (b, { records }) => {
      const type = b["type"];
      if (type !== "json" && type !== "protobuf") {
        throw new JunctionError("INVALID_ARGUMENT", `'type' must be json or protobuf (got ${JSON.stringify(type)})`, {
          details: { field: "type" },
        });
      }
      const r = await records.schemas.create({
        name: named(b),
        type,
        definition: b["definition"] as string,
        messageType: b["messageType"] as string | undefined,
        compatibility: b["compatibility"] as SchemaMeta["compatibility"] | undefined,
        description: b["description"] as string | undefined,
      });
      return { ...r.meta, version: r.version.version, created: r.created };
    },
    "schema.get": async (b, { records }) => {
      const name = named(b);
      const meta = await records.schemas.meta(name, true);
      const version = await records.schemas.version(name, (b["version"] as number | "latest" | undefined) ?? "latest");
      return { meta: await withUse(records.stations, meta), version };
    },
    "schema.list": async (_b, { records }) => Promise.all((await records.schemas.list()).map((m) => withUse(records.stations, m))),
    "schema.versions": async (b, { records }) => records.schemas.versions(named(b)),
    "schema.delete": async (b, { records }) => {
      const name = named(b);
      await records.schemas.meta(name, true);
      const users = await usedBy(records.stations, name);
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
        const rec = await records.stations.fresh(s);
        if (rec) await records.stations.put({ ...rec, schema: undefined });
      }
      await records.schemas.delete(name);
      return { deleted: true, detachedFrom: users };
    },
    "schema.attach": async (b, { records }) => {
      const name = named(b);
      const rec = await mustGetStation(records.stations, b["station"]);
      const v = (b["version"] as number | "latest" | undefined) ?? "latest";
      await records.schemas.version(name, v); // SCHEMA_NOT_FOUND / SCHEMA_VERSION_NOT_FOUND
      const schema = { name, version: v, ...(b["allowUnknownFields"] === true ? { allowUnknownFields: true } : {}) };
      await records.stations.put({ ...rec, schema });
      return { station: rec.name, schema };
    },
    "schema.detach": async (b, { records }) => {
      const rec = await mustGetStation(records.stations, b["station"]);
      await records.stations.put({ ...rec, schema: undefined });
      return { station: rec.name, detached: rec.schema?.name ?? null };
    },
  };
}
