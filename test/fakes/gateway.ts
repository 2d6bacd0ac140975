/**
 * A whole gateway in-process on the in-memory backend: for unit tests of produce, resend and the
 * admin API without a nats-server.
 */
import type { FunctionRuntime } from "../../functions/index.js";
import { Headers, encodeBatch, subjects, type ApiReply, type ProduceMessage, type ProduceReply } from "../../core/protocol/index.js";
import { composeGateway, silentLogger, type JunctionGateway, type JunctionGatewayOptions } from "../../core/server/index.js";
import { manualClock, type ManualClock } from "../../core/support/index.js";
import { MemoryBackend, type FakeRequest } from "./memory-backend.js";

/** A function runtime that passes every message through unchanged (or as `transform` says). */
export function passThroughRuntime(transform: (payload: unknown) => unknown = (p) => p): FunctionRuntime {
  return {
    runBatch: async (_spec, _ctx, ms) => ms.map((m) => ({ ok: true, messages: [{ ...m, payload: transform(m.payload) }] })),
    runPipeline: async (_steps, _station, ms) => ms.map((m) => ({ ok: true, messages: [{ ...m, payload: transform(m.payload) }] })),
    logs: () => [],
    stats: () => ({ calls: 0, errors: 0 }),
    evict: () => {},
    quarantined: () => [],
    release: () => [],
    poolStats: () => ({
      workers: [],
      reservedMb: 0,
      budgetMb: 0,
      isolates: 0,
      busyIsolates: 0,
      workersStarted: 0,
      isolatesCreated: 0,
      sandboxCalls: 0,
    }),
    close: async () => {},
  };
}

/** A gateway on a fake store, and helpers to talk to it as a client would. */
export interface FakeGateway {
  backend: MemoryBackend;
  gateway: JunctionGateway;
  clock: ManualClock;
  /** Calls an admin operation; returns the reply as sent. */
  api<T = unknown>(op: string, body?: unknown, extra?: Partial<FakeRequest>): Promise<ApiReply<T>>;
  /** Calls an admin operation and returns its data (throws with the error body otherwise). */
  ok<T = unknown>(op: string, body?: unknown): Promise<T>;
  /** Produces a batch (the SDK's frame). */
  produce(station: string, messages: Partial<ProduceMessage>[], extra?: Partial<FakeRequest>): Promise<ApiReply<ProduceReply>>;
  close(): Promise<void>;
}

const enc = new TextEncoder();

/** Starts a gateway on a fresh in-memory backend. */
export async function fakeGateway(o: Partial<JunctionGatewayOptions> = {}): Promise<FakeGateway> {
  const clock = manualClock();
  const backend = new MemoryBackend(() => clock.now());
  const gateway = await composeGateway(backend, {
    logger: silentLogger,
    clock,
    functionRuntime: passThroughRuntime(),
    auth: { mode: "none" },
    ...o,
  });
  const api = <T>(op: string, body: unknown = {}, extra: Partial<FakeRequest> = {}) =>
    backend.call<ApiReply<T>>({ subject: subjects.apiOp(op), data: JSON.stringify(body), ...extra });
  return {
    backend,
    gateway,
    clock,
    api,
    async ok<T>(op: string, body: unknown = {}) {
      const r = await api<T>(op, body);
      if (!r.ok) throw Object.assign(new Error(`${op}: ${r.error.code} ${r.error.message}`), { body: r.error });
      return r.data;
    },
    produce(station, messages, extra = {}) {
      const frame = encodeBatch(messages.map((m) => ({ id: m.id ?? "", headers: m.headers, payload: m.payload ?? enc.encode("{}") })));
      return backend.call<ApiReply<ProduceReply>>({
        subject: subjects.produce(station),
        data: frame,
        headers: { [Headers.Batch]: "1" },
        ...extra,
      });
    },
    close: () => gateway.close(),
  };
}
