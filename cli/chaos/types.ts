/**
 * The shapes of a chaos run: what a preset asks for (topology, workload, fault schedule,
 * expectations) and what a run reports (faults with recovery times, books, checks).
 */
import type { BooksSummary } from "./books.js";

/** The faults the engine can inject. */
export const FaultKind = {
  /** SIGKILL one gateway process; start a new one after the hold. */
  GatewayKill: "gateway-kill",
  /** SIGKILL every gateway; start them again after the hold. */
  GatewaysDown: "gateways-down",
  /** SIGKILL one nats-server (the only one, or any node of a cluster); restart it on its store after the hold. */
  NatsKill: "nats-kill",
  /** Cluster: SIGKILL the node leading the station's stream; restart it after the hold. */
  LeaderKill: "leader-kill",
  /** Cluster: SIGKILL a node that replicates the station's stream without leading it; restart it after the hold. */
  FollowerKill: "follower-kill",
  /** SIGKILL one consumer member process; start a new one after the hold. */
  MemberKill: "member-kill",
  /** Make one member slow (a delay before each message) for the hold. */
  SlowMember: "slow-member",
  /** Fill the store's filesystem (a small tmpfs) for the hold, then free it. */
  DiskFull: "disk-full",
  /**
   * The whole broker crashes: every nats-server and gateway SIGKILLed; the nats-servers come
   * back at once, the gateways only after the hold (clients reconnect while no gateway answers
   * the auth callout).
   */
  ColdRestart: "cold-restart",
} as const;
/** A {@link FaultKind}. */
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/** One kind of fault a schedule may draw, with its weight and how long it holds. */
export interface FaultSpec {
  kind: FaultKind;
  /** Relative weight of the draw. */
  weight: number;
  /** How long the fault holds before it is healed, in ms: drawn from [min, max]. */
  holdMs: readonly [number, number];
}

/** The processes of a run. */
export interface TopologySpec {
  /** 1 nats-server, or a 3-node JetStream cluster (the station then has 3 replicas). */
  natsServers: 1 | 3;
  /** fsync before ack (`sync_interval: always`). */
  fsync: boolean;
  /** Gateway processes (`junction gateway`). */
  gateways: number;
  /** Consumer group members, each its own process. */
  members: number;
  /** Single node only: the store on a tmpfs of this many MiB (0 = the ordinary disk). */
  storeTmpfsMb: number;
}

/** What the producers and members do. */
export interface WorkloadSpec {
  /** Producer clients (each its own connection). */
  producers: number;
  /** Messages per second, over all producers. */
  ratePerSec: number;
  /** Padding in each JSON payload, in bytes. */
  payloadBytes: number;
  /** Every Nth message is poison: members nak it until it exhausts its deliveries (0 = none). */
  poisonEvery: number;
  /** Every Nth message is dead-lettered by the member that gets it (`deadLetter()`; 0 = none). */
  terminateEvery: number;
  /** The group's ack time, in ms. */
  maxAckTimeMs: number;
  /** The group's deliveries before a message is dead-lettered. */
  maxMsgDeliveries: number;
  /** Each member's batch size (prefetch). */
  batchSize: number;
  /** Delay before each message of a slow member, in ms. */
  slowDelayMs: number;
  /** The producers' request timeout, in ms; 0 = the SDK's default. */
  requestTimeoutMs: number;
  /** The station's partitions (1: not partitioned). */
  partitions: number;
  /** Ordering keys the messages are spread over, round robin (0: no keys). */
  keys: number;
}

/** How faults are spread over a run. */
export interface ScheduleSpec {
  faults: readonly FaultSpec[];
  /** Faults to draw (fewer when the duration has no room for them). */
  count: number;
  /** No fault before this, in ms from the start of the workload. */
  firstAtMs: number;
  /** No fault in the last part of the run, in ms (recovery is measured there). */
  quietTailMs: number;
  /** At least this long between one fault's heal and the next fault, in ms. */
  minGapMs: number;
}

