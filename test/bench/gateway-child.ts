/**
 * A gateway in its own process, as Junction runs in production: the benchmark's clients and the
 * gateway do not share an event loop. Reads its settings from JUNCTION_BENCH_GATEWAY (JSON),
 * prints `ready` on stdout, answers `mem` on stdin with `mem {"rss":…,"heapUsed":…}` after a
 * full garbage collection (when started with --expose-gc), and closes on SIGTERM (so
 * `--cpu-prof` writes its profile).
 */
import { createInterface } from "node:readline";
import { startJunctionGateway, silentLogger, type JunctionGatewayOptions } from "../../core/server/index.js";

const cfg = JSON.parse(process.env["JUNCTION_BENCH_GATEWAY"] ?? "{}") as JunctionGatewayOptions;
const gw = await startJunctionGateway({ ...cfg, logger: silentLogger });
process.stdout.write("ready\n");
let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  gw.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
const lines = createInterface({ input: process.stdin });
lines.on("line", (l) => {
  if (l.trim() !== "mem") return;
  // Twice: the first pass can leave objects that only a second one frees (weak refs, finalizers).
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  process.stdout.write(`mem ${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed })}\n`);
});
// The parent went away: do not linger.
lines.on("close", stop);
