/**
 * `junction gateway`'s settings: each comes from a flag or an environment variable (the flag
 * wins), and all of them are validated by one JSON Schema, so a bad value fails at startup naming
 * the flag and the variable. Secrets never come from a flag (a command line is visible to every
 * user of the machine in /proc): they come from a file (`--…-file`) or an environment variable.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject } from "ajv";
import { JunctionError } from "../protocol/index.js";
import { dirname, resolve } from "node:path";
import { resolveGrants } from "../auth/index.js";
import { LOG_LEVEL_SPEC_PATTERN, LogFormat } from "../support/index.js";
import type { BootstrapUser } from "./options.js";

/** One setting: its flag (none for a secret's value), its environment variable and its schema. */
interface Setting {
  flag?: string;
  env: string;
  schema: Record<string, unknown>;
  /** Shown in `--help` and the README. */
  help: string;
  /** A secret: never echoed in errors or logs. */
  secret?: true;
  /** A path whose file content is the value of `fileOf`. */
  fileOf?: string;
}

const str = { type: "string", minLength: 1 } as const;

/** Every setting of `junction gateway`. */
export const GATEWAY_SETTINGS = {
  natsUrl: {
    flag: "--nats-url",
    env: "JUNCTION_URL",
    schema: { type: "string", minLength: 1, pattern: "^(nats|tls|ws|wss)://[^,\\s]+(,(nats|tls|ws|wss)://[^,\\s]+)*$" },
    help: "NATS URL(s), comma-separated",
  },
  user: { flag: "--user", env: "JUNCTION_USER", schema: str, help: "the gateway's NATS user (internal account)" },
  password: { env: "JUNCTION_PASSWORD", schema: str, help: "the gateway's NATS password", secret: true },
  passwordFile: {
    flag: "--password-file",
    env: "JUNCTION_PASSWORD_FILE",
    schema: str,
    help: "file holding the gateway's NATS password",
    fileOf: "password",
  },
  authMode: {
    flag: "--auth",
    env: "JUNCTION_AUTH",
    schema: { enum: ["callout", "none"] },
    help: "callout (users through NATS auth callout) or none",
  },
  authIssuerSeed: { env: "JUNCTION_AUTH_ISSUER_SEED", schema: str, help: "the account seed that signs auth-callout answers", secret: true },
  authIssuerSeedFile: {
    flag: "--auth-issuer-seed-file",
    env: "JUNCTION_AUTH_ISSUER_SEED_FILE",
    schema: str,
    help: "file holding the auth-callout issuer seed",
    fileOf: "authIssuerSeed",
  },
  systemUser: {
    flag: "--system-user",
    env: "JUNCTION_SYSTEM_USER",
    schema: str,
    help: "a system-account user (to close connections of users whose rights change)",
  },
  systemPassword: { env: "JUNCTION_SYSTEM_PASSWORD", schema: str, help: "the system user's password", secret: true },
  systemPasswordFile: {
    flag: "--system-password-file",
    env: "JUNCTION_SYSTEM_PASSWORD_FILE",
    schema: str,
    help: "file holding the system user's password",
    fileOf: "systemPassword",
  },
  tlsCa: { flag: "--tls-ca", env: "JUNCTION_TLS_CA", schema: str, help: "CA certificate (PEM) to verify the NATS server" },
  tlsCert: {
    flag: "--tls-cert",
    env: "JUNCTION_TLS_CERT",
    schema: str,
    help: "client certificate (PEM) for NATS, when the server verifies clients",
  },
  tlsKey: { flag: "--tls-key", env: "JUNCTION_TLS_KEY", schema: str, help: "the client certificate's key (PEM)" },
  replicas: {
    flag: "--replicas",
    env: "JUNCTION_DEFAULT_REPLICAS",
    schema: { type: "integer", minimum: 1, maximum: 5 },
    help: "replicas of new stations and of the metadata",
  },
  httpPort: {
    flag: "--http-port",
    env: "JUNCTION_HTTP_PORT",
    schema: { type: "integer", minimum: 0, maximum: 65535 },
    help: "port of /healthz, /readyz and /metrics (0 = off)",
  },
  waitForNatsMs: {
    flag: "--wait-for-nats-ms",
    env: "JUNCTION_WAIT_FOR_NATS_MS",
    schema: { type: "integer", minimum: 0, maximum: 86_400_000 },
    help: "how long to keep trying at startup while NATS is unreachable or JetStream not ready, in ms (0 = once)",
  },
  httpHost: { flag: "--http-host", env: "JUNCTION_HTTP_HOST", schema: str, help: "interface of the HTTP port" },
  metricsToken: { env: "JUNCTION_METRICS_TOKEN", schema: str, help: "a bearer token /metrics then requires", secret: true },
  metricsTokenFile: {
    flag: "--metrics-token-file",
    env: "JUNCTION_METRICS_TOKEN_FILE",
    schema: str,
    help: "file holding the bearer token /metrics requires",
    fileOf: "metricsToken",
  },
  logLevel: {
    flag: "--log-level",
    env: "JUNCTION_LOG_LEVEL",
    schema: { type: "string", pattern: LOG_LEVEL_SPEC_PATTERN },
    help: "debug, info, warn, error or silent; per component after a comma: info,gateway.produce=debug",
  },
  logFormat: {
    flag: "--log-format",
    env: "JUNCTION_LOG_FORMAT",
    schema: { enum: Object.values(LogFormat) },
    help: "json (one object per line) or pretty (readable)",
  },
  bootstrapFile: {
    flag: "--bootstrap-file",
    env: "JUNCTION_BOOTSTRAP_FILE",
    schema: str,
    help: "JSON of tenants and users to create at startup when absent ({tenants: [...], users: [{name, tenant?, passwordFile, grants}]})",
  },
} as const satisfies Record<string, Setting>;

