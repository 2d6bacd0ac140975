import { createHmac, randomBytes } from "node:crypto";
import type { AuthDecision, AuthRequest, Requester, SystemAdmin } from "../nats/index.js";
import { DEFAULT_TENANT, JunctionError, scopeOf, type Identity } from "../protocol/index.js";
import type { Clock, Logger } from "../support/index.js";
import { needsNewPermissions, userPermissions, type StationGroups, type UserPermissions } from "./permissions.js";
import { verifyPassword } from "./passwords.js";
import type { TenantRecord, UserRecord, WatchedRecords } from "./records.js";

/**
 * A way to log in other than a plain Junction login, placing its users in accounts of their own
 * with permissions of their own (Memphis compatibility: the memphis.js SDK logs in as
 * `<user>$<accountId>`, each user in an account of its own). Every request of such a user is
 * still authorized by its grants.
 */
export interface LoginFront {
  /** The NATS account a user of this front is placed in. */
  accountOf(user: string): string;
  /** Every account this front places users in (to find a user's connections). */
  readonly accounts: readonly string[];
  /** The Junction user and password a connection presents when it uses this front's login; else undefined. */
  login(r: AuthRequest): { user: string; password: string } | undefined;
  /** Why this user may not log in here (undefined = it may). */
  refuses(u: UserRecord): string | undefined;
  /** The NATS permissions of one of its users, for the stations and groups that exist now. */
  permissions(u: UserRecord, existing: readonly StationGroups[]): UserPermissions;
  /** Whether the grant expires (after `ttlMs`); false when the front's clients cannot re-authenticate. */
  readonly expires: boolean;
}

/** What the auth service needs. */
export interface AuthServiceOptions {
  users: WatchedRecords<UserRecord>;
  tenants: WatchedRecords<TenantRecord>;
  /** The NATS account application users are placed in. */
  clientAccount: string;
  /** The stations and groups of a tenant now (for the permissions of a connecting user). */
  resources: (tenant: string) => Promise<StationGroups[]>;
  /** To close a user's connections when its rights change; without it, changes apply on the next connection. */
  system: SystemAdmin | undefined;
  /** How long a connection's rights last before the client must authenticate again, in ms. */
  ttlMs: number;
  clock: Clock;
  logger: Logger;
  /** Other logins (Memphis compatibility). @default none */
  fronts?: readonly LoginFront[] | undefined;
  /**
   * The last check before a connection is admitted (the connections quota): undefined admits it,
   * else the reason it is refused (logged, never told to the client). @default admit
   */
  admit?: ((user: UserRecord) => Promise<string | undefined>) | undefined;
}

/** Counters of the auth service (for /metrics and tests). */
export interface AuthStats {
  accepted: number;
  refused: number;
  kicked: number;
  /** Refused by the connections quota (also counted in `refused`). */
  overQuota: number;
}

/**
 * Authenticates connecting users (NATS auth callout), resolves who sent a request, and closes the
 * connections of users whose rights changed.
 */
export class AuthService {
  readonly stats: AuthStats = { accepted: 0, refused: 0, kicked: 0, overQuota: 0 };
  readonly #o: AuthServiceOptions;
  /** Passwords already checked, as an HMAC under a per-process key (a reconnect storm costs no scrypt). */
  readonly #verified = new Map<string, { salt: string; digest: string }>();
  readonly #key = randomBytes(32);

  constructor(o: AuthServiceOptions) {
    this.#o = o;
    // A user whose record changes (password, grants) or goes: forget the checked password and
    // close its connections, so the change applies now.
    o.users.onChange((name) => {
      this.#verified.delete(name);
    });
  }

  #digest(password: string): string {
    return createHmac("sha256", this.#key).update(password).digest("base64");
  }

