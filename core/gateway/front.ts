import type { Identity, ProduceMessage, ProduceResult, TraceHeaders } from "../protocol/index.js";
import type { Caller } from "./service.js";

/**
 * The gateway for in-process fronts that are not the NATS bus (the HTTP API, Memphis
 * compatibility): the same authentication, authorization, admin operations and produce path as
 * bus requests, called directly.
 */
export interface GatewayFront {
  /** Checks a user's password; undefined when refused. `from` names the front in the log. */
  authenticate(user: string, password: string, from?: string): Promise<Identity | undefined>;
  /** Runs an admin operation (`station.info`…) as the caller. Throws a JunctionError. */
  call(caller: Caller, op: string, body: unknown): Promise<unknown>;
  /**
   * Produces messages to a station as the caller: one result per message, exactly as for a bus
   * request. Rejects (JunctionError) only for a problem of the whole request (station not found,
   * permission denied, too many messages).
   */
  produce(caller: Caller, station: string, messages: ProduceMessage[], o?: FrontProduceOptions): Promise<ProduceResult[]>;
}

/** Options of {@link GatewayFront.produce}. */
export interface FrontProduceOptions {
  /** Who produced (stored in the `Jn-Producer` header). */
  producer?: string | undefined;
  /** The request's own trace context (an HTTP request's `traceparent`): the parent of the gateway's `produce` span. */
  trace?: TraceHeaders | undefined;
}
