import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { errorFromNats, natsConnectOptions, type ConnectSettings } from "../protocol/index.js";

/** How to reach NATS. */
export type NatsConnectOptions = ConnectSettings;

/**
 * Connects to NATS. Errors become JunctionErrors: `AUTH_FAILED` for refused credentials,
 * `NATS_UNAVAILABLE` (retriable) when nothing answers.
 */
export async function connectNats(o: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect(natsConnectOptions(o, "junction"));
  } catch (err) {
    throw errorFromNats(err, `cannot connect to NATS at ${String(o.servers)}`);
  }
}
