import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { JunctionError } from "../protocol/index.js";
import type { Clock } from "../support/index.js";

/** Whom a delivery was handed to, and where its answers go. */
export interface TokenClaims {
  user: string;
  tenant: string;
  station: string;
  group: string;
  /** The delivery's JetStream reply subject. */
  reply: string;
}

const VERSION = "1";
const MAC_BYTES = 32;

/**
 * Ack tokens: a delivery's reply subject with the user, tenant, station and group it was handed
 * to, signed with HMAC-SHA256. Only the gateway can make one; a token is accepted only from the
 * same user, for the same station and group, until it expires. The claims are readable (base64url
 * JSON); nothing in them is secret, the signature is what matters.
 */
export class AckTokens {
  readonly #key: Uint8Array;
  readonly #ttlMs: number;
  readonly #clock: Clock;

  constructor(o: { key?: Uint8Array | undefined; ttlMs: number; clock: Clock }) {
    this.#key = o.key ?? randomBytes(32);
    this.#ttlMs = o.ttlMs;
    this.#clock = o.clock;
  }

  #mac(body: string): Buffer {
    return createHmac("sha256", this.#key).update(body).digest();
  }

  /** A token for a delivery. */
  sign(c: TokenClaims): string {
    const body = Buffer.from(
      JSON.stringify({ v: VERSION, u: c.user, t: c.tenant, s: c.station, g: c.group, r: c.reply, e: this.#clock.now() + this.#ttlMs }),
    ).toString("base64url");
    return `${body}.${this.#mac(body).toString("base64url")}`;
  }

  /**
   * The reply subject of a token, when it was made by this key for `expect` (user, tenant,
   * station and group) and has not expired. Throws INVALID_ARGUMENT for something that is not a
   * token, PERMISSION_DENIED for a token that is forged, altered, expired or someone else's.
   * `index` names the token in the request.
   */
  verify(token: unknown, expect: Omit<TokenClaims, "reply">, index: number): string {
    const malformed = () =>
      new JunctionError("INVALID_ARGUMENT", `token ${index} is not an ack token`, { details: { index, path: `/tokens/${index}` } });
    const refused = (why: string) =>
      new JunctionError("PERMISSION_DENIED", `token ${index} is not valid here: ${why}`, { details: { index, reason: why } });
    if (typeof token !== "string") throw malformed();
    const dot = token.indexOf(".");
    if (dot <= 0 || dot !== token.lastIndexOf(".")) throw malformed();
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1), "base64url");
    const want = this.#mac(body);
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, want)) throw refused("bad signature (forged, altered, or made by another key)");
    let c: Record<string, unknown>;
    try {
      c = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
      throw malformed();
    }
    if (c["v"] !== VERSION || typeof c["r"] !== "string" || typeof c["e"] !== "number") throw malformed();
    if (c["u"] !== expect.user || c["t"] !== expect.tenant) throw refused("it was given to another user");
    if (c["s"] !== expect.station || c["g"] !== expect.group) throw refused("it belongs to another station or group");
    if (c["e"] < this.#clock.now()) throw refused("expired");
    return c["r"];
  }
}

/**
 * A token key derived from a deployment secret (HKDF-SHA256), so every gateway of the deployment
 * signs and accepts the same tokens without one more secret to distribute.
 */
export function tokenKeyFrom(secret: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, "junction", "junction http ack tokens v1", 32));
}
