/**
 * Quotas against a real nats-server: a tenant's quota refuses its station while another tenant
 * is unaffected, and `junction quota set` (run in-process, as an operator) raises it; a user's
 * connections quota is enforced in the auth callout, counting live connections through the
 * system account.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../cli/program.js";
import { reportError, type Io } from "../../cli/output.js";
import type { QuotaReport } from "../../core/protocol/index.js";
import { createLogger } from "../../core/server/index.js";
import { JunctionError, connect, type ConnectOptions, type JunctionClient } from "../../sdk/index.js";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let passwordFile: string;
/** The gateway's log lines at info and above. */
const logged: { msg: string; reason?: string }[] = [];

beforeAll(async () => {
  const logger = createLogger({ level: "info", namespace: "gateway", write: (line) => logged.push(JSON.parse(line) as { msg: string }) });
  broker = await startBroker({ gatewayOptions: { logger } });
  passwordFile = join(await mkdtemp(join(tmpdir(), "jn-quota-pw-")), "admin.pw");
  await writeFile(passwordFile, broker.users.admin.password + "\n", { mode: 0o600 });
});
afterAll(async () => {
  await broker.stop();
});

/** Runs `junction <args>` in-process as the operator (`admin`); returns the exit code and what it printed. */
async function junction(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    isTTY: false,
    env: {},
    connect: (o: ConnectOptions) => connect(o),
  };
  const conn = ["--url", broker.url, "--user", broker.users.admin.user, "--password-file", passwordFile];
  let code = 0;
  try {
    await buildProgram(io).parseAsync(["node", "junction", ...conn, ...args]);
  } catch (e) {
    const c = (e as { code?: string }).code;
    code = c?.startsWith("commander.") ? ((e as { exitCode?: number }).exitCode ?? 2) : reportError(io, e);
  }
  return { code, out, err };
}

async function refusal(p: Promise<unknown>): Promise<JunctionError> {
  try {
    await p;
  } catch (e) {
    return e as JunctionError;
  }
  throw new Error("not refused");
}

describe("quotas on a real broker", () => {
  it("a tenant's stations quota refuses its station, another tenant is unaffected, and junction quota set raises it", async () => {
    const acme = uniqueName("acme").replace(/-/g, "").slice(0, 30);
    const beta = uniqueName("beta").replace(/-/g, "").slice(0, 30);
    const ops = await broker.client();
    await ops.tenants.create(acme);
    await ops.tenants.create(beta);
    // The operator acting in each tenant (the Jn-Tenant header).
    const inAcme = await broker.client({ tenant: acme });
    const inBeta = await broker.client({ tenant: beta });

    const set = await junction("quota", "set", "--tenant", acme, "stations=2");
    expect(set.code, set.err).toBe(0);
    expect(set.out).toMatch(new RegExp(`quotas of tenant ${acme}`));
    expect(set.out).toMatch(/stations\s+2\s+tenant\s+0 \(0%\)/);

    await inAcme.stations.create("one");
    await inAcme.stations.create("two");
    const e = await refusal(inAcme.stations.create("three"));
    expect(e).toBeInstanceOf(JunctionError);
    expect(e).toMatchObject({
      code: "QUOTA_EXCEEDED",
      retriable: false,
      details: { quota: "stations", limit: 2, scope: "tenant", current: 2, tenant: acme },
    });
    expect(e.message).toBe(
      `tenant '${acme}' has 2 stations: the quota stations is 2 stations per tenant (set for tenant '${acme}'); raise it with: junction quota set --tenant ${acme} stations=4`,
    );
    // Another tenant, same names and more: unaffected.
    for (const n of ["one", "two", "three", "four"]) await inBeta.stations.create(n);

    const listed = await junction("quota", "list", "--tenant", acme, "-o", "json");
    expect(listed.code, listed.err).toBe(0);
    const report = JSON.parse(listed.out) as QuotaReport;
    expect(report.tenant).toBe(acme);
    expect(report.quotas.find((q) => q.name === "stations")).toMatchObject({ limit: 2, source: "tenant", current: 2 });
    expect(report.updatedBy).toBe(broker.users.admin.user);
    const betaList = JSON.parse((await junction("--tenant", beta, "quota", "list", "-o", "json")).out) as QuotaReport;
    expect(betaList.quotas.find((q) => q.name === "stations")).toMatchObject({ limit: 1000, source: "default", current: 4 });

    // Raised by the command the error named (one more is enough here).
    expect((await junction("quota", "set", "--tenant", acme, "stations=3")).code).toBe(0);
    await inAcme.stations.create("three");
    expect((await refusal(inAcme.stations.create("four"))).code).toBe("QUOTA_EXCEEDED");
    // Back to the broker's limit.
    expect((await junction("quota", "set", "--tenant", acme, "stations=default")).code).toBe(0);
    await inAcme.stations.create("four");

    // A tenant admin may read its quotas but not set them.
    const admin = await ops.users.create({ name: uniqueName("qa"), tenant: acme, grants: { admin: true } });
    const asAdmin = await broker.client({ user: admin.name, pass: admin.password! });
    expect((await asAdmin.quotas.list()).quotas.find((q) => q.name === "stations")).toMatchObject({ current: 4 });
    expect((await refusal(asAdmin.quotas.set({ stations: 100 }))).code).toBe("PERMISSION_DENIED");
    const bad = await junction("quota", "set", "--tenant", acme, "stationz=3");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown quota 'stationz' \(known: stations, /);
  });

  it("refuses a user's connection over connectionsPerUser, counting its live connections on the server", async () => {
    const ops = await broker.client();
    const user = await ops.users.create({ name: uniqueName("conn"), grants: { produce: ["*"] } });
    expect((await junction("quota", "set", "connectionsPerUser=2")).code).toBe(0);
    const open: JunctionClient[] = [];
    try {
      const as = () => connect({ servers: broker.url, user: user.name, pass: user.password! });
      open.push(await as(), await as());
      const third = await refusal(as());
      expect(third).toBeInstanceOf(JunctionError);
      expect(third.code).toBe("AUTH_FAILED");
      // The log says why (the client is told only that it may not connect).
      const why = logged.find((l) => l.msg === "connection refused" && l.reason?.includes(`user '${user.name}'`));
      expect(why?.reason).toBe(
        `user '${user.name}' has 2 live connections: the quota connectionsPerUser is 2 live connections per user (set for tenant 'default'); raise it with: junction quota set connectionsPerUser=4`,
      );
      // One closes: its place frees once the server's count is read again.
      await open.pop()!.close();
      open.push(await waitFor(() => as().catch(() => undefined), 20_000, 250));
    } finally {
      for (const c of open) await c.close();
      await junction("quota", "set", "connectionsPerUser=default");
    }
  });
});
