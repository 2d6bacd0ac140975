import {
  deleteStreamMessage,
  groupConsumerInfo,
  readStream,
  subjectCounts,
  type JetStreamManager,
  type StoreMessage,
  type StoreWriter,
  type StreamMessage,
} from "../nats/index.js";
import {
  DLS_STREAM,
  DeadLetterReason,
  EventKind,
  Headers,
  JunctionError,
  assertName,
  isReservedHeader,
  subjects,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterPage,
  type ErrorBody,
} from "../protocol/index.js";
import { runStages, type ProduceStage } from "../gateway/stages.js";
import { storeMessages } from "../gateway/produce.js";
import type { StationRecord, StationRegistry } from "../stations/index.js";
import type { EventPublisher } from "./events.js";
import { applyStationCap, type DeadLetterWriter } from "./store.js";
import type { DlsRetention, RetentionStore } from "./retention.js";

/** An admin API handler (same shape as the gateway's). */
type Handler = (body: Record<string, unknown>) => Promise<unknown>;

/** What the DLS operations need. */
export interface DlsServiceDeps {
  jsm: JetStreamManager;
  stations: StationRegistry;
  /** The gateway's store writer (resends are published on the gateway connection). */
  writer: StoreWriter;
  /** The dead-letter writer (resends that fail again on produce become new, linked dead letters). */
  dls: DeadLetterWriter;
  retention: RetentionStore;
  events: EventPublisher;
  /** The gateway's produce stages (schema, functions): a schema/function dead letter goes through them again. */
  stages: readonly ProduceStage[];
  /** Requests of at most this many messages are stored message by message, as on produce. */
  smallBatchMessages?: number;
  /** Decodes a payload by the station's schema (for `dls.get`); undefined when there is none or it does not decode. */
  decode?: (station: StationRecord, headers: Record<string, string>, payload: Uint8Array) => Promise<unknown>;
}

/** Page size of `dls.list`. */
export const DLS_LIST_DEFAULT_LIMIT = 100;
export const DLS_LIST_MAX_LIMIT = 1000;
/** Most DLS entries one `dls.list` call scans before returning a (possibly short) page with a cursor. */
export const DLS_LIST_SCAN_LIMIT = 20_000;
/** Most errors one resend reports. */
const MAX_REPORTED_ERRORS = 100;

const dec = new TextDecoder();
const REASONS = new Set<string>(Object.values(DeadLetterReason));
const CONSUMER_REASONS = new Set<string>([DeadLetterReason.Poison, DeadLetterReason.Terminated]);

/** The validated filter. */
interface Filter extends DeadLetterFilter {
  sinceMs?: number;
  untilMs?: number;
}

function parseFilter(raw: unknown): Filter {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new JunctionError("INVALID_ARGUMENT", "'filter' must be an object", { details: { field: "filter" } });
  const b = raw as Record<string, unknown>;
  const f: Filter = {};
  if (b["station"] !== undefined) {
    assertName("station", b["station"]);
    f.station = b["station"];
  }
  if (b["group"] !== undefined) {
    assertName("group", b["group"]);
    f.group = b["group"];
  }
  if (b["reason"] !== undefined) {
    if (typeof b["reason"] !== "string" || !REASONS.has(b["reason"])) {
      throw new JunctionError("INVALID_ARGUMENT", `'reason' must be one of ${[...REASONS].join(", ")}`, {
        details: { field: "reason", value: b["reason"] },
      });
    }
    f.reason = b["reason"] as DeadLetterReason;
  }
  for (const k of ["since", "until"] as const) {
    const v = b[k];
    if (v === undefined) continue;
    const ms = typeof v === "string" ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) throw new JunctionError("INVALID_ARGUMENT", `'${k}' must be an ISO time`, { details: { field: k, value: v } });
    f[k] = v as string;
    if (k === "since") f.sinceMs = ms;
    else f.untilMs = ms;
  }
  if (b["text"] !== undefined) {
    if (typeof b["text"] !== "string")
      throw new JunctionError("INVALID_ARGUMENT", "'text' must be a string", { details: { field: "text" } });
    f.text = b["text"];
  }
  return f;
}

/** The subject filter that narrows a scan as far as the filter allows (undefined = nothing can match). */
export function filterSubject(f: DeadLetterFilter): string | undefined {
  const st = f.station ?? "*";
  if (f.reason !== undefined && !CONSUMER_REASONS.has(f.reason)) return f.group !== undefined ? undefined : `jn.dls.${st}.${f.reason}`;
  if (f.group !== undefined) return `jn.dls.${st}.${f.reason ?? "*"}.${f.group}`;
  if (f.reason !== undefined) return `jn.dls.${st}.${f.reason}.*`;
  return `jn.dls.${st}.>`;
}

