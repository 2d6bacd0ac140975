import type { NatsConnection } from "@nats-io/nats-core";
import { JunctionError } from "../protocol/index.js";
import type { JetStreamBridge } from "./ports.js";

/** nats-server: the subject prefix of every acknowledgement (`$JS.ACK.<stream>.<consumer>.<…>`). */
const ACK_PREFIX = "$JS.ACK.";

const enc = new TextEncoder();

/** The stream and consumer an acknowledgement subject names, or undefined when it is not one. */
export function parseAckSubject(subject: string): { stream: string; consumer: string } | undefined {
  if (!subject.startsWith(ACK_PREFIX)) return undefined;
  const t = subject.slice(ACK_PREFIX.length).split(".");
  // v1: stream.consumer.delivered.sseq.dseq.ts.pending (7); v2 adds domain and account hash first (9+).
  if (t.length === 7) return t[0] && t[1] ? { stream: t[0], consumer: t[1] } : undefined;
  if (t.length >= 9) return t[2] && t[3] ? { stream: t[2], consumer: t[3] } : undefined;
  return undefined;
}

/** The stream sequence an acknowledgement subject names (0 when it is not one). */
export function ackStreamSeq(subject: string): number {
  if (!subject.startsWith(ACK_PREFIX)) return 0;
  const t = subject.slice(ACK_PREFIX.length).split(".");
  const i = t.length === 7 ? 3 : t.length >= 9 ? 5 : -1;
  const n = i >= 0 ? Number(t[i]) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** Whether a name can be one token of a JetStream API subject. */
function token(s: string): boolean {
  return s.length > 0 && s.length <= 255 && !/[\s.*>]/.test(s);
}

/**
 * JetStream requests a front forwards on a client's behalf, answered with JetStream's own bytes
 * (the front relays them unchanged): consumer info and acknowledgements. The front authorizes
 * first; this only checks that the names are single subject tokens.
 */
export function natsJetStreamBridge(nc: NatsConnection, timeoutMs: number): JetStreamBridge {
  return {
    async consumerInfo(stream, consumer) {
      if (!token(stream) || !token(consumer)) {
        throw new JunctionError("INVALID_ARGUMENT", `not a stream and consumer name: '${stream}', '${consumer}'`);
      }
      const m = await nc.request(`$JS.API.CONSUMER.INFO.${stream}.${consumer}`, enc.encode(""), { timeout: timeoutMs });
      return m.data;
    },
    ack(subject, body) {
      if (!parseAckSubject(subject)) throw new JunctionError("INVALID_ARGUMENT", `not an acknowledgement subject: '${subject}'`);
      if (!nc.isClosed()) nc.publish(subject, body);
    },
    async ackAndWait(subject, body) {
      if (!parseAckSubject(subject)) throw new JunctionError("INVALID_ARGUMENT", `not an acknowledgement subject: '${subject}'`);
      return (await nc.request(subject, body, { timeout: timeoutMs })).data;
    },
  };
}
