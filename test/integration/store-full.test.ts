import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { afterAll, describe, expect, it } from "vitest";
import { Headers, encodeBatch, subjects, type ProduceMessage, type ProduceResult } from "../../core/protocol/index.js";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One produce request as a hand-written client sends it: per-message results, no SDK retries. */
async function produce(nc: NatsConnection, station: string, msgs: ProduceMessage[], timeoutMs = 60_000): Promise<ProduceResult[]> {
  const h = natsHeaders();
  h.set(Headers.Batch, "1");
  const r = await nc.request(subjects.produce(station), encodeBatch(msgs), { timeout: timeoutMs, headers: h });
  const body = JSON.parse(dec.decode(r.data)) as { ok: boolean; data?: { results: ProduceResult[] }; error?: unknown };
  if (!body.ok) throw new Error(`request refused: ${JSON.stringify(body.error)}`);
  return body.data!.results;
}

const outcome = (r: ProduceResult): string => ("error" in r ? r.error.code : r.duplicate ? "duplicate" : "stored");

/** The ids stored in a station's stream, with how often each is there. */
async function storedIds(b: TestBroker, station: string): Promise<Map<string, number>> {
  const jsm = await b.jsm();
  const name = subjects.stationStream(station);
  const info = await jsm.streams.info(name);
  const ids = new Map<string, number>();
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(name, { seq }).catch(() => undefined);
    const id = m?.header.get("Nats-Msg-Id");
    if (id) ids.set(id, (ids.get(id) ?? 0) + 1);
  }
  return ids;
}

function batch(prefix: string, n: number, size: number): ProduceMessage[] {
  const payload = enc.encode(JSON.stringify({ pad: "x".repeat(size) }));
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, headers: undefined, payload }));
}

describe("at a storage limit", () => {
  let b: TestBroker;
  afterAll(() => b?.stop());

  it("reports each message exactly (stored or STORE_FULL, never a timeout), and a retry after space is freed stores the rest and reports the stored as duplicates", async () => {
    b = await startBroker({ maxFileStore: 4 * 1024 * 1024, gatewayOptions: { storeTimeoutMs: 60_000, storage: { pollMs: 200 } } });
    const admin = await b.client();
    const filler = uniqueName("filler");
    const target = uniqueName("target");
    await admin.stations.create(filler);
    await admin.stations.create(target);
    const nc = await b.raw(b.users.app);
    // Most of the space goes to another station.
    for (let k = 0; k < 5; k++) await produce(nc, filler, batch(`f${k}`, 100, 4000));
    const requests = Array.from({ length: 6 }, (_, k) => batch(`t${k}`, 100, 4000));
    const first: ProduceResult[][] = [];
    for (const msgs of requests) first.push(await produce(nc, target, msgs));
    const flat = first.flat();
    const kinds = new Set(flat.map(outcome));
    expect(kinds.has("stored")).toBe(true);
    expect(kinds.has("STORE_FULL")).toBe(true);
    expect([...kinds].every((k) => k === "stored" || k === "STORE_FULL")).toBe(true);
    for (const r of flat) if ("error" in r) expect(r.error.retriable).toBe(false);
    // The store holds exactly what was reported stored.
    const ids = await storedIds(b, target);
    const reported = requests.flatMap((msgs, k) => msgs.filter((_, i) => outcome(first[k]![i]!) === "stored").map((m) => m.id));
    expect([...ids.keys()].sort()).toEqual(reported.sort());

    // Space returns: the other station goes. The same requests again.
    await admin.stations.delete(filler);
    const again = await waitFor(async () => {
      const rs = await produce(nc, target, requests[0]!);
      return rs.every((r) => !("error" in r)) ? rs : undefined;
    }, 20_000);
    expect(again.every((r) => outcome(r) === "duplicate" || outcome(r) === "stored")).toBe(true);
    for (let k = 1; k < requests.length; k++) {
      const rs = await produce(nc, target, requests[k]!);
      rs.forEach((r, i) => expect(outcome(r)).toBe(outcome(first[k]![i]!) === "stored" ? "duplicate" : "stored"));
    }
    const after = await storedIds(b, target);
    expect(after.size).toBe(requests.flat().length);
    expect([...after.values()].every((n) => n === 1)).toBe(true);
  }, 120_000);
});

