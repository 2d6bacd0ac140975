import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../test/fakes/memory-backend.js";
import type { ConsumerAdvisory } from "../nats/index.js";
import { manualClock, silentLogger, systemClock } from "../support/index.js";
import { DeadLetterWriter } from "./writer.js";
import { AdvisoryListener, advisoryDeadLetter, poisonTermDeliveries } from "./listener.js";
import { resolveDlsOptions } from "./options.js";

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("probing idle consumer groups", () => {
  it("nudges the store every probe interval until stopped", async () => {
    const backend = new MemoryBackend();
    const listener = new AdvisoryListener({
      advisories: backend.advisories,
      reader: backend.reader,
      writer: new DeadLetterWriter({
        writer: backend.writer,
        reader: backend.reader,
        retention: async () => ({ maxAgeSeconds: 0, maxEntries: 100 }),
        events: { publish: () => {} },
      }),
      logger: silentLogger,
      options: resolveDlsOptions({ probeIntervalMs: 10 }),
      replicas: 1,
      clock: systemClock,
    });
    await listener.start();
    await until(() => backend.advisoryFeed.nudges >= 3);
    await listener.stop();
    const after = backend.advisoryFeed.nudges;
    await listener.stop(); // idempotent
    expect(backend.advisoryFeed.nudges).toBe(after);
  });

  it("refuses probe settings out of range, naming the option", () => {
    expect(() => resolveDlsOptions({ probeIntervalMs: -1 })).toThrow(/dls\.probeIntervalMs/);
    expect(() => resolveDlsOptions({ maxProbesPerGroup: 0 })).toThrow(/dls\.maxProbesPerGroup/);
    expect(resolveDlsOptions().probeIntervalMs).toBe(3000);
  });
});

const advisory = (kind: ConsumerAdvisory["kind"], reason = ""): ConsumerAdvisory => ({
  kind,
  stream: "JN_ST_orders",
  consumer: "billing-P3",
  streamSeq: 42,
  deliveries: 1,
  reason,
  timestamp: "2026-01-01T00:00:00.000Z",
  advisoryId: "a1",
});

describe("dead letters from consumer advisories", () => {
  it("records a keyed member's poison term as poison with its own delivery count", () => {
    expect(poisonTermDeliveries("jn:poison:5")).toBe(5);
    for (const r of [
      undefined,
      "",
      "jn:poison:",
      "jn:poison:x",
      "jn:poison:0",
      "jn:poison:-2",
      "jn:poison:1e300",
      "bad input",
      "JN:POISON:5",
    ])
      expect(poisonTermDeliveries(r)).toBeUndefined();
    const dl = advisoryDeadLetter(advisory("terminated", "jn:poison:5"), undefined, manualClock())!;
    expect(dl).toMatchObject({ reason: "poison", deliveries: 5, groups: ["billing"], seq: 42 });
    expect(dl.error).toMatchObject({ code: "MAX_DELIVERIES", message: "not acked after 5 deliveries", details: { partition: 3 } });
    // Any other reason stays a terminated dead letter, with the application's words.
    const t = advisoryDeadLetter(advisory("terminated", "bad input"), undefined, manualClock())!;
    expect(t).toMatchObject({ reason: "terminated", deliveries: 1, error: { code: "TERMINATED", message: "bad input" } });
  });
});
