import { scopeOf, DEFAULT_TENANT, type EventKind } from "../protocol/index.js";
import { isoNow, type Clock } from "./clock.js";

/** The body of a live event on `jn.events.<station>.<kind>` (JSON). */
export interface JunctionEvent {
  kind: EventKind;
  station: string;
  /** ISO time the event happened. */
  at: string;
  [key: string]: unknown;
}

/** Publishes live events (fire-and-forget: they are for live views, not a record). */
export interface EventPublisher {
  publish(station: string, kind: EventKind, body?: Record<string, unknown>, tenant?: string): void;
}

const enc = new TextEncoder();

/**
 * Events sent with `send` (a bus publish). Errors are swallowed: live events are best effort, and
 * a draining or closed connection must not fail the operation that raised the event.
 */
export function createEventPublisher(send: (subject: string, data: Uint8Array) => void, clock: Clock): EventPublisher {
  return {
    publish(station, kind, body = {}, tenant = DEFAULT_TENANT) {
      const e: JunctionEvent = { ...body, kind, station, at: isoNow(clock) };
      try {
        send(scopeOf(tenant).events(station, kind), enc.encode(JSON.stringify(e)));
      } catch {
        /* best effort */
      }
    },
  };
}

/** Publishes nothing. */
export const noEvents: EventPublisher = Object.freeze({ publish() {} });
