import type { Command } from "commander";
import {
  GATEWAY_SETTINGS,
  createLogger,
  resolveGatewayConfig,
  startJunctionGateway,
  type GatewaySettingName,
} from "../../core/server/index.js";
import type { Io } from "../output.js";
import { waitForSignal } from "./signals.js";

/** commander's option key of a flag (`--nats-url` → `natsUrl`). */
const optionKey = (flag: string) => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The program's own options a gateway setting shares (commander gives them to whichever parses first). */
const SHARED: Readonly<Record<string, string>> = { "--user": "user", "--password-file": "passwordFile" };

export function registerGateway(program: Command, io: Io): void {
  const cmd = program
    .command("gateway")
    .description(
      "run a gateway against an existing NATS (production mode); any number may run. Secrets come from files or the environment, never flags.",
    );
  for (const s of Object.values(GATEWAY_SETTINGS) as { flag?: string; env: string; help: string }[]) {
    if (s.flag === undefined) continue;
    if (SHARED[s.flag]) continue;
    cmd.option(`${s.flag} <value>`, `${s.help} (env ${s.env})`);
  }
  cmd.action(async (_local: Record<string, string | undefined>, c: Command) => {
    const opts = c.optsWithGlobals<Record<string, string | undefined>>();
    const flags: Partial<Record<GatewaySettingName, string | undefined>> = {};
    for (const [name, s] of Object.entries(GATEWAY_SETTINGS) as [GatewaySettingName, { flag?: string }][]) {
      if (s.flag !== undefined) flags[name] = opts[optionKey(s.flag)];
    }
    // The program's --url is the same thing as --nats-url.
    flags.natsUrl ??= opts["url"];
    const cfg = resolveGatewayConfig(flags, io.env ?? process.env);
    const logger = createLogger({ level: cfg.logLevel, format: cfg.logFormat, namespace: "gateway" });
    if (cfg.authMode === "none") logger.warn("authentication is off (--auth none): every client may do everything");
    const tls = cfg.tlsCa || cfg.tlsCert ? { caFile: cfg.tlsCa, certFile: cfg.tlsCert, keyFile: cfg.tlsKey } : undefined;
    const gw = await startJunctionGateway({
      servers: cfg.natsUrl,
      user: cfg.user,
      pass: cfg.password,
      tls,
      defaultReplicas: cfg.replicas,
      httpPort: cfg.httpPort,
      httpHost: cfg.httpHost,
      waitForNatsMs: cfg.waitForNatsMs,
      metricsToken: cfg.metricsToken,
      logger,
      auth: {
        mode: cfg.authMode,
        issuerSeed: cfg.authIssuerSeed,
        systemUser: cfg.systemUser,
        systemPassword: cfg.systemPassword,
        // The deployment's own NATS users: an application user by those names could never log in.
        reservedUsers: [...new Set(["gateway", "sys", ...(cfg.user ? [cfg.user] : []), ...(cfg.systemUser ? [cfg.systemUser] : [])])],
        bootstrapTenants: cfg.bootstrap.tenants,
        bootstrapUsers: cfg.bootstrap.users,
      },
    });
    io.err(`gateway ${gw.id} serving ${cfg.natsUrl.join(",")}${gw.httpUrl ? `; HTTP on ${gw.httpUrl}` : ""}\n`);
    const sig = await waitForSignal();
    io.err(`${sig}: draining...\n`);
    await gw.close();
  });
}
