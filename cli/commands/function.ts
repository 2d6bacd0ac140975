import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { createFunctionRuntime, FunctionError, resolveFunctionLimits, type FnMessage } from "../../functions/index.js";
import { JunctionError } from "../../core/protocol/index.js";
import { withClient } from "../connection.js";
import { intOption, parsePairs, print, table, type Io, ExitCode, outputOption, JSON_HELP } from "../output.js";

export function registerFunction(program: Command, io: Io): void {
  const fn = program.command("function").description("register, attach, test and inspect station functions");
  fn.command("create <name>")
    .description("register a function, or a new version of it")
    .requiredOption("--file <path>", "the JavaScript module (default export (message, context) => ...)")
    .option("--timeout-ms <n>", "CPU time limit per call")
    .option("--memory-mb <n>", "memory limit of its isolate")
    .option("--inputs <names>", "declared inputs, comma-separated")
    .option("--description <text>")
    .action(
      async (
        name: string,
        o: { file: string; timeoutMs?: string; memoryMb?: string; inputs?: string; description?: string },
        cmd: Command,
      ) => {
        const source = await readFile(o.file, "utf8");
        await withClient(io, cmd, async (c) => {
          const timeoutMs = intOption("timeout-ms", o.timeoutMs);
          const memoryMb = intOption("memory-mb", o.memoryMb);
          const r = await c.functions.create({
            name,
            source,
            ...(timeoutMs !== undefined ? { timeoutMs } : {}),
            ...(memoryMb !== undefined ? { memoryMb } : {}),
            ...(o.inputs
              ? {
                  inputs: o.inputs
                    .split(",")
                    .map((s) => s.trim())
                    .filter(Boolean),
                }
              : {}),
            ...(o.description ? { description: o.description } : {}),
          });
          io.out(r.created ? `function ${name} version ${r.version} registered\n` : `function ${name} unchanged (version ${r.version})\n`);
        });
      },
    );
  fn.command("attach <name>")
    .description("add a function to a station's pipeline (again: move it / change inputs)")
    .requiredOption("--station <station>")
    .option("--position <n>", "place in the pipeline, from 0")
    .option("--version <n>", "pin this version (default: latest)")
    .option("--input <k=v...>", "an input for this attachment")
    .action(async (name: string, o: { station: string; position?: string; version?: string; input?: string[] }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const position = intOption("position", o.position);
        const version = intOption("version", o.version);
        const r = await c.functions.attach(name, o.station, {
          ...(position !== undefined ? { position } : {}),
          ...(version !== undefined ? { version } : {}),
          inputs: parsePairs(o.input, "--input"),
        });
        io.out(`pipeline of ${o.station}: ${r.functions.map((f) => `${f.name}@${f.version}`).join(" -> ")}\n`);
      });
    });
  fn.command("detach <name>")
    .requiredOption("--station <station>")
    .action(async (name: string, o: { station: string }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const r = await c.functions.detach(name, o.station);
        io.out(`pipeline of ${o.station}: ${r.functions.map((f) => `${f.name}@${f.version}`).join(" -> ") || "(empty)"}\n`);
      });
    });
  fn.command("list")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const list = await c.functions.list();
        print(io, o, list, () =>
          list.length === 0
            ? "no functions\n"
            : table(
                ["NAME", "LATEST", "STATIONS", "CALLS", "ERRORS"],
                list.map((f) => [f.name, f.latest, f.usedBy?.join(",") || "-", f.stats?.calls ?? 0, f.stats?.errors ?? 0]),
              ),
        );
      });
    });
  fn.command("show <name>")
    .option("--version <n>")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (name: string, o: { version?: string; json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const r = await c.functions.get(name, intOption("version", o.version));
        print(
          io,
          o,
          r,
          () =>
            `function ${name} version ${r.version.version} of ${r.meta.latest} (timeout ${r.version.timeoutMs} ms, memory ${r.version.memoryMb} MB, inputs: ${r.version.inputs.join(", ") || "-"})\n` +
            `used by: ${r.meta.usedBy?.join(", ") || "-"}\n\n${r.version.source.trimEnd()}\n`,
        );
      });
    });
  fn.command("versions <name>")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const v = await c.functions.versions(name);
        print(io, o, v, () =>
          table(
            ["VERSION", "CREATED", "TIMEOUT_MS", "MEMORY_MB"],
            v.map((x) => [x.version, x.createdAt, x.timeoutMs, x.memoryMb]),
          ),
        );
      });
    });
  fn.command("logs <name>")
    .description("recent console output and error counts (from the gateway that answers)")
    .addOption(outputOption())
    .option("--json", JSON_HELP)
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd, async (c) => {
        const r = await c.functions.logs(name);
        print(
          io,
          o,
          r,
          () =>
            `calls ${r.stats.calls}, errors ${r.stats.errors}${r.stats.lastError ? `, last error: ${r.stats.lastError}` : ""}\n` +
            r.logs.map((l) => `${new Date(l.time).toISOString()} ${l.level.padEnd(5)} v${l.version} ${l.message}\n`).join(""),
        );
      });
    });
  fn.command("test <file>")
    .description("run a function locally, in the same sandbox as the gateway, over sample messages")
    .requiredOption("--input <samples>", "samples: one JSON message per line (payload, or {payload, headers})")
    .option("--station <name>", "station name given to the function", "local")
    .option("--set <k=v...>", "an input value for the function")
    .option("--timeout-ms <n>")
    .option("--memory-mb <n>")
    .action(async (file: string, o: { input: string; station: string; set?: string[]; timeoutMs?: string; memoryMb?: string }) => {
      const source = await readFile(file, "utf8");
      const lines = (await readFile(o.input, "utf8")).split("\n").filter((l) => l.trim() !== "");
      const messages: FnMessage[] = lines.map((l, i) => {
        let v: unknown;
        try {
          v = JSON.parse(l);
        } catch {
          throw new JunctionError("INVALID_ARGUMENT", `${o.input} line ${i + 1} is not JSON`);
        }
        const env = v as { payload?: unknown; headers?: Record<string, string> };
        return env !== null && typeof env === "object" && "payload" in env
          ? { payload: env.payload, headers: env.headers ?? {} }
          : { payload: v, headers: {} };
      });
      let limits;
      try {
        limits = resolveFunctionLimits({
          ...(o.timeoutMs ? { timeoutMs: intOption("timeout-ms", o.timeoutMs)! } : {}),
          ...(o.memoryMb ? { memoryMb: intOption("memory-mb", o.memoryMb)! } : {}),
        });
      } catch (err) {
        throw err instanceof FunctionError ? new JunctionError(err.code, err.message, { cause: err }) : err;
      }
      const rt = createFunctionRuntime();
      try {
        const outcomes = await rt.runBatch(
          { name: "local", version: 1, source, ...limits },
          { station: o.station, inputs: parsePairs(o.set, "--set"), function: { name: "local", version: 1 } },
          messages,
        );
        let failed = 0;
        outcomes.forEach((r, i) => {
          if (r.ok) {
            if (r.messages.length === 0) io.out(`#${i + 1} dropped\n`);
            for (const m of r.messages)
              io.out(
                `#${i + 1} ${JSON.stringify({ payload: m.payload instanceof Uint8Array ? Array.from(m.payload) : m.payload, headers: m.headers })}\n`,
              );
          } else {
            failed++;
            io.out(`#${i + 1} FAILED (${r.kind}): ${r.message}\n`);
          }
        });
        for (const l of rt.logs("local")) io.err(`console.${l.level}: ${l.message}\n`);
        if (failed > 0) throw new ExitCode(1);
      } finally {
        await rt.close();
      }
    });
}
