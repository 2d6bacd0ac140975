import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { JunctionError } from "../../core/protocol/index.js";
import type { SendOutcome } from "../../sdk/index.js";
import { withClient } from "../connection.js";
import { intOption, parsePairs, print, type Io, ExitCode } from "../output.js";

/** A JSON object text becomes the object (encoded by the station's schema); anything else stays text. */
function asObject(text: string): string | object {
  const t = text.trimStart();
  if (!t.startsWith("{")) return text;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" ? v : text;
  } catch {
    return text;
  }
}

interface ProduceOpts {
  raw?: boolean;
  file?: string;
  count?: string;
  size?: string;
  header?: string[];
  id?: string;
  json?: boolean;
  delayMs?: string;
  deliverAt?: string;
  ttlMs?: string;
  key?: string;
}

/** `--deliver-at`: an ISO time or ms since the epoch. */
function parseTime(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) {
    throw new JunctionError("INVALID_ARGUMENT", `--deliver-at must be an ISO time or ms since the epoch (got '${v}')`, {
      details: { option: "deliver-at" },
    });
  }
  return n;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const lines = (s: string) => s.split("\n").filter((l) => l.trim().length > 0);

/** A progress bar on stderr: `[#####-----] 50% 5000/10000`. */
function progress(io: Io, total: number): (done: number) => void {
  if (!io.isTTY || total < 1000) return () => {};
  let last = -1;
  return (done) => {
    const pct = Math.floor((done / total) * 100);
    if (pct === last && done !== total) return;
    last = pct;
    const w = 30;
    const fill = Math.round((done / total) * w);
    io.err(`\r[${"#".repeat(fill)}${"-".repeat(w - fill)}] ${String(pct).padStart(3)}% ${done}/${total}${done === total ? "\n" : ""}`);
  };
}

export function registerProduce(program: Command, io: Io): void {
  program
    .command("produce <station> [messages...]")
    .description("send messages: from arguments, --file (one per line), stdin (one per line), or --count N generated")
    .option("--file <path>", "read messages from a file, one per line")
    .option("--count <n>", 'generate N messages ({"n":i,"at":time}, padded to --size)')
    .option("--size <bytes>", "payload size of generated messages")
    .option("--header <k=v...>", "add a header to every message")
    .option("--id <id>", "message id (one message only), for de-duplication")
    .option("--json", "print one result per message as JSON")
    .option("--delay-ms <ms>", "store now, deliver to consumer groups after this many ms (at most 366 days)")
    .option("--deliver-at <time>", "store now, deliver at this time (ISO 8601 or ms since the epoch)")
    .option("--key <key>", "ordering key of every message: one key's messages are processed in order on a partitioned station")
    .option("--ttl-ms <ms>", "remove each message this long after it becomes visible, delivered or not (1 s to 10 years, whole seconds)")
    .option("--raw", "send each message's text as it is (default: a JSON object is sent as an object, so a Protobuf station encodes it)")
    .action(async (station: string, args: string[], opts: ProduceOpts, cmd: Command) => {
      const headers = parsePairs(opts.header, "--header");
      const count = intOption("count", opts.count);
      const size = intOption("size", opts.size) ?? 0;
      const delayMs = intOption("delay-ms", opts.delayMs);
      const deliverAt = parseTime(opts.deliverAt);
      const ttlMs = intOption("ttl-ms", opts.ttlMs);
      let payloads: string[];
      if (args.length > 0) payloads = args;
      else if (opts.file) payloads = lines(await readFile(opts.file, "utf8"));
      else if (count !== undefined) {
        payloads = Array.from({ length: count }, (_, n) => {
          const base = JSON.stringify({ n, at: new Date().toISOString() });
          return size > base.length ? JSON.stringify({ n, at: new Date().toISOString(), pad: "x".repeat(size - base.length - 9) }) : base;
        });
      } else payloads = lines(await readStdin());
      if (payloads.length === 0)
        throw new JunctionError("INVALID_ARGUMENT", "no messages to produce: give them as arguments, --file, --count or stdin");
      if (opts.id !== undefined && payloads.length !== 1) throw new JunctionError("INVALID_ARGUMENT", "--id needs exactly one message");
      await withClient(io, cmd, async (c) => {
        const producer = c.producer({ station });
        const tick = progress(io, payloads.length);
        let done = 0;
        const outcomes: SendOutcome[] = [];
        const step = 10_000;
        for (let i = 0; i < payloads.length; i += step) {
          const part = payloads.slice(i, i + step).map((p) => ({
            payload: opts.raw ? p : asObject(p),
            ...(Object.keys(headers).length > 0 ? { headers } : {}),
            ...(opts.id !== undefined ? { id: opts.id } : {}),
            ...(delayMs !== undefined ? { delayMs } : {}),
            ...(deliverAt !== undefined ? { deliverAt } : {}),
            ...(ttlMs !== undefined ? { ttlMs } : {}),
            ...(opts.key !== undefined ? { key: opts.key } : {}),
          }));
          outcomes.push(...(await producer.sendBatch(part)));
          done += part.length;
          tick(done);
        }
        const failed = outcomes.filter((o) => !o.ok);
        const dup = outcomes.filter((o) => o.ok && o.duplicate).length;
        if (opts.json) {
          print(
            io,
            true,
            outcomes.map((o) => (o.ok ? o : { ok: false, id: o.id, error: o.error.toBody() })),
            () => "",
          );
        } else {
          const seqs = outcomes.flatMap((o) => (o.ok && o.seq > 0 ? [o.seq] : []));
          const range = seqs.length > 0 ? ` (seq ${Math.min(...seqs)}..${Math.max(...seqs)})` : "";
          io.out(
            `produced ${outcomes.length - failed.length}/${outcomes.length} messages to ${station}${range}${dup ? `, ${dup} duplicate(s)` : ""}\n`,
          );
        }
        outcomes.forEach((o, i) => {
          if (!o.ok) {
            io.err(`message ${i}: error ${o.error.code}: ${o.error.message}\n`);
            if (o.error.details) io.err(`  details: ${JSON.stringify(o.error.details)}\n`);
          }
        });
        if (failed.length > 0) throw new ExitCode(1);
      });
    });
}
