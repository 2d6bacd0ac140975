import { decode, encodeAuthorizationResponse, encodeUser, type AuthorizationRequest } from "@nats-io/jwt";
import { createAccount, fromPublic, fromSeed } from "@nats-io/nkeys";
import type { NatsConnection } from "@nats-io/nats-core";
import { JunctionError } from "../protocol/index.js";

/** What a connecting client presented (from the server's authorization request). */
export interface AuthRequest {
  user: string;
  pass: string;
  token: string;
  /** The client's connection name. */
  clientName: string;
  /** Its address. */
  host: string;
  /** The server the client connects to. */
  serverId: string;
}

/** NATS permissions of a user (allow lists; anything not allowed is denied). */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** Subjects refused even where an allow entry matches (a wildcard allow with holes). */
  publishDeny?: string[] | undefined;
  /**
   * Subjects refused even where an allow entry matches. nats-server accepts a wildcard
   * subscription that overlaps them and does not deliver messages on the denied subjects.
   */
  subscribeDeny?: string[] | undefined;
}

/** The answer to an authorization request. */
export type AuthDecision =
  | {
      ok: true;
      /** The user name the server will know the connection by (and report in request info). */
      user: string;
      /** The NATS account the user is placed in. */
      account: string;
      permissions: NatsPermissions;
      /** When the grant ends (ms since epoch): the server then closes the connection and the client reconnects. */
      expiresAtMs?: number | undefined;
    }
  | { ok: false; error: string };

/** The NATS subject the server sends authorization requests to (auth callout). */
export const AUTH_CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH";

/** The public key of an account seed (what the server config names as the callout issuer). */
export function issuerPublicKey(seed: string): string {
  try {
    return fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch (err) {
    throw new JunctionError("INVALID_ARGUMENT", "the auth issuer seed is not an nkey account seed (SA…)", { cause: err });
  }
}

/** A new issuer seed (an nkey account seed), for a new deployment. */
export function newIssuerSeed(): string {
  return new TextDecoder().decode(createAccount().getSeed());
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The permissions claim of a user JWT. */
function natsUserPermissions(p: NatsPermissions): {
  pub: { allow: string[]; deny?: string[] };
  sub: { allow: string[]; deny?: string[] };
} {
  return {
    pub: { allow: p.publish, ...(p.publishDeny && p.publishDeny.length > 0 ? { deny: p.publishDeny } : {}) },
    sub: { allow: p.subscribe, ...(p.subscribeDeny && p.subscribeDeny.length > 0 ? { deny: p.subscribeDeny } : {}) },
  };
}

/**
 * Answers the server's authorization requests (NATS auth callout) with `decide`: the decision
 * becomes a user JWT signed by the issuer (placing the user in an account with its permissions),
 * wrapped in an authorization response. Served in a queue group, so any gateway can answer.
 */
export function serveAuthCallout(
  nc: NatsConnection,
  issuerSeed: string,
  decide: (r: AuthRequest) => Promise<AuthDecision>,
  onError: (err: unknown) => void,
): { stop(): void } {
  const issuer = fromSeed(enc.encode(issuerSeed));
  const sub = nc.subscribe(AUTH_CALLOUT_SUBJECT, {
    queue: "jn-auth",
    callback: (_err, m) => {
      void (async () => {
        let claims;
        try {
          claims = decode<AuthorizationRequest>(dec.decode(m.data));
        } catch (err) {
          onError(err);
          return; // not a request the server sent; nothing to answer
        }
        const r = claims.nats as AuthorizationRequest;
        const userKey = fromPublic(r.user_nkey);
        const serverKey = fromPublic(r.server_id.id);
        let decision: AuthDecision;
        try {
          decision = await decide({
            user: r.connect_opts?.user ?? "",
            pass: r.connect_opts?.pass ?? "",
            token: r.connect_opts?.auth_token ?? "",
            clientName: r.client_info?.name ?? "",
            host: r.client_info?.host ?? "",
            serverId: r.server_id.id,
          });
        } catch (err) {
          onError(err);
          decision = { ok: false, error: "authorization failed" };
        }
        let response: string;
        if (decision.ok) {
          const user = await encodeUser(decision.user, userKey, issuer, natsUserPermissions(decision.permissions), {
            aud: decision.account,
            ...(decision.expiresAtMs !== undefined ? { exp: Math.floor(decision.expiresAtMs / 1000) } : {}),
          });
          response = await encodeAuthorizationResponse(userKey, serverKey, issuer, { jwt: user }, {});
        } else {
          response = await encodeAuthorizationResponse(userKey, serverKey, issuer, { error: decision.error }, {});
        }
        m.respond(enc.encode(response));
      })().catch(onError);
    },
  });
  return { stop: () => sub.unsubscribe() };
}
