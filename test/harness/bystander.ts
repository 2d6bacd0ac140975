import { expect } from "vitest";
import type { JunctionClient } from "../../sdk/index.js";
import { uniqueName } from "./index.js";

/**
 * Produces to a fresh station (with a JSON schema) every 50 ms until `work` settles; returns
 * how late each answer came, measured from the time the message was due (so a stalled event loop
 * shows, even where the gateway shares the test's process).
 */
export async function withBystander<T>(client: JunctionClient, work: () => Promise<T>): Promise<{ result: T; waits: number[] }> {
  const station = uniqueName("bystander");
  await client.stations.create(station);
  await client.schemas.create({ name: `${station}-s`, type: "json", definition: JSON.stringify({ type: "object", required: ["n"] }) });
  await client.schemas.attach(`${station}-s`, station);
  const producer = client.producer({ station, lingerMs: 0 });
  await producer.send({ n: -1 }); // schema loaded, connection warm
  let done = false;
  const waits: number[] = [];
  const loop = (async () => {
    const t0 = performance.now();
    for (let n = 0; !done || n < 4; n++) {
      const due = t0 + n * 50;
      const now = performance.now();
      if (due > now) await new Promise((r) => setTimeout(r, due - now));
      await producer.send({ n });
      waits.push(performance.now() - due);
    }
  })();
  try {
    const result = await work();
    return { result, waits };
  } finally {
    done = true;
    await loop;
    await producer.close();
  }
}

/**
 * The bystander was served throughout: answered several times, half of its requests within 1 s
 * of their due time and none later than 5 s. Generous bounds for a shared, loaded machine (with
 * both cores kept busy by other processes, the 90th percentile of a 100,000-message request's
 * bystander reached 1.02 s); a stalled event loop or a station blocking another shows as
 * seconds of delay for every request meanwhile, so the median catches it.
 */
export function expectServed(waits: readonly number[]): void {
  expect(waits.length).toBeGreaterThan(3);
  const sorted = [...waits].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length * 0.5)]!;
  expect(p50, `median of ${waits.length} bystander waits`).toBeLessThan(1000);
  expect(sorted[sorted.length - 1], `longest of ${waits.length} bystander waits`).toBeLessThan(5000);
}
