import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  type ConsumerConfig,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { ADVISORY_STREAM, ADVISORY_SUBJECTS, parseAdvisorySubject, parseStationStream } from "../protocol/index.js";
import { StoreErrorCode, type AdvisoryDelivery, type AdvisoryFeed, type ConsumerAdvisory } from "./ports.js";
import { isJsError, msToNs } from "./streams.js";

/** How long a probe waits for the store's answer, in ms. */
const PROBE_WAIT_MS = 500;
/** Station streams probed at once. */
const NUDGE_CONCURRENCY = 4;

/** The durable consumer on the advisory stream that every gateway shares. */
export const ADVISORY_CONSUMER = "jn-gateway";

const dec = new TextDecoder();

/**
 * Parses a consumer advisory body; undefined for anything else. nats-server 2.11+: the terminated
 * advisory carries the `reason` given with `+TERM <reason>`.
 */
export function parseAdvisory(subject: string, data: Uint8Array, now: () => number = Date.now): ConsumerAdvisory | undefined {
  const kind = parseAdvisorySubject(subject);
  if (!kind) return undefined;
  try {
    const a = JSON.parse(dec.decode(data)) as Record<string, unknown>;
    if (typeof a["stream"] !== "string" || typeof a["consumer"] !== "string" || typeof a["stream_seq"] !== "number") return undefined;
    return {
      kind,
      stream: a["stream"],
      consumer: a["consumer"],
      streamSeq: a["stream_seq"],
      deliveries: typeof a["deliveries"] === "number" ? a["deliveries"] : 0,
      reason: typeof a["reason"] === "string" ? a["reason"] : "",
      timestamp: typeof a["timestamp"] === "string" ? a["timestamp"] : new Date(now()).toISOString(),
      advisoryId: typeof a["id"] === "string" ? a["id"] : "",
    };
  } catch {
    return undefined;
  }
}

function delivery(m: JsMsg): AdvisoryDelivery {
  return {
    advisory: parseAdvisory(m.subject, m.data),
    redeliveries: m.info.deliveryCount,
    ack: () => m.ackAck(),
    nak: (delayMs) => m.nak(delayMs),
  };
}

/**
 * The advisory stream `JN_ADV` (a work queue: an advisory leaves once acked, kept at most
 * `maxAgeSeconds` when nobody takes it) and its shared durable consumer.
 */
export class NatsAdvisoryFeed implements AdvisoryFeed {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;

  constructor(nc: NatsConnection, jsm: JetStreamManager) {
    this.#nc = nc;
    this.#jsm = jsm;
  }

  async ensure(o: { replicas: number; maxAgeSeconds: number; ackWaitMs: number }): Promise<void> {
    const cfg: Partial<StreamConfig> & { name: string } = {
      name: ADVISORY_STREAM,
      subjects: [...ADVISORY_SUBJECTS],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: o.replicas,
      max_age: o.maxAgeSeconds * 1_000_000_000,
      discard: DiscardPolicy.Old,
    };
    try {
      await this.#jsm.streams.add(cfg);
    } catch (err) {
      if (!isJsError(err, StoreErrorCode.StreamNameInUse)) throw err;
      await this.#jsm.streams.update(ADVISORY_STREAM, cfg);
    }
    const ackWait = msToNs(o.ackWaitMs);
    const ccfg: Partial<ConsumerConfig> = {
      durable_name: ADVISORY_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ackWait,
      max_deliver: -1,
      max_ack_pending: 1000,
    };
    try {
      const ci = await this.#jsm.consumers.info(ADVISORY_STREAM, ADVISORY_CONSUMER);
      if (ci.config.ack_wait !== ackWait) await this.#jsm.consumers.update(ADVISORY_STREAM, ADVISORY_CONSUMER, { ack_wait: ackWait });
    } catch (err) {
      if (!isJsError(err, StoreErrorCode.ConsumerNotFound)) throw err;
      await this.#jsm.consumers.add(ADVISORY_STREAM, ccfg);
    }
  }

  /**
   * nats-server 2.12–2.15: a message given back (nak) or expired at its last allowed delivery
   * waits in the consumer's redelivery queue, and its max-deliveries advisory fires only when the
   * server next tries to deliver it, which takes a pull request. (Its ack-wait check compares the
   * redelivery count, one less than the delivery count, with max_deliver, so it never fires
   * there.) A pull request for at most 1 byte makes the server walk that queue — giving up on
   * such messages — and then refuse to hand out the message it reaches (409 "Message Size
   * Exceeds MaxBytes"): that message keeps its delivery count; a redelivery goes back to the end
   * of the queue, a new message stays next. A member that pulls later gets everything else as if
   * no probe had happened (only the order of pending redeliveries may change).
   */
  async nudge(o: { maxProbesPerGroup: number }): Promise<number> {
    const streams: string[] = [];
    for await (const name of this.#jsm.streams.names()) if (parseStationStream(name)) streams.push(name);
    let probed = 0;
    let next = 0;
    const worker = async () => {
      while (next < streams.length) {
        const stream = streams[next++]!;
        try {
          for await (const ci of this.#jsm.consumers.list(stream)) {
            if (ci.num_ack_pending === 0 || ci.num_waiting > 0) continue;
            // A member pulls: the server looks at the queue itself. Ordered groups pin members
            // and keep their own order; a probe there could reorder redeliveries.
            if ((ci.config as { priority_policy?: string }).priority_policy === "pinned_client") continue;
            // Only a message delivered at least max_deliver times can be owed an advisory: with
            // max_deliver > 1 it is counted in num_redelivered. A busy member's group (its window
            // full, so no request waiting) with no redelivered message is left alone.
            const maxDeliver = ci.config.max_deliver ?? -1;
            if (maxDeliver <= 0 || (maxDeliver > 1 && ci.num_redelivered === 0)) continue;
            probed++;
            const probes = Math.min(o.maxProbesPerGroup, ci.num_ack_pending);
            for (let i = 0; i < probes; i++) if (!(await this.#probe(stream, ci.name))) break;
          }
        } catch {
          /* the stream went away meanwhile */
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(NUDGE_CONCURRENCY, streams.length) }, worker));
    return probed;
  }

  /** True when the server found a message and kept it (probing again may reach further). */
  async #probe(stream: string, consumer: string): Promise<boolean> {
    const body = JSON.stringify({ batch: 1, max_bytes: 1, no_wait: true, expires: msToNs(PROBE_WAIT_MS) });
    try {
      const r = await this.#nc.request(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, body, { timeout: PROBE_WAIT_MS + 2000 });
      return r.headers?.code === 409;
    } catch {
      return false; // no such consumer any more, or no answer: nothing to do now
    }
  }

  async consume(handle: (d: AdvisoryDelivery) => Promise<void>, onError: (err: unknown) => void): Promise<{ stop(): Promise<void> }> {
    const consumer = await jetstream(this.#nc).consumers.get(ADVISORY_STREAM, ADVISORY_CONSUMER);
    const messages = await consumer.consume({ max_messages: 64 });
    let stopped = false;
    void (async () => {
      try {
        for await (const m of messages) {
          if (stopped) break;
          try {
            await handle(delivery(m));
          } catch (err) {
            onError(err);
          }
        }
      } catch (err) {
        if (!stopped) onError(err);
      }
    })();
    return {
      async stop() {
        if (stopped) return;
        stopped = true;
        await messages.close();
      },
    };
  }
}
