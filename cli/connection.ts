import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { join } from "node:path";
import { JunctionError } from "../core/protocol/index.js";
import { connect, type JunctionClient } from "../sdk/index.js";
import type { Io } from "./output.js";

/** The global connection flags. */
export interface ConnectionFlags {
  url?: string;
  user?: string;
  password?: string;
  dataDir: string;
}

/** What `junction dev` writes into its data directory (mode 0600). */
export interface DevCredentials {
  url: string;
  gateway: { user: string; password: string };
  client: { user: string; password: string };
}

export const CREDENTIALS_FILE = "credentials.json";

/** Reads a dev broker's credentials, or undefined. */
export async function readDevCredentials(dataDir: string): Promise<DevCredentials | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, CREDENTIALS_FILE), "utf8")) as DevCredentials;
  } catch {
    return undefined;
  }
}

/**
 * Resolves where to connect: flags, then the environment (JUNCTION_URL, JUNCTION_USER,
 * JUNCTION_PASSWORD), then the dev data directory's credentials (as the client user).
 */
export async function resolveConnection(
  f: ConnectionFlags,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ url: string; user?: string; password?: string }> {
  const dev = await readDevCredentials(f.dataDir);
  const url = f.url ?? env["JUNCTION_URL"] ?? dev?.url;
  if (!url) {
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `no broker to connect to: pass --url, set JUNCTION_URL, or start one with 'junction dev' (looked for ${join(f.dataDir, CREDENTIALS_FILE)})`,
    );
  }
  const user = f.user ?? env["JUNCTION_USER"] ?? (f.url || env["JUNCTION_URL"] ? undefined : dev?.client.user);
  const password = f.password ?? env["JUNCTION_PASSWORD"] ?? (f.url || env["JUNCTION_URL"] ? undefined : dev?.client.password);
  return { url, ...(user !== undefined ? { user } : {}), ...(password !== undefined ? { password } : {}) };
}

/** Connects an SDK client from the flags (with the io's connect and environment). */
export async function clientFrom(io: Io, f: ConnectionFlags, name = "junction-cli"): Promise<JunctionClient> {
  const c = await resolveConnection(f, io.env ?? process.env);
  return await (io.connect ?? connect)({
    servers: c.url,
    name,
    ...(c.user !== undefined ? { user: c.user } : {}),
    ...(c.password !== undefined ? { pass: c.password } : {}),
  });
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
