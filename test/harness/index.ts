/**
 * The integration-test harness: a real nats-server per test file (port -1, temp store, the same
 * launcher as `junction dev`), an in-process gateway, and unique names.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterEach } from "vitest";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import {
  silentLogger,
  startJunctionGateway,
  startNatsServer,
  type JunctionGateway,
  type JunctionGatewayOptions,
  accountsFor,
  gatewayOptionsFor,
  newDeploymentSecrets,
  type DeploymentSecrets,
  type RunningNatsServer,
} from "../../core/server/index.js";
import { connect, type ConnectOptions, type JunctionClient } from "../../sdk/index.js";
import { inboxPrefixOf } from "../../core/protocol/index.js";

let counter = 0;
/** A name no other test uses: `<prefix>-<pid>-<n>-<random>`. */
export function uniqueName(prefix = "st"): string {
  return `${prefix}-${process.pid.toString(36)}-${(counter++).toString(36)}-${randomBytes(2).toString("hex")}`;
}

/** An application user of a test broker. */
export interface TestUser {
  user: string;
  password: string;
}

/**
 * The users every test broker starts with (created by the gateway at startup): `admin` may do
 * everything in the default tenant (it is also the operator); `app` may produce to and consume
 * from every station.
 */
export function testUsers(): { admin: TestUser; app: TestUser } {
  return {
    admin: { user: "admin", password: randomBytes(12).toString("hex") },
    app: { user: "app", password: randomBytes(12).toString("hex") },
  };
}

/** Gateway options for a deployment's secrets, with the test users bootstrapped. */
export function testGatewayOptions(secrets: DeploymentSecrets, users: { admin: TestUser; app: TestUser }): Partial<JunctionGatewayOptions> {
  const g = gatewayOptionsFor(secrets);
  return {
    ...g,
    auth: {
      ...g.auth,
      bootstrapUsers: [
        { name: users.admin.user, password: users.admin.password, grants: { produce: [], consume: [], admin: true } },
        { name: users.app.user, password: users.app.password, grants: { produce: ["*"], consume: ["*:*"], admin: false } },
      ],
    },
  };
}

/** A test broker: nats-server + gateway(s). */
export interface TestBroker {
  server: RunningNatsServer;
  /** The application users every test broker starts with. */
  users: { admin: TestUser; app: TestUser };
  /** The gateway's, the system user's and the callout issuer's secrets. */
  secrets: DeploymentSecrets;
  url: string;
  dir: string;
  gateways: JunctionGateway[];
  /** Connects an SDK client, as `admin` unless `o` names another user. */
  client(o?: ConnectOptions): Promise<JunctionClient>;
  /**
   * A raw NATS connection (closed by stop()): as the gateway user (full rights in the internal
   * account, to inspect the store), or as an application user (to act as a hostile or
   * hand-written client; its inbox prefix is set as the SDK sets it).
   */
  raw(as?: "gateway" | TestUser): Promise<NatsConnection>;
  /** A JetStream manager on a raw gateway-user connection (to inspect the store). */
  jsm(): Promise<JetStreamManager>;
  /** Starts one more gateway against the same server. */
  addGateway(o?: Partial<JunctionGatewayOptions>): Promise<JunctionGateway>;
  /** Restarts the nats-server on the same port and store; `kill` ends it with SIGKILL (a crash). */
  restartServer(o?: { kill?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startBroker}. */
export interface TestBrokerOptions {
  /** Gateways to start. @default 1 */
  gateways?: number;
  sync?: "always" | "default";
  gatewayOptions?: Partial<JunctionGatewayOptions>;
  /** JetStream's file storage limit, in bytes. @default nats-server's own */
  maxFileStore?: number;
  /** Messages a stream queues for storing at most. @default nats-server's own (100,000) */
  maxBufferedMsgs?: number;
  /** Where JetStream stores its files (a small tmpfs, to fill the disk). @default inside the broker's folder */
  storeDir?: string;
}

/** Starts a real nats-server (with the gateway and client users) and gateway(s). */
export async function startBroker(o: TestBrokerOptions = {}): Promise<TestBroker> {
  const dir = await mkdtemp(join(tmpdir(), "junction-test-"));
  const secrets = newDeploymentSecrets();
  const users = testUsers();
  const accounts = accountsFor(secrets);
  let server = await startNatsServer({
    dir,
    accounts,
    sync: o.sync ?? "always",
    maxFileStore: o.maxFileStore,
    maxBufferedMsgs: o.maxBufferedMsgs,
    storeDir: o.storeDir,
  });
  const gateways: JunctionGateway[] = [];
  const clients: JunctionClient[] = [];
  const raws: NatsConnection[] = [];
  let inspector: Promise<JetStreamManager> | undefined;
  const addGateway = async (extra: Partial<JunctionGatewayOptions> = {}) => {
    const gw = await startJunctionGateway({
      servers: server.url,
      logger: silentLogger,
      ...testGatewayOptions(secrets, users),
      ...o.gatewayOptions,
      ...extra,
    });
    gateways.push(gw);
    return gw;
  };
  for (let i = 0; i < (o.gateways ?? 1); i++) await addGateway();
  const broker: TestBroker = {
    get server() {
      return server;
    },
    users,
    secrets,
    get url() {
      return server.url;
    },
    dir,
    gateways,
    async client(co = {}) {
      const c = await connect({ servers: server.url, user: users.admin.user, pass: users.admin.password, ...co });
      clients.push(c);
      return c;
    },
    async raw(as = "gateway") {
      const u = as === "gateway" ? { user: secrets.gateway.user, password: secrets.gateway.password } : as;
      const nc = await natsConnect({
        servers: server.url,
        user: u.user,
        pass: u.password,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        ...(as === "gateway" ? {} : { inboxPrefix: inboxPrefixOf(u.user) }),
      });
      raws.push(nc);
      return nc;
    },
    jsm() {
      inspector ??= broker.raw("gateway").then((nc) => jetstreamManager(nc));
      return inspector;
    },
    addGateway,
    async restartServer(ro = {}) {
      inspector = undefined;
      const port = server.port;
      if (ro.kill) await server.kill("SIGKILL");
      else await server.stop();
      server = await startNatsServer({
        dir,
        accounts,
        sync: o.sync ?? "always",
        port,
        maxFileStore: o.maxFileStore,
        maxBufferedMsgs: o.maxBufferedMsgs,
        storeDir: o.storeDir,
      });
    },
    async stop() {
      for (const c of clients) await c.close().catch(() => {});
      for (const nc of raws) await nc.close().catch(() => {});
      for (const g of gateways) await g.close().catch(() => {});
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      console.error(`--- nats-server log tail (${ctx.task.name}) ---\n${await server.logTail(30)}`);
    }
  });
  return broker;
}

/** Waits until `fn` returns a truthy value, polling every `everyMs`. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 15_000, everyMs = 50): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
