import {
  AuthService,
  hashPassword,
  randomPassword,
  resolveGrants,
  userView,
  type TenantRecord,
  type UserRecord,
  type UserView,
  type WatchedRecords,
} from "../../auth/index.js";
import { DEFAULT_TENANT, JunctionError, assertName, type Identity } from "../../protocol/index.js";
import type { ApiHandler } from "../../pipeline/index.js";
import { isoNow, type Clock } from "../../support/index.js";

/** What the user, tenant and whoami handlers need. */
export interface UserHandlerDeps {
  users: WatchedRecords<UserRecord>;
  tenants: WatchedRecords<TenantRecord>;
  auth: AuthService;
  clock: Clock;
  /** User names the deployment keeps for itself (the gateway's and system users). */
  reserved: readonly string[];
  /** Opens a new tenant (its buckets and registries). */
  openTenant: (tenant: string) => Promise<void>;
  /** Whether a tenant still has stations. */
  tenantHasStations: (tenant: string) => Promise<boolean>;
}

function notFound(name: string): JunctionError {
  return new JunctionError("USER_NOT_FOUND", `user '${name}' not found`, { details: { user: name } });
}

/** The `user.*`, `tenant.*` and `auth.whoami` handlers (authorized before they run; see core/auth). */
export function userHandlers(d: UserHandlerDeps): Record<string, ApiHandler> {
  /** The tenant a user operation is about: the body's, else the one the request acts in. */
  const tenantOf = async (b: Record<string, unknown>, ctx: { scope: { tenant: string } }): Promise<string> => {
    const t = typeof b["tenant"] === "string" ? b["tenant"] : ctx.scope.tenant;
    if (t !== DEFAULT_TENANT) {
      assertName("tenant", t);
      if (!(await d.tenants.get(t))) throw new JunctionError("TENANT_NOT_FOUND", `tenant '${t}' not found`, { details: { tenant: t } });
    }
    return t;
  };
  /** A user of that tenant (a user of another tenant is reported as not found). */
  const mustGet = async (name: unknown, tenant: string): Promise<UserRecord> => {
    assertName("user", name);
    const u = await d.users.fresh(name);
    if (!u || u.tenant !== tenant) throw notFound(name);
    return u;
  };
  const password = (b: Record<string, unknown>): { password: string; generated: boolean } =>
    typeof b["password"] === "string" ? { password: b["password"], generated: false } : { password: randomPassword(), generated: true };

  return {
    "auth.whoami": async (_b, { identity }): Promise<Identity> => identity,
    "user.create": async (b, ctx) => {
      const tenant = await tenantOf(b, ctx);
      const name = b["name"];
      assertName("user", name);
      if (d.reserved.includes(name))
        throw new JunctionError("USER_EXISTS", `'${name}' is a name the deployment keeps for itself`, { details: { user: name } });
      const grants = resolveGrants(b["grants"]);
      const p = password(b);
      const now = isoNow(d.clock);
      const rec: UserRecord = { name, tenant, password: await hashPassword(p.password), grants, createdAt: now, updatedAt: now };
      if (!(await d.users.create(name, rec))) throw new JunctionError("USER_EXISTS", `user '${name}' exists`, { details: { user: name } });
      return { ...userView(rec), ...(p.generated ? { password: p.password } : {}) };
    },
    "user.get": async (b, ctx): Promise<UserView> => userView(await mustGet(b["name"], await tenantOf(b, ctx))),
    "user.list": async (b, ctx): Promise<UserView[]> => {
      const tenant = await tenantOf(b, ctx);
      return (await d.users.list()).filter((u) => u.tenant === tenant).map(userView);
    },
    "user.update": async (b, ctx) => {
      const u = await mustGet(b["name"], await tenantOf(b, ctx));
      const next: UserRecord = { ...u, grants: resolveGrants(b["grants"]), updatedAt: isoNow(d.clock) };
      await d.users.put(u.name, next);
      // New rights apply now: the user's connections reconnect and get them.
      const disconnected = await d.auth.disconnect(u.name);
      return { ...userView(next), disconnected };
    },
    "user.rotate-password": async (b, ctx) => {
      const u = await mustGet(b["name"], await tenantOf(b, ctx));
      const p = password(b);
      await d.users.put(u.name, { ...u, password: await hashPassword(p.password), updatedAt: isoNow(d.clock) });
      const disconnected = await d.auth.disconnect(u.name);
      return { name: u.name, disconnected, ...(p.generated ? { password: p.password } : {}) };
    },
    "user.delete": async (b, ctx) => {
      const u = await mustGet(b["name"], await tenantOf(b, ctx));
      if (u.name === ctx.identity.user)
        throw new JunctionError("INVALID_ARGUMENT", "a user cannot delete itself", { details: { user: u.name } });
      await d.users.delete(u.name);
      const disconnected = await d.auth.disconnect(u.name);
      return { deleted: true, disconnected };
    },
    "tenant.create": async (b) => {
      const name = b["name"];
      assertName("tenant", name);
      if (name === DEFAULT_TENANT)
        throw new JunctionError("TENANT_EXISTS", "the default tenant always exists", { details: { tenant: name } });
      const rec: TenantRecord = {
        name,
        createdAt: isoNow(d.clock),
        ...(typeof b["description"] === "string" ? { description: b["description"] } : {}),
      };
      const created = await d.tenants.create(name, rec);
      if (!created) {
        const existing = await d.tenants.get(name);
        return { ...existing, created: false };
      }
      await d.openTenant(name);
      return { ...rec, created: true };
    },
    "tenant.get": async (b) => {
      const name = b["name"];
      assertName("tenant", name);
      const t = await d.tenants.fresh(name);
      if (!t) throw new JunctionError("TENANT_NOT_FOUND", `tenant '${name}' not found`, { details: { tenant: name } });
      return { ...t, users: (await d.users.list()).filter((u) => u.tenant === name).length };
    },
    "tenant.list": async () => d.tenants.list(),
    "tenant.delete": async (b) => {
      const name = b["name"];
      assertName("tenant", name);
      if (!(await d.tenants.fresh(name)))
        throw new JunctionError("TENANT_NOT_FOUND", `tenant '${name}' not found`, { details: { tenant: name } });
      const users = (await d.users.list()).filter((u) => u.tenant === name).map((u) => u.name);
      if (users.length > 0 || (await d.tenantHasStations(name))) {
        throw new JunctionError("TENANT_NOT_EMPTY", `tenant '${name}' still has ${users.length} user(s) or stations; delete them first`, {
          details: { tenant: name, users },
        });
      }
      await d.tenants.delete(name);
      return { deleted: true };
    },
  };
}
