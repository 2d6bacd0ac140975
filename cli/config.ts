/**
 * The CLI's config file: named contexts (where a broker is and who to be there), like kubectl's
 * kubeconfig or the nats CLI's contexts. It never holds a password: a context names a file that
 * does (`passwordFile`), so the config can be shown, copied and committed to dotfiles without
 * leaking a secret. Written with mode 0600 all the same (it says where your brokers are).
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { JunctionError } from "../core/protocol/index.js";

/** One named context: a broker and how to connect to it. */
export interface Context {
  /** NATS URL(s) of the broker, comma-separated. */
  url: string;
  user?: string | undefined;
  /** A file holding the password (its first line; mode 0600 advised). Never the password itself. */
  passwordFile?: string | undefined;
  /** An operator acting in another tenant. */
  tenant?: string | undefined;
  /** TLS files (PEM). */
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined } | undefined;
}

/** The config file's content. */
export interface CliConfig {
  /** The context commands use when none is named (`junction context use`). */
  currentContext?: string | undefined;
  contexts: Record<string, Context>;
}

/** A context name: letters, digits, `.`, `_`, `-`; at most 64 characters. */
export const CONTEXT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Where the config file is: `JUNCTION_CONFIG`, else `$XDG_CONFIG_HOME/junction/config.yaml`,
 * else `~/.config/junction/config.yaml`.
 */
export function configPath(env: NodeJS.ProcessEnv): string {
  const explicit = env["JUNCTION_CONFIG"];
  if (explicit) return resolve(explicit);
  const xdg = env["XDG_CONFIG_HOME"];
  const base = xdg && isAbsolute(xdg) ? xdg : join(env["HOME"] || homedir(), ".config");
  return join(base, "junction", "config.yaml");
}

/** Checks a context name. */
export function assertContextName(name: string): void {
  if (!CONTEXT_NAME_PATTERN.test(name)) {
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `context name '${name}' is invalid: use letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit)`,
      { details: { context: name } },
    );
  }
}

const bad = (file: string, where: string, what: string, cause?: unknown) =>
  new JunctionError("INVALID_ARGUMENT", `config file ${file}: ${where}${what}`, {
    details: { file, ...(where ? { path: where.replace(/: $/, "") } : {}) },
    ...(cause !== undefined ? { cause } : {}),
  });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function optionalString(file: string, where: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "") throw bad(file, `${where}: `, "must be a non-empty string");
  return v;
}

function checkKeys(file: string, where: string, o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    const at = where ? `${where}.${k}: ` : `${k}: `;
    if (k === "password" || k === "pass") {
      throw bad(file, at, "a context never holds a password; put it in a file (mode 0600) and name that file with passwordFile");
    }
    if (!allowed.includes(k)) throw bad(file, at, `unknown setting (known: ${allowed.join(", ")})`);
  }
}

/** A relative path in the file is relative to the file's folder; `~/` is the home folder. */
function pathIn(file: string, p: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (p === undefined) return undefined;
  if (p === "~" || p.startsWith("~/")) return join(env["HOME"] || homedir(), p.slice(1));
  return resolve(dirname(file), p);
}

function parseContext(file: string, name: string, v: unknown, env: NodeJS.ProcessEnv): Context {
  const where = `contexts.${name}`;
  if (!isObject(v)) throw bad(file, `${where}: `, "must be a mapping (url, user, passwordFile, tenant, tls)");
  checkKeys(file, where, v, ["url", "user", "passwordFile", "tenant", "tls"]);
  const url = optionalString(file, `${where}.url`, v["url"]);
  if (url === undefined) throw bad(file, `${where}.url: `, "is required");
  const ctx: Context = { url };
  const user = optionalString(file, `${where}.user`, v["user"]);
  if (user !== undefined) ctx.user = user;
  const pw = pathIn(file, optionalString(file, `${where}.passwordFile`, v["passwordFile"]), env);
  if (pw !== undefined) ctx.passwordFile = pw;
  const tenant = optionalString(file, `${where}.tenant`, v["tenant"]);
  if (tenant !== undefined) ctx.tenant = tenant;
  const tls = v["tls"];
  if (tls !== undefined && tls !== null) {
    if (!isObject(tls)) throw bad(file, `${where}.tls: `, "must be a mapping (ca, cert, key)");
    checkKeys(file, `${where}.tls`, tls, ["ca", "cert", "key"]);
    const t: NonNullable<Context["tls"]> = {};
    for (const k of ["ca", "cert", "key"] as const) {
      const p = pathIn(file, optionalString(file, `${where}.tls.${k}`, tls[k]), env);
      if (p !== undefined) t[k] = p;
    }
    if (Object.keys(t).length > 0) ctx.tls = t;
  }
  return ctx;
}

