import { randomBytes } from "node:crypto";
import swagger from "@fastify/swagger";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Caller, GatewayFront } from "../gateway/index.js";
import type { GroupPuller } from "../nats/index.js";
import { JunctionError, MAX_NAME_LENGTH, assertName, traceHeadersOf, type ProduceMessage, type ProduceResult } from "../protocol/index.js";
import { HttpAuthenticator, isLoopback, parseBasicAuth } from "./auth.js";
import { HttpConsumer, PayloadEncoding } from "./consume.js";
import { docsPage, type OpenApiDocument } from "./docs.js";
import { resolveHttpApiOptions, type HttpApiOptions, type ResolvedHttpApiOptions } from "./options.js";
import { ADMIN_ROUTES, type JsonSchema } from "./routes.js";
import { asJunctionError, httpStatusOf, type HttpErrorBody } from "./status.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Who asks (set before the body is read, on routes that need a user). */
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    /** The route needs an authenticated user. */
    auth?: boolean;
  }
}

/** What the API needs from a running gateway; bound once it is composed. */
export interface HttpApiBinding {
  front: GatewayFront;
  /** Absent when the store cannot deliver (then consuming over HTTP answers INTERNAL). */
  puller?: GroupPuller | undefined;
}

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  /** The API's options. */
  api?: HttpApiOptions | undefined;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Whether the gateway serves requests now (readiness). */
  ready: () => boolean;
}

/** The gateway's HTTP server: Fastify with the `/v1` API, its OpenAPI document and docs page. */
export interface HttpServer {
  /** The Fastify instance: add more routes before it listens (they appear in the OpenAPI document). */
  readonly app: FastifyInstance;
  /** The resolved API options. */
  readonly options: ResolvedHttpApiOptions;
  /** Binds the API to a composed gateway; until then API requests answer GATEWAY_UNAVAILABLE (503). */
  bind(b: HttpApiBinding): void;
  /** Fetches waiting now. */
  waitingFetches(): number;
  /** Every route registered on `app` so far (HEAD routes aside), and whether it is hidden from the document. */
  routes(): readonly { method: string; url: string; hidden: boolean }[];
}

/** The API's base path. */
export const API_BASE = "/v1";

const ERROR_SCHEMA: JsonSchema = {
  $id: "Error",
  type: "object",
  description: "Every error: a stable code, whether a retry can help, and details saying what and where",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        retriable: { type: "boolean" },
        details: { type: "object" },
      },
      required: ["code", "message"],
    },
  },
  required: ["error"],
};
const ERROR_REF = { $ref: "Error#" };
const ANY_OBJECT: JsonSchema = { type: "object", description: "the operation's data (see docs/protocol.md)", additionalProperties: true };

const nameParam: JsonSchema = { type: "string", maxLength: 256, description: `^[a-z0-9][a-z0-9_-]{0,${MAX_NAME_LENGTH - 1}}$` };

function errorFromAjv(part: string, e: ErrorObject | undefined): JunctionError {
  const path = e ? `${e.instancePath}${e.keyword === "required" ? `/${String(e.params["missingProperty"])}` : ""}` : "";
  const what = e?.keyword === "required" ? "is required" : (e?.message ?? "is invalid");
  const additional = e?.keyword === "additionalProperties" ? ` ('${String(e.params["additionalProperty"])}')` : "";
  return new JunctionError("INVALID_ARGUMENT", `${part}${path} ${what}${additional}`, {
    details: { part, path, keyword: e?.keyword ?? "" },
  });
}

