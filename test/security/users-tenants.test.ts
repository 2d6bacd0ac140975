/**
 * Users and tenants added and removed on a running broker — with no restart — on a test broker
 * and on an external NATS set up the production way (`junction nats-config` for the server's
 * accounts block, `junction gateway` in its own process with secrets from files).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findNatsServer } from "../../core/server/index.js";
import { connect, isJunctionError, type JunctionClient } from "../../sdk/index.js";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";

const main = resolve(import.meta.dirname, "../../dist/cli/main.js");

/** Connects, or returns the error code. */
async function tryConnect(url: string, user: string, pass: string): Promise<JunctionClient | string> {
  try {
    return await connect({ servers: url, user, pass, connectTimeoutMs: 3000 });
  } catch (err) {
    return isJunctionError(err) ? err.code : String(err);
  }
}

/** The user lifecycle against any running broker: create, use, narrow, rotate, delete. */
async function userLifecycle(url: string, admin: JunctionClient): Promise<void> {
  const station = uniqueName("ul");
  await admin.stations.create(station);
  const name = uniqueName("svc");
  const created = await admin.users.create({ name, grants: { produce: [station], consume: [] } });
  expect(created.password).toMatch(/^[\w-]{20,}$/);
  const app = (await tryConnect(url, name, created.password!)) as JunctionClient;
  expect(typeof app).toBe("object");
  await expect(app.producer({ station }).send("hello")).resolves.toMatchObject({ duplicate: false });

  // Narrowed: its live connection is renewed and the new rights apply at once.
  const states: string[] = [];
  app.onStatus((s) => states.push(s.state));
  expect(await admin.users.update(name, { produce: [], consume: [] })).toMatchObject({ disconnected: 1 });
  await waitFor(() => states.includes("reconnecting"));
  await expect(app.producer({ station, sendTimeoutMs: 5000 }).send("again")).rejects.toMatchObject({ code: "PERMISSION_DENIED" });

  // A new password: the old one no longer connects.
  const rotated = await admin.users.rotatePassword(name);
  expect(await tryConnect(url, name, created.password!)).toBe("AUTH_FAILED");
  const again = (await tryConnect(url, name, rotated.password!)) as JunctionClient;
  expect(typeof again).toBe("object");
  await again.close();

  // Deleted: connections closed, and it can no longer connect.
  expect((await admin.users.delete(name)).deleted).toBe(true);
  expect(await tryConnect(url, name, rotated.password!)).toBe("AUTH_FAILED");
  await app.close();
}

