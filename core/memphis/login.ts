import {
  globMatch,
  isExact,
  splitConsume,
  type LoginFront,
  type StationGroups,
  type UserPermissions,
  type UserRecord,
} from "../auth/index.js";
import type { AuthRequest } from "../nats/index.js";
import { ADVISORY_STREAM, DEFAULT_TENANT, DLS_STREAM, scopeOf, type Grants } from "../protocol/index.js";
import { ControlSubjects, IngestSubjects, PushSubjects, memphisAccount } from "./names.js";

/**
 * The Junction user a Memphis SDK connection names, and its password: `<user>$<accountId>` with a
 * password (the account id is Memphis Cloud's tenant number; Junction ignores it), or a
 * connection token, with the user in the connection name the SDK sets (`<connectionId>::<user>`).
 * Undefined for any other login (Junction names never hold a `$`).
 */
export function memphisLogin(
  r: Pick<AuthRequest, "user" | "pass" | "token" | "clientName">,
): { user: string; password: string } | undefined {
  const m = /^([^$]+)\$\d{1,10}$/.exec(r.user);
  if (m && r.pass) return { user: m[1]!, password: r.pass };
  if (!r.user && r.token) {
    const n = /::([^:]+)$/.exec(r.clientName);
    if (n) return { user: n[1]!, password: r.token };
  }
  return undefined;
}

/** The JetStream pull subject of one consumer group. */
const pullSubject = (stream: string, group: string) => `$JS.API.CONSUMER.MSG.NEXT.${stream}.${group}`;

/**
 * The NATS permissions of a Memphis user: what the unmodified SDK publishes and subscribes to,
 * nothing else (a permission it lacks would make it close its connection).
 *
 * - publish: the control-plane and report subjects, `$JS.API.INFO`, consumer info, `$JS.ACK.>`
 *   and `<stream>.final` (all answered by the gateway, which authorizes every request by the
 *   user's grants); and the JetStream pull subjects of the groups it may consume as — for an
 *   operator every station's (it may consume anywhere; the advisory and dead-letter streams are
 *   denied), for anyone else those its grants name, expanded like a Junction user's.
 * - subscribe: its inbox (the SDK uses `_INBOX.`), the clients-updates subject, and one- and
 *   two-token subjects for the per-station pushes (`$memphis_schema_updates_<station>`,
 *   `$memphis_dls_<station>.<group>`), minus every subject other Memphis clients send requests,
 *   reports or acknowledgements on. (nats-server lets an allowed `*` cover a subscription to `>`:
 *   the deny list is what keeps such a subscription from seeing others' publishes.)
 */
export function memphisPermissions(grants: Grants, existing: readonly StationGroups[]): UserPermissions {
  const control = [...Object.values(ControlSubjects), ...Object.values(IngestSubjects)];
  const publish = new Set<string>([...control, "$JS.API.INFO", "$JS.API.CONSUMER.INFO.*.*", "$JS.ACK.>", "*.final"]);
  const publishDeny: string[] = [];
  const scope = scopeOf(DEFAULT_TENANT);
  if (grants.admin) {
    publish.add(pullSubject("*", "*"));
    publishDeny.push(pullSubject(ADVISORY_STREAM, "*"), pullSubject(DLS_STREAM, "*"));
  } else {
    for (const c of grants.consume) {
      const { station, group } = splitConsume(c);
      const stations = isExact(station) ? [station] : existing.filter((s) => globMatch(station, s.station)).map((s) => s.station);
      for (const st of stations) {
        if (group === "*" || isExact(group)) publish.add(pullSubject(scope.stationStream(st), group));
        else
          for (const g of existing.find((s) => s.station === st)?.groups ?? [])
            if (globMatch(group, g)) publish.add(pullSubject(scope.stationStream(st), g));
      }
    }
  }
  return {
    publish: [...publish],
    publishDeny,
    subscribe: ["_INBOX.>", PushSubjects.ClientsUpdates, "*", "*.*"],
    subscribeDeny: [...control, "*.final", "$JS.>"],
  };
}

/** The login front that places the Memphis SDK connections of each listed user in its own Memphis account. */
export function memphisLoginFront(users: readonly string[]): LoginFront {
  const listed = new Set(users);
  return {
    accountOf: memphisAccount,
    accounts: users.map(memphisAccount),
    login: (r) => memphisLogin(r),
    refuses: (u: UserRecord) =>
      !listed.has(u.name)
        ? "not a Memphis user (see the memphis users option)"
        : u.tenant !== DEFAULT_TENANT
          ? "Memphis users belong to the default tenant"
          : undefined,
    permissions: (u, existing) => memphisPermissions(u.grants, existing),
    // The SDK closes its connection on any -ERR, the expiry one included: its rights do not
    // expire; they are checked on every request instead, and removing the user closes them.
    expires: false,
  };
}
