import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import type { Command } from "commander";
import { JunctionError } from "../../core/protocol/index.js";
import { loadSchema, prepareSchema, SchemaError, type CompiledSchema, type PreparedSchema } from "../../schemas/index.js";
import type { SchemaCheckReport, SchemaCompatibilityInput, SchemaDefinitionInput, SchemaKind } from "../../sdk/index.js";
import { withClient } from "../connection.js";
import { ExitCode, intOption, print, table, type Io, type OutputOpts, outputOption, JSON_HELP } from "../output.js";

const wrap = (err: unknown): unknown =>
  err instanceof SchemaError
    ? new JunctionError(err.code, err.message, { cause: err, ...(err.details ? { details: err.details } : {}) })
    : err;

const TYPES: readonly SchemaKind[] = ["json", "protobuf", "avro"];

/** The schema type: `--type`, else from the file's extension (`.json`, `.proto`, `.avsc`). */
export function schemaTypeOf(file: string, type: string | undefined): SchemaKind {
  if (type !== undefined) {
    if (!(TYPES as readonly string[]).includes(type)) {
      throw new JunctionError("INVALID_ARGUMENT", `--type must be one of ${TYPES.join(", ")} (got '${type}')`, {
        details: { option: "--type" },
      });
    }
    return type as SchemaKind;
  }
  const ext = extname(file).toLowerCase();
  if (ext === ".proto") return "protobuf";
  if (ext === ".avsc") return "avro";
  if (ext === ".json") return "json";
  throw new JunctionError(
    "INVALID_ARGUMENT",
    `cannot tell the schema type of '${file}' from its extension; give --type json, protobuf or avro`,
    {
      details: { option: "--type" },
    },
  );
}

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

/** Options describing a definition, shared by create and check. */
interface DefinitionFlags {
  type?: string;
  file: string;
  message?: string;
  formats?: string;
  dialect?: string;
  baseUri?: string;
}

function withDefinitionFlags(c: Command): Command {
  return c
    .requiredOption("--file <path>", "the definition: .json (JSON Schema), .proto (Protobuf) or .avsc (Avro)")
    .option("--type <type>", "json, protobuf or avro (default: from the file extension)")
    .option("--message <type>", "Protobuf message type (e.g. shop.Order)")
    .option("--formats <mode>", "JSON Schema: assert (default) checks formats, annotate only records them")
    .option("--dialect <draft>", "JSON Schema: the draft when the document has no $schema (default draft-07)")
    .option("--base-uri <uri>", "JSON Schema: the absolute URI the schema is published at (others may $ref it)");
}

async function definitionOf(o: DefinitionFlags): Promise<SchemaDefinitionInput & { type: SchemaKind }> {
  const type = schemaTypeOf(o.file, o.type);
  if (o.formats !== undefined && o.formats !== "assert" && o.formats !== "annotate") {
    throw new JunctionError("INVALID_ARGUMENT", `--formats must be assert or annotate (got '${o.formats}')`, {
      details: { option: "--formats" },
    });
  }
  return {
    type,
    definition: await readFile(o.file, "utf8"),
    ...(o.message ? { messageType: o.message } : {}),
    ...(o.formats ? { formats: o.formats as "assert" | "annotate" } : {}),
    ...(o.dialect ? { dialect: o.dialect as NonNullable<SchemaDefinitionInput["dialect"]> } : {}),
    ...(o.baseUri ? { baseUri: o.baseUri } : {}),
  };
}

const warningLines = (warnings: readonly string[]): string => warnings.map((w) => `warning: ${w}\n`).join("");

