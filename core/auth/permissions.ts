import { CLIENT_JS_API_PREFIX, groupConsumers, inboxPrefixOf, membersSubject, type Scope } from "../protocol/index.js";
import type { Grants } from "../protocol/index.js";
import { globMatch, isExact, splitConsume } from "./grants.js";

/** A station and its consumer groups, as the store knows them now. */
export interface StationGroups {
  station: string;
  groups: string[];
  /** The station's partitions (a group there is one consumer per partition). @default 1 */
  partitions?: number | undefined;
}

/** NATS allow lists of a user (and, for a login front's users, holes in them). */
export interface UserPermissions {
  publish: string[];
  subscribe: string[];
  publishDeny?: string[] | undefined;
  subscribeDeny?: string[] | undefined;
}

/**
 * The consumer subjects of one group pattern on one stream (`*` = every group, including every
 * partition's consumer); an exact group on a partitioned station gets each partition's consumer.
 */
function consumerSubjects(stream: string, group: string, partitions = 1): string[] {
  const out: string[] = [];
  for (const c of group === "*" ? ["*"] : groupConsumers(group, partitions)) {
    out.push(
      `${CLIENT_JS_API_PREFIX}.CONSUMER.INFO.${stream}.${c}`,
      `${CLIENT_JS_API_PREFIX}.CONSUMER.MSG.NEXT.${stream}.${c}`,
      `$JS.ACK.${stream}.${c}.>`,
    );
    // A partition's member hands the partition over at once (the server's pin moves to a member
    // waiting on it) instead of letting it stall for the pin timeout.
    if (partitions > 1 || group === "*") out.push(`${CLIENT_JS_API_PREFIX}.CONSUMER.UNPIN.${stream}.${c}`);
  }
  return out;
}

/**
 * The NATS permissions of a user, as allow lists (everything else is denied), for the stations
 * and groups that exist now. NATS wildcards match whole subject tokens, and a station's stream is
 * one token (`JN_ST_<station>`), so a pattern like `orders-*` is expanded here into the streams
 * it matches today; exact names need no expansion (they hold for stations created later), and a
 * group pattern `*` is the NATS wildcard. Hence a user whose patterns match a station or group
 * created after it connected gets the new rights on its next connection (the gateway closes
 * affected connections when it can; see docs/security.md).
 *
 * - publish: the admin API and produce (the gateway checks every request against the grants),
 *   pull, consumer info and ack of the groups the user may consume as, and their presence subject
 *   (on a partitioned station also unpin);
 * - subscribe: the user's own inbox (`_INBOX_<user>.>`), the live events of the stations it
 *   may see, and the presence subject of its groups on partitioned stations.
 */
export function userPermissions(user: string, scope: Scope, grants: Grants, existing: readonly StationGroups[]): UserPermissions {
  const publish = new Set<string>(["jn.api.>"]);
  const subscribe = new Set<string>([`${inboxPrefixOf(user)}.>`]);
  if (grants.admin || grants.produce.length > 0) publish.add("jn.produce.>");
  const partitions = new Map(existing.map((s) => [s.station, s.partitions ?? 1]));
  const add = (station: string, group: string) => {
    const stream = scope.stationStream(station);
    const n = partitions.get(station) ?? 1;
    for (const s of consumerSubjects(stream, group, n)) publish.add(s);
    // Every member announces itself on its group's presence subject (the gateway counts them);
    // on a partitioned station the members also hear one another, to share the partitions out.
    publish.add(membersSubject(stream, group));
    if (n > 1 || group === "*") subscribe.add(membersSubject(stream, group));
  };
  if (grants.admin) {
    for (const s of existing) add(s.station, "*");
    subscribe.add(scope.eventsAll());
  } else {
    for (const c of grants.consume) {
      const { station, group } = splitConsume(c);
      const stations = isExact(station) ? [station] : existing.filter((s) => globMatch(station, s.station)).map((s) => s.station);
      for (const st of stations) {
        if (group === "*" || isExact(group)) add(st, group);
        else for (const g of existing.find((s) => s.station === st)?.groups ?? []) if (globMatch(group, g)) add(st, g);
      }
    }
    const visible = new Set<string>();
    for (const p of [...grants.produce, ...grants.consume.map((c) => splitConsume(c).station)]) {
      if (isExact(p)) visible.add(p);
      else for (const s of existing) if (globMatch(p, s.station)) visible.add(s.station);
    }
    for (const st of visible) subscribe.add(scope.eventsAll(st));
  }
  return { publish: [...publish], subscribe: [...subscribe] };
}

/**
 * Whether a connection lacks rights to consume as `group` of `station` that the user would get on
 * a new connection: the station's stream was created after the connection and the user reaches it
 * only through an expansion (an admin, or a station pattern like `orders-*`), or the group was
 * just created and the user reaches it only through an expanded group pattern (`billing-*`).
 * Exact names and the group pattern `*` hold for things created later.
 */
export function needsNewPermissions(
  grants: Grants,
  station: string,
  group: string,
  o: { stationIsNewer: boolean; groupIsNew: boolean; partitioned?: boolean | undefined },
): boolean {
  if (grants.admin) return o.stationIsNewer;
  return grants.consume.some((c) => {
    const { station: sp, group: gp } = splitConsume(c);
    if (!globMatch(sp, station) || !globMatch(gp, group)) return false;
    // A partitioned station's consumers are named per partition, known only once it exists.
    if (o.stationIsNewer && o.partitioned === true && gp !== "*") return true;
    return (o.stationIsNewer && !isExact(sp)) || (o.groupIsNew && !isExact(gp) && gp !== "*");
  });
}
