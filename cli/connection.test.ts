import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConnection } from "./connection.js";

describe("connection resolution", () => {
  it("uses flags, then the environment, then the dev credentials", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jn-cli-"));
    await writeFile(
      join(dir, "credentials.json"),
      JSON.stringify({ url: "nats://dev:1", gateway: { user: "gateway", password: "g" }, client: { user: "client", password: "c" } }),
    );
    expect(await resolveConnection({ dataDir: dir }, {})).toEqual({ url: "nats://dev:1", user: "client", password: "c" });
    expect(await resolveConnection({ dataDir: dir }, { JUNCTION_URL: "nats://env:2", JUNCTION_USER: "u", JUNCTION_PASSWORD: "p" })).toEqual(
      { url: "nats://env:2", user: "u", password: "p" },
    );
    expect(
      await resolveConnection({ dataDir: dir, url: "nats://flag:3", user: "fu" }, { JUNCTION_URL: "nats://env:2", JUNCTION_USER: "u" }),
    ).toEqual({ url: "nats://flag:3", user: "fu" });
    await expect(resolveConnection({ dataDir: join(dir, "none") }, {})).rejects.toThrow(/no broker to connect to/);
  });
});
