import { FaultKind, type ChaosPreset, type Expectation, type ScheduleSpec, type TopologySpec, type WorkloadSpec } from "./types.js";

/** The workload every preset starts from. */
const WORKLOAD: WorkloadSpec = Object.freeze({
  producers: 2,
  ratePerSec: 300,
  payloadBytes: 200,
  poisonEvery: 250,
  terminateEvery: 500,
  maxAckTimeMs: 5000,
  maxMsgDeliveries: 5,
  batchSize: 10,
  slowDelayMs: 250,
  requestTimeoutMs: 0,
  partitions: 1,
  keys: 0,
});

/** A defect every preset that restarts or re-elects NATS can run into. */
const RECONNECT_GIVES_UP: Expectation = {
  known:
    "an SDK client gives up reconnecting after two refused logins in a row (the auth callout cannot answer while NATS restarts or elects leaders)",
};

const SINGLE: TopologySpec = Object.freeze({ natsServers: 1, fsync: true, gateways: 2, members: 2, storeTmpfsMb: 0 });
const CLUSTER: TopologySpec = Object.freeze({ natsServers: 3, fsync: true, gateways: 2, members: 2, storeTmpfsMb: 0 });

const schedule = (s: Partial<ScheduleSpec> & Pick<ScheduleSpec, "faults" | "count">): ScheduleSpec => ({
  firstAtMs: 8000,
  quietTailMs: 12_000,
  minGapMs: 12_000,
  ...s,
});

