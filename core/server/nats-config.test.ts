import { describe, expect, it } from "vitest";
import { renderNatsConfig, CLIENT_PERMISSIONS } from "./nats-config.js";
import { findNatsServer } from "./launcher.js";

describe("nats-server config", () => {
  const users = { gateway: { user: "gateway", password: "g-secret" }, client: { user: "client", password: "c-secret" } };
  it("syncs before ack unless told otherwise", () => {
    const base = { host: "127.0.0.1", port: -1, storeDir: "/data", maxPayload: 1024 };
    expect(renderNatsConfig({ ...base, sync: "always" })).toMatch(/jetstream \{\n {2}store_dir: "\/data"\n {2}sync_interval: always\n\}/);
    expect(renderNatsConfig({ ...base, sync: "default" })).not.toMatch(/sync_interval/);
  });
  it("gives the client user no right on station subjects, KV or the stream API", () => {
    const conf = renderNatsConfig({ host: "127.0.0.1", port: 4222, storeDir: "/d", maxPayload: 1, sync: "always", users });
    expect(conf).toContain('user: "client", password: "c-secret"');
    expect(CLIENT_PERMISSIONS.publish.deny).toEqual(expect.arrayContaining(["jn.st.>", "$KV.>", "$JS.API.STREAM.>"]));
    expect(CLIENT_PERMISSIONS.publish.allow).not.toContain(">");
    expect(CLIENT_PERMISSIONS.publish.deny).toContain("$JS.API.CONSUMER.MSG.NEXT.JN_DLS.*");
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
