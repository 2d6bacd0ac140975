/**
 * For CLI tests: an Io that records what a command prints and lets a test wait for it, timers a
 * test advances by hand (`--watch`), an interrupt it sends (Ctrl-C), and a way to run
 * `junction <args>` in-process. Nothing here sleeps: every wait is on something the command did.
 */
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runProgram } from "../../cli/program.js";
import type { Io } from "../../cli/output.js";
import type { DeadLetter, DoctorReport, GroupInfo, Identity, QuotaReport, StationInfo } from "../../core/protocol/index.js";
import type { ConnectOptions, FunctionInfo, JunctionClient, SchemaInfo } from "../../sdk/index.js";

/** Options of {@link RecordingIo}. */
export interface RecordingIoOptions {
  /** Whether stdout is a terminal. @default false */
  outIsTTY?: boolean;
  /**
   * Environment. @default only JUNCTION_CONFIG, naming a file that does not exist (nothing from
   * the real environment or the user's config leaks in)
   */
  env?: NodeJS.ProcessEnv;
  /** The client every connect returns (or a connect of its own). */
  client?: JunctionClient | ((o: ConnectOptions) => Promise<JunctionClient>);
  /** Start of the clock, ms since the epoch. @default 2026-01-01T00:00:00Z */
  startMs?: number;
}

/** A pending `sleep` of the command under test. */
interface Sleeper {
  ms: number;
  resolve: () => void;
}

/** An Io that records output; its timers and its Ctrl-C are driven by the test. */
export class RecordingIo implements Io {
  stdout = "";
  stderr = "";
  readonly isTTY = false;
  readonly outIsTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly connect: ((o: ConnectOptions) => Promise<JunctionClient>) | undefined;
  /** Every connect's options, in order. */
  readonly connects: ConnectOptions[] = [];
  #nowMs: number;
  readonly #sleepers: Sleeper[] = [];
  readonly #interrupts = new Set<() => void>();
  readonly #waiters = new Set<() => void>();

  constructor(o: RecordingIoOptions = {}) {
    this.outIsTTY = o.outIsTTY ?? false;
    this.env = o.env ?? { JUNCTION_CONFIG: join(tmpdir(), `jn-cli-${randomBytes(6).toString("hex")}`, "config.yaml") };
    this.#nowMs = o.startMs ?? Date.parse("2026-01-01T00:00:00Z");
    const c = o.client;
    this.connect =
      c === undefined
        ? undefined
        : async (opts) => {
            this.connects.push(opts);
            return typeof c === "function" ? c(opts) : c;
          };
  }

  readonly out = (s: string): void => {
    this.stdout += s;
    this.#wake();
  };

  readonly err = (s: string): void => {
    this.stderr += s;
    this.#wake();
  };

