import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { issuerPublicKey, newIssuerSeed } from "../nats/index.js";
import type { JunctionAccounts } from "./nats-config.js";
import type { GatewayAuthOptions } from "./options.js";

/**
 * The secrets of one deployment: the gateway's and the system user's passwords (NATS static
 * users, stored in the server config only as bcrypt hashes) and the seed that signs auth-callout
 * answers (the server config holds only its public key).
 */
export interface DeploymentSecrets {
  gateway: { user: string; password: string };
  system: { user: string; password: string };
  issuerSeed: string;
}

/** Fresh secrets. */
export function newDeploymentSecrets(): DeploymentSecrets {
  const pw = () => randomBytes(18).toString("base64url");
  return { gateway: { user: "gateway", password: pw() }, system: { user: "sys", password: pw() }, issuerSeed: newIssuerSeed() };
}

/** bcrypt cost of the static users' hashes in the server config. */
const BCRYPT_COST = 10;

/**
 * The accounts block for these secrets (passwords as bcrypt hashes); `memphis` names the Memphis
 * users (an account each).
 */
export function accountsFor(s: DeploymentSecrets, o: { memphis?: readonly string[] | undefined } = {}): JunctionAccounts {
  return {
    gateway: { user: s.gateway.user, password: bcrypt.hashSync(s.gateway.password, BCRYPT_COST) },
    system: { user: s.system.user, password: bcrypt.hashSync(s.system.password, BCRYPT_COST) },
    issuerPublicKey: issuerPublicKey(s.issuerSeed),
    ...(o.memphis && o.memphis.length > 0 ? { memphis: [...o.memphis] } : {}),
  };
}

/** The gateway's connection and auth options for these secrets. */
export function gatewayOptionsFor(s: DeploymentSecrets): { user: string; pass: string; auth: GatewayAuthOptions } {
  return {
    user: s.gateway.user,
    pass: s.gateway.password,
    auth: { mode: "callout", issuerSeed: s.issuerSeed, systemUser: s.system.user, systemPassword: s.system.password },
  };
}