function matches(dl: DeadLetter, f: Filter): boolean {
  if (f.station !== undefined && dl.station !== f.station) return false;
  if (f.reason !== undefined && dl.reason !== f.reason) return false;
  if (f.group !== undefined && !dl.groups.includes(f.group)) return false;
  const t = Date.parse(dl.createdAt);
  if (f.sinceMs !== undefined && !(t >= f.sinceMs)) return false;
  if (f.untilMs !== undefined && !(t < f.untilMs)) return false;
  if (f.text !== undefined && f.text !== "") {
    const needle = f.text.toLowerCase();
    const payload = Buffer.from(dl.payload, "base64").toString("utf8");
    const hay = [dl.id, payload, dl.error?.message ?? ""].join("\n").toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

/** Parses a stored DLS entry; undefined for anything unreadable. */
function entry(m: StreamMessage): DeadLetter | undefined {
  try {
    const dl = JSON.parse(dec.decode(m.data)) as DeadLetter;
    if (typeof dl.id !== "string" || typeof dl.station !== "string") return undefined;
    dl.dlsSeq = m.seq;
    return dl;
  } catch {
    return undefined;
  }
}

/**
 * Where an id's entries live: `<reason>:<station>:…` (and `…:<group>` for poison/terminated),
 * so a lookup scans one subject instead of the whole DLS.
 */
function idSubject(id: string): string {
  const parts = id.split(":");
  const [reason, station] = parts;
  if (reason === undefined || station === undefined || !REASONS.has(reason) || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(station))
    return "jn.dls.>";
  if (CONSUMER_REASONS.has(reason)) {
    const group = parts[parts.length - 1] ?? "";
    return /^[a-z0-9][a-z0-9_-]{0,63}$/.test(group) && parts.length >= 4
      ? `jn.dls.${station}.${reason}.${group}`
      : `jn.dls.${station}.${reason}.*`;
  }
  return `jn.dls.${station}.${reason}`;
}

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v === "")
    throw new JunctionError("INVALID_ARGUMENT", `'${key}' must be a non-empty string`, { details: { field: key } });
  return v;
}

/** The headers a resent message keeps: the producer's own, the producer name, and the link. */
function resendHeaders(dl: DeadLetter): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(dl.headers)) if (!isReservedHeader(k)) h[k] = v;
  if (dl.producer) h[Headers.Producer] = dl.producer;
  h[Headers.ResentFrom] = dl.id;
  return h;
}

type ResendOutcome = { ok: true } | { ok: false; error: ErrorBody; keep: boolean };

/**
 * The `dls.*` operations: list, get, resend, drop, stats, retention. All are idempotent and
 * report counts. A resent entry leaves the DLS; if it fails again it comes back as a new entry
 * whose `resentFrom` names the one it was resent from.
 */
export class DlsService {
  readonly #d: DlsServiceDeps;

  constructor(d: DlsServiceDeps) {
    this.#d = d;
  }

  /** Scans entries from `fromSeq`; stops at `limit` matches or `scanLimit` entries. */
  async scan(f: Filter, fromSeq: number, limit: number, scanLimit: number): Promise<{ items: DeadLetter[]; next: number | undefined }> {
    const items: DeadLetter[] = [];
    const subject = filterSubject(f);
    if (subject === undefined) return { items, next: undefined };
    let seq = fromSeq;
    let scanned = 0;
    for (;;) {
      const { messages, more } = await readStream(this.#d.jsm, DLS_STREAM, { fromSeq: seq, filter: subject, batch: 256 });
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        scanned++;
        seq = m.seq + 1;
        const dl = entry(m);
        if (dl && matches(dl, f)) {
          items.push(dl);
          if (items.length >= limit) return { items, next: i < messages.length - 1 || more ? seq : undefined };
        }
      }
      if (!more || messages.length === 0) return { items, next: undefined };
      if (scanned >= scanLimit) return { items, next: seq };
    }
  }

  /** Every entry with this id (normally one). */
  async find(id: string): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    let seq = 1;
    for (;;) {
      const { messages, more } = await readStream(this.#d.jsm, DLS_STREAM, { fromSeq: seq, filter: idSubject(id), batch: 256 });
      for (const m of messages) {
        seq = m.seq + 1;
        if (m.headers["Nats-Msg-Id"] !== undefined && m.headers["Nats-Msg-Id"] !== id) continue;
        const dl = entry(m);
        if (dl?.id === id) out.push(dl);
      }
      if (!more || messages.length === 0) return out;
    }
  }

