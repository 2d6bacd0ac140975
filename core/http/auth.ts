import { createHmac, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import type { GatewayFront } from "../gateway/index.js";
import { JunctionError, type Identity } from "../protocol/index.js";
import type { Clock } from "../support/index.js";

/** A user and password from an `Authorization: Basic` header. */
export interface BasicCredentials {
  user: string;
  password: string;
}

/**
 * Reads `Authorization: Basic <base64(user:password)>`. Undefined when there is no header;
 * AUTH_FAILED when there is one that is not basic auth.
 */
export function parseBasicAuth(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined || header === "") return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  const decoded = m ? Buffer.from(m[1]!, "base64").toString("utf8") : "";
  const i = decoded.indexOf(":");
  if (!m || i <= 0) {
    throw new JunctionError("AUTH_FAILED", "the Authorization header must be basic auth: 'Basic base64(user:password)'", {
      details: { reason: "bad-header" },
    });
  }
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** Whether an address is the local machine (127.0.0.0/8, ::1, or IPv4 mapped into IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith("127.");
  return a === "::1";
}

/** A counting gate: at most `active` jobs at once, at most `queued` waiting, the rest refused. */
export class Gate {
  readonly #active: number;
  readonly #queued: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(active: number, queued: number) {
    this.#active = active;
    this.#queued = queued;
  }

  /** Runs `job` when a slot is free; undefined (without running it) when the queue is full. */
  async run<T>(job: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.#running >= this.#active) {
      if (this.#waiting.length >= this.#queued) return undefined;
      await new Promise<void>((r) => this.#waiting.push(r));
    } else {
      this.#running++;
    }
    try {
      return { value: await job() };
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter.
      if (next) next();
      else this.#running--;
    }
  }
}

/** How many accepted credentials are remembered (oldest forgotten first). */
const REMEMBERED = 10_000;
/** Accepted credentials skip the password-check queue for this long. */
const REMEMBER_MS = 10 * 60_000;

/**
 * Authenticates HTTP requests through the gateway front. Credentials that were accepted recently
 * go straight to the front (which answers them from its own cache, at the cost of an HMAC);
 * credentials not seen recently wait for one of a few password-check slots, so a flood of wrong
 * passwords (each an scrypt) queues behind itself and does not slow other users.
 */
export class HttpAuthenticator {
  readonly #front: () => GatewayFront | undefined;
  readonly #gate: Gate;
  readonly #clock: Clock;
  readonly #key = randomBytes(32);
  /** HMAC of user and password → when it was last accepted. */
  readonly #accepted = new Map<string, number>();

  constructor(o: { front: () => GatewayFront | undefined; maxChecks: number; maxQueue: number; clock: Clock }) {
    this.#front = o.front;
    this.#gate = new Gate(o.maxChecks, o.maxQueue);
    this.#clock = o.clock;
  }

  /** The identity of the credentials (none: a gateway without authentication accepts it), or AUTH_FAILED. */
  async authenticate(c: BasicCredentials | undefined): Promise<Identity> {
    const front = this.#front();
    if (!front) throw new JunctionError("GATEWAY_UNAVAILABLE", "the gateway is starting", { details: { reason: "starting" } });
    if (!c) {
      // A gateway without authentication accepts anyone; with it, an empty user is refused without any hashing.
      const open = await front.authenticate("", "", "http");
      if (open) return open;
      throw new JunctionError("AUTH_FAILED", "this API needs basic auth (Authorization: Basic base64(user:password))", {
        details: { reason: "no-credentials" },
      });
    }
    const k = createHmac("sha256", this.#key).update(c.user).update("\u0000").update(c.password).digest("base64");
    const now = this.#clock.now();
    const seen = this.#accepted.get(k);
    let id: Identity | undefined;
    if (seen !== undefined && now - seen < REMEMBER_MS) {
      id = await front.authenticate(c.user, c.password, "http");
    } else {
      const r = await this.#gate.run(() => front.authenticate(c.user, c.password, "http"));
      if (!r) {
        throw new JunctionError("GATEWAY_UNAVAILABLE", "too many password checks are waiting; try again", {
          details: { reason: "password-checks" },
        });
      }
      id = r.value;
    }
    if (!id) {
      this.#accepted.delete(k);
      throw new JunctionError("AUTH_FAILED", "the user or password was refused", { details: { reason: "refused" } });
    }
    this.#accepted.delete(k);
    this.#accepted.set(k, now);
    if (this.#accepted.size > REMEMBERED) this.#accepted.delete(this.#accepted.keys().next().value!);
    return id;
  }
}
