/**
 * The built CLI, run as a user would: `junction dev` in a child process, commands against it,
 * and a restart that keeps stations and messages. Needs `npm run build` first (pretest does it).
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const execFileP = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const main = join(root, "dist/cli/main.js");
let dir: string;

const T0 = Date.now();
function junction(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = execFile(
      process.execPath,
      ["--no-node-snapshot", main, "--data-dir", join(dir, "data"), ...args],
      { cwd: dir },
      (err, stdout, stderr) => {
        if (process.env["E2E_TRACE"]) console.log(Date.now() - T0, args.join(" "));
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

const started: ChildProcess[] = [];

async function startDev(): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(
    process.execPath,
    ["--no-node-snapshot", main, "--data-dir", join(dir, "data"), "dev", "--port", "-1", "--log-level", "warn"],
    { cwd: dir },
  );
  started.push(child);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const end = Date.now() + 30_000;
  while (!out.includes("Junction is running.")) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`junction dev did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, out: () => out };
}

async function stopDev(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGINT");
  return await exited;
}

beforeAll(async () => {
  if (!existsSync(main)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  dir = await mkdtemp(join(tmpdir(), "junction-e2e-"));
});
afterAll(async () => {
  // A failed test may leave its broker running: stop it the way Ctrl-C does (a SIGKILL would
  // orphan its nats-server).
  for (const c of started) if (c.exitCode === null && c.signalCode === null) await stopDev(c);
  await rm(dir, { recursive: true, force: true });
});

describe("junction CLI against junction dev", () => {
  it("runs the quick-start flow, keeps data across a restart, and reports errors with codes", async () => {
    const dev = await startDev();
    const cred = join(dir, "data", "credentials.json");
    // nats-server took a free port of its own (a port picked here could be taken meanwhile).
    const url = (JSON.parse(await readFile(cred, "utf8")) as { url: string }).url;
    expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(dev.out()).toContain(url);
    expect((await stat(cred)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "data", "broker-secrets.json"))).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(await readFile(cred, "utf8")) as { users: { admin: { password: string }; app: { password: string } } };
    expect(creds.users.admin.password).not.toBe(creds.users.app.password);
    // The banner's examples are printed as they run from a clone (through npm) or as `junction`.
    expect(dev.out()).toMatch(/ {2}(junction|npm run -s junction --) station create orders/);

    expect(await junction(["station", "create", "orders", "--max-messages", "1000"])).toMatchObject({
      code: 0,
      stdout: "station orders created\n",
    });
    expect((await junction(["produce", "orders", '{"id":1}', '{"id":2}'])).stdout).toMatch(
      /produced 2\/2 messages to orders \(seq 1\.\.2\)/,
    );
    expect((await junction(["produce", "orders"], '{"id":3}\n{"id":4}\n')).stdout).toMatch(/produced 2\/2/);
    expect((await junction(["produce", "orders", "--count", "50", "--size", "200"])).stdout).toMatch(/produced 50\/50 .*seq 5\.\.54/);
    const consumed = await junction(["consume", "orders", "--group", "billing", "--count", "3"]);
    expect(consumed.stdout).toBe('{"id":1}\n{"id":2}\n{"id":3}\n');
    const asJson = await junction(["consume", "orders", "--group", "audit", "--count", "1", "--json", "--no-ack"]);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ seq: 1, deliveryCount: 1, payload: { id: 1 } });
    const list = JSON.parse((await junction(["station", "list", "--json"])).stdout) as { name: string; state: { messages: number } }[];
    expect(list).toEqual([expect.objectContaining({ name: "orders", state: expect.objectContaining({ messages: 54 }) })]);

    const bad = await junction(["station", "create", "Bad.Name"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error INVALID_NAME: invalid station name "Bad\.Name"/);
    const unknown = await junction(["produce", "nope", "x"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/error STATION_NOT_FOUND/);
    const badFlag = await junction(["consume", "orders", "--group", "g", "--count", "many"]);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toMatch(/error INVALID_ARGUMENT: --count must be an integer/);

    // Ctrl-C stops both cleanly; a restart keeps stations, messages and group positions.
    expect(await stopDev(dev.child)).toBe(0);
    const down = await junction(["station", "list"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/error NATS_UNAVAILABLE/);
    const dev2 = await startDev();
    const info = JSON.parse((await junction(["station", "info", "orders", "--json"])).stdout) as {
      config: { maxMessages: number };
      state: { messages: number };
    };
    expect(info.config.maxMessages).toBe(1000);
    expect(info.state.messages).toBe(54);
    const next = await junction(["consume", "orders", "--group", "billing", "--count", "1"]);
    expect(next.stdout).toBe('{"id":4}\n');
    expect(await stopDev(dev2.child)).toBe(0);
  });

  it("manages schemas and functions, validates locally and tests functions in the sandbox", async () => {
    const { writeFile } = await import("node:fs/promises");
    const dev = await startDev();
    const schemaFile = join(dir, "order.json");
    await writeFile(schemaFile, JSON.stringify({ type: "object", properties: { id: { type: "integer" } }, required: ["id"] }));
    const samples = join(dir, "samples.jsonl");
    await writeFile(samples, '{"id":1}\n{"id":"no"}\n');
    const fnFile = join(dir, "tag.js");
    await writeFile(fnFile, "export default (m, ctx) => ({ ...m, payload: { ...m.payload, tag: ctx.inputs.tag } })");

    expect((await junction(["schema", "create", "order", "--type", "json", "--file", schemaFile])).stdout).toBe(
      "schema order version 1 registered (json, BACKWARD)\n",
    );
    await junction(["station", "create", "shop"]);
    expect((await junction(["schema", "attach", "order", "--station", "shop"])).code).toBe(0);
    const mixed = await junction(["produce", "shop", '{"id":1}', '{"id":"x"}']);
    expect(mixed.code).toBe(1);
    expect(mixed.stdout).toMatch(/produced 1\/2/);
    expect(mixed.stderr).toMatch(/message 1: error SCHEMA_VALIDATION_FAILED: .*\/id: must be integer/);
    const local = await junction(["schema", "validate", samples, "--schema", schemaFile]);
    expect(local).toMatchObject({ code: 1 });
    expect(local.stdout).toContain("message 2: INVALID\n  /id: must be integer");
    expect((await junction(["schema", "validate", samples, "--schema", "order@1"])).stdout).toMatch(/1\/2 valid/);
    const list = JSON.parse((await junction(["schema", "list", "--json"])).stdout) as { name: string; usedBy: string[] }[];
    expect(list).toEqual([expect.objectContaining({ name: "order", usedBy: ["shop"] })]);

    const tested = await junction(["function", "test", fnFile, "--input", samples, "--set", "tag=hi"]);
    expect(tested.stdout).toBe('#1 {"payload":{"id":1,"tag":"hi"},"headers":{}}\n#2 {"payload":{"id":"no","tag":"hi"},"headers":{}}\n');
    expect((await junction(["function", "create", "tag", "--file", fnFile, "--inputs", "tag"])).stdout).toBe(
      "function tag version 1 registered\n",
    );
    expect((await junction(["function", "attach", "tag", "--station", "shop", "--input", "tag=prod"])).stdout).toBe(
      "pipeline of shop: tag@latest\n",
    );
    await junction(["produce", "shop", '{"id":5}']);
    const out = await junction(["consume", "shop", "--group", "g", "--count", "2"]);
    expect(out.stdout).toBe('{"id":1}\n{"id":5,"tag":"prod"}\n');
    expect((await junction(["schema", "delete", "order"])).stderr).toMatch(/error SCHEMA_IN_USE/);
    expect(await stopDev(dev.child)).toBe(0);
  });

  it("shows dead letters and group stats, resends to the failing group and drops", async () => {
    const dev = await startDev();
    await junction(["station", "create", "jobs"]);
    await junction(["produce", "jobs", '{"job":1}']);
    // A member that never acks: one delivery allowed, so the message becomes a dead letter.
    const first = await junction([
      "consume",
      "jobs",
      "--group",
      "workers",
      "--count",
      "1",
      "--no-ack",
      "--max-ack-time-ms",
      "300",
      "--max-msg-deliveries",
      "1",
    ]);
    expect(first.stdout).toBe('{"job":1}\n');
    let listed: { items: { id: string; reason: string; groups: string[] }[] } = { items: [] };
    const end = Date.now() + 20_000;
    while (listed.items.length === 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      listed = JSON.parse((await junction(["dls", "list", "--station", "jobs", "--json"])).stdout) as typeof listed;
    }
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({ reason: "poison", groups: ["workers"] });
    const id = listed.items[0]!.id;
    const shown = await junction(["dls", "show", id]);
    expect(shown.stdout).toContain(`dead letter ${id}`);
    expect(shown.stdout).toContain('"job": 1');
    const groups = await junction(["group", "list", "jobs"]);
    expect(groups.stdout).toMatch(/workers\s+0\s+0/);
    expect((await junction(["dls", "resend", id])).stdout).toBe("resent 1, failed 0\n");
    const again = await junction(["consume", "jobs", "--group", "workers", "--count", "1", "--timeout-ms", "10000"]);
    expect(again.stdout).toBe('{"job":1}\n');
    expect((await junction(["dls", "drop", "--all", "--station", "jobs"])).stdout).toMatch(/^dropped \d+\n$/);
    expect((await junction(["dls", "retention", "jobs", "--max-entries", "50"])).stdout).toMatch(
      /^dead letters of jobs: max age \d+ s, max entries 50/,
    );
    expect((await junction(["dls", "resend"])).stderr).toMatch(/error INVALID_ARGUMENT: give a dead-letter id, or --all/);
    expect((await junction(["dls", "list", "--reason", "weird"])).stderr).toMatch(/error INVALID_ARGUMENT: --reason must be one of/);
    expect(await stopDev(dev.child)).toBe(0);
  });

  it("prints help and fails clearly without a broker", async () => {
    const help = await junction(["--help"]);
    expect(help.code).toBe(0);
    for (const cmd of ["dev", "gateway", "station", "produce", "consume"]) expect(help.stdout).toContain(cmd);
    const { stdout } = await execFileP(process.execPath, ["--no-node-snapshot", main, "--version"]);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
