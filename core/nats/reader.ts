import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/nats-core";
import { StoreErrorCode, type StreamMessage, type StreamReader } from "./ports.js";
import { isJsError } from "./streams.js";

/** JetStream: "no message found" (10037). */
const NoMessageFound = 10037;

/** nats.js hands back the direct-get bookkeeping headers too; they are not the message's. */
const DIRECT_GET_HEADERS = /^Nats-(Stream|Sequence|Time-Stamp|Subject|Last-Sequence|Num-Pending|UpTo-Sequence)$/;

function headersOf(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) {
    if (DIRECT_GET_HEADERS.test(k)) continue;
    out[k] = h.get(k);
  }
  return out;
}

function plain(m: StoredMsg): StreamMessage {
  return { subject: m.subject, seq: m.seq, headers: headersOf(m.header), data: m.data, time: m.time };
}

function notFound(err: unknown): boolean {
  return (
    isJsError(err, NoMessageFound) ||
    isJsError(err, StoreErrorCode.StreamNotFound) ||
    /message not found|no message found|stream not found/i.test((err as Error).message)
  );
}

/** Reads and trims streams with direct gets and stream purges. */
export class NatsStreamReader implements StreamReader {
  readonly #jsm: JetStreamManager;

  constructor(jsm: JetStreamManager) {
    this.#jsm = jsm;
  }

  async get(stream: string, seq: number): Promise<StreamMessage | undefined> {
    try {
      const m = await this.#jsm.direct.getMessage(stream, { seq });
      if (!m || m.seq !== seq) return undefined;
      return plain(m);
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async read(stream: string, o: { fromSeq: number; filter: string; batch: number }): Promise<{ messages: StreamMessage[]; more: boolean }> {
    const out: StreamMessage[] = [];
    let pending = 0;
    try {
      const it = await this.#jsm.direct.getBatch(stream, { seq: Math.max(1, o.fromSeq), batch: o.batch, next_by_subj: o.filter });
      for await (const m of it) {
        out.push(plain(m));
        pending = m.pending;
      }
    } catch (err) {
      if (notFound(err) || /404/.test((err as Error).message)) return { messages: out, more: false };
      throw err;
    }
    return { messages: out, more: out.length > 0 && pending > 0 };
  }

  async delete(stream: string, seq: number): Promise<boolean> {
    try {
      return await this.#jsm.streams.deleteMessage(stream, seq, false);
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }

  async subjectCounts(stream: string, filter: string): Promise<Record<string, number>> {
    try {
      const si = await this.#jsm.streams.info(stream, { subjects_filter: filter });
      return { ...(si.state.subjects ?? {}) };
    } catch (err) {
      if (isJsError(err, StoreErrorCode.StreamNotFound)) return {};
      throw err;
    }
  }

  async purgeKeep(stream: string, filter: string, keep: number): Promise<number> {
    const r = await this.#jsm.streams.purge(stream, { filter, keep });
    return r.purged;
  }
}
