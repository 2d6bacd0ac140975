import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CREDENTIALS_FILE, resolveConnection, type DevCredentials } from "./connection.js";

const dev: DevCredentials = {
  url: "nats://127.0.0.1:4222",
  users: { admin: { user: "admin", password: "a-secret" }, app: { user: "app", password: "p-secret" } },
};

describe("resolveConnection", () => {
  it("uses the dev broker's admin when nothing is said", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jn-conn-"));
    await writeFile(join(dir, CREDENTIALS_FILE), JSON.stringify(dev));
    expect(await resolveConnection({ dataDir: dir }, {})).toEqual({ url: dev.url, user: "admin", password: "a-secret" });
  });

  it("prefers flags, then the environment; a password comes from a file or the environment, never a flag", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jn-conn-"));
    await writeFile(join(dir, CREDENTIALS_FILE), JSON.stringify(dev));
    const pw = join(dir, "pw");
    await writeFile(pw, "from-file\n");
    expect(await resolveConnection({ dataDir: dir, url: "nats://x:1", user: "u", passwordFile: pw }, {})).toEqual({
      url: "nats://x:1",
      user: "u",
      password: "from-file",
    });
    // An explicit URL never borrows the dev broker's password.
    expect(await resolveConnection({ dataDir: dir }, { JUNCTION_URL: "nats://y:2", JUNCTION_USER: "v" })).toEqual({
      url: "nats://y:2",
      user: "v",
    });
    expect(
      await resolveConnection({ dataDir: dir }, { JUNCTION_URL: "nats://y:2", JUNCTION_USER: "v", JUNCTION_PASSWORD: "env-pw" }),
    ).toMatchObject({
      password: "env-pw",
    });
  });

  it("fails clearly with no broker at all, and on an unreadable password file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jn-conn-"));
    await expect(resolveConnection({ dataDir: dir }, {})).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: /no broker to connect to/,
    });
    await expect(resolveConnection({ dataDir: dir, url: "nats://x:1", passwordFile: join(dir, "nope") }, {})).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: /cannot read the password/,
    });
  });
});
