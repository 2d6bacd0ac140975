import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Registry, Gauge, collectDefaultMetrics } from "prom-client";
import type { Gateway } from "../gateway/index.js";

/** The gateway's HTTP surface: /healthz, /readyz and /metrics. */
export interface HttpSurface {
  url: string;
  registry: Registry;
  close(): Promise<void>;
}

/**
 * Serves `/healthz` (the process is alive), `/readyz` (NATS connected, buckets and streams
 * ready) and `/metrics` (Prometheus).
 */
export async function startHttp(gw: Gateway, port: number, host = "0.0.0.0"): Promise<HttpSurface> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "junction_" });
  const counter = (name: string, help: string, pick: (s: ReturnType<Gateway["produceStats"]>) => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(pick(gw.produceStats())); } });
  counter("junction_produce_requests_total", "produce requests received", (s) => s.requests);
  counter("junction_produce_messages_total", "messages received for produce", (s) => s.messages);
  counter("junction_produce_stored_total", "messages stored", (s) => s.stored);
  counter("junction_produce_duplicates_total", "messages reported as duplicates", (s) => s.duplicates);
  counter("junction_produce_rejected_total", "messages refused (validation, function, size, store)", (s) => s.rejected);
  new Gauge({
    name: "junction_gateway_ready",
    help: "1 when the gateway is connected and serving",
    registers: [registry],
    collect() {
      this.set(gw.ready && !gw.context.nc.isClosed() ? 1 : 0);
    },
  });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const ready = gw.ready && !gw.context.nc.isClosed() && gw.context.nc.status !== undefined;
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "ready\n" : "not ready\n");
    } else if (path === "/metrics") {
      registry.metrics().then(
        (m) => res.writeHead(200, { "content-type": registry.contentType }).end(m),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    } else {
      res.writeHead(404).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`,
    registry,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
