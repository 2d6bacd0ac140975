/** Load generation: a windowed driver (keeps N messages in flight for a fixed time) and payloads. */

/** The outcome of one timed run. */
export interface Throughput {
  /** Messages acknowledged. */
  messages: number;
  /** Wall time from the first send to the last acknowledgement, seconds. */
  seconds: number;
  /** messages / seconds. */
  rate: number;
}

/** Options of {@link runWindow}. */
export interface WindowOptions {
  /** Messages in flight at most. */
  window: number;
  /** Sending stops after this long; in-flight messages are then awaited. */
  durationMs: number;
  /** Messages one `issue()` call sends (1, or a batch size). */
  unit: number;
  /** Sends `unit` messages; resolves once they are acknowledged, rejects on any failure. */
  issue: () => Promise<unknown>;
}

/**
 * Keeps `window` messages in flight until `durationMs` passed, then waits for the rest.
 * Rejects on the first failed send: a benchmark that loses messages has no number.
 */
export function runWindow(o: WindowOptions): Promise<Throughput> {
  const unit = o.unit;
  if (unit > o.window) throw new Error(`unit ${unit} exceeds window ${o.window}`);
  return new Promise<Throughput>((resolve, reject) => {
    const t0 = performance.now();
    const end = t0 + o.durationMs;
    let inflight = 0;
    let done = 0;
    let failed = false;
    const onDone = () => {
      inflight -= unit;
      done += unit;
      pump();
    };
    const onFail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const pump = () => {
      if (failed) return;
      const now = performance.now();
      if (now < end) {
        while (inflight + unit <= o.window) {
          inflight += unit;
          o.issue().then(onDone, onFail);
        }
      } else if (inflight === 0) {
        const seconds = (now - t0) / 1000;
        resolve({ messages: done, seconds, rate: done / seconds });
      }
    };
    pump();
  });
}

/** Options of {@link runCount}. */
export interface CountOptions {
  /** Messages to send in all. */
  count: number;
  /** Messages in flight at most. */
  window: number;
  /** Sends `n` messages; resolves once they are acknowledged. */
  issue: (n: number) => Promise<unknown>;
  /** Messages per `issue()` call at most. @default 1 */
  unit?: number;
}

/** Sends `count` messages keeping at most `window` in flight; resolves when all are acknowledged. */
export function runCount(o: CountOptions): Promise<Throughput> {
  const unit = o.unit ?? 1;
  return new Promise<Throughput>((resolve, reject) => {
    const t0 = performance.now();
    let issued = 0;
    let inflight = 0;
    let done = 0;
    let failed = false;
    const pump = () => {
      if (failed) return;
      while (issued < o.count && inflight + Math.min(unit, o.count - issued) <= o.window) {
        const n = Math.min(unit, o.count - issued);
        issued += n;
        inflight += n;
        o.issue(n).then(
          () => {
            inflight -= n;
            done += n;
            if (done === o.count) {
              const seconds = (performance.now() - t0) / 1000;
              resolve({ messages: done, seconds, rate: done / seconds });
            } else pump();
          },
          (err: unknown) => {
            if (failed) return;
            failed = true;
            reject(err instanceof Error ? err : new Error(String(err)));
          },
        );
      }
    };
    pump();
  });
}

/** The JSON Schema every schema scenario uses (an order with nested and bounded fields). */
export const ORDER_JSON_SCHEMA = JSON.stringify({
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  required: ["id", "ts", "customer", "amount", "currency", "tags", "note"],
  additionalProperties: false,
  properties: {
    id: { type: "string", maxLength: 64 },
    ts: { type: "integer", minimum: 0 },
    customer: {
      type: "object",
      required: ["name", "email"],
      additionalProperties: false,
      properties: { name: { type: "string", maxLength: 100 }, email: { type: "string", format: "email" } },
    },
    amount: { type: "number", minimum: 0 },
    currency: { type: "string", enum: ["EUR", "USD", "GBP"] },
    tags: { type: "array", maxItems: 16, items: { type: "string", maxLength: 32 } },
    note: { type: "string", maxLength: 4096 },
  },
});

/** The same message as Protobuf. */
export const ORDER_PROTO = `syntax = "proto3";
package bench;

message Customer {
  string name = 1;
  string email = 2;
}

message Order {
  string id = 1;
  int64 ts = 2;
  Customer customer = 3;
  double amount = 4;
  string currency = 5;
  repeated string tags = 6;
  string note = 7;
}
`;

/** An order whose JSON encoding is exactly `size` bytes (the note is padded). */
export function orderOfSize(size: number): Record<string, unknown> {
  const base = {
    id: "ord-000000000001",
    ts: 1_760_000_000_000,
    customer: { name: "Ada Lovelace", email: "ada@example.com" },
    amount: 129.95,
    currency: "EUR",
    tags: ["priority", "gift", "eu"],
    note: "",
  };
  const pad = size - Buffer.byteLength(JSON.stringify(base));
  if (pad < 0) throw new Error(`an order needs at least ${size - pad} bytes`);
  base.note = "n".repeat(pad);
  return base;
}

/** The 1 KiB JSON payload every scenario sends (raw ones too, so the bytes are the same). */
export function jsonPayload(size: number): Uint8Array {
  const b = new TextEncoder().encode(JSON.stringify(orderOfSize(size)));
  if (b.length !== size) throw new Error(`payload is ${b.length} bytes, wanted ${size}`);
  return b;
}

/**
 * The JSON Schema of the payload-size scenarios: an id and a note of any length (the order's
 * schema bounds its note at 4 KiB, and the smallest order is larger than 100 bytes).
 */
export const BLOB_JSON_SCHEMA = JSON.stringify({
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  required: ["id", "note"],
  additionalProperties: false,
  properties: { id: { type: "string", maxLength: 64 }, note: { type: "string" } },
});

/** A `{"id":…,"note":"nnn…"}` JSON payload of exactly `size` bytes (at least 40). */
export function blobPayload(size: number): Uint8Array {
  const base = { id: "ord-000000000001", note: "" };
  const pad = size - Buffer.byteLength(JSON.stringify(base));
  if (pad < 0) throw new Error(`a blob needs at least ${size - pad} bytes`);
  base.note = "n".repeat(pad);
  return new TextEncoder().encode(JSON.stringify(base));
}
