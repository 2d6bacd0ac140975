import { canSee } from "../auth/index.js";
import type { StreamReader } from "../nats/index.js";
import { DLS_STREAM, EventKind, JunctionError, assertName, type DeadLetter, type DeadLetterPage, type Scope } from "../protocol/index.js";
import type { StationRecord } from "../stations/index.js";
import type { EventPublisher } from "../support/index.js";
import type { ApiContext, ApiHandler } from "../pipeline/index.js";
import { DLS_LIST_DEFAULT_LIMIT, DLS_LIST_MAX_LIMIT, DLS_LIST_SCAN_LIMIT, parseFilter, type DlsQuery } from "./query.js";
import type { Resender } from "./resend.js";
import type { DlsRetention, RetentionStore } from "./retention.js";
import { applyStationCap } from "./writer.js";

/** What the `dls.*` handlers need. */
export interface DlsHandlerDeps {
  query: DlsQuery;
  resender: Resender;
  reader: StreamReader;
  retention: RetentionStore;
  events: EventPublisher;
  /** Decodes a payload by the station's schema (for `dls.get`); undefined when there is none or it does not decode. */
  decode?:
    ((ctx: ApiContext, station: StationRecord, headers: Record<string, string>, payload: Uint8Array) => Promise<unknown>) | undefined;
}

/**
 * The `dls.*` operations: list, get, resend, drop, stats, retention. All are idempotent and
 * report counts.
 */
export function dlsHandlers(d: DlsHandlerDeps): Record<string, ApiHandler> {
  const targets = async (scope: Scope, body: Record<string, unknown>): Promise<DeadLetter[]> => {
    if (body["id"] !== undefined) return await d.query.find(scope, body["id"] as string);
    return (await d.query.scan(scope, parseFilter(body["filter"]), 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).items;
  };
  return {
    "dls.list": async (body, { scope }): Promise<DeadLetterPage> => {
      const f = parseFilter(body);
      const limit = body["limit"] ?? DLS_LIST_DEFAULT_LIMIT;
      if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > DLS_LIST_MAX_LIMIT) {
        throw new JunctionError("INVALID_ARGUMENT", `'limit' must be an integer from 1 to ${DLS_LIST_MAX_LIMIT}`, {
          details: { field: "limit", value: limit },
        });
      }
      let from = 1;
      if (body["cursor"] !== undefined) {
        const c = body["cursor"];
        from = typeof c === "string" && /^[1-9][0-9]*$/.test(c) ? Number(c) : NaN;
        if (Number.isNaN(from))
          throw new JunctionError("INVALID_ARGUMENT", "'cursor' must be a cursor returned by dls.list", {
            details: { field: "cursor", value: c },
          });
      }
      const { items, next } = await d.query.scan(scope, f, from, limit, DLS_LIST_SCAN_LIMIT);
      return next !== undefined ? { items, next: String(next) } : { items };
    },
    "dls.get": async (body, ctx) => {
      const id = body["id"] as string;
      const found = await d.query.find(ctx.scope, id);
      const dl = found[found.length - 1];
      // A dead letter of a station the asker may not see does not exist for it.
      if (!dl || !canSee(ctx.identity.grants, dl.station))
        throw new JunctionError("DEAD_LETTER_NOT_FOUND", `no dead letter has id '${id}'`, { details: { id } });
      const rec = d.decode ? await ctx.records.stations.fresh(dl.station) : undefined;
      if (rec && d.decode) {
        const decoded = await d.decode(ctx, rec, dl.headers, Buffer.from(dl.payload, "base64")).catch(() => undefined);
        if (decoded !== undefined) dl.decoded = decoded;
      }
      return dl;
    },
    "dls.resend": async (body, { scope, records, trace }) => d.resender.resend(scope, records.stations, await targets(scope, body), trace),
    "dls.drop": async (body, { scope }) => {
      let dropped = 0;
      const byStation = new Map<string, string[]>();
      for (const dl of await targets(scope, body)) {
        if (!(await d.reader.delete(DLS_STREAM, dl.dlsSeq!))) continue;
        dropped++;
        const ids = byStation.get(dl.station) ?? [];
        ids.push(dl.id);
        byStation.set(dl.station, ids);
      }
      for (const [station, ids] of byStation)
        d.events.publish(station, EventKind.Dropped, { count: ids.length, ids: ids.slice(0, 100) }, scope.tenant);
      return { dropped };
    },
    "dls.stats": async (body, { scope }) => {
      const station = body["station"];
      if (station !== undefined) assertName("station", station);
      return d.query.stats(scope, station as string | undefined);
    },
    "dls.retention": async (body, { scope, records }): Promise<DlsRetention & { station: string; trimmed: number }> => {
      const station = body["station"];
      assertName("station", station);
      if (!(await records.stations.fresh(station)))
        throw new JunctionError("STATION_NOT_FOUND", `station '${station}' not found`, { details: { station } });
      const change: Partial<DlsRetention> = {};
      if (body["maxAgeSeconds"] !== undefined) change.maxAgeSeconds = body["maxAgeSeconds"] as number;
      if (body["maxEntries"] !== undefined) change.maxEntries = body["maxEntries"] as number;
      const r =
        Object.keys(change).length > 0
          ? await d.retention.set(station, change, scope.tenant)
          : await d.retention.get(station, scope.tenant);
      const trimmed = change.maxEntries !== undefined ? await applyStationCap(d.reader, scope.tenant, station, r.maxEntries) : 0;
      return { station, ...r, trimmed };
    },
  };
}
