import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { CREDENTIALS_FILE, resolveConnection, type DevCredentials } from "./connection.js";

const dev: DevCredentials = {
  url: "nats://127.0.0.1:4222",
  users: { admin: { user: "admin", password: "a-secret" }, app: { user: "app", password: "p-secret" } },
};

let dir: string;
/** An environment whose config file is in the test's folder (and does not exist until written). */
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "jn-conn-"));
  env = { JUNCTION_CONFIG: join(dir, "config", "config.yaml") };
});

async function devBroker(): Promise<void> {
  await writeFile(join(dir, CREDENTIALS_FILE), JSON.stringify(dev));
}

/** Writes the config file with a `prod` context (user ops, password file, tenant, TLS) and a bare `lab` one. */
async function config(current: string | undefined = "prod"): Promise<void> {
  await mkdir(join(dir, "config"), { recursive: true });
  await writeFile(join(dir, "config", "ops.pw"), "ops-secret\n", { mode: 0o600 });
  await writeFile(
    env["JUNCTION_CONFIG"]!,
    [
      ...(current ? [`currentContext: ${current}`] : []),
      "contexts:",
      "  prod:",
      "    url: nats://prod:4222",
      "    user: ops",
      "    passwordFile: ops.pw", // relative to the config file's folder
      "    tenant: acme",
      "    tls: { ca: /etc/prod-ca.pem }",
      "  lab:",
      "    url: nats://lab:4222",
      "",
    ].join("\n"),
  );
}

describe("resolveConnection", () => {
  it("uses the dev broker's admin when nothing is said", async () => {
    await devBroker();
    expect(await resolveConnection({ dataDir: dir }, env)).toEqual({ url: dev.url, user: "admin", password: "a-secret" });
  });

  it("prefers flags, then the environment; a password comes from a file or the environment, never a flag", async () => {
    await devBroker();
    const pw = join(dir, "pw");
    await writeFile(pw, "from-file\n");
    expect(await resolveConnection({ dataDir: dir, url: "nats://x:1", user: "u", passwordFile: pw }, env)).toEqual({
      url: "nats://x:1",
      user: "u",
      password: "from-file",
    });
    // An explicit URL never borrows the dev broker's password.
    expect(await resolveConnection({ dataDir: dir }, { ...env, JUNCTION_URL: "nats://y:2", JUNCTION_USER: "v" })).toEqual({
      url: "nats://y:2",
      user: "v",
    });
    expect(
      await resolveConnection({ dataDir: dir }, { ...env, JUNCTION_URL: "nats://y:2", JUNCTION_USER: "v", JUNCTION_PASSWORD: "env-pw" }),
    ).toMatchObject({ password: "env-pw" });
  });

  it("fails clearly with no broker at all, and on an unreadable password file", async () => {
    await expect(resolveConnection({ dataDir: dir }, env)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: /no broker to connect to/,
    });
    await expect(resolveConnection({ dataDir: dir, url: "nats://x:1", passwordFile: join(dir, "nope") }, env)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: /cannot read the password/,
    });
  });
});

