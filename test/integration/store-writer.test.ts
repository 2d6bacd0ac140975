/**
 * The store writer against a real nats-server: many atomic batches to one stream at once stay
 * within the server's limits (queued messages per stream, 100,000 by default, and 50 open atomic
 * batches per stream), so none is refused, and they are stored in the order they were given.
 * The server here queues at most 20,000 messages per stream (`max_buffered_msgs`): the writer's
 * 16 batches of 1,000 in flight fit, while 200 sent at once overflow it however fast or slow the
 * machine is (on a busy machine the default 100,000 was not always reached).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsStoreWriter } from "../../core/nats/batch.js";
import { startBroker, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let nc: NatsConnection;
const enc = new TextEncoder();

beforeAll(async () => {
  broker = await startBroker({ sync: "default", maxBufferedMsgs: 20_000 });
  nc = await broker.raw("gateway");
  const jsm = await broker.jsm();
  await jsm.streams.add({ name: "WRITER_A", subjects: ["writer.a"], allow_atomic: true });
  await jsm.streams.add({ name: "WRITER_B", subjects: ["writer.b"], allow_atomic: true });
});
afterAll(() => broker.stop());

/** `batches` atomic batches of `size` messages published at once; their acks. */
function burst(w: NatsStoreWriter, subject: string, batches: number, size: number) {
  return Promise.all(
    Array.from({ length: batches }, (_, b) =>
      w.publishAtomic(
        subject,
        Array.from({ length: size }, (_, i) => ({ id: `${b}-${i}`, headers: undefined, payload: enc.encode(`${b}-${i}`) })),
      ),
    ),
  );
}

it("keeps 200 atomic batches of 1,000 sent at once within the server's limit, all stored in order", async () => {
  const w = new NatsStoreWriter(nc, 30_000);
  const acks = await burst(w, "writer.a", 200, 1000);
  expect(acks.filter((a) => !a.ok)).toEqual([]);
  // Stored in the order given: batch b's last message has sequence (b + 1) * 1000.
  expect(acks.map((a) => (a.ok ? a.seq : -1))).toEqual(Array.from({ length: 200 }, (_, b) => (b + 1) * 1000));
  w.close();
});

it("without the limit the server refuses batches beyond its own (the reason for the limit)", async () => {
  const w = new NatsStoreWriter(nc, 30_000, 1000);
  const acks = await burst(w, "writer.b", 200, 1000);
  const refused = acks.filter((a) => !a.ok);
  expect(refused.length).toBeGreaterThan(0);
  expect(refused[0]).toMatchObject({ ok: false, description: expect.stringMatching(/too many requests|incomplete|too many inflight/) });
  w.close();
});
