/** Injects one planned fault into the topology, holds it, heals it, and records what happened. */
import { RESTART_NOTE } from "./checks.js";
import { ChaosError, ChaosErrorCode } from "./errors.js";
import type { Topology } from "./topology.js";
import { FaultKind, type FaultRecord, type PlannedFault } from "./types.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a fault acts on and reads. */
export interface FaultContext {
  topology: Topology;
  /** The station's JetStream stream (leader lookups). */
  stream: string;
  /** A slow member's delay before each message, in ms. */
  slowDelayMs: number;
  /** Milliseconds since the workload began. */
  now(): number;
  log(line: string): void;
  /** When a producer last got an ack, in ms since the workload began. */
  lastAckAtMs(): number;
  /** How long a freed disk may take to bring produce back before nats-server is restarted, in ms. @default 30000 */
  selfRecoveryMs?: number;
}

/** Waits until `cond` holds or `timeoutMs` passes; true when it held. */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
}

const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const pickOf = <T>(items: readonly T[], pick: number): T => items[Math.min(items.length - 1, Math.floor(pick * items.length))]!;

/**
 * Runs one fault to its end (injected, held for `holdMs`, healed). A fault that cannot apply
 * (no tmpfs for disk-full) is recorded as skipped; an error while healing is thrown as
 * CHAOS_FAULT_FAILED (the run cannot go on with a broken topology).
 */
export async function runFault(p: PlannedFault, ctx: FaultContext): Promise<FaultRecord> {
  const t = ctx.topology;
  const rec: FaultRecord = {
    ...p,
    injectedAtMs: undefined,
    healedAtMs: undefined,
    target: "",
    produceBackMs: undefined,
    consumeBackMs: undefined,
    worstEndToEndMs: undefined,
    notes: [],
  };
  const say = (what: string) => ctx.log(`+${(ctx.now() / 1000).toFixed(1)} s  #${p.index} ${p.kind} ${rec.target}: ${what}`);
  const injected = () => {
    rec.injectedAtMs = Math.round(ctx.now());
    say(`injected, held ${(p.holdMs / 1000).toFixed(1)} s`);
  };
  const healed = () => {
    rec.healedAtMs = Math.round(ctx.now());
    say("healed");
  };
  try {
    switch (p.kind) {
      case FaultKind.GatewayKill: {
        const i = Math.floor(p.pick * t.gateways.length);
        rec.target = t.gateways[i]!.name;
        await t.killGateway(i);
        injected();
        await sleep(p.holdMs);
        await t.startGateway(i);
        healed();
        break;
      }
      case FaultKind.GatewaysDown: {
        rec.target = "every gateway";
        await Promise.all(t.gateways.map((_, i) => t.killGateway(i)));
        injected();
        await sleep(p.holdMs);
        await Promise.all(t.gateways.map((_, i) => t.startGateway(i)));
        healed();
        break;
      }
      case FaultKind.NatsKill:
      case FaultKind.LeaderKill:
      case FaultKind.FollowerKill: {
        const i = await chooseNode(p, ctx, rec);
        await t.killNode(i);
        injected();
        await sleep(p.holdMs);
        await t.startNode(i);
        healed();
        break;
      }
      case FaultKind.ColdRestart: {
        rec.target = "every nats-server and gateway";
        await Promise.all([...t.gateways.map((_, i) => t.killGateway(i)), ...t.nodes.map((_, i) => t.killNode(i))]);
        injected();
        await Promise.all(t.nodes.map((_, i) => t.startNode(i)));
        rec.notes.push(`nats back after ${formatSeconds(ctx.now() - rec.injectedAtMs!)}, gateways after the hold`);
        await sleep(p.holdMs);
        await Promise.all(t.gateways.map((_, i) => t.startGateway(i)));
        healed();
        break;
      }
      case FaultKind.MemberKill: {
        const i = Math.floor(p.pick * t.members.length);
        rec.target = t.members[i]!.name;
        await t.killMember(i);
        injected();
        await sleep(p.holdMs);
        await t.startMember(i);
        healed();
        break;
      }
      case FaultKind.SlowMember: {
        const i = Math.floor(p.pick * t.members.length);
        rec.target = t.members[i]!.name;
        t.slowMember(i, ctx.slowDelayMs);
        injected();
        rec.notes.push(`${ctx.slowDelayMs} ms before each message`);
        await sleep(p.holdMs);
        t.slowMember(i, 0);
        healed();
        break;
      }
      case FaultKind.DiskFull: {
        rec.target = "store filesystem";
        if (t.tmpfs !== "mounted") {
          rec.skipped = t.tmpfsProblem ?? "the store is not on a tmpfs";
          say(`skipped: ${rec.skipped}`);
          break;
        }
        const bytes = await t.fillStore();
        injected();
        rec.notes.push(`filled ${(bytes / 2 ** 20).toFixed(1)} MiB`);
        await sleep(p.holdMs);
        await t.freeStore();
        healed();
        const freedAt = ctx.now();
        // The station should come back by itself once space returns; if no producer gets an ack
        // for a while, restart nats-server (what an operator would do) and say so.
        const limit = ctx.selfRecoveryMs ?? 30_000;
        if (!(await until(() => ctx.lastAckAtMs() > freedAt, limit))) {
          rec.notes.push(`${RESTART_NOTE} (no ack within ${limit / 1000} s of freeing the disk)`);
          say("no produce after the disk was freed: restarting nats-server");
          await t.restartNode(0);
        }
        break;
      }
    }
  } catch (err) {
    throw new ChaosError(ChaosErrorCode.FaultFailed, `fault #${p.index} ${p.kind} ${rec.target}: ${(err as Error).message}`, {
      cause: err,
      details: { fault: p },
    });
  }
  return rec;
}

/** The node a node fault hits: any (nats-kill), the stream leader, or a follower. */
async function chooseNode(p: PlannedFault, ctx: FaultContext, rec: FaultRecord): Promise<number> {
  const t = ctx.topology;
  const index = (name: string | undefined) => t.nodes.findIndex((n) => n.name === name);
  if (p.kind === FaultKind.NatsKill || t.nodes.length === 1) {
    const i = Math.floor(p.pick * t.nodes.length);
    rec.target = t.nodes[i]!.name;
    return i;
  }
  // The leader is re-elected after each kill: ask until one is known (a few seconds at most).
  let placement = await t.streamPlacement(ctx.stream);
  const end = Date.now() + 15_000;
  while (!placement.leader && Date.now() < end) {
    await sleep(250);
    placement = await t.streamPlacement(ctx.stream);
  }
  if (!placement.leader) {
    const i = Math.floor(p.pick * t.nodes.length);
    rec.target = `${t.nodes[i]!.name} (no stream leader known)`;
    rec.notes.push("no stream leader was known: a node picked at random");
    return i;
  }
  if (p.kind === FaultKind.LeaderKill) {
    rec.target = `${placement.leader} (stream leader)`;
    return index(placement.leader);
  }
  const followers = placement.replicas.filter((r) => r !== placement.leader && index(r) >= 0 && t.nodes[index(r)]!.server);
  const name = followers.length
    ? pickOf(followers, p.pick)
    : pickOf(
        t.nodes.map((n) => n.name).filter((n) => n !== placement.leader),
        p.pick,
      );
  rec.target = `${name} (follower; leader ${placement.leader})`;
  return index(name);
}
