import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { JunctionError } from "../../core/protocol/index.js";
import {
  assertContextName,
  chosenContext,
  configPath,
  mustGetContext,
  readConfig,
  writeConfig,
  type CliConfig,
  type Context,
} from "../config.js";
import type { ConnectionFlags } from "../connection.js";
import { print, table, withOutput, type Io, type OutputOpts } from "../output.js";

/** A context as shown: its name, whether it is the current one, and its settings. */
interface ContextView extends Context {
  name: string;
  current: boolean;
}

function describe(v: ContextView): string {
  const lines = [`context ${v.name}${v.current ? " (current)" : ""}`, `  url: ${v.url}`];
  if (v.user !== undefined) lines.push(`  user: ${v.user}`);
  if (v.passwordFile !== undefined) lines.push(`  passwordFile: ${v.passwordFile}`);
  if (v.tenant !== undefined) lines.push(`  tenant: ${v.tenant}`);
  for (const k of ["ca", "cert", "key"] as const) if (v.tls?.[k] !== undefined) lines.push(`  tls ${k}: ${v.tls[k]}`);
  return lines.join("\n") + "\n";
}

/** Says so when a password file is missing or readable by others (it is read at connect time). */
async function checkPasswordFile(io: Io, file: string): Promise<void> {
  try {
    const s = await stat(file);
    if ((s.mode & 0o077) !== 0) {
      io.err(`warning: ${file} is readable by other users (mode ${(s.mode & 0o777).toString(8)}); chmod 600 it\n`);
    }
  } catch {
    io.err(`warning: ${file} does not exist yet; commands using this context will fail until it does\n`);
  }
}

/** `junction context …`: named brokers and credentials in the config file. */
export function registerContext(program: Command, io: Io): void {
  const env = () => io.env ?? process.env;
  const load = async (): Promise<{ file: string; cfg: CliConfig }> => {
    const file = configPath(env());
    return { file, cfg: await readConfig(file, env()) };
  };
  const view = (cfg: CliConfig, name: string, c: Context): ContextView => ({ name, current: cfg.currentContext === name, ...c });

  const cx = program
    .command("context")
    .description(
      "named brokers and credentials (config file: $JUNCTION_CONFIG, else $XDG_CONFIG_HOME/junction/config.yaml or ~/.config/junction/config.yaml)",
    );
  cx.command("add <name>")
    .description("add a context from the connection flags: --url (required), --user, --password-file, --tenant, --tls-ca/cert/key")
    .option("--use", "make it the current context")
    .option("--force", "replace a context of that name")
    .configureHelp({ showGlobalOptions: true })
    .action(async (name: string, o: { use?: boolean; force?: boolean }, cmd: Command) => {
      assertContextName(name);
      const f = cmd.optsWithGlobals<ConnectionFlags>();
      if (f.url === undefined) throw new JunctionError("INVALID_ARGUMENT", "context add needs --url", { details: { option: "url" } });
      const { file, cfg } = await load();
      if (Object.hasOwn(cfg.contexts, name) && !o.force) {
        throw new JunctionError("INVALID_ARGUMENT", `context '${name}' exists in ${file}; add --force to replace it`, {
          details: { context: name, file },
        });
      }
      // Paths are stored absolute: the file is read from anywhere.
      const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(p));
      const tls = { ca: abs(f.tlsCa), cert: abs(f.tlsCert), key: abs(f.tlsKey) };
      const ctx: Context = {
        url: f.url,
        ...(f.user !== undefined ? { user: f.user } : {}),
        ...(f.passwordFile !== undefined ? { passwordFile: abs(f.passwordFile) } : {}),
        ...(f.tenant !== undefined ? { tenant: f.tenant } : {}),
        ...(tls.ca || tls.cert || tls.key ? { tls } : {}),
      };
      if (ctx.passwordFile !== undefined) await checkPasswordFile(io, ctx.passwordFile);
      const next: CliConfig = { ...cfg, contexts: { ...cfg.contexts, [name]: ctx } };
      if (o.use) next.currentContext = name;
      await writeConfig(file, next);
      io.out(`context ${name} ${Object.hasOwn(cfg.contexts, name) ? "replaced" : "added"}${o.use ? " (current)" : ""} in ${file}\n`);
    });
  cx.command("use <name>")
    .description("make a context the current one (commands connect with it unless --url, JUNCTION_URL or --context say otherwise)")
    .action(async (name: string) => {
      const { file, cfg } = await load();
      mustGetContext(cfg, name, file);
      await writeConfig(file, { ...cfg, currentContext: name });
      io.out(`current context: ${name}\n`);
    });
  withOutput(cx.command("list").description("list the contexts (* = current)"))
    .option("-q, --quiet", "print only the names")
    .action(async (o: OutputOpts & { quiet?: boolean }) => {
      const { cfg } = await load();
      const views = Object.entries(cfg.contexts).map(([n, c]) => view(cfg, n, c));
      if (o.quiet) return void io.out(views.map((v) => v.name + "\n").join(""));
      print(io, o, views, () =>
        views.length === 0
          ? "no contexts (add one with: junction context add <name> --url …)\n"
          : table(
              ["CURRENT", "NAME", "URL", "USER", "TENANT"],
              views.map((v) => [v.current ? "*" : "", v.name, v.url, v.user ?? "-", v.tenant ?? "-"]),
            ),
      );
    });
  withOutput(cx.command("show [name]").description("show a context (default: the one in use)")).action(
    async (name: string | undefined, o: OutputOpts, cmd: Command) => {
      const { file, cfg } = await load();
      const chosen = chosenContext(cmd.optsWithGlobals<ConnectionFlags>().context, env());
      const n = name ?? chosen?.name ?? cfg.currentContext;
      if (n === undefined) throw new JunctionError("INVALID_ARGUMENT", `no context in use and none named (config file ${file})`);
      const v = view(cfg, n, mustGetContext(cfg, n, file));
      print(io, o, v, () => describe(v));
    },
  );
  cx.command("current")
    .description("print the name of the context in use (--context, else JUNCTION_CONTEXT, else the current one)")
    .action(async (_o: unknown, cmd: Command) => {
      const chosen = chosenContext(cmd.optsWithGlobals<ConnectionFlags>().context, env());
      const { file, cfg } = await load();
      const n = chosen?.name ?? cfg.currentContext;
      if (n === undefined) {
        throw new JunctionError("INVALID_ARGUMENT", `no current context in ${file} (pick one with 'junction context use <name>')`, {
          details: { file },
        });
      }
      mustGetContext(cfg, n, file, chosen?.from);
      io.out(n + "\n");
    });
  cx.command("delete <name>")
    .description("remove a context (it stops being current)")
    .action(async (name: string) => {
      const { file, cfg } = await load();
      mustGetContext(cfg, name, file);
      const contexts = { ...cfg.contexts };
      delete contexts[name];
      const { currentContext, ...rest } = cfg;
      await writeConfig(file, {
        ...rest,
        ...(currentContext !== name && currentContext !== undefined ? { currentContext } : {}),
        contexts,
      });
      io.out(`context ${name} deleted\n`);
    });
}