/** Compiles route schemas: strict for bodies; query strings and path parameters coerced to their types. */
function validatorCompiler() {
  const strict = new Ajv({ strict: true, allErrors: false, coerceTypes: false });
  const coercing = new Ajv({ strict: true, allErrors: false, coerceTypes: true, useDefaults: true });
  for (const a of [strict, coercing]) a.addFormat("binary", true);
  return ({ schema, httpPart, contentType }: { schema: unknown; httpPart?: string | undefined; contentType?: string | undefined }) => {
    // A raw body (produce) is bytes: its schema only documents it.
    if (contentType !== undefined && contentType !== "application/json") return (data: unknown) => ({ value: data });
    const ajv = httpPart === "body" ? strict : coercing;
    const v: ValidateFunction = ajv.compile(schema as object);
    const part = httpPart === "querystring" ? "query" : (httpPart ?? "request");
    return (data: unknown) => {
      // No body at all is an empty object: routes whose body is optional take none.
      const value = httpPart === "body" && data === null ? {} : data;
      return v(value) ? { value } : { error: errorFromAjv(part, v.errors?.[0]) };
    };
  };
}

/** The JunctionError for whatever a route or Fastify threw. */
function toJunction(err: unknown, o: ResolvedHttpApiOptions): JunctionError {
  if (err instanceof JunctionError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new JunctionError("PAYLOAD_TOO_LARGE", `the request body is over ${o.maxBodyBytes} bytes`, {
        cause: err,
        details: { max: o.maxBodyBytes },
      });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new JunctionError("INVALID_FRAME", `the request body is not JSON: ${e.message ?? ""}`, { cause: err });
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new JunctionError("INVALID_FRAME", e.message ?? "bad request body", { cause: err });
    default:
      break;
  }
  if (err instanceof SyntaxError) {
    // secure-json-parse refuses __proto__ and constructor.prototype keys.
    return new JunctionError("INVALID_FRAME", `the request body is refused: ${err.message}`, { cause: err });
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return new JunctionError("INVALID_ARGUMENT", e.message ?? "bad request", { cause: err });
  }
  return asJunctionError(err);
}