describe("on a running broker", () => {
  let broker: TestBroker;
  let admin: JunctionClient;
  beforeAll(async () => {
    broker = await startBroker();
    admin = await broker.client();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it("adds, narrows, rotates and removes a user without a restart", async () => {
    await userLifecycle(broker.url, admin);
  });

  it("keeps a tenant's stations, schemas and users invisible to every other tenant", async () => {
    const orders = uniqueName("orders");
    await admin.stations.create(orders);
    expect(await admin.tenants.create("acme")).toMatchObject({ name: "acme", created: true });
    // An operator creates the tenant's first admin in it.
    const op = await broker.client({ tenant: "acme" });
    const acmeAdmin = await op.users.create({ name: "acme-admin", grants: { produce: [], consume: [], admin: true } });
    expect(acmeAdmin.tenant).toBe("acme");
    const acme = await broker.client({ user: "acme-admin", pass: acmeAdmin.password! });
    expect(await acme.whoami()).toMatchObject({ user: "acme-admin", tenant: "acme", operator: false });
    // The same station name in both tenants: two stations.
    await acme.stations.create(orders);
    await acme.producer({ station: orders }).sendBatch([{ payload: "a1" }, { payload: "a2" }]);
    await admin.producer({ station: orders }).send("d1");
    // An operator acting in the tenant produces into the tenant's station, not the default one.
    await op.producer({ station: orders }).send("a3");
    expect((await acme.stations.get(orders)).state?.messages).toBe(3);
    expect((await admin.stations.get(orders)).state?.messages).toBe(1);
    expect((await admin.stations.list()).some((s) => s.name === orders)).toBe(true);
    await acme.schemas.create({ name: "acme-only", type: "json", definition: '{"type":"object"}' });
    await expect(admin.schemas.get("acme-only")).rejects.toMatchObject({ code: "SCHEMA_NOT_FOUND" });
    expect((await admin.users.list()).some((u) => u.name === "acme-admin")).toBe(false);
    // The tenant's consumers read its own stream.
    const c = await acme.consumer({ station: orders, group: "g", maxMessages: 3 });
    const got: string[] = [];
    for await (const m of c) {
      got.push(m.text());
      m.ack();
      if (got.length === 3) break;
    }
    expect(got).toEqual(["a1", "a2", "a3"]);
    // It may not act in another tenant, nor manage tenants.
    const sneaky = await broker.client({ user: "acme-admin", pass: acmeAdmin.password!, tenant: "default" });
    await expect(sneaky.stations.list()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    await expect(acme.tenants.list()).rejects.toMatchObject({ code: "PERMISSION_DENIED" });
    // A tenant in use is not deleted; emptied, it is.
    await expect(admin.tenants.delete("acme")).rejects.toMatchObject({ code: "TENANT_NOT_EMPTY" });
    await acme.stations.delete(orders);
    await op.users.delete("acme-admin");
    expect(await admin.tenants.delete("acme")).toEqual({ deleted: true });
    expect(await tryConnect(broker.url, "acme-admin", acmeAdmin.password!)).toBe("AUTH_FAILED");
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ["--no-node-snapshot", main, ...args]);
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("exit", (code) => res({ code, out, err }));
  });
}

describe("on an external NATS, the production way", () => {
  let dir: string;
  let nats: ChildProcess;
  let gateway: ChildProcess;
  let url: string;
  let admin: JunctionClient;
  let gatewayLog = "";

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "jn-external-"));
    const secrets = join(dir, "secrets");
    const gen = await run(["nats-config", "--generate", secrets, "--out", join(dir, "junction-accounts.conf")]);
    expect(gen.code).toBe(0);
    const port = await freePort();
    url = `nats://127.0.0.1:${port}`;
    await writeFile(
      join(dir, "nats.conf"),
      [
        `host: "127.0.0.1"`,
        `port: ${port}`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }`,
        "include ./junction-accounts.conf",
        "",
      ].join("\n"),
    );
    nats = spawn(findNatsServer(), ["-c", join(dir, "nats.conf")], { stdio: "ignore" });
    // The operator's first admin, created by the gateway at startup.
    await writeFile(join(dir, "admin-password"), "an-operator-password\n", { mode: 0o600 });
    await writeFile(
      join(dir, "bootstrap.json"),
      JSON.stringify({ users: [{ name: "ops", passwordFile: "admin-password", grants: { admin: true } }] }),
    );
    gateway = spawn(process.execPath, ["--no-node-snapshot", main, "gateway", "--nats-url", url, "--user", "gateway", "--http-port", "0"], {
      env: {
        ...process.env,
        JUNCTION_PASSWORD_FILE: join(secrets, "gateway-password"),
        JUNCTION_AUTH_ISSUER_SEED_FILE: join(secrets, "issuer-seed"),
        JUNCTION_SYSTEM_USER: "sys",
        JUNCTION_SYSTEM_PASSWORD_FILE: join(secrets, "system-password"),
        JUNCTION_BOOTSTRAP_FILE: join(dir, "bootstrap.json"),
      },
    });
    gateway.stderr?.on("data", (d: Buffer) => (gatewayLog += d.toString()));
    await waitFor(() => gatewayLog.includes("gateway ready") || gateway.exitCode !== null, 30_000);
    if (!gatewayLog.includes("gateway ready")) throw new Error(`the gateway did not start:\n${gatewayLog}`);
    admin = await connect({ servers: url, user: "ops", pass: "an-operator-password" });
  }, 60_000);

  afterAll(async () => {
    await admin?.close();
    for (const p of [gateway, nats]) {
      if (p && p.exitCode === null) {
        const gone = new Promise((r) => p.once("exit", r));
        p.kill("SIGTERM");
        await gone;
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps every secret off the gateway's command line and out of the server config", async () => {
    const cmdline = await readFile(`/proc/${gateway.pid}/cmdline`, "utf8");
    for (const f of ["gateway-password", "issuer-seed", "system-password"]) {
      const secret = (await readFile(join(dir, "secrets", f), "utf8")).trim();
      expect(cmdline).not.toContain(secret);
      expect(await readFile(join(dir, "junction-accounts.conf"), "utf8")).not.toContain(secret);
    }
  });

  it("adds, narrows, rotates and removes a user without a restart", async () => {
    await userLifecycle(url, admin);
  });

  it("adds a tenant and its users without a restart", async () => {
    await admin.tenants.create("beta");
    const op = await connect({ servers: url, user: "ops", pass: "an-operator-password", tenant: "beta" });
    const u = await op.users.create({ name: "beta-app", grants: { produce: ["*"], consume: ["*:*"] } });
    const station = uniqueName("b");
    await op.stations.create(station);
    const app = await connect({ servers: url, user: "beta-app", pass: u.password! });
    await expect(app.producer({ station }).send("in beta")).resolves.toMatchObject({ seq: 1 });
    await expect(admin.stations.get(station)).rejects.toMatchObject({ code: "STATION_NOT_FOUND" });
    await app.close();
    await op.close();
  });
});
