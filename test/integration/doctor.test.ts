/**
 * `junction doctor` against a real broker: healthy first, then with what goes wrong in the field
 * planted behind the gateway's back — a corrupt metadata record, an orphan stream, a group with
 * a backlog and no members, dead letters arriving, a server that does not fsync — each found and
 * explained. The CLI runs in-process (as in cli-commands.test.ts).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { RecordingIo, runJunction } from "../fakes/cli.js";
import { startBroker, uniqueName, type TestBroker, type TestUser } from "../harness/index.js";
import type { DoctorCheckResult, DoctorReport } from "../../core/protocol/index.js";
import { connect, type JunctionClient } from "../../sdk/index.js";

let broker: TestBroker;
let client: JunctionClient;
let dir: string;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
  dir = await mkdtemp(join(tmpdir(), "jn-doctor-"));
});
afterAll(async () => {
  await broker.stop();
});

/** Runs `junction doctor <args>` in-process as `user` (default: the operator); returns the exit code and output. */
async function doctor(
  b: TestBroker,
  args: string[] = [],
  user: TestUser = b.users.admin,
): Promise<{ code: number; out: string; err: string }> {
  const pw = join(dir, `${user.user}-${uniqueName("pw")}`);
  await writeFile(pw, user.password + "\n", { mode: 0o600 });
  const io = new RecordingIo({ client: (o) => connect(o) });
  const code = await runJunction(io, "--url", b.url, "--user", user.user, "--password-file", pw, "doctor", ...args);
  return { code, out: io.stdout, err: io.stderr };
}

async function report(
  b: TestBroker,
  args: string[] = [],
): Promise<{ code: number; report: DoctorReport; checks: Record<string, DoctorCheckResult> }> {
  const r = await doctor(b, ["--json", ...args]);
  expect(r.err).toBe("");
  const rep = JSON.parse(r.out) as DoctorReport;
  return { code: r.code, report: rep, checks: Object.fromEntries(rep.checks.map((c) => [c.id, c])) };
}

describe("junction doctor on a real broker", () => {
  it("says ok on a healthy broker and exits 0", async () => {
    const st = uniqueName();
    await client.stations.create(st);
    await client.groups.create(st, "billing");
    const { code, report: r } = await report(broker, ["--window-ms", "0"]);
    for (const c of r.checks) expect(c.status, `${c.id}: ${c.message}`).toBe("ok");
    expect(code).toBe(0);
    expect(r.checks.find((c) => c.id === "jetstream.sync")!.message).toBe(
      "every server fsyncs before it acknowledges (sync_interval: always)",
    );
    expect(r.checks.find((c) => c.id === "server.version")!.message).toMatch(/^1 server, nats-server 2\.\d+\.\d+/);
    const text = await doctor(broker, ["--window-ms", "0"]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^junction doctor: everything looks fine \(7 checks by gateway gw-/);
  });

  it("finds a corrupted metadata record, an orphan stream, a group with a backlog and no members, and new dead letters", async () => {
    const nc = await broker.raw("gateway");
    // A metadata record written behind the gateway's back.
    const stations = await new Kvm(nc).open("jn_stations");
    await stations.put("broken", "{not json");
    // A stream named like a station's, with no station.
    const orphan = uniqueName("orphan");
    await (await jetstreamManager(nc)).streams.add({ name: `JN_ST_${orphan}`, subjects: [`jn.st.${orphan}.>`] });
    // A group with messages waiting and nobody reading.
    const idle = uniqueName();
    await client.stations.create(idle);
    await client.groups.create(idle, "idle-group");
    await client.producer({ station: idle }).sendBatch([{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }]);
    // Dead letters arriving while the doctor watches: invalid messages until it answers.
    const checked = uniqueName();
    await client.stations.create(checked);
    await client.schemas.create({ name: checked, type: "json", definition: JSON.stringify({ type: "object", required: ["id"] }) });
    await client.schemas.attach(checked, checked);
    const producer = client.producer({ station: checked });
    let running = true;
    const invalid = (async () => {
      while (running) {
        await producer.send({ nope: true }).catch(() => {});
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let result;
    try {
      result = await report(broker, ["--window-ms", "2000"]);
    } finally {
      running = false;
      await invalid;
    }
    const { code, report: r, checks } = result;
    expect(code).toBe(1);
    expect(r.ok).toBe(false);
    expect(checks["metadata.records"]).toMatchObject({ status: "fail", items: [expect.stringMatching(/^jn_stations\/broken: not JSON/)] });
    expect(checks["metadata.records"]!.fix).toMatch(/nats kv del/);
    expect(checks["streams.orphans"]).toMatchObject({ status: "warn", items: [`JN_ST_${orphan}: no station record`] });
    expect(checks["groups.backlog"]).toMatchObject({
      status: "warn",
      items: [`${idle}:idle-group: 3 pending, 0 unacked, no member pulling`],
    });
    expect(checks["dls.growth"]).toMatchObject({ status: "warn" });
    expect(checks["dls.growth"]!.items!.join("\n")).toMatch(new RegExp(`^${checked}: \\+\\d+ in 2 s`));
    expect(checks["stations.streams"]).toMatchObject({ status: "ok" });

    const text = await doctor(broker, ["--window-ms", "0"]);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/^FAIL {2}metadata\.records +1 metadata record fails validation/m);
    expect(text.out).toContain(`- JN_ST_${orphan}: no station record`);
    expect(text.out).toMatch(/fix: start the group's consumers/);
  });

  it("refuses a user who is not an operator", async () => {
    const r = await doctor(broker, [], broker.users.app);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error PERMISSION_DENIED: user 'app' may not administer tenants/);
  });

  it("warns when a server acknowledges before fsync", async () => {
    const lazy = await startBroker({ sync: "default" });
    try {
      const { code, checks } = await report(lazy, ["--window-ms", "0"]);
      expect(code).toBe(0);
      expect(checks["jetstream.sync"]).toMatchObject({ status: "warn", items: [expect.stringMatching(/: fsync every 120 s$/)] });
      expect(checks["jetstream.sync"]!.fix).toMatch(/sync_interval: always/);
    } finally {
      await lazy.stop();
    }
  });
});
