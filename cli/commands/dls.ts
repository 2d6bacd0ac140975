import type { Command } from "commander";
import {
  JunctionError,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterReason,
  type PartitionStats,
  type GroupMember,
} from "../../core/protocol/index.js";
import { withClient } from "../connection.js";
import { watch, watchIntervalMs, withWatch, type WatchOpts } from "../watch.js";
import {
  ExitCode,
  JSON_HELP,
  intOption,
  outputFormat,
  outputOption,
  print,
  render,
  table,
  withOutput,
  type Io,
  type OutputOpts,
} from "../output.js";

interface FilterOpts {
  station?: string;
  reason?: string;
  group?: string;
  since?: string;
  until?: string;
  text?: string;
}

const REASONS = ["poison", "terminated", "schema", "function"];

function filterFrom(o: FilterOpts): DeadLetterFilter {
  const f: DeadLetterFilter = {};
  if (o.station) f.station = o.station;
  if (o.reason) {
    if (!REASONS.includes(o.reason))
      throw new JunctionError("INVALID_ARGUMENT", `--reason must be one of ${REASONS.join(", ")} (got '${o.reason}')`);
    f.reason = o.reason as DeadLetterReason;
  }
  if (o.group) f.group = o.group;
  for (const k of ["since", "until"] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (Number.isNaN(Date.parse(v))) throw new JunctionError("INVALID_ARGUMENT", `--${k} must be a date/time (got '${v}')`);
    f[k] = new Date(v).toISOString();
  }
  if (o.text) f.text = o.text;
  return f;
}

function withFilters(cmd: Command): Command {
  return cmd
    .option("--station <station>", "only this station")
    .option("--reason <reason>", "poison, terminated, schema or function")
    .option("--group <group>", "only dead letters of this consumer group")
    .option("--since <time>", "created at or after (ISO time)")
    .option("--until <time>", "created before (ISO time)")
    .option("--text <text>", "payload, error or id containing this text");
}

function payloadText(d: DeadLetter): string {
  if (d.decoded !== undefined) return JSON.stringify(d.decoded, null, 2);
  const raw = Buffer.from(d.payload, "base64").toString("utf8");
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function describe(d: DeadLetter): string {
  const lines = [
    `dead letter ${d.id}`,
    `  station: ${d.station}  reason: ${d.reason}${d.groups.length ? `  groups: ${d.groups.join(",")}` : ""}${d.seq ? `  seq: ${d.seq}` : ""}`,
    `  created: ${d.createdAt}${d.deliveries ? `  deliveries: ${d.deliveries}` : ""}${d.firstDeliveryAt ? `  first: ${d.firstDeliveryAt}` : ""}${d.lastDeliveryAt ? `  last: ${d.lastDeliveryAt}` : ""}`,
  ];
  if (d.producer) lines.push(`  producer: ${d.producer}`);
  if (d.resentFrom) lines.push(`  resent from: ${d.resentFrom}`);
  if (d.error) lines.push(`  error: ${d.error.code}: ${d.error.message}`);
  if (Object.keys(d.headers).length) lines.push(`  headers: ${JSON.stringify(d.headers)}`);
  lines.push(
    "  payload:",
    ...payloadText(d)
      .split("\n")
      .map((l) => "    " + l),
  );
  return lines.join("\n") + "\n";
}

export function registerDls(program: Command, io: Io): void {
  const dls = program.command("dls").description("inspect, resend and drop dead letters");
  withFilters(dls.command("list").description("list dead letters (newest filters first)"))
    .option("--limit <n>", "page size", "50")
    .option("--cursor <cursor>", "continue after a previous page")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (o: FilterOpts & { limit: string; cursor?: string; json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const page = await c.dls.list({
          ...filterFrom(o),
          limit: intOption("limit", o.limit) ?? 50,
          ...(o.cursor ? { cursor: o.cursor } : {}),
        });
        print(
          io,
          o,
          page,
          () =>
            (page.items.length === 0
              ? "no dead letters\n"
              : table(
                  ["ID", "STATION", "REASON", "GROUPS", "DELIVERIES", "CREATED", "ERROR"],
                  page.items.map((d) => [
                    d.id,
                    d.station,
                    d.reason,
                    d.groups.join(",") || "-",
                    d.deliveries ?? "-",
                    d.createdAt,
                    d.error?.code ?? "-",
                  ]),
                )) + (page.next ? `more: --cursor ${page.next}\n` : ""),
        );
      });
    });
  dls
    .command("show <id>")
    .description("show one dead letter with its payload decoded by the station's schema")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const d = await c.dls.get(id);
        print(io, o, d, () => describe(d));
      });
    });
  withFilters(dls.command("resend [id]").description("resend one dead letter, or --all matching the filters"))
    .option("--all", "resend every dead letter matching the filters")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (id: string | undefined, o: FilterOpts & { all?: boolean; json?: boolean }, cmd: Command) => {
      if (!id && !o.all) throw new JunctionError("INVALID_ARGUMENT", "give a dead-letter id, or --all with filters");
      await withClient(io, cmd, async (c) => {
        const r = await c.dls.resend(id ? { id } : { filter: filterFrom(o) });
        print(
          io,
          o,
          r,
          () => `resent ${r.resent}, failed ${r.failed}\n` + (r.errors ?? []).map((e) => `  ${e.id}: ${e.code}: ${e.message}\n`).join(""),
        );
        if (r.failed > 0) throw new ExitCode(1);
      });
    });
  registerRetention(dls, io);
  withFilters(dls.command("drop [id]").description("drop one dead letter, or --all matching the filters"))
    .option("--all", "drop every dead letter matching the filters")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (id: string | undefined, o: FilterOpts & { all?: boolean; json?: boolean }, cmd: Command) => {
      if (!id && !o.all) throw new JunctionError("INVALID_ARGUMENT", "give a dead-letter id, or --all with filters");
      await withClient(io, cmd, async (c) => {
        const r = await c.dls.drop(id ? { id } : { filter: filterFrom(o) });
        print(io, o, r, () => `dropped ${r.dropped}\n`);
      });
    });
}

