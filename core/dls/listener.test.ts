import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../test/fakes/memory-backend.js";
import { silentLogger, systemClock } from "../support/index.js";
import { DeadLetterWriter } from "./writer.js";
import { AdvisoryListener } from "./listener.js";
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
