import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { join } from "node:path";
import { JunctionError } from "../core/protocol/index.js";
import { connect, type ConnectOptions, type JunctionClient } from "../sdk/index.js";
import { selectedContext } from "./config.js";
import type { Io } from "./output.js";

/** The global connection flags. */
export interface ConnectionFlags {
  url?: string;
  user?: string;
  passwordFile?: string;
  tenant?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** A context of the config file (`junction context`), instead of the current one. */
  context?: string;
  dataDir: string;
}

/** A user's credentials. */
export interface UserCredentials {
  user: string;
  password: string;
}

/**
 * What `junction dev` writes into its data directory for the CLI and applications (mode 0600):
 * where the broker is and the users it created. (The broker's own secrets are in another file.)
 */
export interface DevCredentials {
  url: string;
  /** `admin` administers the broker (the CLI's default); `app` produces and consumes everywhere. */
  users: { admin: UserCredentials; app: UserCredentials; memphis?: UserCredentials & { accountId: number } };
  /** The CA of the broker's TLS certificate, when it runs with TLS. */
  tlsCa?: string | undefined;
}

export const CREDENTIALS_FILE = "credentials.json";

/** Reads a dev broker's credentials, or undefined. */
export async function readDevCredentials(dataDir: string): Promise<DevCredentials | undefined> {
  try {
    const c = JSON.parse(await readFile(join(dataDir, CREDENTIALS_FILE), "utf8")) as DevCredentials;
    return typeof c.url === "string" && c.users?.admin ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Where to connect and as whom. */
export interface ResolvedConnection {
  url: string;
  user?: string;
  password?: string;
  tenant?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

async function secretFile(path: string, what: string): Promise<string> {
  try {
    return (await readFile(path, "utf8")).replace(/\r?\n$/, "");
  } catch (err) {
    throw new JunctionError("INVALID_ARGUMENT", `cannot read ${what} from ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Resolves where to connect, each setting from the first place that has it: flags, then the
 * environment (JUNCTION_URL, JUNCTION_USER, JUNCTION_PASSWORD_FILE or JUNCTION_PASSWORD,
 * JUNCTION_TENANT, JUNCTION_TLS_*), then the selected context of the config file, then the dev
 * data directory's credentials (as its admin user). A password never comes from a flag.
 *
 * Credentials are never sent where they were not meant to go: the file's current context is
 * used only when no URL is given by a flag or the environment (a context named with --context
 * or JUNCTION_CONTEXT is used under them, setting by setting), the dev credentials only when
 * the URL is the dev broker's, and a context's or the dev broker's password only for its own
 * user.
 */
export async function resolveConnection(f: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConnection> {
  const explicit = f.url ?? env["JUNCTION_URL"];
  const selected = await selectedContext(f.context, env, explicit === undefined);
  const ctx = selected?.context;
  const dev = explicit === undefined && ctx === undefined ? await readDevCredentials(f.dataDir) : undefined;
  const url = explicit ?? ctx?.url ?? dev?.url;
  if (!url) {
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `no broker to connect to: pass --url, set JUNCTION_URL, pick a context ('junction context add'), or start one with 'junction dev' (looked for ${join(f.dataDir, CREDENTIALS_FILE)})`,
    );
  }
  const user = f.user ?? env["JUNCTION_USER"] ?? ctx?.user ?? dev?.users.admin.user;
  const passwordFile = f.passwordFile ?? env["JUNCTION_PASSWORD_FILE"];
  const ownPasswordFile = ctx?.passwordFile !== undefined && (ctx.user === undefined || ctx.user === user) ? ctx.passwordFile : undefined;
  const password =
    passwordFile !== undefined
      ? await secretFile(passwordFile, "the password")
      : (env["JUNCTION_PASSWORD"] ??
        (ownPasswordFile !== undefined
          ? await secretFile(ownPasswordFile, `the password of context '${selected!.name}'`)
          : user === dev?.users.admin.user
            ? dev?.users.admin.password
            : undefined));
  const tenant = f.tenant ?? env["JUNCTION_TENANT"] ?? ctx?.tenant;
  const caFile = f.tlsCa ?? env["JUNCTION_TLS_CA"] ?? ctx?.tls?.ca ?? dev?.tlsCa;
  const certFile = f.tlsCert ?? env["JUNCTION_TLS_CERT"] ?? ctx?.tls?.cert;
  const keyFile = f.tlsKey ?? env["JUNCTION_TLS_KEY"] ?? ctx?.tls?.key;
  const tls =
    caFile || certFile || keyFile
      ? { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) }
      : undefined;
  return {
    url,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(tenant !== undefined ? { tenant } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** SDK connect options for a resolved connection. */
export function connectOptionsOf(c: ResolvedConnection, name: string): ConnectOptions {
  return {
    servers: c.url,
    name,
    ...(c.user !== undefined ? { user: c.user } : {}),
    ...(c.password !== undefined ? { pass: c.password } : {}),
    ...(c.tenant !== undefined ? { tenant: c.tenant } : {}),
    ...(c.tls !== undefined ? { tls: c.tls } : {}),
  };
}

/** Connects an SDK client from the flags (with the io's connect and environment). */
export async function clientFrom(io: Io, f: ConnectionFlags, name = "junction-cli"): Promise<JunctionClient> {
  const c = await resolveConnection(f, io.env ?? process.env);
  return await (io.connect ?? connect)(connectOptionsOf(c, name));
}

/**
 * Runs `fn` with a client connected from the command's (global) flags, and closes it after,
 * whatever happens.
 */
export async function withClient<T>(io: Io, cmd: Command, fn: (c: JunctionClient) => Promise<T>, name = "junction-cli"): Promise<T> {
  const c = await clientFrom(io, cmd.optsWithGlobals<ConnectionFlags>(), name);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}
