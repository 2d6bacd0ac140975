/**
 * Micro-benchmark of one log line: the pino-backed logger (JSON and pretty, with redaction)
 * against a hand-rolled line formatter (`<ISO time> LEVEL [component] msg {json}`, what the
 * gateway wrote before pino), with a typical entry (two short fields) and a nested one (an
 * error with a cause, a dozen fields, one secret). Each case writes either to a no-op sink (the
 * cost of formatting) or with a synchronous write(2) to /dev/null (formatting plus the system
 * call the real stderr costs). Also the cost of a call at a disabled level (a `debug` line
 * under `info`), which the hot path pays. "raw pino" is pino with the same settings and no
 * redaction (its standard error serializer), to show what redaction costs.
 *
 * Run: `node --import tsx core/support/logger.bench.ts [ms per case, default 400]`.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { pino } from "pino";
import { isoNow, systemClock } from "./clock.js";
import { createLogger, type Logger, type LoggerOptions } from "./logger.js";
import { JunctionError } from "../protocol/index.js";

const ms = Number(process.argv[2] ?? 400);

/** The hand-rolled formatter, for comparison. */
function handRolled(level: "debug" | "info", write: (line: string) => void): Logger {
  const order = { debug: 10, info: 20, warn: 30, error: 40 };
  const min = order[level];
  const at = (lvl: keyof typeof order) => (msg: string, fields?: Record<string, unknown>) => {
    if (order[lvl] < min) return;
    const extra = fields && Object.keys(fields).length > 0 ? " " + JSON.stringify(fields) : "";
    write(`${isoNow(systemClock)} ${lvl.toUpperCase().padEnd(5)} [gateway.produce] ${msg}${extra}`);
  };
  const l: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: () => l };
  return l;
}

/** pino alone (same settings, no redaction), to show what redaction costs. */
function rawPino(write: (line: string) => void): Logger {
  const p = pino(
    {
      base: null,
      timestamp: () => `,"time":"${isoNow(systemClock)}"`,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    { write: (s: string) => write(s.slice(0, -1)) },
  ).child({ component: "gateway.produce" });
  const l: Logger = {
    debug: (m, f) => p.debug(f ?? {}, m),
    info: (m, f) => p.info(f ?? {}, m),
    warn: (m, f) => p.warn(f ?? {}, m),
    error: (m, f) => p.error(f ?? {}, m),
    child: () => l,
  };
  return l;
}

/** Nanoseconds per call of `fn`, over about `ms` after a warm-up. */
function nsPerCall(fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return Number(process.hrtime.bigint() - t0) / n;
}

const small = { station: "orders", error: "store did not answer" };
const nested = {
  station: "orders",
  group: "billing",
  seq: 123456,
  deliveries: 5,
  reason: "poison",
  headers: { "Nats-Msg-Id": "m-1", "Jn-Producer": "svc", "Jn-Schema": "order@3" },
  user: { name: "billing", tenant: "default", password: "not-for-logs" },
  err: new JunctionError("STORE_FAILED", "store did not answer", { cause: new Error("timeout") }),
};

const devNull = openSync("/dev/null", "w");
const sinks: Record<string, (line: string) => void> = {
  "no-op sink": () => {},
  "write(2) to /dev/null": (line) => writeSync(devNull, line + "\n"),
};

const rows: [string, string, number][] = [];
for (const [sinkName, write] of Object.entries(sinks)) {
  const pinoLogger = (o: LoggerOptions) => createLogger({ namespace: "gateway", write, ...o }).child("produce");
  const cases: [string, Logger][] = [
    ["hand-rolled", handRolled("info", write)],
    ["raw pino", rawPino(write)],
    ["pino json", pinoLogger({})],
    ["pino pretty", pinoLogger({ format: "pretty" })],
  ];
  for (const [name, logger] of cases) {
    rows.push([name, `${sinkName}, small entry`, nsPerCall(() => logger.info("produce failed", small))]);
    rows.push([name, `${sinkName}, nested entry`, nsPerCall(() => logger.error("dead-letter write failed", nested))]);
  }
}
closeSync(devNull);
const off: [string, Logger][] = [
  ["hand-rolled", handRolled("info", () => {})],
  ["pino json", createLogger({ namespace: "gateway", write: () => {} }).child("produce")],
];
for (const [name, logger] of off)
  rows.push([name, "disabled level (debug under info)", nsPerCall(() => logger.debug("batch stored", small))]);

console.log(`logger micro-benchmark: node ${process.version}, ${ms} ms per case, ns (and µs) per call`);
for (const [name, what, ns] of rows) {
  console.log(`${name.padEnd(12)} ${what.padEnd(40)} ${ns.toFixed(0).padStart(7)} ns  ${(ns / 1000).toFixed(2).padStart(6)} µs`);
}
