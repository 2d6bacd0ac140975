/**
 * One chaos run: start the topology, create the station and group, start the members and the
 * producers, play the fault schedule, drain, read the stream and the DLS back, keep the books,
 * judge them.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type JunctionClient } from "../../sdk/index.js";
import { subjects } from "../../core/protocol/index.js";
import { Books } from "./books.js";
import { judge } from "./checks.js";
import { ChaosError, ChaosErrorCode } from "./errors.js";
import { runFault } from "./faults.js";
import { resolveChaosOptions, type ChaosOptions } from "./options.js";
import { ReadBack } from "./readback.js";
import { describeSetup } from "./report.js";
import { planFaults } from "./schedule.js";
import { Topology } from "./topology.js";
import { FaultKind, type ChaosResult, type FaultRecord } from "./types.js";
import { Workload } from "./workload.js";

/** The consumer group every member joins. */
export const CHAOS_GROUP = "chaos";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Faults that can lose acknowledgements already sent (a gateway is not on the consume path; a slow member loses none). */
const ACK_LOSING: ReadonlySet<FaultKind> = new Set([
  FaultKind.MemberKill,
  FaultKind.NatsKill,
  FaultKind.LeaderKill,
  FaultKind.FollowerKill,
  FaultKind.DiskFull,
  FaultKind.ColdRestart,
]);

