import type { Caller, GatewayFront } from "../gateway/index.js";
import type { Bus, BusRequest, JetStreamBridge, Requester } from "../nats/index.js";
import type { DeadLetterSink, ProduceStage, TenantRecords } from "../pipeline/index.js";
import { JunctionError, type Identity } from "../protocol/index.js";
import type { Clock, Logger } from "../support/index.js";
import type { ResolvedMemphisOptions } from "./options.js";

/** What the Memphis front needs from the gateway it runs in. */
export interface MemphisFrontDeps {
  /** Serves the Memphis subjects of the internal account, and publishes pushes. */
  bus: Bus;
  /** Consumer info and acknowledgements forwarded to JetStream. */
  jetstream: JetStreamBridge;
  /** The gateway's admin operations and produce path, called as the asking user. */
  gateway: GatewayFront;
  /** Who sent a request from the Memphis account (undefined: nobody known). */
  identify(requester: Requester | undefined): Promise<Identity | undefined>;
  /** A tenant's records (stations, groups, schemas), for look-ups and change watches. */
  records(tenant: string): Promise<TenantRecords>;
  /** The produce path's schema stage: a refusal the SDK reports is checked against it before it is recorded. */
  schemaStage: ProduceStage;
  /** Where refused messages are recorded (the DLS). */
  deadLetters: DeadLetterSink;
  logger: Logger;
  clock: Clock;
}

/** Counters of the Memphis front (for tests and logs). */
export interface MemphisStats {
  /** Control-plane requests answered. */
  control: number;
  /** `<station>.final` publishes answered, and how many of them were refused. */
  produced: number;
  produceRefused: number;
  /** Consumer-info requests and acknowledgements forwarded to JetStream. */
  consumerInfo: number;
  acks: number;
  /** `+TERM` acknowledgements that got their `deadLetter(reason)` reason. */
  termReasons: number;
  /** Reports received: dead-letter reasons, client-side schema refusals (and how many were recorded), pushed-DLS acks, notifications. */
  nackedDls: number;
  schemaverseReports: number;
  schemaverseRecorded: number;
  pmAcks: number;
  notifications: number;
  /** Schema updates pushed to SDKs. */
  schemaPushes: number;
  /** Requests not served: no inbox reply, nobody known, or a body that is not what the SDK sends. */
  refused: number;
}

/** The state every part of the front shares. */
export interface MemphisContext {
  readonly deps: MemphisFrontDeps;
  readonly o: ResolvedMemphisOptions;
  readonly stats: MemphisStats;
  readonly log: Logger;
  /** The group of each consumer (member) this gateway saw created: `<user>\0<station>\0<consumer>` → group. */
  readonly members: Map<string, string>;
  /**
   * When a member last asked for its group's consumer info (`<station>\0<group>` → ms): memphis.js
   * asks right before each pull, so a pull is on its way for a moment after.
   */
  readonly pullsExpected: Map<string, number>;
  /** Resolves once the publishes a producer sent before now are answered. */
  flushProducer(user: string, station: string, producer: string): Promise<void>;
}

const dec = new TextDecoder();
const enc = new TextEncoder();

/**
 * Replies go only to an inbox or a service-import reply mapping (every Memphis request crosses an
 * import, so its reply is `_R_.…`): the gateway must never be aimed at another subject.
 */
export function replyOk(req: BusRequest): boolean {
  const r = req.reply;
  return r !== undefined && (r.startsWith("_R_.") || r.startsWith("_INBOX.") || r.startsWith("_INBOX_"));
}

/** A request body as a JSON object, or undefined. */
export function jsonBody(req: BusRequest): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(dec.decode(req.data)) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Answers with text (the empty string is success, as Memphis answers). */
export function replyText(req: BusRequest, text: string): void {
  req.respond(enc.encode(text));
}

/** Answers with JSON. */
export function replyJson(req: BusRequest, v: unknown): void {
  req.respond(enc.encode(JSON.stringify(v)));
}

/** The caller of a request from the Memphis account, or undefined when nobody known sent it. */
export async function callerOf(ctx: MemphisContext, req: BusRequest): Promise<Caller | undefined> {
  const requester = req.requester();
  const identity = await ctx.deps.identify(requester);
  return identity ? { identity, requester } : undefined;
}

/** The text of an error for a Memphis client. */
export function errorText(err: unknown): string {
  if (err instanceof JunctionError) {
    const d = err.details ?? {};
    if (err.code === "STATION_NOT_FOUND" && typeof d["station"] === "string") return `Station ${d["station"]} does not exist`;
    if (err.code === "SCHEMA_NOT_FOUND" && typeof d["schema"] === "string") return `Schema ${d["schema"]} does not exist`;
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The error code of a thrown value ("INTERNAL" for a non-Junction error). */
export function codeOf(err: unknown): string {
  return err instanceof JunctionError ? err.code : "INTERNAL";
}