/** The human form of a `schema check` report. */
export function checkText(r: SchemaCheckReport): string {
  let s = "";
  const { mode, changes } = r.compatibility;
  s += warningLines(r.warnings);
  if (changes.length === 0) s += `the candidate for ${r.name} passes ${mode} compatibility\n`;
  else {
    s += `the candidate for ${r.name} breaks ${mode} compatibility (${changes.length} change${changes.length === 1 ? "" : "s"}):\n`;
    for (const c of changes) s += `  ${c.path || "/"}: ${c.message} (${c.rule}, against version ${c.version})\n`;
  }
  if (r.stations.length === 0) s += `no station uses schema ${r.name}: no stored message to check\n`;
  for (const st of r.stations) {
    s += `station ${st.station}: ${st.checked} stored message${st.checked === 1 ? "" : "s"} checked, ${st.failed} would be refused\n`;
    for (const f of st.failures) {
      const first = f.issues
        .slice(0, 3)
        .map((i) => `${i.path || "/"}: ${i.message}`)
        .join("; ");
      s += `  seq ${f.seq}${f.storedWith ? ` (stored with ${f.storedWith})` : ""}: ${first}\n`;
    }
    if (st.failed > st.failures.length) s += `  … and ${st.failed - st.failures.length} more\n`;
  }
  s += `${r.failed} of ${r.checked} stored messages would be refused\n`;
  return s;
}

