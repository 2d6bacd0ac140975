/**
 * Reads the truth back from JetStream, as the gateway's own user (the internal account): every
 * entry of the station's stream and every dead letter of the station. Incremental, so the drain
 * can poll the DLS cheaply.
 */
import { connectBackend, type Backend } from "../../core/nats/index.js";
import { DLS_STREAM, scopeOf, subjects, type DeadLetter } from "../../core/protocol/index.js";
import { ChaosError, ChaosErrorCode } from "./errors.js";

const dec = new TextDecoder();
const BATCH = 500;

/** The id our producers put in the payload, if it is one of ours. */
export function payloadId(data: Uint8Array): string | undefined {
  try {
    const v = JSON.parse(dec.decode(data)) as { id?: unknown };
    return typeof v.id === "string" ? v.id : undefined;
  } catch {
    return undefined;
  }
}

/** A read-only view of a station's stream and dead letters. */
export class ReadBack {
  readonly #backend: Backend;
  readonly #station: string;
  #dlsNext = 1;
  /** Dead letters per payload id (undefined key: not ours), read so far: their reasons. */
  readonly deadLetters = new Map<string | undefined, string[]>();

  private constructor(backend: Backend, station: string) {
    this.#backend = backend;
    this.#station = station;
  }

  /** Connects as the gateway's user. */
  static async open(o: { servers: string[]; user: string; pass: string; station: string }): Promise<ReadBack> {
    try {
      const b = await connectBackend({ servers: o.servers, user: o.user, pass: o.pass, name: "junction-chaos-books" });
      return new ReadBack(b, o.station);
    } catch (err) {
      throw new ChaosError(ChaosErrorCode.BooksUnreadable, `cannot connect to read the books: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Reads dead letters written since the last call; returns how many were new. */
  async pollDeadLetters(): Promise<number> {
    let added = 0;
    const filter = scopeOf().dlsFilter({ station: this.#station })!;
    for (;;) {
      const { messages, more } = await this.#backend.reader.read(DLS_STREAM, { fromSeq: this.#dlsNext, filter, batch: BATCH });
      for (const m of messages) {
        this.#dlsNext = m.seq + 1;
        let id: string | undefined;
        let reason = "?";
        try {
          const dl = JSON.parse(dec.decode(m.data)) as DeadLetter;
          reason = dl.reason;
          id = payloadId(Buffer.from(dl.payload, "base64"));
        } catch {
          id = undefined;
        }
        const reasons = this.deadLetters.get(id) ?? [];
        reasons.push(reason);
        this.deadLetters.set(id, reasons);
        added++;
      }
      if (!more || messages.length === 0) return added;
    }
  }

  /** Every entry of the station's stream, in order: (payload id, sequence). */
  async readStation(each: (id: string | undefined, seq: number) => void): Promise<number> {
    const stream = subjects.stationStream(this.#station);
    const filter = subjects.stationAll(this.#station);
    let next = 1;
    let count = 0;
    for (;;) {
      const { messages, more } = await this.#backend.reader.read(stream, { fromSeq: next, filter, batch: BATCH });
      for (const m of messages) {
        each(payloadId(m.data), m.seq);
        next = m.seq + 1;
        count++;
      }
      if (!more || messages.length === 0) return count;
    }
  }

  /** The stream's message count as the store reports it (to check a read was complete). */
  async stationMessages(): Promise<number | undefined> {
    return (await this.#backend.admin.stationState(scopeOf(), this.#station))?.messages;
  }

  /** Pending (undelivered) and unacked counts of a group. */
  async group(group: string): Promise<{ pending: number; ackPending: number } | undefined> {
    const g = await this.#backend.admin.groupState(scopeOf(), this.#station, group);
    return g ? { pending: g.pending, ackPending: g.ackPending } : undefined;
  }

  async close(): Promise<void> {
    await this.#backend.close();
  }
}