function registerRetention(dls: Command, io: Io): void {
  dls
    .command("retention <station>")
    .description("show or set a station's dead-letter retention")
    .option("--max-age-seconds <n>", "keep dead letters this long (0 = no age limit); applies to new ones")
    .option("--max-entries <n>", "keep at most this many (oldest go first)")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (station: string, o: { maxAgeSeconds?: string; maxEntries?: string; json?: boolean }, cmd: Command) => {
      const change: { maxAgeSeconds?: number; maxEntries?: number } = {};
      const age = intOption("max-age-seconds", o.maxAgeSeconds);
      const max = intOption("max-entries", o.maxEntries);
      if (age !== undefined) change.maxAgeSeconds = age;
      if (max !== undefined) change.maxEntries = max;
      await withClient(io, cmd, async (c) => {
        const r = await c.dls.retention(station, Object.keys(change).length > 0 ? change : undefined);
        print(
          io,
          o,
          r,
          () =>
            `dead letters of ${r.station}: max age ${r.maxAgeSeconds} s, max entries ${r.maxEntries}${r.trimmed ? ` (${r.trimmed} trimmed now)` : ""}\n`,
        );
      });
    });
}

/**
 * A partitioned group's partitions: which member each is assigned to, who holds its pin and since
 * when, what waits, what the server redelivered; then each member (any group's members announce
 * themselves), its partitions and the keys it retries.
 */
function partitionsAndMembers(parts: PartitionStats[] | undefined, members: GroupMember[] | undefined): string {
  const partitions =
    parts && parts.length > 0
      ? `  partitions: ${parts.length}\n` +
        table(
          ["PARTITION", "MEMBER", "PIN", "SINCE", "PENDING", "UNACKED", "REDELIVERED", "WAITING"],
          parts.map((p) => [
            p.partition,
            p.assignedTo ?? "-",
            p.member ?? "-",
            p.memberSince ?? "-",
            p.pending,
            p.unacked,
            p.redelivered,
            p.waiting,
          ]),
        )
      : "";
  if (!members || members.length === 0) return partitions;
  return (
    (partitions ? `${partitions}\n` : "") +
    `  members: ${members.length}\n` +
    table(
      ["MEMBER", "PARTITIONS", "LAST SEEN", "RETRYING KEYS"],
      members.map((m) => [m.id, m.partitions.join(",") || "-", m.lastSeen, m.retrying?.join(",") || "-"]),
    )
  );
}

