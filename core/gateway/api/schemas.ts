import type { PreparedSchema, ReferencedSchema, SchemaIssue, SchemaType } from "../../../schemas/index.js";
import type { StreamAdmin, StreamMessage, StreamReader } from "../../nats/index.js";
import { Headers, JunctionError, assertName, parseSchemaTag, type Scope } from "../../protocol/index.js";
import {
  compatibilityModeOf,
  fromSchemaError,
  type CreateSchemaInput,
  type SchemaMeta,
  type SchemaRegistry,
} from "../../registry/index.js";
import type { StationRecord, StationRegistry } from "../../stations/index.js";
import type { ApiHandler } from "../../pipeline/index.js";
import { mustGetStation } from "./stations.js";

/** What the schema handlers need besides the tenant's records. */
export interface SchemaHandlerDeps {
  /** Station stream state (where the last messages are), for `schema.check`. */
  admin: Pick<StreamAdmin, "stationState">;
  /** Reads stored messages, for `schema.check`. */
  reader: Pick<StreamReader, "read">;
}

/** Stored messages `schema.check` reads per station when the request names no `sample`. */
export const DEFAULT_CHECK_SAMPLE = 100;
/** Failures listed per station in a `schema.check` report (all are counted). */
const MAX_LISTED_FAILURES = 20;
/** Issues listed per failing message. */
const MAX_LISTED_ISSUES = 5;
/** Stored messages validated at once by `schema.check` (the pool's jobs are shared with produce). */
const CHECK_CONCURRENCY = 4;

/** One stored message a candidate would refuse. */
export interface CheckFailure {
  seq: number;
  /** The version the message was checked against when it was stored (its `Jn-Schema`). */
  storedWith: string | undefined;
  issues: SchemaIssue[];
}

/** What `schema.check` found on one station. */
export interface StationCheck {
  station: string;
  /** Messages read (the last ones stored). */
  checked: number;
  /** How many of them the candidate refuses. */
  failed: number;
  /** The first failures (at most 20). */
  failures: CheckFailure[];
}

/** The stations a schema is attached to. */
async function usedBy(stations: StationRegistry, name: string): Promise<StationRecord[]> {
  return (await stations.list()).filter((s) => s.schema?.name === name);
}

/** The fields of a create/check body that describe a definition. */
function definitionOf(b: Record<string, unknown>, name: string, type: unknown): CreateSchemaInput {
  return {
    name,
    type: type as SchemaType,
    definition: b["definition"] as string,
    messageType: b["messageType"] as string | undefined,
    compatibility: b["compatibility"] as string | undefined,
    description: b["description"] as string | undefined,
    formats: b["formats"] as CreateSchemaInput["formats"],
    dialect: b["dialect"] as CreateSchemaInput["dialect"],
    baseUri: b["baseUri"] as string | undefined,
  };
}

/** Stored messages read at once by `schema.check` (memory stays bounded by this many messages). */
const CHECK_CHUNK = 32;

/**
 * Calls `fn` on chunks of the last `n` messages produced to a station (resends excluded), oldest
 * first; returns how many were read.
 */
async function eachLastMessages(
  d: SchemaHandlerDeps,
  scope: Scope,
  station: string,
  n: number,
  fn: (chunk: StreamMessage[]) => Promise<void>,
): Promise<number> {
  const state = await d.admin.stationState(scope, station);
  if (!state || state.messages === 0) return 0;
  let fromSeq = Math.max(state.firstSeq, state.lastSeq - n + 1);
  let read = 0;
  while (read < n && fromSeq <= state.lastSeq) {
    const batch = Math.min(CHECK_CHUNK, n - read);
    const { messages } = await d.reader.read(scope.stationStream(station), { fromSeq, filter: scope.stationMsg(station), batch });
    const chunk = messages.filter((m) => m.seq <= state.lastSeq);
    if (chunk.length === 0) break;
    read += chunk.length;
    await fn(chunk);
    fromSeq = chunk[chunk.length - 1]!.seq + 1;
  }
  return read;
}

/** Runs `fn` over `items`, `limit` at a time. */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Checks stored messages against a candidate. JSON Schema and Protobuf payloads describe
 * themselves, so each is validated against the candidate as the gateway would on produce. An
 * Avro payload can only be read with the schema that wrote it: a message stored under a version
 * of this schema passes when the candidate can read data of that version (Avro's resolution
 * rules); any other payload is decoded with the candidate itself.
 */
