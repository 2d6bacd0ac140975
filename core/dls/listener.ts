import type { AdvisoryDelivery, AdvisoryFeed, ConsumerAdvisory, StreamMessage, StreamReader } from "../nats/index.js";
import {
  DEFAULT_TENANT,
  DeadLetterReason,
  Headers,
  deadLetterId,
  parseGroupConsumer,
  POISON_TERM_PREFIX,
  parseStationStream,
  type DeadLetter,
} from "../protocol/index.js";
import { toBase64, type DeadLetterSink } from "../pipeline/index.js";
import { isoNow, type Clock, type Logger } from "../support/index.js";
import type { ResolvedDlsOptions } from "./options.js";

/** What the advisory listener needs. */
export interface AdvisoryListenerDeps {
  advisories: AdvisoryFeed;
  reader: StreamReader;
  writer: DeadLetterSink;
  logger: Logger;
  options: ResolvedDlsOptions;
  replicas: number;
  clock: Clock;
}

/** The id of a consumer-side dead letter: one per station, sequence, group and reason. */
export function advisoryDeadLetterId(
  reason: DeadLetterReason,
  station: string,
  seq: number,
  group: string,
  tenant: string = DEFAULT_TENANT,
): string {
  return deadLetterId(tenant, reason, station, seq, group);
}

/** The deliveries a member's poison term (`jn:poison:<n>`) reports; undefined for any other reason. */
export function poisonTermDeliveries(reason: string | undefined): number | undefined {
  if (!reason?.startsWith(POISON_TERM_PREFIX)) return undefined;
  const n = Number(reason.slice(POISON_TERM_PREFIX.length));
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Builds the dead letter of a max-deliveries or terminated advisory from the stored message
 * (copied now, so it survives the station's retention). Undefined when the advisory is not about
 * a station stream.
 */
export function advisoryDeadLetter(a: ConsumerAdvisory, msg: StreamMessage | undefined, clock: Clock): DeadLetter | undefined {
  const where = parseStationStream(a.stream);
  if (!where) return undefined;
  const { tenant, station } = where;
  // A partitioned station's groups have one consumer per partition (`<group>-P<i>`): the dead
  // letter names the group, and keeps the partition so a resend reaches the same partition.
  const consumer = parseGroupConsumer(a.consumer);
  if (!consumer) return undefined;
  const group = consumer.group;
  // A member of a keyed station retries messages itself and gives one up as poison by a term
  // with a reason of its own (`jn:poison:<deliveries>`).
  const poisonTerm = a.kind === "terminated" ? poisonTermDeliveries(a.reason) : undefined;
  const reason = a.kind === "max-deliveries" || poisonTerm !== undefined ? DeadLetterReason.Poison : DeadLetterReason.Terminated;
  const deliveries = poisonTerm ?? a.deliveries;
  const headers = msg?.headers ?? {};
  const details: Record<string, unknown> = { advisoryAt: a.timestamp };
  if (consumer.partition !== undefined) details["partition"] = consumer.partition;
  if (msg) details["storedAt"] = msg.time.toISOString();
  else details["payloadMissing"] = true;
  const error =
    reason === DeadLetterReason.Poison
      ? { code: "MAX_DELIVERIES", message: `not acked after ${deliveries} deliveries`, details }
      : { code: "TERMINATED", message: a.reason || "terminated by the consumer", details };
  const dl: DeadLetter = {
    id: advisoryDeadLetterId(reason, station, a.streamSeq, group, tenant),
    ...(tenant !== DEFAULT_TENANT ? { tenant } : {}),
    station,
    reason,
    groups: [group],
    seq: a.streamSeq,
    payload: msg ? toBase64(msg.data) : "",
    headers,
    error,
    deliveries,
    producer: headers[Headers.Producer],
    resentFrom: headers[Headers.ResentFrom],
    createdAt: isoNow(clock),
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
  #sub: { stop(): Promise<void> } | undefined;
  #stopping: Promise<void> | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #probing: Promise<void> | undefined;
  #stopped = false;

  constructor(d: AdvisoryListenerDeps) {
    this.#d = d;
  }

  async start(): Promise<void> {
    const { advisories, options } = this.#d;
    await advisories.ensure({
      replicas: this.#d.replicas,
      maxAgeSeconds: options.advisoryMaxAgeSeconds,
      ackWaitMs: options.advisoryAckWaitMs,
    });
    this.#sub = await advisories.consume(
      (d) => this.#handle(d),
      (err) => this.#d.logger.warn("advisory handling failed", { error: String(err) }),
    );
    this.#scheduleProbe();
  }

  /**
   * Groups with no member pulling: a message given back or expired at its last delivery would
   * wait there, unrecorded, until a member pulls again. Every round the store is nudged to look
   * at such groups (see {@link AdvisoryFeed.nudge}: nothing is delivered, no count changes), so
   * the dead letter follows within about the ack time plus one interval.
   */
  #scheduleProbe(): void {
    const every = this.#d.options.probeIntervalMs;
    if (every === 0 || this.#stopped) return;
    this.#probeTimer = setTimeout(() => {
      this.#probing = this.#d.advisories
        .nudge({ maxProbesPerGroup: this.#d.options.maxProbesPerGroup })
        .then(
          () => {},
          (err: unknown) => this.#d.logger.warn("probing idle consumer groups failed", { error: String(err) }),
        )
        .finally(() => {
          this.#probing = undefined;
          this.#scheduleProbe();
        });
    }, every);
    this.#probeTimer.unref();
  }

  async #handle(d: AdvisoryDelivery): Promise<void> {
    const a = d.advisory;
    if (!a || !parseStationStream(a.stream)) {
      await d.ack();
      return;
    }
    try {
      const msg = await this.#d.reader.get(a.stream, a.streamSeq);
      const dl = advisoryDeadLetter(a, msg, this.#d.clock)!;
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
      this.#stopped = true;
      if (this.#probeTimer) clearTimeout(this.#probeTimer);
      await this.#probing;
      const s = this.#sub;
      if (!s) return;
      // Do not wait forever on a pull that is being torn down.
      await Promise.race([s.stop(), new Promise((r) => setTimeout(r, 2000).unref())]);
    })();
    return this.#stopping;
  }
}
