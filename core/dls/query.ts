import type { StreamMessage, StreamReader } from "../nats/index.js";
import {
  DLS_STREAM,
  DeadLetterReason,
  JunctionError,
  assertName,
  parseDeadLetterId,
  parseDlsSubject,
  type DeadLetter,
  type DeadLetterFilter,
  type Scope,
} from "../protocol/index.js";

/** Page size of `dls.list`. */
export const DLS_LIST_DEFAULT_LIMIT = 100;
export const DLS_LIST_MAX_LIMIT = 1000;
/** Most DLS entries one `dls.list` call scans before returning a (possibly short) page with a cursor. */
export const DLS_LIST_SCAN_LIMIT = 20_000;

const dec = new TextDecoder();
const REASONS = new Set<string>(Object.values(DeadLetterReason));

/** A validated filter, with its times parsed. */
export interface Filter extends DeadLetterFilter {
  sinceMs?: number;
  untilMs?: number;
}

/** Checks a filter from a request (its shape was checked by the body schema). */
export function parseFilter(raw: unknown): Filter {
  if (raw === undefined) return {};
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
  if (typeof b["text"] === "string") f.text = b["text"];
  return f;
}

/** Whether a dead letter matches the filter's fields that the subject cannot express. */
export function matches(dl: DeadLetter, f: Filter): boolean {
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

/** Parses a stored DLS entry; undefined for anything unreadable (stored data is untrusted). */
export function entry(m: StreamMessage): DeadLetter | undefined {
  try {
    const dl = JSON.parse(dec.decode(m.data)) as DeadLetter;
    if (typeof dl !== "object" || dl === null || typeof dl.id !== "string" || typeof dl.station !== "string") return undefined;
    if (!Array.isArray(dl.groups) || typeof dl.payload !== "string" || typeof dl.createdAt !== "string") return undefined;
    dl.dlsSeq = m.seq;
    return dl;
  } catch {
    return undefined;
  }
}

/** Where an id's entries live, so a lookup scans one subject instead of the whole DLS. */
export function idSubject(scope: Scope, id: string): string {
  const p = parseDeadLetterId(id);
  if (!p || p.tenant !== scope.tenant || !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(p.station)) return scope.dlsFilter({})!;
  const group = /^[a-z0-9][a-z0-9_-]{0,63}$/.test(p.last) ? p.last : undefined;
  return scope.dlsFilter({ station: p.station, reason: p.reason, group }) ?? scope.dlsFilter({ station: p.station, reason: p.reason })!;
}

/** Scans and looks up dead letters of one tenant. */
export class DlsQuery {
  readonly #reader: StreamReader;

  constructor(reader: StreamReader) {
    this.#reader = reader;
  }

  /** Scans entries from `fromSeq`; stops at `limit` matches or `scanLimit` entries. */
  async scan(
    scope: Scope,
    f: Filter,
    fromSeq: number,
    limit: number,
    scanLimit: number,
  ): Promise<{ items: DeadLetter[]; next: number | undefined }> {
    const items: DeadLetter[] = [];
    const subject = scope.dlsFilter(f);
    if (subject === undefined) return { items, next: undefined };
    let seq = fromSeq;
    let scanned = 0;
    for (;;) {
      const { messages, more } = await this.#reader.read(DLS_STREAM, { fromSeq: seq, filter: subject, batch: 256 });
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
  async find(scope: Scope, id: string): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    let seq = 1;
    for (;;) {
      const { messages, more } = await this.#reader.read(DLS_STREAM, { fromSeq: seq, filter: idSubject(scope, id), batch: 256 });
      for (const m of messages) {
        seq = m.seq + 1;
        if (m.headers["Nats-Msg-Id"] !== undefined && m.headers["Nats-Msg-Id"] !== id) continue;
        const dl = entry(m);
        if (dl?.id === id) out.push(dl);
      }
      if (!more || messages.length === 0) return out;
    }
  }

  /** Counts per reason, group and station (groups keyed `<station>.<group>` when no station is given). */
  async stats(scope: Scope, station: string | undefined): Promise<DlsStats> {
    return aggregate(await this.#reader.subjectCounts(DLS_STREAM, scope.dlsFilter({ station })!), station === undefined);
  }
}

/** Dead-letter counts. */
export interface DlsStats {
  total: number;
  byReason: Partial<Record<DeadLetterReason, number>>;
  byGroup: Record<string, number>;
  byStation: Record<string, number>;
}

/** Totals from DLS subject counts (both subject forms). */
export function aggregate(counts: Record<string, number>, keyByStation: boolean): DlsStats {
  let total = 0;
  const byReason: Partial<Record<DeadLetterReason, number>> = {};
  const byGroup: Record<string, number> = {};
  const byStation: Record<string, number> = {};
  for (const [subject, n] of Object.entries(counts)) {
    const p = parseDlsSubject(subject);
    if (!p) continue;
    total += n;
    byStation[p.station] = (byStation[p.station] ?? 0) + n;
    const reason = p.reason as DeadLetterReason;
    byReason[reason] = (byReason[reason] ?? 0) + n;
    if (p.group !== undefined) {
      const key = keyByStation ? `${p.station}.${p.group}` : p.group;
      byGroup[key] = (byGroup[key] ?? 0) + n;
    }
  }
  return { total, byReason, byGroup, byStation };
}