function sendError(reply: FastifyReply, err: JunctionError): FastifyReply {
  const status = httpStatusOf(err.code);
  if (err.code === "AUTH_FAILED") void reply.header("www-authenticate", 'Basic realm="junction", charset="UTF-8"');
  if (status === 503) void reply.header("retry-after", "1");
  const body: HttpErrorBody = { error: err.toBody() };
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

const enc = new TextEncoder();
const BASE64 = "^[A-Za-z0-9+/]*={0,2}$";

/**
 * Creates the gateway's HTTP server: the `/v1` API (produce, consume, admin reads, dead
 * letters, health), `/v1/openapi.json` generated from the route schemas and a docs page at
 * `/v1/docs`. The caller adds its own routes (probes, metrics) and listens.
 */
export async function createHttpServer(so: HttpServerOptions): Promise<HttpServer> {
  const o = resolveHttpApiOptions(so.api);
  const log = o.logger;
  let bound: HttpApiBinding | undefined;
  const front = () => bound?.front;
  const auth = new HttpAuthenticator({ front, maxChecks: o.maxPasswordChecks, maxQueue: o.maxPasswordQueue, clock: o.clock });
  const consumer = new HttpConsumer({ front, puller: () => bound?.puller, options: o });

  const app = Fastify({
    bodyLimit: o.maxBodyBytes,
    trustProxy: o.trustProxy,
    logger: false,
    // Close waits for requests in flight; idle keep-alive connections (probes, scrapers) close at once.
    forceCloseConnections: "idle",
    ...(so.tls ? { https: { cert: so.tls.cert, key: so.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  const routes: { method: string; url: string; hidden: boolean }[] = [];
  app.addHook("onRoute", (r) => {
    for (const method of [r.method].flat()) {
      if (method === "HEAD") continue;
      routes.push({ method, url: r.url, hidden: (r.schema as { hide?: boolean } | undefined)?.hide === true });
    }
  });
  app.setValidatorCompiler(validatorCompiler());
  // Response schemas document the answers; they do not filter them.
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(data));
  // Any content type other than JSON is one raw message (produce); elsewhere it fails the body schema.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.decorateRequest("caller", null);
  app.addSchema(ERROR_SCHEMA);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Junction HTTP API",
        version: "1",
        description:
          "Produce, consume (long-poll fetch, then ack / nak / in-progress / dead-letter by token), read stations, groups, schemas and functions, and handle dead letters. Errors: { error: { code, message, retriable, details } } with the status of docs/http.md.",
      },
      components: { securitySchemes: { basicAuth: { type: "http", scheme: "basic" }, bearerAuth: { type: "http", scheme: "bearer" } } },
      security: [{ basicAuth: [] }],
    },
    refResolver: {
      buildLocalReference: (json: { $id?: unknown }, _base: unknown, _frag: unknown, i: number) => String(json.$id ?? `def-${i}`),
    },
  });

  app.setErrorHandler((err, req, reply) => {
    const j = toJunction(err, o);
    if (httpStatusOf(j.code) >= 500) log.warn("HTTP request failed", { method: req.method, url: req.url, code: j.code, error: j.message });
    return sendError(reply, j);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0] ?? "";
    if (path === API_BASE || path.startsWith(`${API_BASE}/`)) {
      return reply.code(404).send({
        error: new JunctionError("INVALID_ARGUMENT", `no route ${req.method} ${path}`, { details: { method: req.method, path } }).toBody(),
      });
    }
    return reply.code(404).type("text/plain").send("not found\n");
  });

  // Authentication before the body is read: an unauthenticated client cannot make the gateway parse 8 MiB.
  app.addHook("onRequest", async (req) => {
    if (!req.routeOptions.config.auth) return;
    if (!o.enabled) throw new JunctionError("INVALID_ARGUMENT", "the HTTP API is off on this gateway");
    const creds = parseBasicAuth(req.headers.authorization);
    if (creds && !o.insecureAuth && req.protocol !== "https" && !isLoopback(o.trustProxy ? req.ip : req.socket.remoteAddress)) {
      throw new JunctionError(
        "AUTH_FAILED",
        "basic auth over plain HTTP is refused from other machines: use HTTPS (or a TLS proxy with trustProxy), or allow it with insecureAuth",
        { details: { reason: "insecure-transport" } },
      );
    }
    const identity = await auth.authenticate(creds);
    const tenant = req.headers["jn-tenant"];
    req.caller = { identity, tenant: typeof tenant === "string" && tenant !== "" ? tenant : undefined };
  });
  let closing = false;
  // While closing, every answer ends its connection, so the client does not reuse a socket that is going away.
  app.addHook("onSend", async (_req, reply, payload) => {
    if (closing) void reply.header("connection", "close");
    return payload;
  });
  app.addHook("preClose", async () => {
    closing = true;
    consumer.abortAll();
    // Node keeps a keep-alive connection whose request was in flight when the server closed until
    // its keep-alive timeout (72 s in Fastify), and close waits for it: reap connections as they
    // become idle (measured on Node 24).
    const server = app.server;
    if (!server.listening) return;
    const reap = setInterval(() => server.closeIdleConnections(), 50);
    reap.unref();
    // A connection can outlive its request (a client that half-closed it, a call that hangs): cut
    // what is still open after the grace, so closing always ends.
    const cut = setTimeout(() => {
      log.warn("HTTP close: connections still open after the grace are cut", { closeGraceMs: o.closeGraceMs });
      server.closeAllConnections();
    }, o.closeGraceMs);
    cut.unref();
    server.once("close", () => {
      clearInterval(reap);
      clearTimeout(cut);
    });
  });

  const callerOf = (req: FastifyRequest): Caller => {
    if (!req.caller) throw new JunctionError("INTERNAL", "no caller on an authenticated route");
    return req.caller;
  };
  const mustFront = (): GatewayFront => {
    const f = front();
    if (!f) throw new JunctionError("GATEWAY_UNAVAILABLE", "the gateway is starting", { details: { reason: "starting" } });
    return f;
  };
  const errorResponses = { "4xx": { ...ERROR_REF, description: "an error (status by code: docs/http.md)" }, "5xx": ERROR_REF };
  const params = (url: string): JsonSchema | undefined => {
    const names = [...url.matchAll(/:([a-zA-Z]+)/g)].map((m) => m[1]!);
    if (names.length === 0) return undefined;
    return {
      type: "object",
      properties: Object.fromEntries(names.map((n) => [n, n === "id" ? { type: "string", maxLength: 1024 } : nameParam])),
      required: names,
    };
  };

  // ---- health -------------------------------------------------------------------------------
  app.get(
    `${API_BASE}/health`,
    {
      schema: { tags: ["health"], summary: "Liveness: the process answers", security: [], response: { 200: { type: "object" } } },
    },
    async () => ({ status: "ok" }),
  );
  app.get(
    `${API_BASE}/ready`,
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: 200 while the gateway serves requests and is connected to NATS, else 503",
        security: [],
        response: { 200: { type: "object" }, 503: ERROR_REF },
      },
    },
    async (_req, reply) => {
      if (so.ready() && bound) return { status: "ready" };
      return sendError(reply, new JunctionError("GATEWAY_UNAVAILABLE", "the gateway is not ready", { details: { reason: "not-ready" } }));
    },
  );

  // ---- produce ------------------------------------------------------------------------------
  const messageSchema: JsonSchema = {
    type: "object",
    properties: {
      id: { type: "string", maxLength: o.maxIdLength, description: "de-duplication id (retry with the same id: stored once)" },
      headers: { type: "object", additionalProperties: { type: "string" }, description: "user headers (not Jn-* or Nats-*)" },
      payload: { description: "the payload as a JSON value (stored as its JSON text)" },
      payloadBase64: { type: "string", pattern: BASE64, description: "the payload bytes, base64" },
    },
    additionalProperties: false,
  };
  const resultSchema: JsonSchema = {
    type: "object",
    description: "one per message, in order, exactly as the SDK's sendBatch reports them",
    properties: {
      ok: { type: "boolean" },
      id: { type: "string" },
      seq: { type: "integer" },
      duplicate: { type: "boolean" },
      seqs: { type: "array", items: { type: "integer" } },
      dropped: { type: "boolean" },
      error: { type: "object" },
    },
    required: ["ok", "id"],
  };
  const resultsSchema: JsonSchema = { type: "object", properties: { results: { type: "array", items: resultSchema } } };
  app.post<{ Params: { station: string } }>(
    `${API_BASE}/stations/:station/messages`,
    {
      config: { auth: true },
      schema: {
        tags: ["produce"],
        summary:
          "Produce: application/json {messages:[{id?, headers?, payload | payloadBase64}]}, or one raw message with any other content type (id from Idempotency-Key)",
        params: params("/:station"),
        headers: {
          type: "object",
          properties: {
            "idempotency-key": { type: "string", description: "raw message: its de-duplication id" },
            "jn-producer": { type: "string", maxLength: 256, description: "the producer's name, stored with the messages" },
          },
        },
        body: {
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: { messages: { type: "array", items: messageSchema } },
                required: ["messages"],
                additionalProperties: false,
              },
            },
            "application/octet-stream": {
              schema: { type: "string", format: "binary", description: "one raw message (any non-JSON content type)" },
            },
          },
        },
        response: { 200: resultsSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const f = mustFront();
      const caller = callerOf(req);
      const station = req.params.station;
      assertName("station", station);
      const producerHeader = req.headers["jn-producer"];
      const producer = typeof producerHeader === "string" && producerHeader !== "" ? producerHeader : `http:${caller.identity.user}`;
      const prefix = randomBytes(6).toString("hex");
      const raw = Buffer.isBuffer(req.body);
      let messages: ProduceMessage[];
      if (raw) {
        const key = req.headers["idempotency-key"];
        const id = typeof key === "string" && key !== "" ? key : `${prefix}-0`;
        if (id.length > o.maxIdLength) {
          throw new JunctionError("INVALID_ARGUMENT", `Idempotency-Key is longer than ${o.maxIdLength} characters`, {
            details: { header: "Idempotency-Key", max: o.maxIdLength },
          });
        }
        const type = req.headers["content-type"];
        messages = [{ id, headers: typeof type === "string" ? { "Content-Type": type } : undefined, payload: req.body as Buffer }];
      } else {
        const body = req.body as { messages?: unknown } | undefined;
        if (!body || !Array.isArray(body.messages)) {
          throw new JunctionError(
            "INVALID_ARGUMENT",
            "send {messages:[...]} as application/json, or one raw message with a Content-Type other than application/json",
          );
        }
        const list = body.messages as { id?: string; headers?: Record<string, string>; payload?: unknown; payloadBase64?: string }[];
        if (list.length > o.maxMessages) {
          throw new JunctionError("BATCH_TOO_LARGE", `a request may carry at most ${o.maxMessages} messages; got ${list.length}`, {
            details: { messages: list.length, max: o.maxMessages },
          });
        }
        messages = list.map((m, i) => {
          const hasJson = Object.hasOwn(m, "payload");
          if (hasJson === (m.payloadBase64 !== undefined)) {
            throw new JunctionError("INVALID_ARGUMENT", `message ${i} needs exactly one of payload and payloadBase64`, {
              details: { index: i, path: `/messages/${i}` },
            });
          }
          const payload = hasJson ? enc.encode(JSON.stringify(m.payload)) : Buffer.from(m.payloadBase64!, "base64");
          return { id: m.id ?? `${prefix}-${i}`, headers: m.headers, payload };
        });
      }
      // The request's W3C trace context (when valid) parents the gateway's `produce` span.
      const tp = req.headers["traceparent"];
      const ts = req.headers["tracestate"];
      const trace =
        typeof tp === "string" ? traceHeadersOf({ traceparent: tp, ...(typeof ts === "string" ? { tracestate: ts } : {}) }) : undefined;
      const results = await f.produce(caller, station, messages, { producer, trace });
      const out = results.map((r: ProduceResult, i) =>
        "error" in r ? { ok: false, id: messages[i]!.id, error: r.error } : { ok: true, id: messages[i]!.id, ...r },
      );
      const first = results[0];
      if (raw && first && "error" in first) {
        return reply.code(httpStatusOf(first.error.code)).send({ error: first.error, results: out });
      }
      return { results: out };
    },
  );

  // ---- consume ------------------------------------------------------------------------------
  const groupParams = params("/:station/:group");
  const fetchedSchema: JsonSchema = {
    type: "object",
    properties: {
      token: { type: "string", description: "answers this delivery (ack, nak, in-progress, dead-letter); yours alone" },
      seq: { type: "integer" },
      deliveryCount: { type: "integer" },
      redelivered: { type: "boolean" },
      timestamp: { type: "string" },
      id: { type: "string" },
      producer: { type: "string" },
      schema: { type: "string" },
      headers: { type: "object", additionalProperties: { type: "string" } },
      payload: { description: "the payload, when it is JSON (encoding auto)" },
      payloadBase64: { type: "string", description: "the payload bytes, when not JSON or with encoding base64" },
    },
    required: ["token", "seq", "deliveryCount", "redelivered", "timestamp", "headers"],
  };
  app.post<{ Params: { station: string; group: string }; Querystring: { max: number; waitMs: number; encoding: PayloadEncoding } }>(
    `${API_BASE}/stations/:station/groups/:group/fetch`,
    {
      config: { auth: true },
      schema: {
        tags: ["consume"],
        summary: "Fetch up to `max` messages as a member of the group, waiting up to `waitMs` for the first (long poll)",
        params: groupParams,
        querystring: {
          type: "object",
          properties: {
            max: { type: "integer", minimum: 1, maximum: o.maxFetchMessages, default: o.defaultFetchMessages },
            waitMs: { type: "integer", minimum: 0, maximum: o.maxWaitMs, default: o.defaultWaitMs },
            encoding: { type: "string", enum: Object.values(PayloadEncoding), default: PayloadEncoding.Auto },
          },
          additionalProperties: false,
        },
        response: { 200: { type: "object", properties: { messages: { type: "array", items: fetchedSchema } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const ctl = new AbortController();
      // The client hung up before the answer: its messages go back to the group at once.
      reply.raw.once("close", () => {
        if (!reply.raw.writableFinished) ctl.abort();
      });
      return consumer.fetch(callerOf(req), req.params.station, req.params.group, {
        max: req.query.max,
        waitMs: req.query.waitMs,
        encoding: req.query.encoding,
        signal: ctl.signal,
      });
    },
  );
  const tokens: JsonSchema = { type: "array", items: { type: "string", maxLength: 4096 }, minItems: 1 };
  const answerResults: JsonSchema = {
    type: "object",
    properties: {
      results: { type: "array", items: { type: "object", properties: { ok: { type: "boolean" }, error: { type: "object" } } } },
    },
  };
  const answers = [
    { path: "ack", summary: "Acknowledge messages: the group is done with them", body: { tokens }, kind: "ack" },
    {
      path: "nak",
      summary: "Give messages back for redelivery, after `delayMs` when given",
      body: { tokens, delayMs: { type: "integer", minimum: 0, maximum: 7 * 86_400_000 } },
      kind: "nak",
    },
    { path: "in-progress", summary: "Extend the ack deadline of messages by the group's maxAckTimeMs", body: { tokens }, kind: "working" },
    {
      path: "dead-letter",
      summary: "Give up on messages now: they go to the dead-letter station (reason terminated) with your reason",
      body: { tokens, reason: { type: "string", minLength: 1, maxLength: 1024 } },
      kind: "term",
    },
  ] as const;
  for (const a of answers) {
    const required = a.kind === "term" ? ["tokens", "reason"] : ["tokens"];
    app.post<{ Params: { station: string; group: string }; Body: { tokens: string[]; delayMs?: number; reason?: string } }>(
      `${API_BASE}/stations/:station/groups/:group/${a.path}`,
      {
        config: { auth: true },
        schema: {
          tags: ["consume"],
          summary: a.summary,
          params: groupParams,
          body: { type: "object", properties: a.body, required, additionalProperties: false },
          response: { 200: answerResults, ...errorResponses },
        },
      },
      async (req) => {
        const b = req.body;
        const answer =
          a.kind === "nak"
            ? { kind: a.kind, delayMs: b.delayMs }
            : a.kind === "term"
              ? { kind: a.kind, reason: b.reason }
              : { kind: a.kind };
        return consumer.answer(callerOf(req), req.params.station, req.params.group, b.tokens, answer);
      },
    );
  }

  // ---- admin --------------------------------------------------------------------------------
  for (const r of ADMIN_ROUTES) {
    app.route<{ Params: Record<string, string>; Querystring: Record<string, unknown>; Body: Record<string, unknown> }>({
      method: r.method,
      url: r.url,
      config: { auth: true },
      schema: {
        tags: [r.tag],
        summary: r.summary,
        description: `Runs the admin operation \`${r.op}\`.`,
        ...(params(r.url) ? { params: params(r.url) } : {}),
        ...(r.query ? { querystring: { type: "object", properties: r.query, additionalProperties: false } } : {}),
        ...(r.body ? { body: r.body } : {}),
        response: { 200: ANY_OBJECT, ...errorResponses },
      },
      handler: async (req) => {
        const data = await mustFront().call(callerOf(req), r.op, r.build(req.params, req.query ?? {}, req.body ?? {}));
        return r.answer ? r.answer(data) : data;
      },
    });
  }

  // ---- the document -------------------------------------------------------------------------
  app.get(
    `${API_BASE}/openapi.json`,
    { schema: { tags: ["docs"], summary: "This API as an OpenAPI 3.1 document", security: [], response: { 200: { type: "object" } } } },
    async () => app.swagger(),
  );
  app.get(
    `${API_BASE}/docs`,
    { schema: { tags: ["docs"], summary: "This API as a page", security: [], response: { 200: { type: "string" } } } },
    async (_req, reply) => reply.type("text/html; charset=utf-8").send(docsPage(app.swagger() as OpenApiDocument)),
  );

  return {
    app,
    options: o,
    bind(b) {
      bound = b;
    },
    waitingFetches: () => consumer.waiting,
    routes: () => routes,
  };
}
