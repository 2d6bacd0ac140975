/**
 * A consumer-group member in its own process, so a test can SIGKILL it. Reads its settings as
 * JSON from JN_CHILD_MEMBER; prints `{"ready":true}` once pulling, then one JSON line per message
 * it is given (`{"seq","deliveryCount"}`). It acks after `ackAfterMs` (never when absent).
 */
import { connect, type ConsumerOptions } from "../../sdk/index.js";

interface MemberSettings {
  servers: string;
  user: string;
  pass: string;
  consumer: ConsumerOptions;
  ackAfterMs?: number;
}

const s = JSON.parse(process.env["JN_CHILD_MEMBER"] ?? "{}") as MemberSettings;
const client = await connect({ servers: s.servers, user: s.user, pass: s.pass });
const consumer = await client.consumer(s.consumer);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const m of consumer) {
  process.stdout.write(`${JSON.stringify({ seq: m.seq, deliveryCount: m.deliveryCount })}\n`);
  if (s.ackAfterMs !== undefined) {
    const ackAfter = s.ackAfterMs;
    setTimeout(() => m.ack(), ackAfter);
  }
}
