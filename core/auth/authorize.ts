import { DEFAULT_TENANT, JunctionError, type Identity } from "../protocol/index.js";
import { canConsume, canProduce, canSee } from "./grants.js";

/** The identity of a gateway running without authentication: may do everything. */
export const OPEN_IDENTITY: Readonly<Identity> = Object.freeze({
  user: "(no authentication)",
  tenant: DEFAULT_TENANT,
  grants: Object.freeze({ produce: [], consume: [], admin: true }),
  operator: true,
});

/** What an operation needs, given its body. */
type Rule = (id: Identity, body: Record<string, unknown>) => string | undefined;

const str = (b: Record<string, unknown>, k: string): string => (typeof b[k] === "string" ? (b[k] as string) : "");

/** `undefined` = allowed; else the refusal's "may not <this>". */
const admin: Rule = (id) => (id.grants.admin ? undefined : "administer this tenant");
const anyone: Rule = () => undefined;
const operator: Rule = (id) => (id.operator ? undefined : "administer tenants (an operator's right)");
const seeStation =
  (field: string): Rule =>
  (id, b) =>
    canSee(id.grants, str(b, field)) ? undefined : `see station '${str(b, field)}'`;
const consumeGroup: Rule = (id, b) =>
  canConsume(id.grants, str(b, "station"), str(b, "group"))
    ? undefined
    : `consume as group '${str(b, "group")}' of station '${str(b, "station")}'`;
/** User management: a tenant admin for its own tenant's users; an operator for any (body `tenant`, or the Jn-Tenant header checked before). */
const manageUsers: Rule = (id, b) => {
  if (!id.grants.admin) return "manage users";
  const t = typeof b["tenant"] === "string" ? (b["tenant"] as string) : id.tenant;
  return t === id.tenant || id.operator ? undefined : `manage users of tenant '${t}'`;
};
/** Dead-letter reads: an admin, or a user with a grant on the station named by the filter. */
const seeDeadLetters: Rule = (id, b) => {
  if (id.grants.admin) return undefined;
  const station = str(b, "station") || str((b["filter"] ?? {}) as Record<string, unknown>, "station");
  if (!station) return "read dead letters of every station (name a station you have a grant on)";
  return canSee(id.grants, station) ? undefined : `read dead letters of station '${station}'`;
};

/** The rule of every admin operation. An operation without a rule is refused. */
export const API_RULES: Readonly<Record<string, Rule>> = Object.freeze({
  ping: anyone,
  "auth.whoami": anyone,
  "station.create": admin,
  "station.update": admin,
  "station.delete": admin,
  "station.get": seeStation("name"),
  "station.list": anyone, // filtered to the stations the user may see
  "group.create": consumeGroup,
  "group.get": consumeGroup,
  "group.delete": consumeGroup,
  "group.reset": consumeGroup,
  "group.list": seeStation("station"), // filtered to the groups the user may consume as
  "schema.get": anyone,
  "schema.list": anyone,
  "schema.versions": anyone,
  "schema.diff": anyone,
  "schema.check": admin, // reads stored messages of every station using the schema
  "schema.create": admin,
  "schema.delete": admin,
  "schema.attach": admin,
  "schema.detach": admin,
  "function.create": admin,
  "function.get": admin,
  "function.list": admin,
  "function.versions": admin,
  "function.logs": admin,
  "function.quarantined": admin,
  "function.release": admin,
  "function.delete": admin,
  "function.attach": admin,
  "function.detach": admin,
  "dls.list": seeDeadLetters,
  "dls.get": anyone, // checked against the dead letter's station once it is found
  "dls.stats": seeDeadLetters,
  "dls.resend": admin,
  "dls.drop": admin,
  "dls.retention": admin,
  "user.create": manageUsers,
  "user.get": manageUsers,
  "user.list": manageUsers,
  "user.update": manageUsers,
  "user.delete": manageUsers,
  "user.rotate-password": manageUsers,
  "tenant.create": operator,
  "tenant.list": operator,
  "tenant.get": operator,
  "tenant.delete": operator,
  // The doctor sees every tenant's metadata and the servers' settings.
  "doctor.run": operator,
  // Anyone may read its own tenant's quotas (usage is shown to admins only); another tenant's are an operator's.
  "quota.list": (id, b) =>
    typeof b["tenant"] === "string" && b["tenant"] !== id.tenant && !id.operator
      ? `see the quotas of tenant '${str(b, "tenant")}'`
      : undefined,
  "quota.set": (id) => (id.operator ? undefined : "set quotas (an operator's right)"),
});

/** Throws PERMISSION_DENIED naming the action and the resource, unless the identity may do it. */
export function authorize(op: string, body: Record<string, unknown>, id: Identity): void {
  const rule = Object.hasOwn(API_RULES, op) ? API_RULES[op] : undefined;
  const why = rule ? rule(id, body) : `call '${op}'`;
  if (why !== undefined) {
    throw new JunctionError("PERMISSION_DENIED", `user '${id.user}' may not ${why}`, {
      details: { user: id.user, tenant: id.tenant, operation: op },
    });
  }
}

/** Throws PERMISSION_DENIED unless the identity may produce to the station. */
export function authorizeProduce(station: string, id: Identity): void {
  if (!canProduce(id.grants, station)) {
    throw new JunctionError("PERMISSION_DENIED", `user '${id.user}' may not produce to station '${station}'`, {
      details: { user: id.user, tenant: id.tenant, station, operation: "produce" },
    });
  }
}
