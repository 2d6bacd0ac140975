import type { JsonBucket } from "../nats/index.js";
import { DEFAULT_TENANT, nameProblem, tenantNameProblem, type Grants } from "../protocol/index.js";
import { resolveGrants } from "./grants.js";
import { isPasswordHash, type PasswordHash } from "./passwords.js";

/** The bucket of users (key = user name; names are unique across tenants: they are logins). */
export const USERS_BUCKET = "jn_users";
/** The bucket of tenants (key = tenant name). */
export const TENANTS_BUCKET = "jn_tenants";

/** A user: an application or a person, with its own password and grants, in one tenant. */
export interface UserRecord {
  name: string;
  tenant: string;
  password: PasswordHash;
  grants: Grants;
  createdAt: string;
  updatedAt: string;
}

/** A tenant: its own stations, schemas, functions and users. */
export interface TenantRecord {
  name: string;
  createdAt: string;
  description?: string | undefined;
}

/** A user as the API shows it (never the password hash). */
export interface UserView {
  name: string;
  tenant: string;
  grants: Grants;
  createdAt: string;
  updatedAt: string;
}

/** The public view of a user. */
export function userView(u: UserRecord): UserView {
  return { name: u.name, tenant: u.tenant, grants: u.grants, createdAt: u.createdAt, updatedAt: u.updatedAt };
}

/** Checks a user record read from the store; undefined when it is not a valid one. */
export function parseUserRecord(key: string, v: unknown): UserRecord | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const u = v as Record<string, unknown>;
  if (u["name"] !== key || nameProblem(key) !== undefined) return undefined;
  const tenant = u["tenant"];
  if (tenant !== DEFAULT_TENANT && tenantNameProblem(tenant) !== undefined) return undefined;
  if (!isPasswordHash(u["password"]) || typeof u["createdAt"] !== "string" || typeof u["updatedAt"] !== "string") return undefined;
  let grants: Grants;
  try {
    grants = resolveGrants(u["grants"]);
  } catch {
    return undefined;
  }
  return { name: key, tenant: tenant as string, password: u["password"], grants, createdAt: u["createdAt"], updatedAt: u["updatedAt"] };
}

/** Checks a tenant record read from the store. */
export function parseTenantRecord(key: string, v: unknown): TenantRecord | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const t = v as Record<string, unknown>;
  if (t["name"] !== key || tenantNameProblem(key) !== undefined || key === DEFAULT_TENANT || typeof t["createdAt"] !== "string")
    return undefined;
  const d = t["description"];
  return { name: key, createdAt: t["createdAt"], ...(typeof d === "string" ? { description: d } : {}) };
}

/**
 * Records of one kind, cached and kept fresh by a KV watch (so every gateway sees a new user or a
 * removed one at once), validated on every read: an invalid record is treated as absent.
 */
export class WatchedRecords<T> {
  readonly #bucket: JsonBucket<unknown>;
  readonly #parse: (key: string, v: unknown) => T | undefined;
  readonly #onInvalid: (key: string) => void;
  readonly #cache = new Map<string, T>();
  readonly #listeners = new Set<(key: string, rec: T | undefined) => void>();
  #watch: { stop(): void } | undefined;

  constructor(bucket: JsonBucket<unknown>, parse: (key: string, v: unknown) => T | undefined, onInvalid: (key: string) => void = () => {}) {
    this.#bucket = bucket;
    this.#parse = parse;
    this.#onInvalid = onInvalid;
  }

  async start(): Promise<void> {
    this.#watch = await this.#bucket.watch(
      (key, value) => {
        const rec = value === undefined ? undefined : this.#check(key, value);
        if (rec === undefined) this.#cache.delete(key);
        else this.#cache.set(key, rec);
        for (const l of this.#listeners) l(key, rec);
      },
      undefined,
      (key) => {
        this.#cache.delete(key);
        this.#onInvalid(key);
      },
    );
  }

  #check(key: string, value: unknown): T | undefined {
    const r = this.#parse(key, value);
    if (r === undefined) this.#onInvalid(key);
    return r;
  }

  /** Calls `fn` on every change (undefined = removed or invalid). */
  onChange(fn: (key: string, rec: T | undefined) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The cached record (no I/O). */
  cached(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** The record from the store. */
  async fresh(key: string): Promise<T | undefined> {
    let raw: unknown;
    try {
      raw = (await this.#bucket.get(key))?.value;
    } catch {
      this.#onInvalid(key);
      return undefined;
    }
    return raw === undefined ? undefined : this.#check(key, raw);
  }

  /** From the cache, else the store. */
  async get(key: string): Promise<T | undefined> {
    return this.#cache.get(key) ?? (await this.fresh(key));
  }

  async put(key: string, rec: T): Promise<void> {
    await this.#bucket.put(key, rec);
    this.#cache.set(key, rec);
  }

  /** Creates the key only when absent; false when it existed. */
  async create(key: string, rec: T): Promise<boolean> {
    if (!(await this.#bucket.create(key, rec))) return false;
    this.#cache.set(key, rec);
    return true;
  }

  async delete(key: string): Promise<void> {
    await this.#bucket.delete(key);
    this.#cache.delete(key);
  }

  /** Every valid record, sorted by key. */
  async list(): Promise<T[]> {
    const out: T[] = [];
    for (const k of (await this.#bucket.keys()).sort()) {
      const r = await this.fresh(k);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  close(): void {
    this.#watch?.stop();
    this.#listeners.clear();
  }
}