/** Runs one preset to its end and returns what it found. Never throws for what it finds: only when it cannot run. */
export async function runChaos(options: ChaosOptions = {}): Promise<ChaosResult> {
  const o = resolveChaosOptions(options);
  const p = o.preset;
  const startedAt = new Date().toISOString();
  const t0 = o.clock.now();
  // Until the workload starts, times count from the start of the run; then from the workload's start.
  let origin = t0;
  const now = () => o.clock.now() - origin;
  // Members stamp deliveries with the wall clock (another process): its value at the origin.
  let originEpoch = Date.now();
  const plan = planFaults(p.schedule, p.durationMs, o.seed, p.topology);
  o.log(`junction chaos: preset ${p.name}, seed ${o.seed}, ${p.durationMs / 1000} s: ${describeSetup(p)}`);
  for (const f of plan.faults)
    o.log(`  plan #${f.index} at +${(f.atMs / 1000).toFixed(1)} s: ${f.kind}, held ${(f.holdMs / 1000).toFixed(1)} s`);
  for (const n of plan.notes) o.log(`  plan note: ${n}`);

  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), `junction-chaos-${p.name}-`)));
  await mkdir(dir, { recursive: true });
  const books = new Books();
  const topology = await Topology.start({ dir, spec: p.topology, log: o.log, now });
  let passed = false;
  let admin: JunctionClient | undefined;
  let readBack: ReadBack | undefined;
  try {
    o.log(`topology up in ${((o.clock.now() - t0) / 1000).toFixed(1)} s (logs in ${join(dir, "logs")})`);
    const servers = topology.urls();
    admin = await connect({ servers, user: topology.users.admin.user, pass: topology.users.admin.password, name: "chaos-admin" });
    const station = `chaos-${p.name.replace(/[^a-z0-9_-]/g, "-")}-${randomBytes(3).toString("hex")}`;
    const stream = subjects.stationStream(station);
    const w = p.workload;
    await admin.stations.create(station, { replicas: p.topology.natsServers, ...(w.partitions > 1 ? { partitions: w.partitions } : {}) });
    await admin.groups.create(station, CHAOS_GROUP, {
      maxAckTimeMs: w.maxAckTimeMs,
      maxMsgDeliveries: w.maxMsgDeliveries,
      startPosition: { kind: "earliest" },
    });
    topology.onDelivery = (member, r) =>
      books.delivered(r.id, { atMs: r.at - originEpoch, member, deliveryCount: r.dc, seq: r.seq }, r.action !== "nak");
    await topology.startMembers({ station, group: CHAOS_GROUP, batchSize: w.batchSize });
    let producersClosed = 0;
    const workload = new Workload({
      onClosed: (name) => {
        producersClosed++;
        const line = `${name}'s client closed its connection for good at +${(now() / 1000).toFixed(1)} s; connected again`;
        topology.notes.push(line);
        o.log(`+${(now() / 1000).toFixed(1)} s  ${line}`);
      },
      spec: w,
      station,
      servers,
      user: topology.users.app.user,
      pass: topology.users.app.password,
      books,
      now,
    });
    await workload.connect();
    readBack = await ReadBack.open({ servers, user: topology.secrets.gateway.user, pass: topology.secrets.gateway.password, station });

    origin = o.clock.now();
    originEpoch = Date.now();
    workload.start();
    o.log(`+0.0 s  workload started (${w.ratePerSec} msgs/s)`);
    const records: FaultRecord[] = [];
    const lastStart = p.durationMs - p.schedule.quietTailMs;
    let readyAt = 0;
    for (const f of plan.faults) {
      // A fault that ran long (a repair) pushes the next one back: it keeps its gap.
      const at = Math.max(f.atMs, readyAt);
      if (at > lastStart) {
        records.push({
          ...f,
          injectedAtMs: undefined,
          healedAtMs: undefined,
          target: "",
          skipped: "no time left: the fault before it took longer than planned",
          produceBackMs: undefined,
          consumeBackMs: undefined,
          worstEndToEndMs: undefined,
          notes: [],
        });
        continue;
      }
      const wait = at - now();
      if (wait > 0) await sleep(wait);
      records.push(
        await runFault(f, {
          topology,
          stream,
          slowDelayMs: w.slowDelayMs,
          now,
          log: o.log,
          lastAckAtMs: () => books.lastAckAtMs(),
        }),
      );
      readyAt = now() + p.schedule.minGapMs;
    }
    const rest = p.durationMs - now();
    if (rest > 0) await sleep(rest);
    const workloadEnd = now();
    o.log(`+${(workloadEnd / 1000).toFixed(1)} s  workload stopped; waiting for every send to settle`);
    await workload.stop();

    // Drain: every acked message consumed or dead-lettered, then the group idle (late
    // redeliveries of lost acks show up within an ack time).
    const drainStart = now();
    const drainEnd = o.clock.now() + o.drainTimeoutMs;
    const rb = readBack;
    const due = () => {
      const expected = books.expectedDeadLetters();
      return books.unconsumed().length === 0 && expected.every((id) => rb.deadLetters.has(id));
    };
    let complete = false;
    while (o.clock.now() < drainEnd) {
      await rb.pollDeadLetters().catch(() => 0);
      if (due()) {
        complete = true;
        break;
      }
      await sleep(500);
    }
    if (complete) {
      const idleEnd = Math.min(drainEnd, o.clock.now() + w.maxAckTimeMs + 2000);
      while (o.clock.now() < idleEnd) {
        const g = await rb.group(CHAOS_GROUP).catch(() => undefined);
        if (g && g.pending === 0 && g.ackPending === 0) break;
        await sleep(500);
      }
    }
    const drainMs = now() - drainStart;
    o.log(`+${(now() / 1000).toFixed(1)} s  drain ${complete ? "complete" : "timed out"}; reading the stream and the DLS back`);
    await topology.stopMembers();

    // The books: the stream (read until the count matches what the store reports) and the DLS.
    if (p.topology.natsServers > 1) {
      const end = Date.now() + 30_000;
      while (!(await topology.streamCurrent(stream)) && Date.now() < end) await sleep(500);
    }
    let entries: [string | undefined, number][] = [];
    for (let attempt = 1; ; attempt++) {
      entries = [];
      const total = await rb.readStation((id, seq) => entries.push([id, seq]));
      const expected = await rb.stationMessages();
      if (expected === total || attempt >= 3) {
        if (expected !== total) topology.notes.push(`read ${total} stream entries, the store reports ${expected ?? "?"}`);
        break;
      }
      await sleep(1000);
    }
    for (const [id, seq] of entries) books.stored(id, seq);
    await rb.pollDeadLetters();
    for (const [id, reasons] of rb.deadLetters) for (const reason of reasons) books.deadLettered(id, reason);

    const end = now();
    records.forEach((r, i) => {
      if (r.injectedAtMs === undefined) return;
      const next = records.slice(i + 1).find((x) => x.injectedAtMs !== undefined)?.injectedAtMs ?? end;
      Object.assign(r, books.recovery(r.injectedAtMs, next));
    });
    // Faults that can lose an ack (a killed member's last acks, a killed server's consumer state):
    // after one, a key may see a message it had been given again, before its later ones.
    const breaks = records.filter((r) => r.injectedAtMs !== undefined && ACK_LOSING.has(r.kind)).map((r) => r.injectedAtMs!);
    const summary = books.summarize(breaks);
    const clientsClosed = producersClosed + topology.membersEnded;
    const verdict = judge(summary, records, clientsClosed, p.expect, o.strict);
    passed = verdict.passed;
    const result: ChaosResult = {
      preset: p.name,
      description: p.description,
      seed: o.seed,
      durationMs: p.durationMs,
      startedAt,
      wallMs: Math.round(o.clock.now() - t0),
      topology: { ...p.topology, tmpfs: topology.tmpfs, natsServerVersion: topology.natsServerVersion },
      workload: w,
      planNotes: plan.notes,
      faults: records,
      books: summary,
      drain: { ms: Math.round(drainMs), complete },
      checks: verdict.checks,
      passed,
      clientsClosed,
      notes: [...topology.notes, ...(workload.throttled > 0 ? [`${workload.throttled} sends skipped while producers were stalled`] : [])],
      dir: passed && !o.keepDir ? undefined : dir,
    };
    return result;
  } catch (err) {
    throw err instanceof ChaosError
      ? err
      : new ChaosError(ChaosErrorCode.TopologyFailed, `the run broke off: ${(err as Error).message} (logs in ${join(dir, "logs")})`, {
          cause: err,
          details: { dir },
        });
  } finally {
    await readBack?.close().catch(() => {});
    await admin?.close().catch(() => {});
    await topology.stop(!passed || o.keepDir);
  }
}
