import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import type { Command } from "commander";
import { JunctionError } from "../../core/protocol/index.js";
import { loadSchema, prepareSchema, SchemaError, type PreparedSchema } from "../../schemas/index.js";
import { withClient } from "../connection.js";
import { intOption, print, table, type Io, outputOption, JSON_HELP } from "../output.js";

const wrap = (err: unknown): unknown =>
  err instanceof SchemaError
    ? new JunctionError(err.code, err.message, { cause: err, ...(err.details ? { details: err.details } : {}) })
    : err;

/**
 * Reads messages to validate. A `.json` file holds one JSON value: an array is a list of
 * messages, anything else one message. Any other file (`.jsonl`, `.ndjson`…) holds one message
 * per line — so a line `[]` is a message that is an empty array, not an empty list.
 */
export function splitMessages(text: string, file: string): Uint8Array[] {
  const enc = new TextEncoder();
  if (extname(file).toLowerCase() === ".json") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw new JunctionError(
        "INVALID_ARGUMENT",
        `${file} is not one JSON value (use .jsonl for one message per line): ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return (Array.isArray(v) ? v : [v]).map((x) => enc.encode(JSON.stringify(x)));
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => enc.encode(l));
}

export function registerSchema(program: Command, io: Io): void {
  const sc = program.command("schema").description("register, attach and inspect JSON Schema and Protobuf schemas");
  sc.command("create <name>")
    .description("register a schema, or a new version (checked against the compatibility mode)")
    .requiredOption("--type <type>", "json or protobuf")
    .requiredOption("--file <path>", "the definition (.json or .proto)")
    .option("--message <type>", "Protobuf message type (e.g. shop.Order)")
    .option("--compatibility <mode>", "none, backward (default), forward or full")
    .option("--description <text>")
    .action(
      async (
        name: string,
        o: { type: string; file: string; message?: string; compatibility?: string; description?: string },
        cmd: Command,
      ) => {
        const definition = await readFile(o.file, "utf8");
        await withClient(io, cmd, async (c) => {
          const r = await c.schemas.create({
            name,
            type: o.type as "json",
            definition,
            ...(o.message ? { messageType: o.message } : {}),
            ...(o.compatibility ? { compatibility: o.compatibility as "backward" } : {}),
            ...(o.description ? { description: o.description } : {}),
          });
          io.out(
            r.created
              ? `schema ${name} version ${r.version} registered (${r.type}, ${r.compatibility})\n`
              : `schema ${name} unchanged (version ${r.version} has this definition)\n`,
          );
        });
      },
    );
  sc.command("attach <name>")
    .description("attach a schema to a station (latest version, or pinned with --version)")
    .requiredOption("--station <station>")
    .option("--version <n>", "pin this version")
    .option("--allow-unknown-fields", "Protobuf: accept fields the schema does not declare")
    .action(async (name: string, o: { station: string; version?: string; allowUnknownFields?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const version = intOption("version", o.version);
        await c.schemas.attach(name, o.station, {
          ...(version !== undefined ? { version } : {}),
          ...(o.allowUnknownFields ? { allowUnknownFields: true } : {}),
        });
        io.out(`schema ${name}@${version ?? "latest"} attached to ${o.station}\n`);
      });
    });
  sc.command("detach")
    .description("detach the schema from a station")
    .requiredOption("--station <station>")
    .action(async (o: { station: string }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        await c.schemas.detach(o.station);
        io.out(`schema detached from ${o.station}\n`);
      });
    });
  sc.command("list")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const list = await c.schemas.list();
        print(io, o, list, () =>
          list.length === 0
            ? "no schemas\n"
            : table(
                ["NAME", "TYPE", "LATEST", "COMPATIBILITY", "STATIONS"],
                list.map((s) => [s.name, s.type, s.latest, s.compatibility, s.usedBy.join(",") || "-"]),
              ),
        );
      });
    });
  sc.command("show <name>")
    .description("show a version's definition (default: latest)")
    .option("--version <n>")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (name: string, o: { version?: string; json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const r = await c.schemas.get(name, intOption("version", o.version));
        print(
          io,
          o,
          r,
          () =>
            `schema ${name} version ${r.version.version} of ${r.meta.latest} (${r.meta.type}, ${r.meta.compatibility}${r.version.prepared.messageType ? `, ${r.version.prepared.messageType}` : ""})\n` +
            `used by: ${r.meta.usedBy.join(", ") || "-"}\n\n${r.version.prepared.definition.trimEnd()}\n`,
        );
      });
    });
  sc.command("versions <name>")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const v = await c.schemas.versions(name);
        print(io, o, v, () =>
          table(
            ["VERSION", "CREATED", "FINGERPRINT"],
            v.map((x) => [x.version, x.createdAt, x.fingerprint.slice(0, 16)]),
          ),
        );
      });
    });
  sc.command("delete <name>")
    .option("--force", "detach it from every station first")
    .action(async (name: string, o: { force?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const r = await c.schemas.delete(name, { force: o.force === true });
        io.out(`schema ${name} deleted${r.detachedFrom.length ? ` (detached from ${r.detachedFrom.join(", ")})` : ""}\n`);
      });
    });
  sc.command("validate <file>")
    .description("check messages locally: --schema is a schema file (no broker needed) or name[@version] from the broker")
    .requiredOption("--schema <schema>", "path to .json/.proto, or name[@version]")
    .option("--type <type>", "json or protobuf (default: from the file extension)")
    .option("--message <type>", "Protobuf message type")
    .action(async (file: string, o: { schema: string; type?: string; message?: string }, cmd: Command) => {
      let prepared: PreparedSchema;
      try {
        if (existsSync(o.schema)) {
          const type = (o.type ?? (extname(o.schema) === ".proto" ? "protobuf" : "json")) as "json" | "protobuf";
          prepared = await prepareSchema({
            type,
            definition: await readFile(o.schema, "utf8"),
            ...(o.message ? { messageType: o.message } : {}),
          });
        } else {
          const [name, ver] = o.schema.split("@");
          prepared = await withClient(
            io,
            cmd,
            async (c) => (await c.schemas.get(name!, intOption("version", ver))).version.prepared as PreparedSchema,
          );
        }
      } catch (err) {
        throw wrap(err);
      }
      const compiled = loadSchema(prepared);
      const raw = await readFile(file);
      const messages =
        prepared.type === "protobuf" && !/\.(json|jsonl|ndjson)$/.test(file)
          ? [new Uint8Array(raw)]
          : splitMessages(raw.toString("utf8"), file);
      const payloads =
        prepared.type === "protobuf" && /\.(json|jsonl|ndjson)$/.test(file)
          ? messages.map((m) => compiled.encode(JSON.parse(new TextDecoder().decode(m))))
          : messages;
      let bad = 0;
      payloads.forEach((p, i) => {
        const r = compiled.validate(p);
        if (r.ok) io.out(`message ${i + 1}: valid\n`);
        else {
          bad++;
          io.out(`message ${i + 1}: INVALID\n`);
          for (const issue of r.issues) io.out(`  ${issue.path || "/"}: ${issue.message}\n`);
        }
      });
      io.out(`${payloads.length - bad}/${payloads.length} valid\n`);
      if (bad > 0) {
        throw new JunctionError("SCHEMA_VALIDATION_FAILED", `${bad} of ${payloads.length} messages do not match the schema`, {
          details: { invalid: bad, total: payloads.length },
        });
      }
    });
}
