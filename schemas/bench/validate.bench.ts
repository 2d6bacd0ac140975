/**
 * Micro-benchmark of JSON Schema validation through the engine (prepare → load → validate), one
 * core, no server. Prints validations per second for a few representative schemas; each
 * measurement runs about `--ms` milliseconds (default 1000), best of `--rounds` (default 3).
 * Run: `node --import tsx schemas/bench/validate.bench.ts [--ms 1000] [--rounds 3]`.
 */
import { loadSchema, prepareSchema } from "../index.js";
import { jsonEngineOf } from "../json/schema.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};

const ORDER = {
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
};

function order(size: number): Uint8Array {
  const base = {
    id: "ord-000000000001",
    ts: 1_760_000_000_000,
    customer: { name: "Ada Lovelace", email: "ada@example.com" },
    amount: 129.95,
    currency: "EUR",
    tags: ["priority", "gift", "eu"],
    note: "",
  };
  base.note = "n".repeat(size - Buffer.byteLength(JSON.stringify(base)));
  return new TextEncoder().encode(JSON.stringify(base));
}

const EVENTS = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["source", "events"],
  properties: {
    source: { type: "string", pattern: "^[a-z][a-z0-9-]*$" },
    events: {
      type: "array",
      uniqueItems: true,
      items: {
        type: "object",
        required: ["kind", "at"],
        properties: {
          kind: { enum: ["created", "updated", "deleted"] },
          at: { type: "integer" },
          attrs: { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } },
        },
      },
    },
  },
};

function events(n: number): Uint8Array {
  const list = Array.from({ length: n }, (_, i) => ({ kind: "updated", at: 1_760_000_000_000 + i, attrs: { a: "x", b: i } }));
  return new TextEncoder().encode(JSON.stringify({ source: "shop-1", events: list }));
}

function perSecond(fn: () => void, ms: number): number {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    now = performance.now();
  }
  return (n * 1000) / (now - t0);
}

// The same events schema closed with unevaluatedProperties: served by Junction's own validator.
const EVENTS_CLOSED = {
  ...EVENTS,
  properties: {
    ...EVENTS.properties,
    events: { ...EVENTS.properties.events, items: { ...EVENTS.properties.events.items, unevaluatedProperties: false } },
  },
};

const ms = arg("ms", 1000);
const rounds = arg("rounds", 3);
const cases: [string, unknown, Uint8Array][] = [
  ["order draft-07, 1 KiB", ORDER, order(1024)],
  ["order draft-07, 4 KiB", ORDER, order(4 * 1024)],
  ["events 2020-12, 20 items (uniqueItems)", EVENTS, events(20)],
  ["order draft-04, 1 KiB", { ...ORDER, $schema: "http://json-schema.org/draft-04/schema#" }, order(1024)],
  ["events 2020-12 + unevaluatedProperties", EVENTS_CLOSED, events(20)],
];
console.log(`method: validate() of one payload in a loop, best of ${rounds} x ${ms} ms, node ${process.version}`);
for (const [name, schema, payload] of cases) {
  const prepared = await prepareSchema({ type: "json", definition: JSON.stringify(schema) });
  const compiled = loadSchema(prepared);
  if (!compiled.validate(payload).ok) throw new Error(`${name}: the payload does not match`);
  let best = 0;
  for (let r = 0; r < rounds; r++)
    best = Math.max(
      best,
      perSecond(() => void compiled.validate(payload), ms),
    );
  const engine = jsonEngineOf(prepared);
  console.log(`${name.padEnd(42)} ${Math.round(best).toLocaleString("en-US").padStart(10)} validations/s  (${engine})`);
}