describe("resolveConnection with contexts: flags > environment > context > dev credentials", () => {
  it("the current context beats the dev broker, password read from its file", async () => {
    await devBroker();
    await config();
    expect(await resolveConnection({ dataDir: dir }, env)).toEqual({
      url: "nats://prod:4222",
      user: "ops",
      password: "ops-secret",
      tenant: "acme",
      tls: { caFile: "/etc/prod-ca.pem" },
    });
  });

  it("--context and JUNCTION_CONTEXT pick another context (the flag first); a context without user or password borrows nothing", async () => {
    await devBroker();
    await config();
    expect(await resolveConnection({ dataDir: dir, context: "lab" }, env)).toEqual({ url: "nats://lab:4222" });
    expect(await resolveConnection({ dataDir: dir }, { ...env, JUNCTION_CONTEXT: "lab" })).toEqual({ url: "nats://lab:4222" });
    expect(await resolveConnection({ dataDir: dir, context: "prod" }, { ...env, JUNCTION_CONTEXT: "lab" })).toMatchObject({
      url: "nats://prod:4222",
    });
  });

  it("flags and the environment override a named context setting by setting; its password goes only to its user", async () => {
    await config();
    const pw = join(dir, "flag.pw");
    await writeFile(pw, "flag-secret\n");
    expect(await resolveConnection({ dataDir: dir, context: "prod", url: "nats://other:1", tenant: "t2", tlsCa: "/ca.pem" }, env)).toEqual({
      url: "nats://other:1",
      user: "ops",
      password: "ops-secret",
      tenant: "t2",
      tls: { caFile: "/ca.pem" },
    });
    expect(await resolveConnection({ dataDir: dir, context: "prod" }, { ...env, JUNCTION_USER: "bob", JUNCTION_TENANT: "t3" })).toEqual({
      url: "nats://prod:4222",
      user: "bob",
      tenant: "t3",
      tls: { caFile: "/etc/prod-ca.pem" },
    });
    expect(await resolveConnection({ dataDir: dir, user: "bob", passwordFile: pw }, env)).toMatchObject({
      user: "bob",
      password: "flag-secret",
    });
    expect(await resolveConnection({ dataDir: dir }, { ...env, JUNCTION_PASSWORD: "env-secret" })).toMatchObject({
      user: "ops",
      password: "env-secret",
    });
  });

  it("the current context is not used (nor its file read) when a URL is given by flag or environment", async () => {
    await mkdir(join(dir, "config"), { recursive: true });
    await writeFile(env["JUNCTION_CONFIG"]!, "contexts: [broken\n");
    expect(await resolveConnection({ dataDir: dir, url: "nats://x:1" }, env)).toEqual({ url: "nats://x:1" });
    expect(await resolveConnection({ dataDir: dir }, { ...env, JUNCTION_URL: "nats://y:2" })).toEqual({ url: "nats://y:2" });
    await config();
    expect(await resolveConnection({ dataDir: dir }, { ...env, JUNCTION_URL: "nats://y:2" })).toEqual({ url: "nats://y:2" });
  });

  it("a missing config file means no context; naming a context then fails, naming the file", async () => {
    await devBroker();
    expect(await resolveConnection({ dataDir: dir }, env)).toMatchObject({ url: dev.url, user: "admin" });
    await expect(resolveConnection({ dataDir: dir, context: "prod" }, env)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: `context 'prod' (from --context) is not in ${env["JUNCTION_CONFIG"]} (it has no contexts; add one with 'junction context add')`,
      details: { context: "prod", file: env["JUNCTION_CONFIG"] },
    });
    await config();
    await expect(resolveConnection({ dataDir: dir }, { ...env, JUNCTION_CONTEXT: "stage" })).rejects.toMatchObject({
      message: /context 'stage' \(from JUNCTION_CONTEXT\) is not in .*config\.yaml \(contexts: prod, lab\)/,
    });
    await expect(resolveConnection({ dataDir: dir, context: "../x" }, env)).rejects.toMatchObject({ message: /context name '\.\.\/x'/ });
  });

  it("a corrupt config file is a typed error naming the file (and where in it) whenever it is needed", async () => {
    await devBroker();
    await mkdir(join(dir, "config"), { recursive: true });
    const file = env["JUNCTION_CONFIG"]!;
    await writeFile(file, "currentContext: prod\ncontexts:\n  prod: {url: nats://p:1\n");
    const err = await resolveConnection({ dataDir: dir }, env).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT", details: { file } });
    expect((err as Error).message).toMatch(new RegExp(`^config file ${file}: is not valid YAML: .* at line 4, column 1$`));
    await writeFile(file, "contexts:\n  prod:\n    url: nats://p:1\n    password: hunter2\n");
    await expect(resolveConnection({ dataDir: dir, context: "prod" }, env)).rejects.toMatchObject({
      message: `config file ${file}: contexts.prod.password: a context never holds a password; put it in a file (mode 0600) and name that file with passwordFile`,
      details: { file, path: "contexts.prod.password" },
    });
    await writeFile(file, "currentContext: prod\ncontexts:\n  prod:\n    user: ops\n");
    await expect(resolveConnection({ dataDir: dir }, env)).rejects.toMatchObject({ message: /contexts\.prod\.url: is required/ });
    await writeFile(file, "- just\n- a list\n");
    await expect(resolveConnection({ dataDir: dir }, env)).rejects.toMatchObject({ message: /must be a mapping/ });
    const folder = join(dir, "a-folder");
    await mkdir(folder);
    await expect(resolveConnection({ dataDir: dir }, { ...env, JUNCTION_CONFIG: folder })).rejects.toMatchObject({
      message: new RegExp(`^config file ${folder}: cannot be read: EISDIR`),
      details: { file: folder },
    });
  });
});
