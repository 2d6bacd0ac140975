import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { fakeClient, junctionOnce } from "../../test/fakes/cli.js";

let dir: string;
let file: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "jn-ctx-"));
  file = join(dir, "xdg", "junction", "config.yaml");
  env = { XDG_CONFIG_HOME: join(dir, "xdg"), HOME: join(dir, "home") };
});

const run = (...args: string[]) => junctionOnce({ env, client: fakeClient() }, ...args);

describe("junction context", () => {
  it("adds contexts into $XDG_CONFIG_HOME/junction/config.yaml (mode 0600), never a password, and lists them", async () => {
    const pw = join(dir, "prod.pw");
    await writeFile(pw, "s3cret\n", { mode: 0o600 });
    const add = await run(
      "context",
      "add",
      "prod",
      "--url",
      "nats://prod:4222",
      "--user",
      "ops",
      "--password-file",
      pw,
      "--tenant",
      "acme",
    );
    expect(add).toMatchObject({ code: 0, err: "" });
    expect(add.out).toBe(`context prod added in ${file}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "xdg", "junction"))).mode & 0o777).toBe(0o700);
    const text = await readFile(file, "utf8");
    expect(text).not.toContain("s3cret");
    expect(parseYaml(text)).toEqual({
      contexts: { prod: { url: "nats://prod:4222", user: "ops", passwordFile: pw, tenant: "acme" } },
    });
    expect((await run("context", "add", "lab", "--url", "nats://lab:4222", "--tls-ca", "ca.pem", "--use")).out).toMatch(
      /lab added \(current\)/,
    );
    expect(parseYaml(await readFile(file, "utf8"))).toMatchObject({
      currentContext: "lab",
      contexts: { lab: { tls: { ca: join(process.cwd(), "ca.pem") } } },
    });
    const list = await run("context", "list");
    expect(list.out.split("\n")[0]).toMatch(/^CURRENT\s+NAME\s+URL\s+USER\s+TENANT$/);
    expect(list.out).toMatch(/^\s+prod\s+nats:\/\/prod:4222\s+ops\s+acme$/m);
    expect(list.out).toMatch(/^\*\s+lab\s+nats:\/\/lab:4222\s+-\s+-$/m);
    expect(JSON.parse((await run("context", "list", "-o", "json")).out)).toEqual([
      { name: "prod", current: false, url: "nats://prod:4222", user: "ops", passwordFile: pw, tenant: "acme" },
      { name: "lab", current: true, url: "nats://lab:4222", tls: { ca: join(process.cwd(), "ca.pem") } },
    ]);
    expect((await run("context", "list", "-q")).out).toBe("prod\nlab\n");
  });

  it("refuses to replace a context without --force, and warns about a password file others can read", async () => {
    await run("context", "add", "prod", "--url", "nats://a:1");
    const again = await run("context", "add", "prod", "--url", "nats://b:1");
    expect(again.code).toBe(1);
    expect(again.err).toBe(
      `error INVALID_ARGUMENT: context 'prod' exists in ${file}; add --force to replace it\n  details: {"context":"prod","file":"${file}"}\n`,
    );
    const open = join(dir, "open.pw");
    await writeFile(open, "x\n", { mode: 0o644 });
    const forced = await run("context", "add", "prod", "--url", "nats://b:1", "--password-file", open, "--force");
    expect(forced.out).toMatch(/context prod replaced/);
    expect(forced.err).toBe(`warning: ${open} is readable by other users (mode 644); chmod 600 it\n`);
    expect((await run("context", "add", "other", "--url", "nats://c:1", "--password-file", join(dir, "nope"))).err).toMatch(
      /does not exist yet/,
    );
    expect((await run("context", "add", "no-url")).err).toMatch(/context add needs --url/);
    expect((await run("context", "add", "bad name", "--url", "nats://x:1")).err).toMatch(/context name 'bad name' is invalid/);
  });

  it("use, current, show and delete", async () => {
    expect((await run("context", "current")).err).toMatch(`no current context in ${file}`);
    await run("context", "add", "prod", "--url", "nats://prod:4222", "--user", "ops");
    await run("context", "add", "lab", "--url", "nats://lab:4222");
    expect((await run("context", "use", "nope")).err).toBe(
      `error INVALID_ARGUMENT: context 'nope' is not in ${file} (contexts: prod, lab)\n  details: {"context":"nope","file":"${file}"}\n`,
    );
    expect((await run("context", "use", "prod")).out).toBe("current context: prod\n");
    expect((await run("context", "current")).out).toBe("prod\n");
    expect((await run("--context", "lab", "context", "current")).out).toBe("lab\n");
    expect((await run("context", "show")).out).toBe("context prod (current)\n  url: nats://prod:4222\n  user: ops\n");
    expect(parseYaml((await run("context", "show", "lab", "-o", "yaml")).out)).toEqual({
      name: "lab",
      current: false,
      url: "nats://lab:4222",
    });
    expect((await run("context", "delete", "prod")).out).toBe("context prod deleted\n");
    expect(parseYaml(await readFile(file, "utf8"))).toEqual({ contexts: { lab: { url: "nats://lab:4222" } } });
    expect((await run("context", "current")).code).toBe(1);
    expect((await run("context", "show")).err).toMatch(/no context in use and none named/);
  });

  it("commands connect with the current context, or the one --context names; JUNCTION_CONFIG moves the file", async () => {
    const pw = join(dir, "ops.pw");
    await writeFile(pw, "ops-secret\n", { mode: 0o600 });
    await run("context", "add", "prod", "--url", "nats://prod:4222", "--user", "ops", "--password-file", pw, "--use");
    await run("context", "add", "lab", "--url", "nats://lab:4222");
    const a = await run("station", "list");
    expect(a.code).toBe(0);
    expect(a.io.connects[0]).toMatchObject({ servers: "nats://prod:4222", user: "ops", pass: "ops-secret" });
    const b = await run("--context", "lab", "station", "list");
    expect(b.io.connects[0]).toMatchObject({ servers: "nats://lab:4222" });
    expect(b.io.connects[0]).not.toHaveProperty("pass");

    const elsewhere = join(dir, "elsewhere.yaml");
    env = { ...env, JUNCTION_CONFIG: elsewhere };
    await run("context", "add", "x", "--url", "nats://x:1", "--use");
    expect(parseYaml(await readFile(elsewhere, "utf8"))).toMatchObject({ currentContext: "x" });
    expect((await run("station", "list")).io.connects[0]).toMatchObject({ servers: "nats://x:1" });
  });

  it("a corrupt config file stops commands that need it, with the file named; --url still works", async () => {
    await run("context", "add", "prod", "--url", "nats://prod:4222", "--use");
    await writeFile(file, "currentContext: prod\ncontexts:\n  prod:\n    url: nats://prod:4222\n    pasword: x\n");
    const r = await run("station", "list");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      `error INVALID_ARGUMENT: config file ${file}: contexts.prod.pasword: unknown setting (known: url, user, passwordFile, tenant, tls)`,
    );
    expect((await run("context", "list")).code).toBe(1);
    expect((await run("--url", "nats://direct:1", "station", "list")).code).toBe(0);
  });
});
