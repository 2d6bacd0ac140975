import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { createHttpServer, type HttpApiBinding, type HttpApiOptions } from "../http/index.js";
import { JunctionError } from "../protocol/index.js";
import { GatewayMetrics } from "./metrics.js";

/** The gateway's HTTP surface: /healthz, /readyz, /metrics and the HTTP API under /v1. */
export interface HttpSurface {
  url: string;
  registry: Registry;
  metrics: GatewayMetrics;
  /** Binds the HTTP API to the composed gateway (until then its requests answer 503). */
  bind(b: HttpApiBinding): void;
  /** Fetches of the HTTP API waiting now. */
  waitingFetches(): number;
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
  /** Options of the HTTP API (`/v1`). @default on, with its defaults */
  api?: HttpApiOptions | undefined;
  /** Serve HTTPS with this PEM certificate and key (files). @default plain HTTP */
  tls?: { certFile: string; keyFile: string } | undefined;
}

const PROBES = ["/healthz", "/readyz", "/metrics"] as const;

/**
 * Serves `/healthz` (the process is alive: always 200), `/readyz` (200 only while the gateway
 * serves requests and its NATS connection is up, else 503), `/metrics` (Prometheus) and the HTTP
 * API under `/v1` (see core/http). The surface can come up before the gateway: /healthz answers
 * 200, /readyz 503 and the API 503 until then.
 */
export async function startHttp(o: HttpOptions): Promise<HttpSurface> {
  const host = o.host ?? "127.0.0.1";
  const { metrics } = o;
  const server = await createHttpServer({ api: o.api, tls: o.tls ? readTls(o.tls) : undefined, ready: () => metrics.ready });
  const { app } = server;
  const text = "text/plain";
  const probe = { security: [], tags: ["health"] };
  app.get("/healthz", { schema: { ...probe, summary: "Liveness (text): always 200 while the process runs" } }, async (_req, reply) =>
    reply.type(text).send("ok\n"),
  );
  app.get(
    "/readyz",
    { schema: { ...probe, summary: "Readiness (text): 200 while the gateway serves and NATS is up, else 503" } },
    async (_req, reply) => {
      const ready = metrics.ready;
      return reply
        .code(ready ? 200 : 503)
        .type(text)
        .send(ready ? "ready\n" : "not ready\n");
    },
  );
  app.get(
    "/metrics",
    {
      schema: { tags: ["health"], summary: "Prometheus metrics (a bearer token when the gateway has one)", security: [{ bearerAuth: [] }] },
    },
    async (req, reply) => {
      if (o.metricsToken !== undefined && !tokenMatches(req.headers.authorization, o.metricsToken)) {
        return reply.code(401).header("www-authenticate", 'Bearer realm="junction-metrics"').type(text).send("unauthorized\n");
      }
      try {
        const m = await metrics.metrics();
        return await reply.type(metrics.registry.contentType).send(m);
      } catch (e) {
        return reply
          .code(500)
          .type(text)
          .send(`${String(e)}\n`);
      }
    },
  );
  for (const url of PROBES) {
    app.route({
      method: ["POST", "PUT", "DELETE", "PATCH"],
      url,
      schema: { hide: true },
      handler: async (_req, reply) => reply.code(405).header("allow", "GET, HEAD").send(),
    });
  }
  await app.listen({ port: o.port, host });
  const addr = app.server.address() as AddressInfo;
  const scheme = o.tls ? "https" : "http";
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`,
    registry: metrics.registry,
    metrics,
    bind: (b) => server.bind(b),
    waitingFetches: () => server.waitingFetches(),
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}

/** Reads the HTTPS certificate and key, failing with the option's name. */
function readTls(t: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (path: string, option: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new JunctionError("INVALID_ARGUMENT", `gateway.httpTls.${option}: cannot read ${path}: ${(err as Error).message}`, {
        cause: err,
        details: { option: `gateway.httpTls.${option}` },
      });
    }
  };
  return { cert: read(t.certFile, "certFile"), key: read(t.keyFile, "keyFile") };
}

/** Whether an Authorization header carries the token (constant-time compare). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
