/**
 * A consumer group member in its own process (so a test can SIGKILL it). Settings come as JSON in
 * JN_MEMBER: { url, user, pass, station, group, exclusive?, memberTimeoutMs?, workMs? }. Prints
 * `ready` once pulling, then per message `{ got: seq, text }` when it is handed out and
 * `{ acked: seq }` once the server confirmed the ack.
 */
import { connect } from "../../sdk/index.js";

const o = JSON.parse(process.env["JN_MEMBER"] ?? "{}") as {
  url: string;
  user: string;
  pass: string;
  station: string;
  group: string;
  exclusive?: boolean;
  memberTimeoutMs?: number;
  workMs?: number;
};
const client = await connect({ servers: o.url, user: o.user, pass: o.pass });
const consumer = await client.consumer({
  station: o.station,
  group: o.group,
  batchSize: 10,
  ...(o.exclusive !== undefined ? { exclusive: o.exclusive } : {}),
  ...(o.memberTimeoutMs !== undefined ? { memberTimeoutMs: o.memberTimeoutMs } : {}),
});
process.stdout.write("ready\n");
for await (const m of consumer) {
  process.stdout.write(JSON.stringify({ got: m.seq, dc: m.deliveryCount, at: Date.now() }) + "\n");
  if (o.workMs) await new Promise((r) => setTimeout(r, Math.random() * o.workMs!));
  await m.ackAndWait();
  process.stdout.write(JSON.stringify({ acked: m.seq }) + "\n");
}
