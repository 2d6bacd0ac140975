/**
 * A gateway in its own process, as Junction runs in production: the benchmark's clients and the
 * gateway do not share an event loop. Reads its settings from JUNCTION_BENCH_GATEWAY (JSON),
 * prints `ready` on stdout, and closes on SIGTERM (so `--cpu-prof` writes its profile).
 */
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
// The parent went away: do not linger.
process.stdin.on("close", stop);
process.stdin.resume();
