/**
 * Secrets never reach a log line: values under secret-looking keys are replaced at any depth,
 * and secrets that hide inside strings (credentials in a URL, a bearer token, an nkey seed, a
 * PEM private key) are masked. The logger runs every entry's fields through {@link redactSecrets}.
 */

/** What a redacted value becomes. */
export const REDACTED = "[redacted]";

/**
 * Key fragments that mark a value as secret, matched case-insensitively against the key with
 * `-`, `_` and `.` removed, anywhere in the key (`issuerSeed`, `JUNCTION_PASSWORD_FILE`'s
 * content, `x-api-key`, `metricsToken`, `Authorization`…). A few false positives (`tokens`) cost
 * nothing; a miss leaks a secret.
 */
export const SECRET_KEY_FRAGMENTS: readonly string[] = Object.freeze([
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "seed",
  "authorization",
  "credential",
  "cookie",
  "apikey",
  "privatekey",
  "signature",
  "jwt",
  "nkey",
]);

/** Whole keys that are secret on their own (nats.js calls the password `pass`). */
const SECRET_KEYS: ReadonlySet<string> = new Set(["pass", "pwd", "pw", "auth_token", "sig"]);

/** Deeper than this, values are cut (a log entry is not a data dump). */
const MAX_DEPTH = 8;

const keyCache = new Map<string, boolean>();

/** Whether a value under this key is a secret. */
export function isSecretKey(key: string): boolean {
  const hit = keyCache.get(key);
  if (hit !== undefined) return hit;
  const k = key.toLowerCase().replace(/[-_.\s]/g, "");
  const secret = SECRET_KEYS.has(key.toLowerCase()) || SECRET_KEYS.has(k) || SECRET_KEY_FRAGMENTS.some((f) => k.includes(f));
  // Keys come from code, not from users, so the cache stays small; the bound is a safety net.
  if (keyCache.size < 4096) keyCache.set(key, secret);
  return secret;
}

// `scheme://user:password@host` → the password masked.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi;
// `Bearer abc…`, `Basic dXNlcjpwYXNz`.
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;
// nkey seeds: `S` + key type + base32 (58 characters in all).
const NKEY_SEED = /\bS[ANOUCXP][A-Z2-7]{56}\b/g;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;

/** Masks the secrets a string may carry (URL credentials, auth headers, nkey seeds, private keys). */
export function redactString(s: string): string {
  // Cheap checks first: most strings hold none of these.
  if (s.includes("://")) s = s.replace(URL_CREDENTIALS, `$1${REDACTED}@`);
  if (s.includes("Bearer") || s.includes("Basic")) s = s.replace(AUTH_SCHEME, `$1 ${REDACTED}`);
  if (s.length >= 58) s = s.replace(NKEY_SEED, REDACTED);
  if (s.includes("PRIVATE KEY-----")) s = s.replace(PEM_PRIVATE_KEY, REDACTED);
  return s;
}

/**
 * A copy of `value` safe to log: values under secret keys (see {@link isSecretKey}) replaced by
 * `[redacted]` at any depth, strings masked by {@link redactString}, errors turned into
 * `{type, message, code?, stack?, cause?}`, byte arrays into their size, dates into ISO strings,
 * bigints into strings, cycles and depth beyond 8 cut.
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, 0, []);
}

function walk(v: unknown, depth: number, seen: object[]): unknown {
  if (typeof v === "string") return redactString(v);
  if (typeof v === "bigint") return v.toString();
  if (v === null || typeof v !== "object") return v;
  // The ancestors, not every object seen: a value logged twice side by side is no cycle.
  if (seen.includes(v)) return "[circular]";
  if (depth >= MAX_DEPTH) return "[…]";
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
  if (ArrayBuffer.isView(v)) return `[${v.byteLength} bytes]`;
  seen.push(v);
  try {
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1, seen));
    if (v instanceof Error) return walkError(v, depth, seen);
    if (v instanceof Map) return walkObject(Object.fromEntries(v), depth, seen);
    if (v instanceof Set) return [...v].map((x) => walk(x, depth + 1, seen));
    return walkObject(v, depth, seen);
  } finally {
    seen.pop();
  }
}

function walkObject(o: object, depth: number, seen: object[], out: Record<string, unknown> = {}): Record<string, unknown> {
  // for…in over own keys: the hot path (every log entry), cheaper than Object.entries.
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    const x = (o as Record<string, unknown>)[key];
    out[key] = isSecretKey(key) && x !== undefined && x !== null && x !== "" ? REDACTED : walk(x, depth + 1, seen);
  }
  return out;
}

function walkError(e: Error, depth: number, seen: object[]): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.name, message: redactString(e.message) };
  // The error's own fields (code, retriable, details…), with the same rules as any object.
  walkObject(e, depth, seen, out);
  if (e.stack !== undefined) out["stack"] = redactString(e.stack);
  if (e.cause !== undefined) out["cause"] = walk(e.cause, depth + 1, seen);
  return out;
}
