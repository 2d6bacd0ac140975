import { JunctionError, check, resolveOptions, type Filled } from "../protocol/index.js";
import { silentLogger, systemClock, type Clock, type Logger } from "../support/index.js";

/** Options of the HTTP API (`/v1`). */
export interface HttpApiOptions {
  /** Serve the API under `/v1` (the probes and /metrics are served either way). @default true */
  enabled?: boolean | undefined;
  /** Largest request body, in bytes (JSON or raw); larger is PAYLOAD_TOO_LARGE (413). @default 8388608 */
  maxBodyBytes?: number | undefined;
  /** Most messages one produce request may carry; more is BATCH_TOO_LARGE (413). @default 10000 */
  maxMessages?: number | undefined;
  /** Longest message id (`id` or `Idempotency-Key`), in characters. @default 1024 */
  maxIdLength?: number | undefined;
  /** Most messages one fetch may return (`max`). @default 1000 */
  maxFetchMessages?: number | undefined;
  /** Messages a fetch returns when `max` is not given. @default 10 */
  defaultFetchMessages?: number | undefined;
  /** Longest long poll (`waitMs`), in ms. @default 60000 */
  maxWaitMs?: number | undefined;
  /** How long a fetch waits for a first message when `waitMs` is not given, in ms. @default 5000 */
  defaultWaitMs?: number | undefined;
  /** Most message bytes one fetch returns (JetStream `max_bytes`); keep it above the largest message. @default 16777216 */
  fetchMaxBytes?: number | undefined;
  /** Fetches one user may have waiting at once; more are refused (GATEWAY_UNAVAILABLE, 503). @default 8 */
  maxFetchesPerUser?: number | undefined;
  /** Fetches the whole gateway may have waiting at once. @default 1024 */
  maxFetches?: number | undefined;
  /** Tokens one ack, nak, in-progress or dead-letter request may carry. @default 1000 */
  maxTokens?: number | undefined;
  /**
   * Password checks (scrypt) run at once for credentials not seen recently; credentials already
   * accepted skip this queue, so a flood of bad passwords does not slow other users.
   * @default 4
   */
  maxPasswordChecks?: number | undefined;
  /** Password checks that may wait for a slot; more are refused (GATEWAY_UNAVAILABLE). @default 256 */
  maxPasswordQueue?: number | undefined;
  /**
   * Accept basic auth over plain HTTP from any address. Off: over plain HTTP only loopback
   * peers may send credentials (use HTTPS, or a TLS-terminating proxy with `trustProxy`).
   * @default false
   */
  insecureAuth?: boolean | undefined;
  /**
   * Trust `X-Forwarded-For` / `X-Forwarded-Proto` from the peer (a TLS-terminating proxy in
   * front of the gateway): the client address and scheme come from them. @default false
   */
  trustProxy?: boolean | undefined;
  /**
   * The key that signs ack tokens (at least 32 bytes). Every gateway behind one load balancer
   * needs the same key, so a token from one is accepted by the others. @default a random key per process
   */
  tokenKey?: Uint8Array | undefined;
  /** How long an ack token is accepted, in ms. @default 86400000 */
  tokenTtlMs?: number | undefined;
  /** How long the server waits for the store to confirm an ack, nak or term, in ms. @default 5000 */
  answerTimeoutMs?: number | undefined;
  /** How long a consume authorization (group exists, the user may consume as it) is reused, in ms; grants are re-read on every request. @default 5000 */
  accessCacheMs?: number | undefined;
  /**
   * How long closing waits for requests in flight before it cuts their connections, in ms
   * (waiting fetches end at once; this bounds slow calls and connections a client left half open).
   * @default 10000
   */
  closeGraceMs?: number | undefined;
  /** @default a silent logger */
  logger?: Logger | undefined;
  /** @default the system clock */
  clock?: Clock | undefined;
}

/** Resolved HTTP API options. */
export type ResolvedHttpApiOptions = Filled<Omit<HttpApiOptions, "tokenKey">> & Readonly<Pick<HttpApiOptions, "tokenKey">>;

/** Defaults of {@link HttpApiOptions}. */
export const DEFAULT_HTTP_API_OPTIONS: ResolvedHttpApiOptions = Object.freeze({
  enabled: true,
  maxBodyBytes: 8 * 1024 * 1024,
  maxMessages: 10_000,
  maxIdLength: 1024,
  maxFetchMessages: 1000,
  defaultFetchMessages: 10,
  maxWaitMs: 60_000,
  defaultWaitMs: 5000,
  fetchMaxBytes: 16 * 1024 * 1024,
  maxFetchesPerUser: 8,
  maxFetches: 1024,
  maxTokens: 1000,
  maxPasswordChecks: 4,
  maxPasswordQueue: 256,
  insecureAuth: false,
  trustProxy: false,
  tokenTtlMs: 86_400_000,
  answerTimeoutMs: 5000,
  accessCacheMs: 5000,
  closeGraceMs: 10_000,
  logger: silentLogger,
  clock: systemClock,
});

const key = ((v: unknown) => (v instanceof Uint8Array && v.length >= 32 ? undefined : "a key of at least 32 bytes")) as (
  v: unknown,
) => string | undefined;

/** Validates and freezes the HTTP API options; a bad value fails naming the option. */
export function resolveHttpApiOptions(o: HttpApiOptions = {}): ResolvedHttpApiOptions {
  const r = resolveOptions<HttpApiOptions>("http", DEFAULT_HTTP_API_OPTIONS, o, {
    enabled: check.bool,
    maxBodyBytes: check.int(1024, 1024 * 1024 * 1024),
    maxMessages: check.int(1, 1_000_000),
    maxIdLength: check.int(1, 65_535),
    maxFetchMessages: check.int(1, 100_000),
    defaultFetchMessages: check.int(1, 100_000),
    maxWaitMs: check.int(0, 600_000),
    defaultWaitMs: check.int(0, 600_000),
    fetchMaxBytes: check.int(1024, 1024 * 1024 * 1024),
    maxFetchesPerUser: check.int(1, 100_000),
    maxFetches: check.int(1, 1_000_000),
    maxTokens: check.int(1, 100_000),
    maxPasswordChecks: check.int(1, 1024),
    maxPasswordQueue: check.int(0, 100_000),
    insecureAuth: check.bool,
    trustProxy: check.bool,
    tokenKey: key,
    tokenTtlMs: check.int(1000),
    answerTimeoutMs: check.int(100, 600_000),
    accessCacheMs: check.int(0, 600_000),
    closeGraceMs: check.int(0, 600_000),
    logger: check.any,
    clock: check.any,
  }) as ResolvedHttpApiOptions;
  if (r.defaultFetchMessages > r.maxFetchMessages) {
    throw new JunctionError("INVALID_ARGUMENT", "http.defaultFetchMessages must not exceed http.maxFetchMessages", {
      details: { option: "http.defaultFetchMessages" },
    });
  }
  if (r.defaultWaitMs > r.maxWaitMs) {
    throw new JunctionError("INVALID_ARGUMENT", "http.defaultWaitMs must not exceed http.maxWaitMs", {
      details: { option: "http.defaultWaitMs" },
    });
  }
  return r;
}
