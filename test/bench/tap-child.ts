/**
 * The stage tap of the latency trace, in a process of its own so that its work does not delay
 * the benchmark's producer and consumer. It listens, in the broker's account, to what passes
 * through the server for one station and stamps each message with the time it saw it:
 * produce requests (`jn.produce.<station>`, Junction only), publishes to the stream subject (the
 * gateway's, or the raw publisher's) and store acknowledgements (JetStream's replies on
 * `_INBOX.>`). Settings come in JUNCTION_BENCH_TAP (JSON); it prints `ready` once subscribed,
 * and on `dump <file>` writes what it saw as JSON there, prints `dumped` and exits.
 */
import { writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { connect } from "@nats-io/transport-node";
import { Headers, decodeBatch } from "../../core/protocol/index.js";
import type { TapConfig, TapRecords } from "./trace.js";

const cfg = JSON.parse(process.env["JUNCTION_BENCH_TAP"] ?? "{}") as TapConfig;
const now = () => performance.timeOrigin + performance.now();
const out: TapRecords = { requests: [], publishes: [], acks: [] };
const dec = new TextDecoder();

const nc = await connect({ servers: cfg.servers, user: cfg.user, pass: cfg.pass, name: "bench-tap" });
if (cfg.produceSubject) {
  nc.subscribe(cfg.produceSubject, {
    callback: (_err, m) => {
      const t = now();
      if (m.headers?.get(Headers.Batch) === "1") for (const p of decodeBatch(m.data)) out.requests.push([p.id, t]);
      else out.requests.push([m.headers?.get(Headers.MsgId) ?? "", t]);
    },
  });
}
nc.subscribe(cfg.streamSubject, {
  callback: (_err, m) => void out.publishes.push([m.headers?.get(Headers.NatsMsgId) ?? "", now()]),
});
nc.subscribe("_INBOX.>", {
  callback: (_err, m) => {
    // Store acks have no reply subject and a small JSON body; deliveries to pull consumers in
    // this account (the raw path's) have an ack reply subject and are skipped.
    if (m.reply || m.data.length > 512 || m.data[0] !== 0x7b) return;
    const t = now();
    try {
      const a = JSON.parse(dec.decode(m.data)) as { stream?: string; seq?: number; count?: number };
      if (a.stream === cfg.stream && typeof a.seq === "number") out.acks.push([a.seq, a.count ?? 1, t]);
    } catch {
      /* not an ack */
    }
  },
});
await nc.flush();
process.stdout.write("ready\n");

const lines = createInterface({ input: process.stdin });
lines.on("line", (l) => {
  const m = /^dump (.+)$/.exec(l.trim());
  if (!m) return;
  void (async () => {
    await writeFile(m[1]!, JSON.stringify(out));
    process.stdout.write("dumped\n");
    await nc.close();
    process.exit(0);
  })();
});
lines.on("close", () => process.exit(0));