/** The checks a run's books are judged by. */
export const CheckName = {
  /** Acked to the producer but not stored, or stored and neither consumed nor (poison) dead-lettered. */
  Lost: "lost",
  /** One message id stored more than once. */
  StoredTwice: "stored-twice",
  /** A poison or terminated message with more than one dead letter. */
  DlsDoubled: "dls-doubled",
  /** Stream or DLS entries that no producer of the run sent. */
  UnknownEntries: "unknown-entries",
  /** Every fault was followed by a successful produce (on every producer) and consume. */
  Recovered: "recovered",
  /** Reported failed to the producer, yet stored. */
  StoredButReportedFailed: "stored-but-reported-failed",
  /** Dead letters of messages the members would have acked (not poison). */
  FalseDeadLetters: "false-dead-letters",
  /** A message delivered again with the same delivery count as before (the server forgot a delivery). */
  Replays: "replays",
  /** A member handed out a copy with a lower delivery count after a higher one (held past its ack time). */
  StaleCopies: "stale-copies",
  /** SDK clients (producers, members' consumers) that gave up for good and had to be started again. */
  ClientsClosed: "clients-closed",
  /**
   * A key's message handed to a member after a later message of the same key, with no fault in
   * between that can lose an ack (a member or nats-server killed): per-key order broken.
   */
  KeyOrder: "key-order",
} as const;
/** A {@link CheckName}. */
export type CheckName = (typeof CheckName)[keyof typeof CheckName];

/** Checks whose failure always fails the run (a preset cannot relax them). */
export const FATAL_CHECKS: readonly CheckName[] = Object.freeze([
  CheckName.Lost,
  CheckName.StoredTwice,
  CheckName.DlsDoubled,
  CheckName.UnknownEntries,
]);

/**
 * What a failed check means for the run: `fail` (exit non-zero), `report` (shown only), or a
 * known defect (shown with the note; fails only with `--strict`).
 */
export type Expectation = "fail" | "report" | { known: string };

/** A named scenario. */
export interface ChaosPreset {
  name: string;
  description: string;
  /** Length of the workload, in ms (the drain and the books come after). */
  durationMs: number;
  topology: TopologySpec;
  workload: WorkloadSpec;
  schedule: ScheduleSpec;
  /** Expectations beyond the defaults; fatal checks ignore this. */
  expect: Readonly<Partial<Record<CheckName, Expectation>>>;
  /** Shown by `--list` but left out of `--preset all` (a scenario that shows a known defect). */
  extra?: boolean;
}

/** One fault of a schedule. */
export interface PlannedFault {
  /** Position in the schedule, from 1. */
  index: number;
  kind: FaultKind;
  /** When to inject it, in ms from the start of the workload. */
  atMs: number;
  holdMs: number;
  /** A number in [0, 1) that picks the target (which gateway, member or node) at run time. */
  pick: number;
}

/** What happened to one fault, and how long the broker took to recover from it. */
export interface FaultRecord extends PlannedFault {
  /** When it was really injected (ms from the start). */
  injectedAtMs: number | undefined;
  /** When it was healed (the process back and ready, the disk freed), in ms from the start. */
  healedAtMs: number | undefined;
  /** What was hit: `gw-2`, `n1 (stream leader)`, `member-3`… */
  target: string;
  /** Why it was not injected, when it was not. */
  skipped?: string | undefined;
  /** From the injection to the end of the longest time without an ack on a producer (the slowest producer), in ms. */
  produceBackMs: number | undefined;
  /** From the injection to the end of the longest time without a new message reaching a member, in ms. */
  consumeBackMs: number | undefined;
  /** The longest a message sent around this fault waited from send to its first processing, in ms. */
  worstEndToEndMs: number | undefined;
  notes: string[];
}

/** One judged check. */
export interface CheckResult {
  name: CheckName;
  /** The count behind it. */
  value: number;
  /** `ok`; `fail` (fails the run); `known` (a known defect: fails only with --strict); `report` (shown only). */
  status: "ok" | "fail" | "known" | "report";
  note?: string | undefined;
}

/** Everything a run found (also the JSON of `--json-out`). */
export interface ChaosResult {
  preset: string;
  description: string;
  seed: number;
  /** Length of the workload, in ms. */
  durationMs: number;
  startedAt: string;
  /** The whole run, start-up and books included, in ms. */
  wallMs: number;
  topology: TopologySpec & {
    /** Whether the store's tmpfs was mounted (`off` when the preset has none). */
    tmpfs: "mounted" | "unavailable" | "off";
    natsServerVersion: string | undefined;
  };
  workload: WorkloadSpec;
  /** Fault kinds or faults the plan left out, and why. */
  planNotes: string[];
  faults: FaultRecord[];
  books: BooksSummary;
  /** The wait after the workload for every message to be consumed or dead-lettered. */
  drain: { ms: number; complete: boolean };
  checks: CheckResult[];
  passed: boolean;
  /** SDK clients that gave up for good (a producer's connection closed, a member's consumer ended), each started again. */
  clientsClosed: number;
  /** Anything else worth knowing (tmpfs unavailable, gateways that needed several starts…). */
  notes: string[];
  /** The folder with the logs and stores, when it was kept. */
  dir: string | undefined;
}
