/**
 * CLI commands run in-process: the program is built with an injected io (captured output) and an
 * injected connect (the SDK's, counted), against a real broker started by the harness. The e2e
 * suite runs the built binary; this one covers the commands' logic and exit codes quickly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildProgram } from "../../cli/program.js";
import { reportError, type Io } from "../../cli/output.js";
import { connect, type ConnectOptions } from "../../sdk/index.js";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let connects = 0;
let passwordFile: string;

beforeAll(async () => {
  broker = await startBroker();
  passwordFile = join(await mkdtemp(join(tmpdir(), "jn-cli-pw-")), "admin.pw");
  await writeFile(passwordFile, broker.users.admin.password + "\n", { mode: 0o600 });
});
afterAll(async () => {
  await broker.stop();
});

/** Runs `junction <args>` in-process; returns the exit code and what it printed. */
async function junction(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = {
    out: (s) => void (out += s),
    err: (s) => void (err += s),
    isTTY: false,
    env: {},
    connect: (o: ConnectOptions) => {
      connects++;
      return connect(o);
    },
  };
  const conn = ["--url", broker.url, "--user", broker.users.admin.user, "--password-file", passwordFile];
  let code = 0;
  try {
    await buildProgram(io).parseAsync(["node", "junction", ...conn, ...args]);
  } catch (e) {
    const c = (e as { code?: string; exitCode?: number }).code;
    code = c?.startsWith("commander.") ? ((e as { exitCode?: number }).exitCode ?? 2) : reportError(io, e);
  }
  return { code, out, err };
}

describe("junction commands, in-process", () => {
  it("creates a station, shows it as JSON and as text, and lists it", async () => {
    const st = uniqueName();
    const before = connects;
    expect(await junction("station", "create", st, "--max-messages", "100")).toMatchObject({ code: 0 });
    const info = await junction("station", "info", st, "--json");
    expect(info.code).toBe(0);
    expect(JSON.parse(info.out)).toMatchObject({ name: st, config: { maxMessages: 100 } });
    expect((await junction("station", "info", st)).out).toContain(`station ${st}`);
    expect((await junction("station", "list")).out).toContain(st);
    expect(connects - before).toBe(4);
  });

  it("produces and consumes through the commands", async () => {
    const st = uniqueName();
    await junction("station", "create", st);
    expect((await junction("produce", st, '{"n":1}', "--id", "one")).code).toBe(0);
    expect((await junction("produce", st, '{"n":1}', "--id", "one")).code).toBe(0);
    const c = await junction("consume", st, "--group", "g", "--count", "1", "--json");
    expect(c.code).toBe(0);
    expect(JSON.parse(c.out.trim())).toMatchObject({ seq: 1, payload: { n: 1 } });
    // The repeated id was stored once.
    expect(JSON.parse((await junction("station", "info", st, "--json")).out)).toMatchObject({ state: { messages: 1 } });
  });

  it("validates a .jsonl file against a schema file locally, without a broker", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jn-cli-"));
    await writeFile(join(dir, "s.json"), JSON.stringify({ type: "object", required: ["id"] }));
    await writeFile(join(dir, "m.jsonl"), '{"id":1}\n{"x":2}\n');
    const r = await junction("schema", "validate", join(dir, "m.jsonl"), "--schema", join(dir, "s.json"));
    expect(r.out).toMatch(/1\/2 valid/);
    expect(r.code).toBe(1);
  });

  it("exits 1 with the error code and details for a broker refusal, and names an unknown command", async () => {
    const r = await junction("station", "info", "no-such-station");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error STATION_NOT_FOUND: station 'no-such-station' not found/);
    const bad = await junction("station", "create", "Bad.Name");
    expect(bad.err).toMatch(/error INVALID_NAME/);
    const usage = await junction("station", "frobnicate");
    expect(usage.code).toBe(1);
    expect(usage.err).toMatch(/unknown command 'frobnicate'/);
  });
});
