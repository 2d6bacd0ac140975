import type { NatsConnection } from "../nats/index.js";
import { subjects, type EventKind } from "../protocol/index.js";

/** The body of a live event on `jn.events.<station>.<kind>` (JSON). */
export interface JunctionEvent {
  kind: EventKind;
  station: string;
  /** ISO time the event happened. */
  at: string;
  [key: string]: unknown;
}

/** Publishes live events (core NATS, fire-and-forget: they are for live views, not a record). */
export interface EventPublisher {
  publish(station: string, kind: EventKind, body?: Record<string, unknown>): void;
}

const enc = new TextEncoder();

/** Events on the given connection; a closed connection drops them. */
export function natsEventPublisher(nc: NatsConnection): EventPublisher {
  return {
    publish(station, kind, body = {}) {
      if (nc.isClosed()) return;
      const e: JunctionEvent = { ...body, kind, station, at: new Date().toISOString() };
      try {
        nc.publish(subjects.events(station, kind), enc.encode(JSON.stringify(e)));
      } catch {
        /* draining or closed: live events are best effort */
      }
    },
  };
}

/** Publishes nothing. */
export const noEvents: EventPublisher = { publish() {} };