/** A setting's name. */
export type GatewaySettingName = keyof typeof GATEWAY_SETTINGS;

/** The validated settings (defaults filled; files read into the values they hold). */
export interface GatewayConfig {
  natsUrl: string[];
  user: string | undefined;
  password: string | undefined;
  authMode: "callout" | "none";
  authIssuerSeed: string | undefined;
  systemUser: string | undefined;
  systemPassword: string | undefined;
  tlsCa: string | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  replicas: number;
  httpPort: number;
  waitForNatsMs: number;
  httpHost: string;
  metricsToken: string | undefined;
  /** Level setting (`info`, `info,gateway.produce=debug`), checked by {@link LOG_LEVEL_SPEC_PATTERN}. */
  logLevel: string;
  logFormat: LogFormat;
  /** Tenants and users to create at startup when absent (passwords read from their files). */
  bootstrap: { tenants: string[]; users: BootstrapUser[] };
}

/** Defaults of the settings that have one. */
export const DEFAULT_GATEWAY_CONFIG = Object.freeze({
  natsUrl: ["nats://127.0.0.1:4222"],
  authMode: "callout" as const,
  replicas: 1,
  httpPort: 8080,
  waitForNatsMs: 600_000,
  // In a container the probes come from outside: listen on every interface.
  httpHost: "0.0.0.0",
  logLevel: "info",
  logFormat: "json" as LogFormat,
});

const ajv = new Ajv({ coerceTypes: true, allErrors: true, strict: true });
const validate = ajv.compile({
  type: "object",
  properties: Object.fromEntries(Object.entries(GATEWAY_SETTINGS).map(([k, s]) => [k, s.schema])),
  additionalProperties: false,
});