/**
 * Parses and checks a config file's text. Every problem is INVALID_ARGUMENT naming the file and
 * the setting (`contexts.prod.url`), or the line and column of a YAML syntax error.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = {}): CliConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    throw bad(file, "", `is not valid YAML: ${(err as Error).message.split("\n")[0]!.replace(/:$/, "")}`, err);
  }
  if (doc === null || doc === undefined) return { contexts: {} };
  if (!isObject(doc)) throw bad(file, "", "must be a mapping with currentContext and contexts");
  checkKeys(file, "", doc, ["currentContext", "contexts"]);
  const contexts: Record<string, Context> = {};
  const raw = doc["contexts"] ?? {};
  if (!isObject(raw)) throw bad(file, "contexts: ", "must be a mapping of names to contexts");
  for (const [name, v] of Object.entries(raw)) {
    if (!CONTEXT_NAME_PATTERN.test(name)) throw bad(file, `contexts.${name}: `, "is not a valid context name");
    contexts[name] = parseContext(file, name, v, env);
  }
  const current = optionalString(file, "currentContext", doc["currentContext"]);
  return { ...(current !== undefined ? { currentContext: current } : {}), contexts };
}

/** Reads the config file; a missing file is an empty config. */
export async function readConfig(file: string, env: NodeJS.ProcessEnv = {}): Promise<CliConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { contexts: {} };
    throw bad(file, "", `cannot be read: ${(err as Error).message}`, err);
  }
  return parseConfig(text, file, env);
}

/** The file's text for a config. */
export function configText(cfg: CliConfig): string {
  const body = {
    ...(cfg.currentContext !== undefined ? { currentContext: cfg.currentContext } : {}),
    contexts: cfg.contexts,
  };
  return (
    "# Junction CLI contexts, managed with `junction context`. No passwords here: passwordFile names a file.\n" +
    toYaml(JSON.parse(JSON.stringify(body)) as unknown)
  );
}

/**
 * Writes the config file with mode 0600 (its folder 0700 when made): into a temporary file
 * first, then renamed over the old one, so a crash never leaves half a file.
 */
export async function writeConfig(file: string, cfg: CliConfig): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, configText(cfg), { mode: 0o600, flag: "wx" });
    await chmod(tmp, 0o600);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new JunctionError("INVALID_ARGUMENT", `cannot write config file ${file}: ${(err as Error).message}`, {
      cause: err,
      details: { file },
    });
  }
}

/** The context chosen by `--context`, else `JUNCTION_CONTEXT`, with where the choice came from. */
export function chosenContext(flag: string | undefined, env: NodeJS.ProcessEnv): { name: string; from: string } | undefined {
  if (flag !== undefined) return { name: flag, from: "--context" };
  const e = env["JUNCTION_CONTEXT"];
  return e ? { name: e, from: "JUNCTION_CONTEXT" } : undefined;
}

/** A context that must exist: CONTEXT not found is INVALID_ARGUMENT naming the file and the known ones. */
export function mustGetContext(cfg: CliConfig, name: string, file: string, from?: string): Context {
  const c = Object.hasOwn(cfg.contexts, name) ? cfg.contexts[name] : undefined;
  if (c) return c;
  const known = Object.keys(cfg.contexts);
  throw new JunctionError(
    "INVALID_ARGUMENT",
    `context '${name}'${from ? ` (from ${from})` : ""} is not in ${file} (${known.length ? `contexts: ${known.join(", ")}` : "it has no contexts; add one with 'junction context add'"})`,
    { details: { context: name, file } },
  );
}

/**
 * The context commands connect with: the one named by `--context` or `JUNCTION_CONTEXT`
 * (`explicit`), else the file's current one — unless `current` is false, and then the file is
 * not even read.
 */
export async function selectedContext(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  current = true,
): Promise<{ name: string; context: Context; explicit: boolean; file: string } | undefined> {
  const file = configPath(env);
  const chosen = chosenContext(flag, env);
  if (chosen) assertContextName(chosen.name);
  else if (!current) return undefined;
  const cfg = await readConfig(file, env);
  const name = chosen?.name ?? cfg.currentContext;
  if (name === undefined) return undefined;
  return { name, context: mustGetContext(cfg, name, file, chosen?.from ?? "currentContext"), explicit: chosen !== undefined, file };
}