/** The built-in scenarios (`junction chaos --list`). */
export const PRESETS: readonly ChaosPreset[] = Object.freeze([
  {
    name: "smoke",
    description: "30 s: one nats-server, two gateways, two members; a gateway and a member killed (the CI run)",
    durationMs: 30_000,
    topology: SINGLE,
    workload: { ...WORKLOAD, ratePerSec: 200 },
    schedule: schedule({
      firstAtMs: 6000,
      quietTailMs: 8000,
      minGapMs: 4000,
      count: 2,
      faults: [
        { kind: FaultKind.GatewayKill, weight: 1, holdMs: [1000, 2000] },
        { kind: FaultKind.MemberKill, weight: 1, holdMs: [1000, 2000] },
      ],
    }),
    expect: {},
  },
  {
    name: "gateway-kill",
    description: "75 s: three gateways, one SIGKILLed every ~15 s and started again",
    durationMs: 75_000,
    topology: { ...SINGLE, gateways: 3 },
    workload: WORKLOAD,
    schedule: schedule({ count: 4, faults: [{ kind: FaultKind.GatewayKill, weight: 1, holdMs: [1500, 3000] }] }),
    expect: {},
  },
  {
    name: "all-gateways-down",
    description: "75 s: every gateway SIGKILLed at once, down for 3-6 s, three times",
    durationMs: 75_000,
    topology: SINGLE,
    workload: WORKLOAD,
    schedule: schedule({ count: 3, faults: [{ kind: FaultKind.GatewaysDown, weight: 1, holdMs: [3000, 6000] }] }),
    expect: {},
  },
  {
    name: "nats-kill",
    description: "75 s: the single nats-server (fsync before ack) SIGKILLed three times, down 2-4 s, restarted on its store",
    durationMs: 75_000,
    topology: SINGLE,
    workload: WORKLOAD,
    schedule: schedule({ count: 3, faults: [{ kind: FaultKind.NatsKill, weight: 1, holdMs: [2000, 4000] }] }),
    expect: { "clients-closed": RECONNECT_GIVES_UP },
  },
  {
    name: "nats-kill-lazy",
    description: "60 s: as nats-kill with NATS's lazy fsync (a process crash, not a power loss: the page cache survives)",
    durationMs: 60_000,
    topology: { ...SINGLE, fsync: false },
    workload: WORKLOAD,
    schedule: schedule({ count: 2, faults: [{ kind: FaultKind.NatsKill, weight: 1, holdMs: [2000, 4000] }] }),
    expect: { "clients-closed": RECONNECT_GIVES_UP },
  },
  {
    name: "cluster-leader",
    description: "100 s: 3-node cluster, R3 station; the stream leader (twice) and a follower SIGKILLed, down 3-5 s",
    durationMs: 100_000,
    topology: CLUSTER,
    workload: WORKLOAD,
    schedule: schedule({
      count: 3,
      minGapMs: 15_000,
      faults: [
        { kind: FaultKind.LeaderKill, weight: 2, holdMs: [3000, 5000] },
        { kind: FaultKind.FollowerKill, weight: 1, holdMs: [3000, 5000] },
      ],
    }),
    expect: { "clients-closed": RECONNECT_GIVES_UP },
  },
  {
    name: "consumer-kill",
    description: "90 s: three members; members SIGKILLed (down 1-3 s) and one made slow (250 ms per message) for 6-9 s",
    durationMs: 90_000,
    topology: { ...SINGLE, members: 3 },
    workload: WORKLOAD,
    schedule: schedule({
      count: 4,
      minGapMs: 8000,
      faults: [
        { kind: FaultKind.MemberKill, weight: 2, holdMs: [1000, 3000] },
        { kind: FaultKind.SlowMember, weight: 1, holdMs: [6000, 9000] },
      ],
    }),
    // A member holds at most its batch and renews it (10 × 250 ms < the 5 s ack time): a slow
    // member causes no false dead letter.
    expect: {},
  },
  {
    name: "disk-full",
    description: "75 s: the store on a 64 MiB tmpfs, filled to the last byte for 4-6 s then freed, twice",
    durationMs: 75_000,
    topology: { ...SINGLE, storeTmpfsMb: 64 },
    workload: WORKLOAD,
    schedule: schedule({ count: 2, minGapMs: 15_000, faults: [{ kind: FaultKind.DiskFull, weight: 1, holdMs: [4000, 6000] }] }),
    expect: {
      "clients-closed": RECONNECT_GIVES_UP,
      recovered: { known: "after a real out-of-space error the stream keeps failing writes until nats-server restarts" },
      "stored-but-reported-failed": { known: "a write that fails on a full disk can be stored yet reported failed" },
    },
  },
  {
    name: "mixed",
    description: "120 s: 3-node cluster, three gateways, three members; a bit of everything",
    durationMs: 120_000,
    topology: { ...CLUSTER, gateways: 3, members: 3 },
    workload: WORKLOAD,
    schedule: schedule({
      count: 7,
      minGapMs: 8000,
      faults: [
        { kind: FaultKind.GatewayKill, weight: 2, holdMs: [1500, 3000] },
        { kind: FaultKind.GatewaysDown, weight: 1, holdMs: [2000, 4000] },
        { kind: FaultKind.LeaderKill, weight: 2, holdMs: [3000, 5000] },
        { kind: FaultKind.FollowerKill, weight: 1, holdMs: [3000, 5000] },
        { kind: FaultKind.MemberKill, weight: 2, holdMs: [1000, 3000] },
        { kind: FaultKind.SlowMember, weight: 1, holdMs: [5000, 8000] },
      ],
    }),
    expect: { "clients-closed": RECONNECT_GIVES_UP },
  },
  {
    name: "slow-consumer",
    description:
      "60 s: one of two members slow (100 ms per message, batch 10) for 30-35 s; a slow but healthy member must cause no dead letter",
    durationMs: 60_000,
    topology: SINGLE,
    workload: { ...WORKLOAD, slowDelayMs: 100, maxMsgDeliveries: 3 },
    schedule: schedule({
      count: 1,
      quietTailMs: 10_000,
      minGapMs: 5000,
      faults: [{ kind: FaultKind.SlowMember, weight: 1, holdMs: [30_000, 35_000] }],
    }),
    expect: {},
  },
  {
    name: "keyed",
    description:
      "60 s: a station of 4 partitions, 200 ordering keys, three members; members and nats-server SIGKILLed: per-key order judged (key-order)",
    durationMs: 60_000,
    topology: { ...SINGLE, members: 3 },
    workload: { ...WORKLOAD, partitions: 4, keys: 200 },
    schedule: schedule({
      count: 3,
      minGapMs: 10_000,
      faults: [
        { kind: FaultKind.MemberKill, weight: 2, holdMs: [1000, 3000] },
        { kind: FaultKind.NatsKill, weight: 1, holdMs: [2000, 3000] },
      ],
    }),
    expect: { "clients-closed": RECONNECT_GIVES_UP },
  },
  {
    name: "cold-restart",
    description:
      "60 s: the whole broker SIGKILLed twice; nats-server back at once, the gateways 3-5 s later; clients must reconnect by themselves",
    durationMs: 60_000,
    topology: SINGLE,
    workload: WORKLOAD,
    schedule: schedule({ count: 2, faults: [{ kind: FaultKind.ColdRestart, weight: 1, holdMs: [3000, 5000] }] }),
    expect: {},
  },
] satisfies ChaosPreset[]);

/** The preset of that name, or undefined. */
export function findPreset(name: string): ChaosPreset | undefined {
  return PRESETS.find((p) => p.name === name);
}
