import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { junctionOnce } from "../../test/fakes/cli.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "junction-nats-config-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("junction nats-config --generate", () => {
  it("makes the secrets once, refuses to replace them, and replaces them with --force", async () => {
    const secrets = join(dir, "secrets");
    const first = await junctionOnce({}, "nats-config", "--generate", secrets);
    expect(first.code).toBe(0);
    expect(first.out).toContain("accounts");
    const seed = await readFile(join(secrets, "issuer-seed"), "utf8");

    const again = await junctionOnce({}, "nats-config", "--generate", secrets);
    expect(again.code).toBe(1);
    expect(again.err).toContain("already exists");
    expect(again.err).toContain("--force");
    expect(await readFile(join(secrets, "issuer-seed"), "utf8")).toBe(seed);

    const forced = await junctionOnce({}, "nats-config", "--generate", secrets, "--force");
    expect(forced.code).toBe(0);
    expect(await readFile(join(secrets, "issuer-seed"), "utf8")).not.toBe(seed);
  });
});