export function registerSchema(program: Command, io: Io): void {
  const sc = program.command("schema").description("register, attach and inspect JSON Schema, Protobuf and Avro schemas");
  withDefinitionFlags(sc.command("create <name>"))
    .description("register a schema, or a new version (checked against the compatibility mode)")
    .option("--compatibility <mode>", "NONE, BACKWARD (default), BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE")
    .option("--description <text>")
    .action(async (name: string, o: DefinitionFlags & { compatibility?: string; description?: string }, cmd: Command) => {
      const def = await definitionOf(o);
      await withClient(io, cmd, async (c) => {
        const r = await c.schemas.create({
          name,
          ...def,
          ...(o.compatibility ? { compatibility: o.compatibility as SchemaCompatibilityInput } : {}),
          ...(o.description ? { description: o.description } : {}),
        });
        io.out(
          (r.created
            ? `schema ${name} version ${r.version} registered (${r.type}, ${r.compatibility})\n`
            : `schema ${name} unchanged (version ${r.version} has this definition)\n`) + warningLines(r.warnings ?? []),
        );
      });
    });
  withDefinitionFlags(sc.command("check <name>"))
    .description(
      "check a candidate definition against the compatibility mode and the last stored messages of every station using the schema; nothing is registered",
    )
    .option("--station <station>", "check only this station's messages")
    .option("--sample <n>", "how many of the last stored messages to check per station (default 100)")
    .option("--compatibility <mode>", "check under this mode instead of the schema's")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(
      async (
        name: string,
        o: DefinitionFlags & OutputOpts & { station?: string; sample?: string; compatibility?: string },
        cmd: Command,
      ) => {
        const sample = intOption("sample", o.sample);
        await withClient(io, cmd, async (c) => {
          // A file whose extension says nothing is taken to be of the schema's type.
          const known = o.type !== undefined || [".json", ".proto", ".avsc"].includes(extname(o.file).toLowerCase());
          const def = await definitionOf(known ? o : { ...o, type: (await c.schemas.get(name)).meta.type });
          const r = await c.schemas.check(name, {
            ...def,
            ...(o.station ? { station: o.station } : {}),
            ...(sample !== undefined ? { sample } : {}),
            ...(o.compatibility ? { compatibility: o.compatibility as SchemaCompatibilityInput } : {}),
          });
          print(io, o, r, () => checkText(r));
          // A script can rely on the exit code: 1 when the candidate would break something.
          if (r.failed > 0 || r.compatibility.changes.length > 0) throw new ExitCode(1);
        });
      },
    );
  sc.command("diff <name> <from> <to>")
    .description("the structural changes between two versions, the rule each triggers and the modes it breaks")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (name: string, fromArg: string, toArg: string, o: OutputOpts, cmd: Command) => {
      const from = intOption("from", fromArg)!;
      const to = intOption("to", toArg)!;
      await withClient(io, cmd, async (c) => {
        const r = await c.schemas.diff(name, from, to);
        print(io, o, r, () =>
          r.changes.length === 0
            ? `schema ${name} ${from} -> ${to} (${r.type}): no change that breaks any compatibility mode\n`
            : `schema ${name} ${from} -> ${to} (${r.type}): ${r.changes.length} change${r.changes.length === 1 ? "" : "s"}\n` +
              table(
                ["PATH", "RULE", "BREAKS", "CHANGE"],
                r.changes.map((x) => [x.path || "/", x.rule, x.breaks.join(",") || "-", x.message]),
              ),
        );
      });
    });
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
        const refs = r.version.prepared.references ?? [];
        const by = r.meta.referencedBy ?? [];
        print(
          io,
          o,
          r,
          () =>
            `schema ${name} version ${r.version.version} of ${r.meta.latest} (${r.meta.type}, ${r.meta.compatibility}${r.version.prepared.messageType ? `, ${r.version.prepared.messageType}` : ""})\n` +
            `used by: ${r.meta.usedBy.join(", ") || "-"}\n` +
            (refs.length > 0 ? `references: ${refs.map((x) => `${x.name}@${x.version}`).join(", ")}\n` : "") +
            (by.length > 0 ? `referenced by: ${by.map((x) => `${x.schema}@${x.version} (uses ${x.uses})`).join(", ")}\n` : "") +
            `\n${r.version.prepared.definition.trimEnd()}\n`,
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
    .description("delete a schema and its versions (refused while another schema references it)")
    .option("--force", "detach it from every station first")
    .action(async (name: string, o: { force?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const r = await c.schemas.delete(name, { force: o.force === true });
        io.out(`schema ${name} deleted${r.detachedFrom.length ? ` (detached from ${r.detachedFrom.join(", ")})` : ""}\n`);
      });
    });
  sc.command("validate <file>")
    .description("check messages locally: --schema is a schema file (no broker needed) or name[@version] from the broker")
    .requiredOption("--schema <schema>", "path to .json/.proto/.avsc, or name[@version]")
    .option("--type <type>", "json, protobuf or avro (default: from the file extension)")
    .option("--message <type>", "Protobuf message type")
    .action(async (file: string, o: { schema: string; type?: string; message?: string }, cmd: Command) => {
      let compiled: CompiledSchema;
      try {
        if (existsSync(o.schema)) {
          const prepared: PreparedSchema = await prepareSchema({
            type: schemaTypeOf(o.schema, o.type),
            definition: await readFile(o.schema, "utf8"),
            ...(o.message ? { messageType: o.message } : {}),
          });
          compiled = loadSchema(prepared);
        } else {
          const [name, ver] = o.schema.split("@");
          compiled = await withClient(io, cmd, async (c) => {
            const version = intOption("version", ver) ?? (await c.schemas.get(name!)).version.version;
            return c.schemaCache.load(name!, version);
          });
        }
      } catch (err) {
        throw wrap(err);
      }
      const raw = await readFile(file);
      const asJson = /\.(json|jsonl|ndjson)$/i.test(file);
      // Binary schemas: a .json/.jsonl file holds messages in their JSON form (encoded here);
      // any other file is one binary message.
      const messages = compiled.type !== "json" && !asJson ? [new Uint8Array(raw)] : splitMessages(raw.toString("utf8"), file);
      const payloads: (Uint8Array | Error)[] =
        compiled.type !== "json" && asJson
          ? messages.map((m) => {
              try {
                return compiled.encode(JSON.parse(new TextDecoder().decode(m)));
              } catch (err) {
                return err as Error;
              }
            })
          : messages;
      let bad = 0;
      payloads.forEach((p, i) => {
        const r = p instanceof Error ? { ok: false as const, issues: issuesOf(p) } : compiled.validate(p);
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

/** The issues of an encode failure (a value that does not fit a binary schema). */
function issuesOf(err: Error): { path: string; message: string }[] {
  const issues = (err as { issues?: { path: string; message: string }[] }).issues;
  return issues ?? [{ path: "", message: err.message }];
}