  /** A user whose password is right and whose tenant exists, or why not. */
  async #check(user: string | undefined, pass: string | undefined): Promise<UserRecord | string> {
    if (!user || !pass) return "no user or password";
    const u = await this.#o.users.get(user);
    if (!u) return "unknown user";
    if (u.tenant !== DEFAULT_TENANT && !(await this.#o.tenants.get(u.tenant))) return "its tenant is gone";
    const seen = this.#verified.get(u.name);
    const digest = this.#digest(pass);
    if (!(seen && seen.salt === u.password.salt && seen.digest === digest)) {
      if (!(await verifyPassword(pass, u.password))) return "wrong password";
      this.#verified.set(u.name, { salt: u.password.salt, digest });
    }
    return u;
  }

  /** Decides on a connecting client (the auth callout handler). Never reveals whether a user exists. */
  async decide(r: AuthRequest): Promise<AuthDecision> {
    for (const f of this.#o.fronts ?? []) {
      const login = f.login(r);
      if (login) return this.#decideFront(f, login, r);
    }
    const u = await this.#check(r.user, r.pass);
    if (typeof u === "string") return this.#refuse(r.user, r.host, u);
    const over = await this.#o.admit?.(u);
    if (over !== undefined) {
      this.stats.refused++;
      this.stats.overQuota++;
      this.#o.logger.info("connection refused", { user: u.name, tenant: u.tenant, host: r.host, reason: over });
      return { ok: false, error: "connection quota reached" };
    }
    const permissions = userPermissions(u.name, scopeOf(u.tenant), u.grants, await this.#o.resources(u.tenant));
    this.stats.accepted++;
    return { ok: true, user: u.name, account: this.#o.clientAccount, permissions, expiresAtMs: this.#o.clock.now() + this.#o.ttlMs };
  }

  async #decideFront(f: LoginFront, login: { user: string; password: string }, r: AuthRequest): Promise<AuthDecision> {
    const u = await this.#check(login.user, login.password);
    if (typeof u === "string") return this.#refuse(login.user, r.host, u, "a login front");
    const refused = f.refuses(u);
    if (refused !== undefined) return this.#refuse(login.user, r.host, refused, f.accountOf(u.name));
    const p = f.permissions(u, await this.#o.resources(u.tenant));
    this.stats.accepted++;
    return {
      ok: true,
      user: u.name,
      account: f.accountOf(u.name),
      permissions: { publish: p.publish, subscribe: p.subscribe, publishDeny: p.publishDeny, subscribeDeny: p.subscribeDeny },
      expiresAtMs: f.expires ? this.#o.clock.now() + this.#o.ttlMs : undefined,
    };
  }

  #refuse(user: string, host: string, reason: string, account?: string): AuthDecision {
    this.stats.refused++;
    this.#o.logger.info("connection refused", { user, host, reason, ...(account ? { account } : {}) });
    return { ok: false, error: "authorization failed" };
  }

  /**
   * Checks a user's password for a front that is not a NATS connection (HTTP basic auth, Memphis
   * compatibility); undefined when refused (never says why to the caller; the log does).
   */
  async authenticate(user: string, password: string, from = "in-process"): Promise<Identity | undefined> {
    const u = await this.#check(user, password);
    if (typeof u === "string") {
      this.stats.refused++;
      this.#o.logger.info("authentication refused", { user, from, reason: u });
      return undefined;
    }
    return identityOf(u, this.#o.clock.now(), undefined);
  }

  /**
   * Who sent a request: a user of the client account (or of the account named, a login front's)
   * that exists now. Undefined for anything else (another account, no request info, an unknown or
   * removed user).
   */
  async identify(requester: Requester | undefined, account: string = this.#o.clientAccount): Promise<Identity | undefined> {
    if (!requester || requester.account !== account || !requester.user) return undefined;
    const u = await this.#o.users.get(requester.user);
    if (!u) return undefined;
    return identityOf(u, requester.connectedAtMs, requester.clientId);
  }

  /** Closes every connection of a user (its rights changed, or it was removed). */
  async disconnect(user: string, except?: number): Promise<number> {
    const sys = this.#o.system;
    if (!sys) return 0;
    let n = 0;
    try {
      for (const account of [this.#o.clientAccount, ...(this.#o.fronts ?? []).flatMap((f) => f.accounts)]) {
        for (const c of await sys.connections(account, user)) {
          if (c.cid === except) continue;
          await sys.kick(c).catch(() => {});
          n++;
        }
      }
    } catch (err) {
      this.#o.logger.warn("could not close a user's connections", { user, error: String(err) });
    }
    this.stats.kicked += n;
    return n;
  }

  /**
   * Whether the asking connection must reconnect to consume as this group: the rights it got
   * when it connected predate the station or the group (see needsNewPermissions). The gateway
   * says so in the group.create reply and the SDK reconnects before it pulls — no other
   * connection is disturbed.
   */
  needsRefresh(
    id: Identity,
    station: string,
    group: string,
    o: { stationCreatedAtMs: number; groupIsNew: boolean; partitioned?: boolean | undefined },
  ): boolean {
    const since = id.connectedAtMs;
    if (since === undefined) return false;
    return needsNewPermissions(id.grants, station, group, {
      stationIsNewer: o.stationCreatedAtMs >= since - 1000,
      groupIsNew: o.groupIsNew,
      partitioned: o.partitioned,
    });
  }
}

/** Throws PERMISSION_DENIED for a request nobody could be identified for. */
export function unidentified(requester: Requester | undefined): JunctionError {
  return new JunctionError(
    "PERMISSION_DENIED",
    requester?.user
      ? `user '${requester.user}' is not a Junction user (account ${requester.account})`
      : "the request carries no known user",
    { details: { account: requester?.account ?? null, user: requester?.user ?? null } },
  );
}

function identityOf(u: UserRecord, connectedAtMs: number | undefined, clientId: number | undefined): Identity {
  return {
    user: u.name,
    tenant: u.tenant,
    grants: u.grants,
    operator: u.tenant === DEFAULT_TENANT && u.grants.admin,
    connectedAtMs,
    clientId,
  };
}