describe("on a full disk", () => {
  let b: TestBroker;
  let mount: string | undefined;
  afterAll(async () => {
    await b?.stop();
    if (mount) {
      execFileSync("umount", [mount]);
      await rm(mount, { recursive: true, force: true });
    }
  });

  it("never reports a message failed that may be stored: writes cut off by the full disk are STORE_TIMEOUT, and after space is freed and nats-server restarted a retry stores each message exactly once", async () => {
    // A small tmpfs as the store, with JetStream's own limit above it: writes fail with "no space
    // left on device" (needs root to mount; the CI machine runs as root). nats-server 2.15 then
    // keeps the stream's write error until it restarts (server/filestore.go setWriteErr) and
    // answers no write of that stream.
    mount = await mkdtemp(join(tmpdir(), "junction-tmpfs-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mount]);
    b = await startBroker({
      storeDir: join(mount, "jetstream"),
      maxFileStore: 1024 * 1024 * 1024,
      gatewayOptions: { storeTimeoutMs: 1000, storage: { pollMs: 200 } },
    });
    const admin = await b.client();
    const station = uniqueName("disk");
    await admin.stations.create(station);
    const nc = await b.raw(b.users.app);
    // Fill the disk with a file that is not the store, leaving little room.
    const filler = join(mount, "filler");
    await writeFile(filler, new Uint8Array(20 * 1024 * 1024));
    const sent: ProduceMessage[][] = [];
    const results: ProduceResult[][] = [];
    const cut = () => results.flat().some((r) => outcome(r) !== "stored");
    for (let k = 0; k < 60 && !cut(); k++) {
      const msgs = batch(`d${k}`, 50, 4000);
      sent.push(msgs);
      results.push(await produce(nc, station, msgs));
    }
    // Two more requests once the stream is stuck.
    for (let k = 0; k < 2; k++) {
      const msgs = batch(`late${k}`, 20, 100);
      sent.push(msgs);
      results.push(await produce(nc, station, msgs));
    }
    const kinds = new Set(results.flat().map(outcome));
    expect(kinds.has("stored")).toBe(true);
    expect(kinds.has("STORE_TIMEOUT")).toBe(true);
    // A batch whose staging the full disk cut short is refused whole ("incomplete", STORE_FAILED).
    // "duplicate": a write whose ack was lost, asked again with the same id, was found stored.
    expect([...kinds].filter((k) => !["stored", "duplicate", "STORE_TIMEOUT", "STORE_FULL", "STORE_FAILED"].includes(k))).toEqual([]);
    expect(await b.gateways[0]!.metrics.metrics()).toMatch(/junction_store_errors_total\{code="STORE_TIMEOUT"\} [1-9]/);

    // Space returns; the operator restarts nats-server (what its log asks for).
    await rm(filler);
    await b.restartServer();
    await waitFor(async () => {
      const rs = await produce(nc, station, batch(`probe-${Date.now()}`, 1, 10), 2000).catch(() => []);
      return rs.length === 1 && outcome(rs[0]!) === "stored";
    }, 60_000);
    // Nothing reported stored is missing.
    const ids = await storedIds(b, station);
    sent.forEach((msgs, k) =>
      msgs.forEach((m, i) => {
        const o = outcome(results[k]![i]!);
        if (o === "stored" || o === "duplicate") expect(ids.get(m.id), m.id).toBe(1);
        if (o === "STORE_FULL" || o === "STORE_FAILED") expect(ids.has(m.id), m.id).toBe(false);
      }),
    );
    // The producer retries what it was not told stored, with the same ids: each message once.
    for (const [k, msgs] of sent.entries()) {
      const again = msgs.filter((_, i) => !["stored", "duplicate"].includes(outcome(results[k]![i]!)));
      if (again.length > 0) for (const r of await produce(nc, station, again)) expect(["stored", "duplicate"]).toContain(outcome(r));
    }
    const after = await storedIds(b, station);
    for (const m of sent.flat()) expect(after.get(m.id), m.id).toBe(1);
  }, 150_000);
});
