import {
  AdvisoryKind,
  consumeAdvisories,
  ensureAdvisoryConsumer,
  ensureAdvisoryStream,
  getStreamMessage,
  type AdvisoryDelivery,
  type AdvisorySubscription,
  type ConsumerAdvisory,
  type JetStreamManager,
  type NatsConnection,
  type StreamMessage,
} from "../nats/index.js";
import { ADVISORY_STREAM, DeadLetterReason, Headers, STATION_STREAM_PREFIX, type DeadLetter } from "../protocol/index.js";
import type { Logger } from "../server/logger.js";
import type { ResolvedDlsOptions } from "./options.js";
import { toBase64, type DeadLetterWriter } from "./store.js";

/** What the advisory listener needs. */
export interface AdvisoryListenerDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  writer: DeadLetterWriter;
  logger: Logger;
  options: ResolvedDlsOptions;
  replicas: number;
}

/** The id of a consumer-side dead letter: one per station, sequence, group and reason. */
export function advisoryDeadLetterId(reason: DeadLetterReason, station: string, seq: number, group: string): string {
  return `${reason}:${station}:${seq}:${group}`;
}

/**
 * Builds the dead letter of a max-deliveries or terminated advisory from the stored message
 * (copied now, so it survives the station's retention).
 */
export function advisoryDeadLetter(a: ConsumerAdvisory, msg: StreamMessage | undefined): DeadLetter {
  const station = a.stream.slice(STATION_STREAM_PREFIX.length);
  const group = a.consumer;
  const reason = a.kind === AdvisoryKind.MaxDeliveries ? DeadLetterReason.Poison : DeadLetterReason.Terminated;
  const headers = msg?.headers ?? {};
  const details: Record<string, unknown> = { advisoryAt: a.timestamp };
  if (msg) details["storedAt"] = msg.time.toISOString();
  else details["payloadMissing"] = true;
  const error =
    reason === DeadLetterReason.Poison
      ? { code: "MAX_DELIVERIES", message: `not acked after ${a.deliveries} deliveries`, details }
      : { code: "TERMINATED", message: a.reason || "terminated by the consumer", details };
  const dl: DeadLetter = {
    id: advisoryDeadLetterId(reason, station, a.streamSeq, group),
    station,
    reason,
    groups: [group],
    seq: a.streamSeq,
    payload: msg ? toBase64(msg.data) : "",
    headers,
    error,
    deliveries: a.deliveries,
    producer: headers[Headers.Producer],
    resentFrom: headers[Headers.ResentFrom],
    createdAt: new Date().toISOString(),
  };
  // A term() happens during the last delivery; the server does not report delivery times otherwise.
  if (reason === DeadLetterReason.Terminated) {
    dl.lastDeliveryAt = a.timestamp;
    if (a.deliveries === 1) dl.firstDeliveryAt = a.timestamp;
  }
  return dl;
}

/**
 * Turns JetStream's max-deliveries and terminated advisories into dead letters. The advisories
 * are stored in `JN_ADV`; all gateways share one durable consumer on it, and an advisory is acked
 * only after its dead letter is stored. A gateway that dies in between leaves the advisory
 * unacked, so another gateway gets it after the ack wait; the dead-letter id makes the second
 * write a no-op when the first had landed.
 */
export class AdvisoryListener {
  readonly #d: AdvisoryListenerDeps;
  #sub: AdvisorySubscription | undefined;
  #stopping: Promise<void> | undefined;

  constructor(d: AdvisoryListenerDeps) {
    this.#d = d;
  }

  async start(): Promise<void> {
    const { jsm, options } = this.#d;
    await ensureAdvisoryStream(jsm, ADVISORY_STREAM, this.#d.replicas, options.advisoryMaxAgeSeconds);
    await ensureAdvisoryConsumer(jsm, ADVISORY_STREAM, options.advisoryAckWaitMs);
    this.#sub = await consumeAdvisories(
      this.#d.nc,
      ADVISORY_STREAM,
      (d) => this.#handle(d),
      (err) => {
        this.#d.logger.warn("advisory handling failed", { error: String(err) });
      },
    );
  }

  async #handle(d: AdvisoryDelivery): Promise<void> {
    const a = d.advisory;
    if (!a || !a.stream.startsWith(STATION_STREAM_PREFIX)) {
      await d.ack();
      return;
    }
    try {
      const msg = await getStreamMessage(this.#d.jsm, a.stream, a.streamSeq);
      const dl = advisoryDeadLetter(a, msg);
      const hooks = this.#d.options.hooks;
      if (hooks.beforeAdvisoryWrite) await hooks.beforeAdvisoryWrite(dl);
      if (!(await this.#d.writer.write(dl))) {
        d.nak(1000);
        return;
      }
      if (hooks.afterAdvisoryWrite) await hooks.afterAdvisoryWrite(dl);
      await d.ack();
    } catch (err) {
      this.#d.logger.warn("dead-letter write failed; the advisory will be retried", {
        stream: a.stream,
        seq: a.streamSeq,
        error: String(err),
      });
      d.nak(1000);
    }
  }

  /** Stops taking advisories (those in flight are redelivered to another gateway). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const s = this.#sub;
      if (!s) return;
      // Do not wait forever on a pull that is being torn down.
      await Promise.race([s.stop(), new Promise((r) => setTimeout(r, 2000).unref())]);
    })();
    return this.#stopping;
  }
}