  async #targets(body: Record<string, unknown>): Promise<DeadLetter[]> {
    if (body["id"] !== undefined) return await this.find(str(body, "id"));
    if (body["filter"] === undefined)
      throw new JunctionError("INVALID_ARGUMENT", "give 'id' or 'filter'", { details: { fields: ["id", "filter"] } });
    return (await this.scan(parseFilter(body["filter"]), 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).items;
  }

  async list(body: Record<string, unknown>): Promise<DeadLetterPage> {
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
    const { items, next } = await this.scan(f, from, limit, DLS_LIST_SCAN_LIMIT);
    return next !== undefined ? { items, next: String(next) } : { items };
  }

  async get(body: Record<string, unknown>): Promise<DeadLetter> {
    const id = str(body, "id");
    const found = await this.find(id);
    const dl = found[found.length - 1];
    if (!dl) throw new JunctionError("DEAD_LETTER_NOT_FOUND", `no dead letter has id '${id}'`, { details: { id } });
    const rec = this.#d.decode ? await this.#d.stations.fresh(dl.station) : undefined;
    if (rec && this.#d.decode) {
      const decoded = await this.#d.decode(rec, dl.headers, Buffer.from(dl.payload, "base64")).catch(() => undefined);
      if (decoded !== undefined) dl.decoded = decoded;
    }
    return dl;
  }

