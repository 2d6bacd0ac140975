import { createRng } from "./rng.js";
import { FaultKind, type FaultSpec, type PlannedFault, type ScheduleSpec, type TopologySpec } from "./types.js";

/** Why a fault kind cannot run on a topology, or undefined when it can. */
export function faultUnsupported(kind: FaultKind, t: TopologySpec): string | undefined {
  switch (kind) {
    case FaultKind.LeaderKill:
    case FaultKind.FollowerKill:
      return t.natsServers < 3 ? "needs a 3-node cluster" : undefined;
    case FaultKind.DiskFull:
      if (t.natsServers !== 1) return "needs a single nats-server";
      return t.storeTmpfsMb > 0 ? undefined : "needs the store on a tmpfs (a preset with storeTmpfsMb)";
    case FaultKind.MemberKill:
    case FaultKind.SlowMember:
      return t.members < 1 ? "needs a consumer member" : undefined;
    case FaultKind.GatewayKill:
    case FaultKind.GatewaysDown:
      return t.gateways < 1 ? "needs a gateway" : undefined;
    case FaultKind.NatsKill:
      return undefined;
    case FaultKind.ColdRestart:
      return t.gateways < 1 ? "needs a gateway" : undefined;
  }
}

/** A fault schedule and what was left out of it. */
export interface Plan {
  faults: PlannedFault[];
  /** Fault kinds dropped for the topology, faults dropped for lack of time. */
  notes: string[];
}

/**
 * Spreads `count` faults over the run, deterministically for a seed. The window
 * [firstAtMs, durationMs − quietTailMs] is cut into equal slots, one fault per slot, placed at
 * a random point of its slot such that its hold and `minGapMs` still end inside the slot: so
 * faults never overlap, each heal is followed by at least `minGapMs` without a fault, and the
 * last `quietTailMs` have none. The first faults cover every kind once (in a seeded order);
 * the rest are drawn by weight. When slots would be too short for the shortest hold plus the
 * gap, fewer faults are planned.
 */
export function planFaults(s: ScheduleSpec, durationMs: number, seed: number, topology: TopologySpec): Plan {
  const notes: string[] = [];
  const usable: FaultSpec[] = [];
  for (const f of s.faults) {
    const why = faultUnsupported(f.kind, topology);
    if (why) notes.push(`${f.kind} left out: ${why}`);
    else usable.push(f);
  }
  if (usable.length === 0 || s.count <= 0) return { faults: [], notes };
  const start = s.firstAtMs;
  const window = durationMs - s.quietTailMs - start;
  const minHold = Math.min(...usable.map((f) => f.holdMs[0]));
  const fits = Math.max(0, Math.floor(window / (minHold + s.minGapMs)));
  const count = Math.min(s.count, fits);
  if (count < s.count)
    notes.push(`${s.count - count} of ${s.count} faults left out: ${Math.round(durationMs / 1000)} s leaves no room for them`);
  if (count === 0) return { faults: [], notes };
  const rng = createRng(seed);
  const slot = window / count;
  const room = slot - s.minGapMs;
  // Only kinds whose shortest hold fits a slot (the shortest of all always does).
  const fitting = usable.filter((f) => f.holdMs[0] <= room);
  for (const f of usable)
    if (f.holdMs[0] > room)
      notes.push(`${f.kind} left out: its shortest hold (${f.holdMs[0]} ms) does not fit a ${Math.round(room)} ms slot`);
  // The first faults cover every kind once, in a seeded order; the rest are drawn by weight.
  const first = shuffle(fitting, rng.next);
  const faults: PlannedFault[] = [];
  for (let i = 0; i < count; i++) {
    const spec = first[i] ?? rng.weighted(fitting.map((f) => ({ value: f, weight: f.weight })));
    const hold = Math.round(Math.min(rng.between(spec.holdMs[0], spec.holdMs[1]), room));
    const slack = Math.max(0, room - hold);
    const atMs = Math.round(start + i * slot + rng.next() * slack);
    faults.push({ index: i + 1, kind: spec.kind, atMs, holdMs: hold, pick: rng.next() });
  }
  return { faults, notes };
}

/** A seeded Fisher–Yates shuffle (a copy). */
function shuffle<T>(items: readonly T[], next: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
