/**
 * The real `junction tui` in a real terminal (tmux) against `junction dev`: messages a consumer
 * never acks become dead letters, the TUI shows them live, one is opened and resent from the
 * TUI, and a consumer of the group receives it. Needs `npm run build` first and tmux
 * (`.ci/run` installs it).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type JunctionClient } from "../../sdk/index.js";

const execFileP = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const main = join(root, "dist/cli/main.js");
const socket = `junction-tui-e2e-${process.pid}`;
const STATION = "orders";
const GROUP = "billing";

let dir: string;
let dev: ChildProcess | undefined;
let devOut = "";
let client: JunctionClient | undefined;

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await execFileP("tmux", ["-L", socket, ...args]);
  return stdout;
}

const screen = () => tmux("capture-pane", "-p", "-t", "tui");

/** Waits until the pane shows `what`; fails with the pane's content and what it was waiting for. */
async function waitForScreen(what: RegExp, why: string, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < end) {
    last = await screen().catch((e: Error) => `(capture failed: ${e.message})`);
    if (what.test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${why}: ${what} did not appear within ${timeoutMs} ms. The TUI showed:\n${last}\n--- junction dev output:\n${devOut.slice(-2000)}`,
  );
}

async function keys(...k: string[]): Promise<void> {
  await tmux("send-keys", "-t", "tui", ...k);
  await new Promise((r) => setTimeout(r, 150));
}

beforeAll(async () => {
  if (!existsSync(main)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  await execFileP("tmux", ["-V"]).catch(() => {
    throw new Error("tmux is not installed: the TUI test drives the real terminal UI in tmux (.ci/run installs it)");
  });
  dir = await mkdtemp(join(tmpdir(), "junction-tui-e2e-"));
  dev = spawn(
    process.execPath,
    ["--no-node-snapshot", main, "--data-dir", join(dir, "data"), "dev", "--port", "-1", "--log-level", "warn"],
    { cwd: dir },
  );
  dev.stdout!.on("data", (d: Buffer) => (devOut += d.toString()));
  dev.stderr!.on("data", (d: Buffer) => (devOut += d.toString()));
  const end = Date.now() + 30_000;
  while (!devOut.includes("Junction is running.")) {
    if (Date.now() > end || dev.exitCode !== null) throw new Error(`junction dev did not start:\n${devOut}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const creds = JSON.parse(await readFile(join(dir, "data", "credentials.json"), "utf8")) as {
    url: string;
    users: { admin: { user: string; password: string } };
  };
  client = await connect({ servers: creds.url, user: creds.users.admin.user, pass: creds.users.admin.password, name: "tui-e2e" });
});

afterAll(async () => {
  await tmux("kill-server").catch(() => {});
  await client?.close();
  if (dev && dev.exitCode === null) {
    const exited = new Promise((r) => dev!.once("exit", r));
    dev.kill("SIGINT");
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("junction tui in tmux", () => {
  it("shows unacked messages becoming dead letters, resends one, and the group receives it", async () => {
    const c = client!;
    await c.stations.create(STATION);
    await c.groups.create(STATION, GROUP, { maxAckTimeMs: 300, maxMsgDeliveries: 2 });
    const producer = c.producer({ station: STATION });
    for (let i = 1; i <= 3; i++) await producer.send(JSON.stringify({ order: i, sku: `SKU-${i}` }));
    await producer.close();

    // The TUI, as a user starts it: connection from the dev data directory.
    const cmd = [process.execPath, "--no-node-snapshot", main, "--data-dir", join(dir, "data"), "tui", "--poll-ms", "500"]
      .map((a) => `'${a}'`)
      .join(" ");
    await tmux("new-session", "-d", "-s", "tui", "-x", "150", "-y", "45", `${cmd}; echo "TUI EXITED $?"; sleep 60`);
    await waitForScreen(/› .*orders/, "the overview should list the station");

    // 1) A member that never acks: each message is delivered twice, then it is a poison message.
    const neverAcks = await c.consumer({ station: STATION, group: GROUP, batchSize: 10 });
    const drained = (async () => {
      for await (const _m of neverAcks) {
        // Never acked on purpose.
      }
    })();

    // 2) The dead letters reach the TUI live.
    await keys("2");
    await waitForScreen(
      /Dead letters \(3\)/,
      "three poison messages should show up as dead letters (is the gateway's dls.* side in place?)",
      30_000,
    );
    await neverAcks.close();
    await drained;
    const list = await screen();
    expect(list).toMatch(/poison\s+billing\s+2\s+MAX_DELIVERIES/);

    // 3) Open the selected one and resend it, confirming first.
    await keys("Enter");
    const detail = await waitForScreen(/Delivery history[\s\S]*Payload/, "the detail view should open");
    const id = /^│ id\s+(\S+)/m.exec(detail)?.[1];
    expect(id, detail).toBeDefined();
    const payloadShown = /"order": (\d)/.exec(detail)?.[1];
    expect(payloadShown, detail).toBeDefined();
    expect(detail).toContain("delivered 2 times");
    await keys("r");
    await waitForScreen(/Resend dead letter .*\? \[y\/N\]/, "resend should ask first");
    await keys("y");
    await waitForScreen(/resent 1, failed 0/, "the resend result should be shown");

    // 4) A member of the group that acks receives exactly the resent message.
    const consumer = await c.consumer({ station: STATION, group: GROUP, maxMessages: 1 });
    const timer = setTimeout(() => void consumer.close(), 15_000);
    let got: { text: string; resentFrom: string | undefined } | undefined;
    for await (const m of consumer) {
      got = { text: m.text(), resentFrom: m.headers["Jn-Resent-From"] };
      await m.ackAndWait();
      break;
    }
    clearTimeout(timer);
    expect(got, "the consumer should receive the resent message").toBeDefined();
    expect(JSON.parse(got!.text)).toEqual({ order: Number(payloadShown), sku: `SKU-${payloadShown}` });
    expect(got!.resentFrom).toBe(id);

    // The TUI follows: back in the list, the resent one is gone; q quits cleanly.
    await keys("Escape");
    const after = await waitForScreen(/Dead letters \(2\)/, "the list should follow the resend");
    expect(after).not.toContain(id);
    await keys("q");
    await waitForScreen(/TUI EXITED 0/, "q should quit with exit code 0");
  });
});