async function checkMessages(
  reg: SchemaRegistry,
  name: string,
  candidate: PreparedSchema,
  references: ReferencedSchema[],
  messages: StreamMessage[],
  allowUnknownFields: boolean,
): Promise<CheckFailure[]> {
  const pool = reg.runtime.pool;
  const failures: CheckFailure[] = [];
  const readable = new Map<number, Promise<SchemaIssue[]>>();
  const avroIssues = (version: number): Promise<SchemaIssue[]> => {
    let p = readable.get(version);
    if (!p) {
      p = (async () => {
        const writer = await reg.version(name, version);
        const changes = await pool.checkCompatibility("BACKWARD", writer.prepared, candidate);
        return changes.map((c) => ({
          path: c.path,
          message: `the candidate cannot read data written with ${name}@${version}: ${c.message}`,
          keyword: c.rule,
        }));
      })();
      readable.set(version, p);
    }
    return p;
  };
  await eachLimit(messages, CHECK_CONCURRENCY, async (m) => {
    const storedWith = m.headers[Headers.Schema];
    const tag = parseSchemaTag(storedWith);
    let issues: SchemaIssue[];
    try {
      if (candidate.type === "avro" && tag?.name === name) issues = await avroIssues(tag.version);
      else {
        const r = await pool.validate(candidate, m.data, { allowUnknownFields, references });
        issues = r.ok ? [] : r.issues;
      }
    } catch (err) {
      const e = fromSchemaError(err);
      if (e.code !== "SCHEMA_TOO_COMPLEX") throw e;
      issues = [{ path: "", message: `the payload is too costly to validate: ${e.message}`, keyword: "limit" }];
    }
    if (issues.length > 0) failures.push({ seq: m.seq, storedWith, issues: issues.slice(0, MAX_LISTED_ISSUES) });
  });
  return failures.sort((a, b) => a.seq - b.seq);
}

/** The `schema.*` admin handlers (bodies are validated against the API schemas first). */
export function schemaHandlers(d: SchemaHandlerDeps): Record<string, ApiHandler> {
  const withUse = async (stations: StationRegistry, m: SchemaMeta) => ({
    ...m,
    usedBy: (await usedBy(stations, m.name)).map((s) => s.name),
  });
  const named = (b: Record<string, unknown>): string => {
    const name = b["name"];
    assertName("schema", name);
    return name;
  };
  return {
    "schema.create": async (b, { records }) => {
      const r = await records.schemas.create(definitionOf(b, named(b), b["type"]));
      return { ...r.meta, version: r.version.version, created: r.created, warnings: r.warnings };
    },
    "schema.get": async (b, { records }) => {
      const name = named(b);
      const meta = await records.schemas.meta(name, true);
      const version = await records.schemas.version(name, (b["version"] as number | "latest" | undefined) ?? "latest");
      return { meta: { ...(await withUse(records.stations, meta)), referencedBy: await records.schemas.referrers(name) }, version };
    },
    "schema.list": async (_b, { records }) => Promise.all((await records.schemas.list()).map((m) => withUse(records.stations, m))),
    "schema.versions": async (b, { records }) => records.schemas.versions(named(b)),
    "schema.diff": async (b, { records }) => {
      const name = named(b);
      const [from, to] = [b["from"] as number, b["to"] as number];
      const meta = await records.schemas.meta(name, true);
      return { name, type: meta.type, from, to, changes: await records.schemas.diff(name, from, to) };
    },
    "schema.check": async (b, { records, scope }) => {
      const name = named(b);
      const meta = await records.schemas.meta(name, true);
      const sample = Math.min((b["sample"] as number | undefined) ?? DEFAULT_CHECK_SAMPLE, records.schemas.runtime.maxCheckSample);
      const mode = b["compatibility"] === undefined ? undefined : compatibilityModeOf(b["compatibility"]);
      let stations = await usedBy(records.stations, name);
      if (b["station"] !== undefined) {
        const st = await mustGetStation(records.stations, b["station"]);
        if (st.schema?.name !== name) {
          throw new JunctionError("INVALID_ARGUMENT", `station '${st.name}' is not attached to schema '${name}'`, {
            details: { field: "station", station: st.name, schema: name },
          });
        }
        stations = [st];
      }
      const { prepared, references } = await records.schemas.candidate(definitionOf(b, name, b["type"] ?? meta.type));
      const compatibility = await records.schemas.breakingChanges(name, prepared, mode);
      const report: StationCheck[] = [];
      for (const st of stations) {
        const failures: CheckFailure[] = [];
        const checked = await eachLastMessages(d, scope, st.name, sample, async (chunk) => {
          failures.push(
            ...(await checkMessages(records.schemas, name, prepared, references, chunk, st.schema?.allowUnknownFields === true)),
          );
        });
        report.push({ station: st.name, checked, failed: failures.length, failures: failures.slice(0, MAX_LISTED_FAILURES) });
      }
      return {
        name,
        type: prepared.type,
        fingerprint: prepared.fingerprint,
        warnings: prepared.warnings ?? [],
        sample,
        compatibility,
        stations: report,
        checked: report.reduce((n, s) => n + s.checked, 0),
        failed: report.reduce((n, s) => n + s.failed, 0),
      };
    },
    "schema.delete": async (b, { records }) => {
      const name = named(b);
      await records.schemas.meta(name, true);
      // References first: force detaches stations, but never breaks another schema.
      await records.schemas.assertUnreferenced(name);
      const users = (await usedBy(records.stations, name)).map((s) => s.name);
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
