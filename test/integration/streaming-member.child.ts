/**
 * A consumer group member in its own process (so a test can SIGKILL it). Settings come as JSON in
 * JN_MEMBER: { url, user, pass, station, group, exclusive?, memberTimeoutMs?, workMs? }. Prints
 * `ready` once pulling, then per message `{ got: seq, key, dc, at }` when it is handed out,
 * `{ acking: seq, key, at }` just before it sends the ack and `{ acked: seq, key }` once the
 * server confirmed the ack.
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
  const key = m.key;
  process.stdout.write(JSON.stringify({ got: m.seq, key, dc: m.deliveryCount, at: Date.now() }) + "\n");
  if (o.workMs) await new Promise((r) => setTimeout(r, Math.random() * o.workMs!));
  process.stdout.write(JSON.stringify({ acking: m.seq, key, at: Date.now() }) + "\n");
  await m.ackAndWait();
  process.stdout.write(JSON.stringify({ acked: m.seq, key }) + "\n");
}
