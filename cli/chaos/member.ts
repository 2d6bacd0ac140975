/**
 * A consumer group member in its own process (so it can be SIGKILLed). It reports every
 * delivery to the runner over the IPC channel and acts on the message only once the report has
 * left the process: a report may be followed by a lost ack (then the message comes back: a
 * redelivery), but a processed message is never missing from the books.
 */
import { connect, type JunctionClient, type Consumer } from "../../sdk/index.js";
import { MessageKind } from "./books.js";

/** What a member needs to know (passed as JSON in its environment). */
export interface MemberConfig {
  name: string;
  servers: string[];
  user: string;
  pass: string;
  station: string;
  group: string;
  batchSize: number;
  /** How long to keep retrying the first connection and the group join, in ms. */
  startTimeoutMs: number;
}

/** Member → runner. */
export type MemberReport =
  | { t: "ready" }
  | {
      t: "d";
      id: string | undefined;
      dc: number;
      seq: number;
      action: "ack" | "nak" | "term";
      /** When the message was handed to the application (epoch ms, fractional: per-key order is judged by it). */
      at: number;
    }
  | { t: "ended"; why: string };

/** Runner → member. */
export type MemberCommand = { t: "slow"; delayMs: number } | { t: "stop" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a member until told to stop; `send` must resolve once the report has left the process. */
export async function runMember(
  c: MemberConfig,
  send: (r: MemberReport) => Promise<void>,
  commands: {
    on(cb: (m: MemberCommand) => void): void;
  },
): Promise<number> {
  let slowMs = 0;
  let stopping = false;
  let consumer: Consumer | undefined;
  commands.on((m) => {
    if (m.t === "slow") slowMs = m.delayMs;
    else {
      stopping = true;
      void consumer?.close();
    }
  });
  const deadline = Date.now() + c.startTimeoutMs;
  let client: JunctionClient | undefined;
  // The gateways (auth callout, the group API) may be down when a member starts: keep trying.
  for (;;) {
    try {
      client ??= await connect({ servers: c.servers, user: c.user, pass: c.pass, name: `chaos-${c.name}` });
      consumer = await client.consumer({ station: c.station, group: c.group, batchSize: c.batchSize });
      break;
    } catch (err) {
      if (Date.now() > deadline || stopping) throw err;
      await sleep(250);
    }
  }
  await send({ t: "ready" });
  for await (const m of consumer) {
    const at = performance.timeOrigin + performance.now();
    if (slowMs > 0) await sleep(slowMs);
    let id: string | undefined;
    let kind: string | undefined;
    try {
      ({ id, kind } = m.json<{ id?: string; kind?: string }>());
    } catch {
      id = m.id;
    }
    const action = kind === MessageKind.Poison ? "nak" : kind === MessageKind.Terminate ? "term" : "ack";
    await send({ t: "d", id, dc: m.deliveryCount, seq: m.seq, action, at });
    if (action === "ack") m.ack();
    else if (action === "nak") m.nak();
    else m.deadLetter("dead-lettered on purpose by the chaos workload");
    if (stopping) break;
  }
  await consumer.close();
  if (!stopping) await send({ t: "ended", why: "the consumer stopped by itself" });
  await client.close().catch(() => {});
  return stopping ? 0 : 3;
}
