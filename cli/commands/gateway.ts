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

export function registerGateway(program: Command, io: Io): void {
  const cmd = program.command("gateway").description("run a gateway against an existing NATS (production mode); any number may run");
  for (const s of Object.values(GATEWAY_SETTINGS)) {
    // --user and --password also exist on the program; commander gives them to whichever parses first.
    if (s.flag === "--user" || s.flag === "--password") continue;
    cmd.option(`${s.flag} <value>`, `${s.help} (env ${s.env})`);
  }
  cmd.action(async (_local: Record<string, string | undefined>, c: Command) => {
    const opts = c.optsWithGlobals<Record<string, string | undefined>>();
    const flags: Partial<Record<GatewaySettingName, string | undefined>> = {};
    for (const [name, s] of Object.entries(GATEWAY_SETTINGS) as [GatewaySettingName, { flag: string }][])
      flags[name] = opts[optionKey(s.flag)];
    // The program's --url is the same thing as --nats-url.
    flags.natsUrl ??= opts["url"];
    const cfg = resolveGatewayConfig(flags, io.env ?? process.env);
    const gw = await startJunctionGateway({
      servers: cfg.natsUrl,
      user: cfg.user,
      pass: cfg.password,
      defaultReplicas: cfg.replicas,
      httpPort: cfg.httpPort,
      httpHost: cfg.httpHost,
      logger: createLogger(cfg.logLevel, "gateway"),
    });
    io.err(`gateway ${gw.id} serving ${cfg.natsUrl.join(",")}${gw.httpUrl ? `; HTTP on ${gw.httpUrl}` : ""}\n`);
    const sig = await waitForSignal();
    io.err(`${sig}: draining...\n`);
    await gw.close();
  });
}
