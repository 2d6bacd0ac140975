/**
 * An in-process broker with Memphis compatibility (a real nats-server with the Memphis account,
 * and a gateway) for tests that need users of their own: the Junction admin (CLIENTS) and any
 * number of users, some listed as Memphis users.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import {
  accountsFor,
  gatewayOptionsFor,
  newDeploymentSecrets,
  silentLogger,
  startJunctionGateway,
  startNatsServer,
  type JunctionGateway,
  type RunningNatsServer,
} from "../../core/server/index.js";
import type { Grants } from "../../core/protocol/index.js";
import { connect, type JunctionClient } from "../../sdk/index.js";

/** A user of the test broker. */
export interface BrokerUser {
  name: string;
  password: string;
  grants: Grants;
  tenant?: string;
}

/** A running broker with Memphis compatibility. */
export interface MemphisBroker {
  url: string;
  host: string;
  port: number;
  server: RunningNatsServer;
  gateway: JunctionGateway;
  users: Record<string, BrokerUser>;
  /** A Junction SDK client as the admin (the CLIENTS account). */
  admin: JunctionClient;
  stop(): Promise<void>;
}

/** A password for a test user. */
export const password = () => randomBytes(12).toString("hex");

/**
 * Starts a broker whose users are `admin` (operator) plus `users`; the Memphis users are `memphis`
 * (names listed in `memphisUsers`).
 */
export async function startMemphisBroker(users: BrokerUser[], memphisUsers: string[], tenants: string[] = []): Promise<MemphisBroker> {
  const dir = await mkdtemp(join(tmpdir(), "junction-memphis-broker-"));
  const secrets = newDeploymentSecrets();
  const server = await startNatsServer({ dir, accounts: accountsFor(secrets, { memphis: memphisUsers }), sync: "default" });
  const admin: BrokerUser = { name: "admin", password: password(), grants: { produce: [], consume: [], admin: true } };
  const all = [admin, ...users];
  const g = gatewayOptionsFor(secrets);
  const gateway = await startJunctionGateway({
    servers: server.url,
    logger: silentLogger,
    ...g,
    auth: {
      ...g.auth,
      bootstrapTenants: tenants,
      bootstrapUsers: all.map((u) => ({ name: u.name, password: u.password, grants: u.grants, ...(u.tenant ? { tenant: u.tenant } : {}) })),
    },
    memphis: { users: memphisUsers, termReasonWaitMs: 2000 },
  });
  const client = await connect({ servers: server.url, user: admin.name, pass: admin.password });
  const url = new URL(server.url);
  return {
    url: server.url,
    host: url.hostname,
    port: server.port,
    server,
    gateway,
    users: Object.fromEntries(all.map((u) => [u.name, u])),
    admin: client,
    async stop() {
      await client.close().catch(() => {});
      await gateway.close().catch(() => {});
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