export function registerGroup(program: Command, io: Io): void {
  const g = program.command("group").description("consumer groups and their stats");
  g.command("list <station>")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (station: string, o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const list = await c.groups.list(station);
        print(io, o, list, () =>
          list.length === 0
            ? "no consumer groups\n"
            : table(
                ["GROUP", "PENDING", "UNACKED", "REDELIVERED", "DEAD", "OLDEST_UNACKED", "MEMBERS", "ACK_TIME_MS", "MAX_DELIVERIES"],
                list.map((x) => {
                  const s = x.stats as typeof x.stats & { deadLettered?: number; oldestUnackedAgeMs?: number };
                  return [
                    x.name,
                    s.pending,
                    s.unacked,
                    s.redelivered,
                    s.deadLettered ?? "-",
                    s.oldestUnackedAgeMs !== undefined ? `${Math.round(s.oldestUnackedAgeMs / 1000)}s` : "-",
                    s.membersOnline,
                    x.config.maxAckTimeMs,
                    x.config.maxMsgDeliveries,
                  ];
                }),
              ),
        );
      });
    });
  g.command("reset <station> <group>")
    .description("move a group's read position: it re-reads (or skips) from there; members keep running")
    .option("--to-seq <n>", "read from this stream sequence on")
    .option("--to-time <time>", "read from the first message stored at or after this ISO 8601 time")
    .option("--to-latest", "skip everything stored so far")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(
      async (
        station: string,
        group: string,
        o: { toSeq?: string; toTime?: string; toLatest?: boolean; json?: boolean; output?: string },
        cmd: Command,
      ) => {
        const given = [o.toSeq !== undefined, o.toTime !== undefined, o.toLatest === true].filter(Boolean).length;
        if (given !== 1) {
          throw new JunctionError("INVALID_ARGUMENT", "give exactly one of --to-seq, --to-time, --to-latest", {
            details: { option: "to" },
          });
        }
        const seq = intOption("to-seq", o.toSeq);
        if (seq !== undefined && seq < 1) {
          throw new JunctionError("INVALID_ARGUMENT", `--to-seq must be at least 1 (got ${seq})`, { details: { option: "to-seq" } });
        }
        if (o.toTime !== undefined && !Number.isFinite(Date.parse(o.toTime))) {
          throw new JunctionError("INVALID_ARGUMENT", `--to-time must be an ISO 8601 time (got '${o.toTime}')`, {
            details: { option: "to-time" },
          });
        }
        await withClient(io, cmd, async (c) => {
          const r = await c.groups.reset(
            station,
            group,
            seq !== undefined ? { seq } : o.toTime !== undefined ? { time: new Date(o.toTime) } : { latest: true },
          );
          print(io, o, r, () => `group ${r.name} on ${r.station} now reads from seq ${r.resetSeq} (${r.stats.pending} pending)\n`);
        });
      },
    );
  withWatch(withOutput(g.command("info <station> <group>").description("a consumer group's settings and live stats"))).action(
    async (station: string, group: string, o: OutputOpts & WatchOpts, cmd: Command) => {
      const format = outputFormat(o);
      const intervalMs = o.watch ? watchIntervalMs(o) : 0;
      await withClient(io, cmd, async (c) => {
        const snapshot = async () => {
          const x = await c.groups.get(station, group);
          return render(
            format,
            x,
            () =>
              `group ${x.name} on ${x.station}\n  settings: ${JSON.stringify(x.config)}\n` +
              Object.entries(x.stats)
                .filter(([k]) => k !== "partitions" && k !== "members")
                .map(([k, v]) => `  ${k}: ${String(v)}\n`)
                .join("") +
              partitionsAndMembers(x.stats.partitions, x.stats.members),
          );
        };
        if (o.watch) await watch(io, { intervalMs, title: `junction group info ${station} ${group}` }, snapshot);
        else io.out(await snapshot());
      });
    },
  );
}
