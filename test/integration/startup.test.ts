import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  accountsFor,
  newDeploymentSecrets,
  startJunctionGateway,
  startNatsServer,
  type JunctionGateway,
  type RunningNatsServer,
} from "../../core/server/index.js";
import { silentLogger } from "../../core/support/index.js";
import { connect } from "../../sdk/index.js";
import { testGatewayOptions, testUsers, uniqueName } from "../harness/index.js";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let server: RunningNatsServer | undefined;
let gateway: JunctionGateway | undefined;
let dir: string | undefined;
afterAll(async () => {
  await gateway?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("gateway startup", () => {
  it("waits for a NATS server that is not up yet, then serves", async () => {
    dir = await mkdtemp(join(tmpdir(), "junction-startup-"));
    const port = await freePort();
    const secrets = newDeploymentSecrets();
    const users = testUsers();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg), child: () => logger };
    const starting = startJunctionGateway({
      ...testGatewayOptions(secrets, users),
      servers: `nats://127.0.0.1:${port}`,
      waitForNatsMs: 60_000,
      logger,
    });
    let started = false;
    void starting.then(() => (started = true)).catch(() => {});
    // It keeps trying, saying so, while nothing listens.
    while (warnings.filter((w) => w.includes("NATS is not ready")).length < 2) await new Promise((r) => setTimeout(r, 50));
    expect(started).toBe(false);
    server = await startNatsServer({ dir, port, accounts: accountsFor(secrets) });
    gateway = await starting;
    expect(gateway.ready).toBe(true);
    const client = await connect({ servers: server.url, user: users.admin.user, pass: users.admin.password });
    try {
      const station = uniqueName();
      await client.stations.create(station);
      const p = client.producer({ station });
      expect((await p.send({ hello: 1 })).seq).toBe(1);
    } finally {
      await client.close();
    }
  }, 90_000);

  it("fails at once for an error a wait cannot fix (wrong password)", async () => {
    const secrets = newDeploymentSecrets();
    await expect(
      startJunctionGateway({
        ...testGatewayOptions(secrets, testUsers()),
        servers: server!.url,
        pass: "wrong",
        waitForNatsMs: 60_000,
        logger: silentLogger,
      }),
    ).rejects.toMatchObject({ code: "AUTH_FAILED" });
  });
});