  readonly now = (): number => this.#nowMs;

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const s: Sleeper = { ms, resolve };
      const done = () => {
        const i = this.#sleepers.indexOf(s);
        if (i >= 0) this.#sleepers.splice(i, 1);
        resolve();
      };
      s.resolve = done;
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", done, { once: true });
      this.#sleepers.push(s);
      this.#wake();
    });

  readonly onInterrupt = (stop: () => void): (() => void) => {
    this.#interrupts.add(stop);
    this.#wake();
    return () => this.#interrupts.delete(stop);
  };

  /** The durations of the sleeps the command is waiting in now. */
  get sleeping(): number[] {
    return this.#sleepers.map((s) => s.ms);
  }

  /** Moves the clock on by the first pending sleep and ends it. */
  tick(): void {
    const s = this.#sleepers.shift();
    if (!s) throw new Error("nothing is sleeping");
    this.#nowMs += s.ms;
    s.resolve();
  }

  /** Sends Ctrl-C. */
  interrupt(): void {
    for (const stop of [...this.#interrupts]) stop();
  }

  /** Resolves once `ready()` is true, checked after every output, sleep or interrupt hook. */
  until(ready: (io: this) => boolean, what = "the expected output", timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ready(this)) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; stdout so far:\n${this.stdout}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** Runs `junction <args>` in-process with `io`; resolves with the exit code. */
export function runJunction(io: Io, ...args: string[]): Promise<number> {
  return runProgram(io, ["node", "junction", ...args]);
}

/** Runs `junction <args>` on a fresh {@link RecordingIo}; returns the code and what it printed. */
export async function junctionOnce(
  o: RecordingIoOptions,
  ...args: string[]
): Promise<{ code: number; out: string; err: string; io: RecordingIo }> {
  const io = new RecordingIo(o);
  const code = await runJunction(io, ...args);
  return { code, out: io.stdout, err: io.stderr, io };
}

const T0 = "2026-01-01T00:00:00.000Z";

/** Fixture data the fake client answers with. */
export const fixtures = {
  station: {
    name: "orders",
    config: {
      retention: "limits",
      maxAgeSeconds: 0,
      maxMessages: -1,
      maxBytes: -1,
      storage: "file",
      replicas: 1,
      idempotencyWindowMs: 120_000,
      maxMessageSize: 1_048_576,
      partitions: 1,
    },
    createdAt: T0,
    state: { messages: 3, bytes: 300, firstSeq: 1, lastSeq: 3, consumers: 1 },
    schema: { name: "order", version: "latest" },
    functions: [],
  } satisfies StationInfo,
  group: {
    station: "orders",
    name: "billing",
    config: {
      maxAckTimeMs: 30_000,
      maxMsgDeliveries: 10,
      backoffMs: [],
      memberTimeoutMs: 5000,
      startPosition: { kind: "earliest" },
      exclusive: false,
    },
    stats: {
      pending: 2,
      unacked: 1,
      redelivered: 0,
      membersOnline: 1,
      deliveredSeq: 1,
      ackFloorSeq: 0,
      deadLettered: 0,
      oldestUnackedAgeMs: 0,
    },
  } satisfies GroupInfo,
  schema: {
    name: "order",
    type: "json",
    compatibility: "BACKWARD",
    latest: 1,
    createdAt: T0,
    updatedAt: T0,
    usedBy: ["orders"],
  } satisfies SchemaInfo,
  fn: { name: "enrich", latest: 1, createdAt: T0, updatedAt: T0, usedBy: [], stats: { calls: 0, errors: 0 } } satisfies FunctionInfo,
  deadLetter: {
    id: "poison:orders:1:billing",
    station: "orders",
    reason: "poison",
    groups: ["billing"],
    seq: 1,
    payload: Buffer.from('{"id":1}').toString("base64"),
    headers: {},
    deliveries: 3,
    createdAt: T0,
  } satisfies DeadLetter,
  user: { name: "app", tenant: "default", grants: { produce: ["*"], consume: ["*:*"], admin: false }, createdAt: T0, updatedAt: T0 },
  tenant: { name: "acme", createdAt: T0, description: "Acme" },
  identity: { user: "admin", tenant: "default", grants: { produce: [], consume: [], admin: true }, operator: true } satisfies Identity,
  doctor: {
    ok: true,
    checkedAt: T0,
    gateway: "gw-1",
    counts: { ok: 1, warn: 0, fail: 0 },
    checks: [{ id: "server.version", title: "nats-server version and features", status: "ok", message: "1 server, nats-server 2.15.1" }],
  } satisfies DoctorReport,
  quota: {
    tenant: "default",
    quotas: [
      { name: "stations", limit: 1000, source: "default", per: "stations per tenant", protects: "streams", current: 3 },
      {
        name: "groupsPerStation",
        limit: 50,
        source: "tenant",
        per: "consumer groups per station",
        protects: "consumers",
        current: 2,
        at: "orders",
      },
      { name: "messagesPerRequest", limit: 10_000, source: "broker", per: "messages per produce request", protects: "memory" },
    ],
    updatedAt: T0,
    updatedBy: "admin",
  } satisfies QuotaReport,
};

/** A client whose read operations answer with {@link fixtures} (or `overrides`); `close()` is counted. */
export function fakeClient(overrides: Record<string, unknown> = {}): JunctionClient & { closed: number } {
  const f = fixtures;
  const c = {
    closed: 0,
    stations: { list: async () => [f.station], get: async () => f.station },
    groups: { list: async () => [f.group], get: async () => f.group },
    schemas: {
      list: async () => [f.schema],
      get: async () => ({
        meta: f.schema,
        version: {
          name: "order",
          version: 1,
          createdAt: T0,
          prepared: { type: "json", definition: '{"type":"object"}', fingerprint: "ab12" },
        },
      }),
      versions: async () => [{ version: 1, createdAt: T0, fingerprint: "ab12cd34ef56ab12cd34" }],
    },
    functions: {
      list: async () => [f.fn],
      get: async () => ({
        meta: f.fn,
        version: {
          name: "enrich",
          version: 1,
          source: "export default (m) => m;",
          timeoutMs: 100,
          memoryMb: 16,
          inputs: [],
          createdAt: T0,
        },
      }),
      versions: async () => [{ version: 1, createdAt: T0, timeoutMs: 100, memoryMb: 16 }],
      logs: async () => ({ logs: [], stats: { calls: 4, errors: 0 } }),
      quarantined: async () => [{ function: "enrich", version: 1, reason: "memory", message: "out of memory", failures: 3, since: 0 }],
    },
    dls: {
      list: async () => ({ items: [f.deadLetter] }),
      get: async () => f.deadLetter,
      retention: async (station: string) => ({ station, maxAgeSeconds: 604_800, maxEntries: 100_000, trimmed: 0 }),
    },
    users: { list: async () => [f.user], get: async () => f.user },
    tenants: { list: async () => [f.tenant] },
    quotas: {
      list: async () => f.quota,
      set: async (limits: Record<string, number | null>) => ({ ...f.quota, changed: Object.keys(limits) }),
    },
    whoami: async () => f.identity,
    request: async (op: string) => {
      if (op === "doctor.run") return f.doctor;
      throw new Error(`no fake for ${op}`);
    },
    async close() {
      c.closed++;
    },
    ...overrides,
  };
  return c as unknown as JunctionClient & { closed: number };
}
