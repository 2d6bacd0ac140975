import { describe, expect, it } from "vitest";
import { renderNatsConfig } from "./nats-config.js";
import { findNatsServer } from "./launcher.js";

describe("nats-server config", () => {
  const accounts = {
    gateway: { user: "gateway", password: "$2a$10$gw" },
    system: { user: "sys", password: "$2a$10$sys" },
    issuerPublicKey: "AISSUER",
  };
  it("syncs before ack unless told otherwise", () => {
    const base = { host: "127.0.0.1", port: -1, storeDir: "/data", maxPayload: 1024 };
    expect(renderNatsConfig({ ...base, sync: "always" })).toMatch(/jetstream \{\n {2}store_dir: "\/data"\n {2}sync_interval: always\n\}/);
    expect(renderNatsConfig({ ...base, sync: "default" })).not.toMatch(/sync_interval/);
  });
  it("puts JetStream and the gateway in JUNCTION, applications in CLIENTS behind service imports, and users behind the callout", () => {
    const conf = renderNatsConfig({ host: "127.0.0.1", port: 4222, storeDir: "/d", maxPayload: 1, sync: "always", accounts });
    const internal = conf.slice(conf.indexOf("  JUNCTION: {"), conf.indexOf("  CLIENTS: {"));
    const clients = conf.slice(conf.indexOf("  CLIENTS: {"), conf.indexOf("  SYS: {"));
    expect(internal).toContain("jetstream: enabled");
    expect(internal).toContain('users: [ { user: "gateway", password: "$2a$10$gw" } ]');
    expect(clients).not.toContain("jetstream");
    expect(clients).not.toContain("users");
    // Only the API, produce, consumer pull/info/ack and events cross over; the JS API under a prefix.
    expect(clients).toContain('{ service: { account: JUNCTION, subject: "jn.api.>" }, share: true }');
    expect(clients).toContain(
      '{ service: { account: JUNCTION, subject: "$JS.API.CONSUMER.MSG.NEXT.*.*" }, to: "jn.js.API.CONSUMER.MSG.NEXT.*.*" }',
    );
    expect(clients).not.toMatch(/jn\.st\.|\$KV|jn\.dls|STREAM\./);
    expect(conf).toMatch(/system_account: SYS/);
    expect(conf).toMatch(/auth_callout \{\n {4}issuer: "AISSUER"\n {4}account: JUNCTION\n {4}auth_users: \[ "gateway", "sys" \]/);
  });
  it("renders a cluster member: server name, cluster name, routes (JetStream clustering needs both names)", () => {
    const conf = renderNatsConfig({
      host: "127.0.0.1",
      port: 4222,
      storeDir: "/d",
      maxPayload: 1,
      sync: "always",
      serverName: "n1",
      cluster: { name: "jn", host: "127.0.0.1", port: 6222, routes: ["nats://127.0.0.1:6222", "nats://127.0.0.1:6223"] },
    });
    expect(conf).toContain('server_name: "n1"');
    expect(conf).toMatch(
      /cluster \{\n {2}name: "jn"\n {2}host: "127\.0\.0\.1"\n {2}port: 6222\n {2}routes: \["nats:\/\/127\.0\.0\.1:6222", "nats:\/\/127\.0\.0\.1:6223"\]\n\}/,
    );
  });
  it("finds nats-server: JUNCTION_NATS_SERVER first, with a clear error when it is wrong", () => {
    expect(findNatsServer({ JUNCTION_NATS_SERVER: "/bin/sh", PATH: "" })).toBe("/bin/sh");
    expect(() => findNatsServer({ JUNCTION_NATS_SERVER: "/nope/nats-server", PATH: "" })).toThrow(/scripts\/install-nats-server/);
  });
});
