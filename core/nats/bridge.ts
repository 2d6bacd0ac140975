import type { NatsConnection } from "@nats-io/nats-core";
import { JunctionError } from "../protocol/index.js";
import type { JetStreamBridge } from "./ports.js";
import { parseAckSubject } from "./pull.js";

const enc = new TextEncoder();

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