  async #resendOne(dl: DeadLetter): Promise<ResendOutcome> {
    const rec = await this.#d.stations.fresh(dl.station);
    if (!rec) return { ok: false, keep: true, error: { code: "STATION_NOT_FOUND", message: `station '${dl.station}' not found` } };
    const payload = Buffer.from(dl.payload, "base64");
    if (CONSUMER_REASONS.has(dl.reason)) {
      if (dl.groups.length === 0)
        return { ok: false, keep: true, error: { code: "INVALID_ARGUMENT", message: `dead letter '${dl.id}' names no group` } };
      for (const g of dl.groups) {
        if (!(await groupConsumerInfo(this.#d.jsm, dl.station, g))) {
          return {
            ok: false,
            keep: true,
            error: { code: "GROUP_NOT_FOUND", message: `consumer group '${g}' not found on '${dl.station}'` },
          };
        }
      }
      // Each failing group gets it on its own resend subject; no other group sees it again.
      for (const g of dl.groups) {
        const msg: StoreMessage = {
          id: dl.groups.length > 1 ? `resend:${dl.id}:${g}` : `resend:${dl.id}`,
          headers: resendHeaders(dl),
          payload,
        };
        const ack = await this.#d.writer.publish(subjects.stationResend(dl.station, g), msg);
        if (!ack.ok) return { ok: false, keep: true, error: { code: "STORE_FAILED", message: ack.description } };
      }
      return { ok: true };
    }
    // Schema and function dead letters go through today's produce stages again (the same
    // runStages as produce); a new failure is recorded as a dead letter linked to this one.
    const input = [{ index: 0, msg: { id: `resend:${dl.id}`, headers: resendHeaders(dl), payload } }];
    const { survivors, failed } = await runStages(
      this.#d.stages,
      { station: rec, producer: dl.producer, deadLetters: this.#d.dls.linkedTo(dl) },
      input,
    );
    const error = failed.get(0);
    if (error) return { ok: false, keep: false, error };
    const acks = await storeMessages(
      this.#d.writer,
      subjects.stationMsg(dl.station),
      survivors.map((s) => s.msg),
      this.#d.smallBatchMessages,
    );
    const bad = acks.find((a) => !a.ok);
    if (bad) return { ok: false, keep: true, error: { code: "STORE_FAILED", message: bad.description } };
    return { ok: true };
  }

  async resend(
    body: Record<string, unknown>,
  ): Promise<{ resent: number; failed: number; errors?: { id: string; code: string; message: string }[] }> {
    const targets = await this.#targets(body);
    let resent = 0;
    let failed = 0;
    const errors: { id: string; code: string; message: string }[] = [];
    for (const dl of targets) {
      let out: ResendOutcome;
      try {
        out = await this.#resendOne(dl);
      } catch (err) {
        out = { ok: false, keep: true, error: { code: "INTERNAL", message: (err as Error).message } };
      }
      // A resent entry leaves the DLS; one that failed again on produce was replaced by a linked entry.
      if (out.ok || !out.keep) await deleteStreamMessage(this.#d.jsm, DLS_STREAM, dl.dlsSeq!);
      if (out.ok) {
        resent++;
        this.#d.events.publish(dl.station, EventKind.Resent, { id: dl.id, reason: dl.reason, groups: dl.groups, seq: dl.seq });
      } else {
        failed++;
        if (errors.length < MAX_REPORTED_ERRORS) errors.push({ id: dl.id, code: out.error.code, message: out.error.message });
      }
    }
    return errors.length > 0 ? { resent, failed, errors } : { resent, failed };
  }

  async drop(body: Record<string, unknown>): Promise<{ dropped: number }> {
    const targets = await this.#targets(body);
    let dropped = 0;
    const byStation = new Map<string, string[]>();
    for (const dl of targets) {
      if (!(await deleteStreamMessage(this.#d.jsm, DLS_STREAM, dl.dlsSeq!))) continue;
      dropped++;
      const ids = byStation.get(dl.station) ?? [];
      ids.push(dl.id);
      byStation.set(dl.station, ids);
    }
    for (const [station, ids] of byStation)
      this.#d.events.publish(station, EventKind.Dropped, { count: ids.length, ids: ids.slice(0, 100) });
    return { dropped };
  }

  async stats(body: Record<string, unknown>): Promise<{
    total: number;
    byReason: Partial<Record<DeadLetterReason, number>>;
    byGroup: Record<string, number>;
    byStation: Record<string, number>;
  }> {
    let station: string | undefined;
    if (body["station"] !== undefined) {
      assertName("station", body["station"]);
      station = body["station"];
    }
    return aggregate(await subjectCounts(this.#d.jsm, DLS_STREAM, station ? `jn.dls.${station}.>` : "jn.dls.>"), station === undefined);
  }

  async retention(body: Record<string, unknown>): Promise<DlsRetention & { station: string; trimmed: number }> {
    const station = body["station"];
    assertName("station", station);
    if (!(await this.#d.stations.fresh(station)))
      throw new JunctionError("STATION_NOT_FOUND", `station '${station}' not found`, { details: { station } });
    const change: Partial<DlsRetention> = {};
    if (body["maxAgeSeconds"] !== undefined) change.maxAgeSeconds = body["maxAgeSeconds"] as number;
    if (body["maxEntries"] !== undefined) change.maxEntries = body["maxEntries"] as number;
    const r = Object.keys(change).length > 0 ? await this.#d.retention.set(station, change) : await this.#d.retention.get(station);
    const trimmed = change.maxEntries !== undefined ? await applyStationCap(this.#d.jsm, station, r.maxEntries) : 0;
    return { station, ...r, trimmed };
  }

  /** The `dls.*` admin handlers. */
  handlers(): Record<string, Handler> {
    return {
      "dls.list": (b) => this.list(b),
      "dls.get": (b) => this.get(b),
      "dls.resend": (b) => this.resend(b),
      "dls.drop": (b) => this.drop(b),
      "dls.stats": (b) => this.stats(b),
      "dls.retention": (b) => this.retention(b),
    };
  }
}

/** Totals from DLS subject counts (`jn.dls.<station>.<reason>[.<group>]`); groups are keyed `<station>.<group>` when no station is given. */
function aggregate(
  counts: Record<string, number>,
  keyByStation: boolean,
): {
  total: number;
  byReason: Partial<Record<DeadLetterReason, number>>;
  byGroup: Record<string, number>;
  byStation: Record<string, number>;
} {
  let total = 0;
  const byReason: Partial<Record<DeadLetterReason, number>> = {};
  const byGroup: Record<string, number> = {};
  const byStation: Record<string, number> = {};
  for (const [subject, n] of Object.entries(counts)) {
    const [, , station, reason, group] = subject.split(".");
    if (station === undefined || reason === undefined) continue;
    total += n;
    byStation[station] = (byStation[station] ?? 0) + n;
    if (REASONS.has(reason)) byReason[reason as DeadLetterReason] = (byReason[reason as DeadLetterReason] ?? 0) + n;
    if (group !== undefined) {
      const key = keyByStation ? `${station}.${group}` : group;
      byGroup[key] = (byGroup[key] ?? 0) + n;
    }
  }
  return { total, byReason, byGroup, byStation };
}

/** Dead letters per consumer group of a station (poison + terminated). */
export async function deadLettersByGroup(jsm: JetStreamManager, station: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [subject, n] of Object.entries(await subjectCounts(jsm, DLS_STREAM, `jn.dls.${station}.*.*`))) {
    const g = subject.split(".")[4];
    if (g !== undefined) out[g] = (out[g] ?? 0) + n;
  }
  return out;
}
