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
import { msToNs, JsErrorCode } from "./streams.js";

/** The JetStream consumer advisories the DLS listens to. */
export const ADVISORY_SUBJECTS = ["$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>", "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>"] as const;

/** The durable consumer on the advisory stream that every gateway shares. */
export const ADVISORY_CONSUMER = "jn-gateway";

/** Which advisory it was. */
export const AdvisoryKind = { MaxDeliveries: "max-deliveries", Terminated: "terminated" } as const;
export type AdvisoryKind = (typeof AdvisoryKind)[keyof typeof AdvisoryKind];

/**
 * A consumer advisory, parsed. nats-server 2.11+: the terminated advisory carries the `reason`
 * given with `+TERM <reason>`.
 */
export interface ConsumerAdvisory {
  kind: AdvisoryKind;
  stream: string;
  consumer: string;
  streamSeq: number;
  deliveries: number;
  /** The consumer's reason (terminated only; empty when none was given). */
  reason: string;
  /** When the server gave up (ISO). */
  timestamp: string;
  /** The advisory's own id (unique per event). */
  advisoryId: string;
}

/** One advisory delivery: ack only after its effect is stored; nak to have it again later. */
export interface AdvisoryDelivery {
  /** Undefined when the message is not a consumer advisory Junction understands. */
  advisory: ConsumerAdvisory | undefined;
  /** How many times this advisory was delivered (from the advisory consumer). */
  redeliveries: number;
  ack(): Promise<boolean>;
  nak(delayMs?: number): void;
}

function isJsError(err: unknown, code: number): boolean {
  const e = err as { code?: unknown } | undefined;
  return typeof e?.code === "number" && e.code === code;
}

/**
 * Creates (or updates) the advisory stream: a work queue (an advisory leaves once acked), kept
 * at most `maxAgeSeconds` when nobody takes it.
 */
export async function ensureAdvisoryStream(jsm: JetStreamManager, name: string, replicas: number, maxAgeSeconds: number): Promise<void> {
  const cfg: Partial<StreamConfig> & { name: string } = {
    name,
    subjects: [...ADVISORY_SUBJECTS],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: maxAgeSeconds * 1_000_000_000,
    discard: DiscardPolicy.Old,
  };
  try {
    await jsm.streams.add(cfg);
  } catch (err) {
    if (!isJsError(err, JsErrorCode.StreamNameInUse)) throw err;
    await jsm.streams.update(name, cfg);
  }
}

/** Creates the shared durable advisory consumer, or applies a new ack wait to it. */
export async function ensureAdvisoryConsumer(jsm: JetStreamManager, stream: string, ackWaitMs: number): Promise<void> {
  const cfg: Partial<ConsumerConfig> = {
    durable_name: ADVISORY_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: msToNs(ackWaitMs),
    max_deliver: -1,
    max_ack_pending: 1000,
  };
  try {
    const ci = await jsm.consumers.info(stream, ADVISORY_CONSUMER);
    if (ci.config.ack_wait !== cfg.ack_wait) await jsm.consumers.update(stream, ADVISORY_CONSUMER, { ack_wait: cfg.ack_wait! });
  } catch (err) {
    if (!isJsError(err, JsErrorCode.ConsumerNotFound)) throw err;
    await jsm.consumers.add(stream, cfg);
  }
}

const dec = new TextDecoder();

/** Parses a consumer advisory body; undefined for anything else. */
export function parseAdvisory(subject: string, data: Uint8Array): ConsumerAdvisory | undefined {
  let kind: AdvisoryKind;
  if (subject.startsWith("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.")) kind = AdvisoryKind.MaxDeliveries;
  else if (subject.startsWith("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.")) kind = AdvisoryKind.Terminated;
  else return undefined;
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
      timestamp: typeof a["timestamp"] === "string" ? a["timestamp"] : new Date().toISOString(),
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

/** A running advisory pull loop. */
export interface AdvisorySubscription {
  /** Stops pulling; does not wait for handlers in flight. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Pulls advisories from the shared durable consumer and hands each to `handle`, one at a time.
 * Handler errors are passed to `onError`; the advisory is then redelivered after the ack wait.
 */
export async function consumeAdvisories(
  nc: NatsConnection,
  stream: string,
  handle: (d: AdvisoryDelivery) => Promise<void>,
  onError: (err: unknown) => void,
): Promise<AdvisorySubscription> {
  const consumer = await jetstream(nc).consumers.get(stream, ADVISORY_CONSUMER);
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
