import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { errorFromNats } from "../protocol/index.js";

/** How to reach NATS. */
export interface NatsConnectOptions {
  servers: string | string[];
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  /** Connection name shown by the server. */
  name?: string;
  /** Give up the first connect after this long. @default 5000 */
  timeoutMs?: number;
  /** Keep reconnecting forever after a disconnect. @default true */
  reconnect?: boolean;
}

/**
 * Connects to NATS. Errors become JunctionErrors: `AUTH_FAILED` for refused credentials,
 * `NATS_UNAVAILABLE` (retriable) when nothing answers.
 */
export async function connectNats(o: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: o.servers,
      ...(o.user !== undefined ? { user: o.user } : {}),
      ...(o.pass !== undefined ? { pass: o.pass } : {}),
      ...(o.token !== undefined ? { token: o.token } : {}),
      name: o.name ?? "junction",
      timeout: o.timeoutMs ?? 5000,
      reconnect: o.reconnect ?? true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
    });
  } catch (err) {
    throw errorFromNats(err, `cannot connect to NATS at ${String(o.servers)}`);
  }
}
