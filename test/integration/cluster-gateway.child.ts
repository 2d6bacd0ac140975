/**
 * A gateway in its own process, for the cluster test (so it can be killed with SIGKILL).
 * Reads its options as JSON from JN_CHILD_GATEWAY; prints one JSON line `{ id, httpUrl }` on
 * stdout once ready. Retries startup while the cluster's JetStream has no meta leader yet.
 */
import { startJunctionGateway, silentLogger, type JunctionGateway, type JunctionGatewayOptions } from "../../core/server/index.js";

const o = JSON.parse(process.env["JN_CHILD_GATEWAY"] ?? "{}") as JunctionGatewayOptions;
const deadline = Date.now() + 30_000;
let gw: JunctionGateway | undefined;
while (!gw) {
  try {
    gw = await startJunctionGateway({ ...o, logger: silentLogger, httpPort: -1, httpHost: "127.0.0.1" });
  } catch (err) {
    if (Date.now() > deadline) throw err;
    await new Promise((r) => setTimeout(r, 250));
  }
}
const running = gw;
process.on("SIGTERM", () => {
  void running.close().finally(() => process.exit(0));
});
process.stdout.write(`${JSON.stringify({ id: running.id, httpUrl: running.httpUrl })}\n`);
