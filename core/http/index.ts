/**
 * The HTTP API on the gateway (`/v1`, Fastify): produce, consume as a member of a group (long-poll
 * fetch, answers by signed token), admin reads and writes through the gateway front, dead
 * letters, health, the OpenAPI document and a docs page.
 */
export { createHttpServer, API_BASE } from "./server.js";
export { DEFAULT_HTTP_API_OPTIONS, resolveHttpApiOptions } from "./options.js";
export { HTTP_STATUS, httpStatusOf } from "./status.js";
export { ADMIN_ROUTES } from "./routes.js";
export { AckTokens, tokenKeyFrom } from "./tokens.js";
export { parseBasicAuth, isLoopback } from "./auth.js";
export { PayloadEncoding } from "./consume.js";
export type { HttpServer, HttpServerOptions, HttpApiBinding } from "./server.js";
export type { HttpApiOptions, ResolvedHttpApiOptions } from "./options.js";
export type { HttpErrorBody } from "./status.js";
export type { AdminRoute } from "./routes.js";
export type { TokenClaims } from "./tokens.js";
export type { BasicCredentials } from "./auth.js";
export type { FetchedMessage, AnswerResult } from "./consume.js";
