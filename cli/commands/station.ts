import type { Command } from "commander";
import type { StationConfig, StationInfo } from "../../core/protocol/index.js";
import { withClient } from "../connection.js";
import { watch, watchIntervalMs, withWatch, type WatchOpts } from "../watch.js";
import { intOption, outputFormat, outputOption, print, render, table, withOutput, JSON_HELP, type Io, type OutputOpts } from "../output.js";

function configFrom(o: Record<string, string | undefined>): Partial<StationConfig> {
  const c: Partial<StationConfig> = {};
  if (o["retention"] !== undefined) c.retention = o["retention"] as StationConfig["retention"];
  if (o["storage"] !== undefined) c.storage = o["storage"] as StationConfig["storage"];
  const ints: [keyof StationConfig, string][] = [
    ["maxAgeSeconds", "max-age-seconds"],
    ["maxMessages", "max-messages"],
    ["maxBytes", "max-bytes"],
    ["replicas", "replicas"],
    ["idempotencyWindowMs", "idempotency-window-ms"],
    ["maxMessageSize", "max-message-size"],
    ["partitions", "partitions"],
  ];
  for (const [key, flag] of ints) {
    const camel = flag.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
    const v = intOption(flag, o[camel]);
    if (v !== undefined) (c as Record<string, unknown>)[key] = v;
  }
  return c;
}

function withSettings(cmd: Command): Command {
  return cmd
    .option("--retention <policy>", "limits or interest (kept until every group acked)")
    .option("--max-age-seconds <n>", "drop messages older than this (0 = no limit)")
    .option("--max-messages <n>", "keep at most this many messages (-1 = unlimited)")
    .option("--max-bytes <n>", "keep at most this many bytes (-1 = unlimited)")
    .option("--storage <type>", "file or memory")
    .option("--replicas <n>", "JetStream replicas")
    .option("--idempotency-window-ms <n>", "de-duplication window")
    .option("--max-message-size <n>", "largest payload accepted, in bytes")
    .option("--partitions <n>", "partitions for ordering keys (1 to 256; set at creation; a partitioned station can grow later)");
}

function describe(s: StationInfo): string {
  const c = s.config;
  const lines = [
    `station ${s.name}`,
    `  retention: ${c.retention}  storage: ${c.storage}  replicas: ${c.replicas}`,
    `  limits: maxAgeSeconds=${c.maxAgeSeconds} maxMessages=${c.maxMessages} maxBytes=${c.maxBytes} maxMessageSize=${c.maxMessageSize}`,
    `  idempotencyWindowMs: ${c.idempotencyWindowMs}  partitions: ${c.partitions ?? 1}`,
    `  created: ${s.createdAt}`,
  ];
  if (s.state)
    lines.push(
      `  messages: ${s.state.messages}  bytes: ${s.state.bytes}  seq: ${s.state.firstSeq}..${s.state.lastSeq}  groups: ${s.state.consumers}` +
        (s.state.delayed ? `  delayed (waiting): ${s.state.delayed}` : ""),
    );
  if (s.schema) lines.push(`  schema: ${s.schema.name}@${s.schema.version}`);
  if (s.functions && s.functions.length > 0) lines.push(`  functions: ${s.functions.map((f) => `${f.name}@${f.version}`).join(" -> ")}`);
  return lines.join("\n") + "\n";
}

export function registerStation(program: Command, io: Io): void {
  const st = program.command("station").description("create, list, inspect, update and delete stations");
  withSettings(st.command("create <name>").description("create a station (same settings again: no-op)")).action(
    async (name: string, opts: Record<string, string>, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const s = await c.stations.create(name, configFrom(opts));
        io.out(s.created ? `station ${name} created\n` : `station ${name} already exists with these settings\n`);
      });
    },
  );
  withSettings(st.command("update <name>").description("change retention, limits, replicas, window or max size; grow partitions"))
    .option("--force", "grow partitions even while groups have unread messages (a key's new messages may overtake them)")
    .action(async (name: string, opts: Record<string, string> & { force?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        io.out(describe(await c.stations.update(name, configFrom(opts), opts.force === true ? { force: true } : {})));
      });
    });
  st.command("list")
    .description("list stations")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const list = await c.stations.list();
        print(io, opts, list, () =>
          list.length === 0
            ? "no stations\n"
            : table(
                ["NAME", "MESSAGES", "BYTES", "GROUPS", "RETENTION", "STORAGE", "SCHEMA"],
                list.map((s) => [
                  s.name,
                  s.state?.messages ?? 0,
                  s.state?.bytes ?? 0,
                  s.state?.consumers ?? 0,
                  s.config.retention,
                  s.config.storage,
                  s.schema ? `${s.schema.name}@${s.schema.version}` : "-",
                ]),
              ),
        );
      });
    });
  withWatch(withOutput(st.command("info <name>").description("show a station's settings and state"))).action(
    async (name: string, o: OutputOpts & WatchOpts, cmd: Command) => {
      const format = outputFormat(o);
      const intervalMs = o.watch ? watchIntervalMs(o) : 0;
      await withClient(io, cmd, async (c) => {
        const snapshot = async () => {
          const s = await c.stations.get(name);
          return render(format, s, () => describe(s));
        };
        if (o.watch) await watch(io, { intervalMs, title: `junction station info ${name}` }, snapshot);
        else io.out(await snapshot());
      });
    },
  );
  st.command("delete <name>")
    .description("delete a station, its messages and its consumer groups")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        await c.stations.delete(name);
        io.out(`station ${name} deleted\n`);
      });
    });
}
