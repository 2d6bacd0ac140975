/**
 * The producers of a chaos run: SDK clients sending at a steady rate with ids of their own
 * (`m-<n>`), every outcome written into the books. Some messages are poison or meant to be
 * dead-lettered (the payload says so); the members act on that.
 */
import { connect, type JunctionClient, type Producer } from "../../sdk/index.js";
import { MessageKind, type Books } from "./books.js";
import type { WorkloadSpec } from "./types.js";

/** Options of {@link Workload}. */
export interface WorkloadOptions {
  spec: WorkloadSpec;
  station: string;
  servers: string[];
  user: string;
  pass: string;
  books: Books;
  /** Milliseconds since the workload began. */
  now: () => number;
  /** Producer clients; @default the SDK's connect */
  connect?: typeof connect;
  /** Told when a producer's client closed for good (it is then connected again, as a supervisor would). */
  onClosed?: (producer: string) => void;
}

/** The kind of message number `n`. */
export function kindOf(n: number, spec: Pick<WorkloadSpec, "poisonEvery" | "terminateEvery">): MessageKind {
  if (spec.poisonEvery > 0 && n % spec.poisonEvery === spec.poisonEvery - 1) return MessageKind.Poison;
  if (spec.terminateEvery > 0 && n % spec.terminateEvery === Math.floor(spec.terminateEvery / 2)) return MessageKind.Terminate;
  return MessageKind.Normal;
}

/** Time between sends, in ms. */
const TICK_MS = 20;

/** Steady produce from several clients. */
export class Workload {
  readonly #o: WorkloadOptions;
  readonly #clients: JunctionClient[] = [];
  readonly #producers: Producer[] = [];
  readonly #inflight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** Producers whose client closed and is being connected again. */
  readonly #down = new Set<number>();
  #n = 0;
  #startedAt = 0;
  /** Sends skipped because every producer had too much waiting (the rate drops during an outage). */
  throttled = 0;

  constructor(o: WorkloadOptions) {
    this.#o = o;
  }

  /** Connects the producer clients (before the clock starts). */
  async connect(): Promise<void> {
    for (let i = 0; i < this.#o.spec.producers; i++) await this.#open(i);
  }

  async #open(i: number): Promise<void> {
    const c = this.#o.connect ?? connect;
    const client = await c({ servers: this.#o.servers, user: this.#o.user, pass: this.#o.pass, name: `chaos-producer-${i + 1}` });
    this.#clients[i] = client;
    const timeout = this.#o.spec.requestTimeoutMs;
    this.#producers[i] = client.producer({ station: this.#o.station, ...(timeout > 0 ? { requestTimeoutMs: timeout } : {}) });
    client.onStatus((st) => {
      if (st.state !== "closed" || this.#stopping || this.#clients[i] !== client) return;
      // The SDK gave up on its connection: say so, and connect again as a supervisor would.
      this.#o.onClosed?.(`producer-${i + 1}`);
      this.#down.add(i);
      void this.#reopen(i);
    });
  }

  async #reopen(i: number): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#open(i);
        this.#down.delete(i);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Starts sending. */
  start(): void {
    this.#startedAt = this.#o.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  #tick(): void {
    const s = this.#o.spec;
    const due = Math.floor(((this.#o.now() - this.#startedAt) / 1000) * s.ratePerSec) - this.#n;
    // Never make up more than a tenth of a second at once (after an outage the rate resumes, it does not burst).
    const cap = Math.max(1, Math.ceil(s.ratePerSec / 10));
    const waitingCap = Math.max(100, Math.ceil((s.ratePerSec * 5) / s.producers));
    if (due > cap) {
      this.throttled += due - cap;
      this.#n += due - cap;
    }
    for (let k = 0; k < Math.min(due, cap); k++) {
      const n = this.#n++;
      const index = n % this.#producers.length;
      const p = this.#producers[index]!;
      if (this.#down.has(index) || p.pending >= waitingCap) {
        this.throttled++;
        continue;
      }
      this.#send(p, index, n);
    }
  }

  #send(p: Producer, producer: number, n: number): void {
    const s = this.#o.spec;
    const id = `m-${n}`;
    const kind = kindOf(n, s);
    const books = this.#o.books;
    const key = s.keys > 0 ? `k-${n % s.keys}` : undefined;
    books.sent(id, kind, producer, this.#o.now(), key);
    const payload = JSON.stringify({ id, n, kind, pad: "x".repeat(s.payloadBytes) });
    const done: Promise<void> = p
      .send(payload, key === undefined ? { id } : { id, key })
      .then(
        (r) => books.acked(id, this.#o.now(), r.duplicate),
        (err: unknown) =>
          books.failed(id, this.#o.now(), (err as { code?: string }).code ?? "ERROR", (err as Error).message ?? String(err)),
      )
      .finally(() => this.#inflight.delete(done));
    this.#inflight.add(done);
  }

  /** Stops sending and waits until every send has its outcome; then closes the clients. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
    for (const c of this.#clients) await c.close().catch(() => {});
  }
}
