import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { GatewayMetrics } from "./metrics.js";

/** The gateway's HTTP surface: /healthz, /readyz and /metrics. */
export interface HttpSurface {
  url: string;
  registry: Registry;
  metrics: GatewayMetrics;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link startHttp}. */
export interface HttpOptions {
  /** Port; 0 = a free port (see `url`). */
  port: number;
  /** Interface to listen on. @default "127.0.0.1" */
  host?: string | undefined;
  /**
   * The metrics to serve; they also say whether the gateway is ready. Until a gateway is bound to
   * them, /readyz answers 503.
   */
  metrics: GatewayMetrics;
  /** A bearer token /metrics requires (`Authorization: Bearer <token>`); the probes stay open. @default none */
  metricsToken?: string | undefined;
}

/**
 * Serves `/healthz` (the process is alive: always 200), `/readyz` (200 only while the gateway
 * serves requests and its NATS connection is up, else 503) and `/metrics` (Prometheus). The
 * surface can come up before the gateway: /healthz answers 200 and /readyz 503 until then.
 */
export async function startHttp(o: HttpOptions): Promise<HttpSurface> {
  const host = o.host ?? "127.0.0.1";
  const { metrics } = o;
  const port = o.port;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const ready = metrics.ready;
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(ready ? "ready\n" : "not ready\n");
    } else if (path === "/metrics" && o.metricsToken !== undefined && !tokenMatches(req.headers.authorization, o.metricsToken)) {
      res.writeHead(401, { "content-type": "text/plain", "www-authenticate": 'Bearer realm="junction-metrics"' }).end("unauthorized\n");
    } else if (path === "/metrics") {
      metrics.metrics().then(
        (m) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(m),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(e)}\n`),
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`,
    registry: metrics.registry,
    metrics,
    close() {
      closing ??= new Promise<void>((r) => {
        server.close(() => r());
        // Prometheus and probes keep connections alive; do not wait for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Whether an Authorization header carries the token (constant-time compare). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
