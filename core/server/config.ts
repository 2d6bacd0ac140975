/**
 * `junction gateway`'s settings: each comes from a flag or an environment variable (the flag
 * wins), and all of them are validated by one JSON Schema, so a bad value fails at startup naming
 * the flag and the variable.
 */
import { Ajv, type ErrorObject } from "ajv";
import { JunctionError } from "../protocol/index.js";
import { LogLevel } from "../support/index.js";

/** One setting: its flag, its environment variable and its schema. */
interface Setting {
  flag: string;
  env: string;
  schema: Record<string, unknown>;
  /** Shown in `--help` and the README. */
  help: string;
}

/** Every setting of `junction gateway`. */
export const GATEWAY_SETTINGS = {
  natsUrl: {
    flag: "--nats-url",
    env: "JUNCTION_URL",
    schema: { type: "string", minLength: 1, pattern: "^(nats|tls|ws|wss)://[^,\\s]+(,(nats|tls|ws|wss)://[^,\\s]+)*$" },
    help: "NATS URL(s), comma-separated",
  },
  user: { flag: "--user", env: "JUNCTION_USER", schema: { type: "string", minLength: 1 }, help: "the gateway's NATS user" },
  password: { flag: "--password", env: "JUNCTION_PASSWORD", schema: { type: "string", minLength: 1 }, help: "the gateway's NATS password" },
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
  httpHost: {
    flag: "--http-host",
    env: "JUNCTION_HTTP_HOST",
    schema: { type: "string", minLength: 1 },
    help: "interface of the HTTP port",
  },
  logLevel: {
    flag: "--log-level",
    env: "JUNCTION_LOG_LEVEL",
    schema: { enum: Object.values(LogLevel) },
    help: "debug, info, warn, error or silent",
  },
} as const satisfies Record<string, Setting>;

/** A setting's name. */
export type GatewaySettingName = keyof typeof GATEWAY_SETTINGS;

/** The validated settings (defaults filled). */
export interface GatewayConfig {
  natsUrl: string[];
  user: string | undefined;
  password: string | undefined;
  replicas: number;
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
}

/** Defaults of the settings. */
export const DEFAULT_GATEWAY_CONFIG: Readonly<Omit<GatewayConfig, "user" | "password">> = Object.freeze({
  natsUrl: ["nats://127.0.0.1:4222"],
  replicas: 1,
  httpPort: 8080,
  // In a container the probes come from outside: listen on every interface.
  httpHost: "0.0.0.0",
  logLevel: "info" as LogLevel,
});

const ajv = new Ajv({ coerceTypes: true, allErrors: true, strict: true });
const validate = ajv.compile({
  type: "object",
  properties: Object.fromEntries(Object.entries(GATEWAY_SETTINGS).map(([k, s]) => [k, s.schema])),
  additionalProperties: false,
});

/**
 * Reads the settings from flags (by setting name) and the environment, validates them with one
 * schema and fills the defaults. Throws INVALID_ARGUMENT naming the flag and variable of every
 * bad value.
 */
export function resolveGatewayConfig(
  flags: Partial<Record<GatewaySettingName, string | undefined>>,
  env: NodeJS.ProcessEnv,
): GatewayConfig {
  const raw: Record<string, unknown> = {};
  const given: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const [name, s] of Object.entries(GATEWAY_SETTINGS) as [GatewaySettingName, Setting][]) {
    const f = flags[name];
    const e = env[s.env];
    if (f !== undefined) {
      raw[name] = given[name] = f;
      from[name] = s.flag;
    } else if (e !== undefined && e !== "") {
      raw[name] = given[name] = e;
      from[name] = s.env;
    }
  }
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e: ErrorObject) => {
      const name = e.instancePath.slice(1) as GatewaySettingName;
      const s = GATEWAY_SETTINGS[name];
      // A secret is never echoed back (logs and terminals keep error messages).
      const value = name === "password" ? "(hidden)" : given[name];
      return { setting: name, source: from[name] ?? "", flag: s?.flag, env: s?.env, message: e.message ?? "is invalid", value };
    });
    throw new JunctionError(
      "INVALID_ARGUMENT",
      `bad gateway settings: ${problems.map((p) => `${p.flag} (env ${p.env}) ${p.message}, got ${JSON.stringify(p.value)} from ${p.source}`).join("; ")}`,
      { details: { problems } },
    );
  }
  const v = raw as Partial<Record<GatewaySettingName, unknown>>;
  return {
    natsUrl: typeof v.natsUrl === "string" ? v.natsUrl.split(",") : [...DEFAULT_GATEWAY_CONFIG.natsUrl],
    user: v.user as string | undefined,
    password: v.password as string | undefined,
    replicas: (v.replicas as number | undefined) ?? DEFAULT_GATEWAY_CONFIG.replicas,
    httpPort: (v.httpPort as number | undefined) ?? DEFAULT_GATEWAY_CONFIG.httpPort,
    httpHost: (v.httpHost as string | undefined) ?? DEFAULT_GATEWAY_CONFIG.httpHost,
    logLevel: (v.logLevel as LogLevel | undefined) ?? DEFAULT_GATEWAY_CONFIG.logLevel,
  };
}
