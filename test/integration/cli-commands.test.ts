/**
 * CLI commands run in-process: the program is built with an injected io (captured output) and an
 * injected connect (the SDK's, counted), against a real broker started by the harness. The e2e
 * suite runs the built binary; this one covers the commands' logic and exit codes quickly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminCli, type CliResult } from "../harness/cli.js";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let connects = 0;
let junction: (...args: string[]) => Promise<CliResult>;

beforeAll(async () => {
  broker = await startBroker();
  junction = await adminCli(broker, { onConnect: () => void connects++ });
});
afterAll(async () => {
  await broker.stop();
});

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
