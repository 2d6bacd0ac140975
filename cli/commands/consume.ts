import type { Command } from "commander";
import { JunctionError, type StartPosition } from "../../core/protocol/index.js";
import type { ConsumerOptions, Message } from "../../sdk/index.js";
import { withClient } from "../connection.js";
import { intOption, type Io } from "../output.js";

interface ConsumeOpts {
  group: string;
  count?: string;
  ack: boolean;
  json?: boolean;
  maxAckTimeMs?: string;
  maxMsgDeliveries?: string;
  backoff?: string;
  from?: string;
  timeoutMs?: string;
  batchSize?: string;
}

/** Parses `earliest`, `latest`, `seq:N` or `last:N`. */
export function parseStart(v: string): StartPosition {
  if (v === "earliest" || v === "latest") return { kind: v };
  const m = /^(seq|last):(\d+)$/.exec(v);
  if (m) return m[1] === "seq" ? { kind: "sequence", seq: Number(m[2]) } : { kind: "last", count: Number(m[2]) };
  throw new JunctionError("INVALID_ARGUMENT", `--from must be earliest, latest, seq:N or last:N (got '${v}')`);
}

async function envelope(m: Message): Promise<unknown> {
  let payload: unknown;
  try {
    // By the schema version the message was checked against (loaded on first use).
    payload = await m.decode();
  } catch {
    payload = m.text();
  }
  return {
    seq: m.seq,
    deliveryCount: m.deliveryCount,
    redelivered: m.redelivered,
    timestamp: m.timestamp.toISOString(),
    subject: m.subject,
    headers: m.headers,
    payload,
  };
}

export function registerConsume(program: Command, io: Io): void {
  program
    .command("consume <station>")
    .description("read messages as a member of a consumer group, one per line")
    .requiredOption("--group <name>", "the consumer group")
    .option("--count <n>", "stop after N messages")
    .option("--no-ack", "leave messages unacked (they are resent after the ack time)")
    .option("--json", "print an envelope with sequence, delivery count and headers")
    .option("--max-ack-time-ms <n>", "the group's ack time")
    .option("--max-msg-deliveries <n>", "deliveries before a message becomes a dead letter")
    .option("--backoff <ms,ms,...>", "redelivery delays")
    .option("--from <position>", "where a new group starts: earliest, latest, seq:N, last:N")
    .option("--batch-size <n>", "messages pulled per request")
    .option("--timeout-ms <n>", "stop when no message arrives for this long")
    .action(async (station: string, opts: ConsumeOpts, cmd: Command) => {
      const count = intOption("count", opts.count);
      const o: ConsumerOptions = { station, group: opts.group };
      const ack = intOption("max-ack-time-ms", opts.maxAckTimeMs);
      if (ack !== undefined) o.maxAckTimeMs = ack;
      const del = intOption("max-msg-deliveries", opts.maxMsgDeliveries);
      if (del !== undefined) o.maxMsgDeliveries = del;
      if (opts.backoff) o.backoffMs = opts.backoff.split(",").map((x, i) => intOption(`backoff[${i}]`, x.trim())!);
      if (opts.from) o.startPosition = parseStart(opts.from);
      const bs = intOption("batch-size", opts.batchSize);
      if (bs !== undefined) o.batchSize = bs;
      // Pull no more than asked for: prefetched, unprocessed messages would wait out the ack time.
      if (count !== undefined) o.maxMessages = count;
      const idle = intOption("timeout-ms", opts.timeoutMs);
      await withClient(io, cmd, async (c) => {
        const consumer = await c.consumer(o);
        let n = 0;
        let timer: NodeJS.Timeout | undefined;
        const arm = () => {
          if (idle === undefined) return;
          clearTimeout(timer);
          timer = setTimeout(() => void consumer.close(), idle);
        };
        const stop = () => void consumer.close();
        process.once("SIGINT", stop);
        arm();
        for await (const m of consumer) {
          io.out((opts.json ? JSON.stringify(await envelope(m)) : m.text()) + "\n");
          if (opts.ack) m.ack();
          n++;
          arm();
          if (count !== undefined && n >= count) break;
        }
        clearTimeout(timer);
        process.off("SIGINT", stop);
        await consumer.close();
      });
    });
}