/** Reads a secret file (trailing newline trimmed). */
function readSecretFile(path: string, setting: Setting): string {
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new JunctionError("INVALID_ARGUMENT", `${setting.flag} (env ${setting.env}): cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { flag: setting.flag, env: setting.env },
    });
  }
}

/**
 * Reads the settings from flags (by setting name) and the environment, reads secret files,
 * validates everything with one schema and fills the defaults. Throws INVALID_ARGUMENT naming
 * the flag and variable of every bad value (secrets are never echoed).
 */
export function resolveGatewayConfig(
  flags: Partial<Record<GatewaySettingName, string | undefined>>,
  env: NodeJS.ProcessEnv,
): GatewayConfig {
  const raw: Record<string, unknown> = {};
  const given: Record<string, string> = {};
  const from: Record<string, string> = {};
  const settings = Object.entries(GATEWAY_SETTINGS) as [GatewaySettingName, Setting][];
  for (const [name, s] of settings) {
    const f = s.flag !== undefined ? flags[name] : undefined;
    const e = env[s.env];
    if (f !== undefined) {
      raw[name] = given[name] = f;
      from[name] = s.flag!;
    } else if (e !== undefined && e !== "") {
      raw[name] = given[name] = e;
      from[name] = s.env;
    }
  }
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e: ErrorObject) => {
      const name = e.instancePath.slice(1) as GatewaySettingName;
      const s: Setting | undefined = GATEWAY_SETTINGS[name];
      const value = s?.secret ? "(hidden)" : given[name];
      // A pattern is no explanation: say what the setting takes instead.
      const message = e.keyword === "pattern" && s ? `must be ${s.help}` : (e.message ?? "is invalid");
      return { setting: name, source: from[name] ?? "", flag: s?.flag, env: s?.env, message, value };
    });
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `bad gateway settings: ${problems
        .map((p) => `${p.flag ?? p.setting} (env ${p.env}) ${p.message}, got ${JSON.stringify(p.value)} from ${p.source}`)
        .join("; ")}`,
      { details: { problems } },
    );
  }
  // A file wins over the value of the same secret given in the environment.
  for (const [name, s] of settings) {
    if (s.fileOf && typeof raw[name] === "string") raw[s.fileOf] = readSecretFile(raw[name], s);
  }
  const v = raw as Partial<Record<GatewaySettingName, unknown>>;
  const opt = (k: GatewaySettingName) => v[k] as string | undefined;
  const cfg: GatewayConfig = {
    natsUrl: typeof v.natsUrl === "string" ? v.natsUrl.split(",") : [...DEFAULT_GATEWAY_CONFIG.natsUrl],
    user: opt("user"),
    password: opt("password"),
    authMode: (opt("authMode") as GatewayConfig["authMode"] | undefined) ?? DEFAULT_GATEWAY_CONFIG.authMode,
    authIssuerSeed: opt("authIssuerSeed"),
    systemUser: opt("systemUser"),
    systemPassword: opt("systemPassword"),
    tlsCa: opt("tlsCa"),
    tlsCert: opt("tlsCert"),
    tlsKey: opt("tlsKey"),
    replicas: (v.replicas as number | undefined) ?? DEFAULT_GATEWAY_CONFIG.replicas,
    httpPort: (v.httpPort as number | undefined) ?? DEFAULT_GATEWAY_CONFIG.httpPort,
    waitForNatsMs: (v.waitForNatsMs as number | undefined) ?? DEFAULT_GATEWAY_CONFIG.waitForNatsMs,
    httpHost: opt("httpHost") ?? DEFAULT_GATEWAY_CONFIG.httpHost,
    metricsToken: opt("metricsToken"),
    logLevel: opt("logLevel")?.trim() ?? DEFAULT_GATEWAY_CONFIG.logLevel,
    logFormat: (opt("logFormat") as LogFormat | undefined) ?? DEFAULT_GATEWAY_CONFIG.logFormat,
    bootstrap: opt("bootstrapFile") !== undefined ? readBootstrap(opt("bootstrapFile")!) : { tenants: [], users: [] },
  };
  if (cfg.authMode === "callout" && cfg.authIssuerSeed === undefined) {
    throw new JunctionError(
      "INVALID_ARGUMENT",
      "the gateway needs the auth-callout issuer seed: --auth-issuer-seed-file (env JUNCTION_AUTH_ISSUER_SEED_FILE) or env JUNCTION_AUTH_ISSUER_SEED (or --auth none on a NATS nobody else can reach)",
      { details: { flag: "--auth-issuer-seed-file", env: "JUNCTION_AUTH_ISSUER_SEED" } },
    );
  }
  if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) {
    throw new JunctionError("INVALID_ARGUMENT", "--tls-cert and --tls-key go together", { details: { flag: "--tls-cert" } });
  }
  return cfg;
}

/** Reads a bootstrap file: tenants and users (each user's password from its own file, relative to this one). */
function readBootstrap(file: string): { tenants: string[]; users: BootstrapUser[] } {
  const s: Setting = GATEWAY_SETTINGS.bootstrapFile;
  const bad = (why: string) =>
    new JunctionError("INVALID_ARGUMENT", `--bootstrap-file ${file}: ${why}`, { details: { flag: s.flag, env: s.env } });
  let v: unknown;
  try {
    v = JSON.parse(readSecretFile(file, s));
  } catch (err) {
    if (err instanceof JunctionError) throw err;
    throw bad(`not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== "object" || v === null) throw bad("must be an object {tenants, users}");
  const o = v as { tenants?: unknown; users?: unknown };
  const tenants = o.tenants ?? [];
  if (!Array.isArray(tenants) || tenants.some((t) => typeof t !== "string")) throw bad("tenants must be a list of names");
  const users = o.users ?? [];
  if (!Array.isArray(users)) throw bad("users must be a list");
  return {
    tenants: tenants as string[],
    users: users.map((u: unknown, i) => {
      const x = u as { name?: unknown; tenant?: unknown; passwordFile?: unknown; grants?: unknown };
      if (typeof x?.name !== "string" || typeof x.passwordFile !== "string") throw bad(`users[${i}] needs name and passwordFile`);
      const password = readSecretFile(resolve(dirname(file), x.passwordFile), s);
      return {
        name: x.name,
        password,
        ...(typeof x.tenant === "string" ? { tenant: x.tenant } : {}),
        grants: resolveGrants(x.grants),
      };
    }),
  };
}
