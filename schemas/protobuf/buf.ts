import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { arch, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SchemaError } from "../errors.js";

/** The file name the definition is compiled as; buf's messages refer to it. */
export const PROTO_FILE_NAME = "schema.proto";

/** One compile error reported by buf. */
export interface BufError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** How long one `buf build` may run by default. */
export const BUF_TIMEOUT_MS = 30_000;

const require = createRequire(import.meta.url);

// The @bufbuild/buf package ships the native binary in a per-platform package; its bin/buf is a
// Node wrapper that finds it. Running the binary directly saves a Node start per schema.
const PLATFORM_PACKAGES: Record<string, string> = {
  "darwin arm64": "@bufbuild/buf-darwin-arm64",
  "darwin x64": "@bufbuild/buf-darwin-x64",
  "linux arm64": "@bufbuild/buf-linux-aarch64",
  "linux arm": "@bufbuild/buf-linux-armv7",
  "linux x64": "@bufbuild/buf-linux-x64",
  "win32 arm64": "@bufbuild/buf-win32-arm64",
  "win32 x64": "@bufbuild/buf-win32-x64",
};

let cachedCommand: { file: string; prefix: string[] } | undefined;

function bufCommand(): { file: string; prefix: string[] } {
  if (cachedCommand !== undefined) return cachedCommand;
  const pkg = PLATFORM_PACKAGES[`${process.platform} ${arch()}`];
  if (pkg !== undefined) {
    try {
      const exe = process.platform === "win32" ? "buf.exe" : "buf";
      cachedCommand = { file: require.resolve(`${pkg}/bin/${exe}`), prefix: [] };
      return cachedCommand;
    } catch {
      // fall back to the wrapper below
    }
  }
  cachedCommand = { file: process.execPath, prefix: [require.resolve("@bufbuild/buf/bin/buf")] };
  return cachedCommand;
}

function run(
  file: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: Buffer; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd,
        encoding: "buffer",
        maxBuffer: 64 * 1024 * 1024,
        timeout: timeoutMs,
        killSignal: "SIGKILL",
        env: { ...process.env, BUF_CACHE_DIR: process.env.BUF_CACHE_DIR ?? join(tmpdir(), "junction-buf-cache") },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
        resolve({ code, stdout, stderr: stderr.toString("utf8"), ...(error === null ? {} : { error }) });
      },
    );
  });
}

/** Parses buf's `--error-format json` lines, falling back to `file:line:column:message` text. */
export function parseBufErrors(stderr: string): BufError[] {
  const out: BufError[] = [];
  for (const raw of stderr.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    try {
      const j = JSON.parse(line) as { path?: unknown; start_line?: unknown; start_column?: unknown; message?: unknown };
      if (typeof j.message === "string") {
        out.push({
          file: typeof j.path === "string" ? j.path : "",
          line: typeof j.start_line === "number" ? j.start_line : 0,
          column: typeof j.start_column === "number" ? j.start_column : 0,
          message: j.message,
        });
        continue;
      }
    } catch {
      // not JSON: try the text form
    }
    const m = /^(.+?):(\d+):(\d+):(.*)$/.exec(line);
    if (m !== null) out.push({ file: m[1] ?? "", line: Number(m[2]), column: Number(m[3]), message: (m[4] ?? "").trim() });
    else out.push({ file: "", line: 0, column: 0, message: line });
  }
  return out;
}

/** Options of {@link bufBuild}. */
export interface BufBuildOptions {
  /** Where the temporary directory is made. @defaultValue the OS temporary directory */
  tmpRoot?: string;
  /** More files of the module, by relative path (imported schemas). */
  files?: ReadonlyMap<string, string>;
  /** How long buf may run, in milliseconds. @defaultValue 30000 */
  timeoutMs?: number;
}

/**
 * Compiles .proto text with `buf build` in a temporary directory and returns the binary
 * google.protobuf.FileDescriptorSet, imports (well-known types) included. Compile errors become
 * SCHEMA_INVALID with the first error's file, line and column; failing to run buf is a plain Error.
 */
export async function bufBuild(definition: string, options: BufBuildOptions = {}): Promise<Uint8Array> {
  const dir = await mkdtemp(join(options.tmpRoot ?? tmpdir(), "junction-schema-"));
  try {
    await writeFile(join(dir, PROTO_FILE_NAME), definition, "utf8");
    for (const [path, text] of options.files ?? []) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text, "utf8");
    }
    // A buf.yaml makes the temp dir the module root, so no stray config above it is picked up.
    await writeFile(join(dir, "buf.yaml"), "version: v2\n", "utf8");
    const { file, prefix } = bufCommand();
    const args = [...prefix, "build", ".", "--output", "-#format=binpb", "--exclude-source-info", "--error-format", "json"];
    const result = await run(file, args, dir, options.timeoutMs ?? BUF_TIMEOUT_MS);
    if (result.code === 0) return new Uint8Array(result.stdout.buffer, result.stdout.byteOffset, result.stdout.byteLength);
    const errors = parseBufErrors(result.stderr);
    // buf exits 100 for compile errors ("file annotations"); anything else is buf failing to run.
    if (result.code === 100 && errors.length > 0) {
      const first = errors[0] as BufError;
      throw new SchemaError("SCHEMA_INVALID", `invalid .proto at ${first.file}:${first.line}:${first.column}: ${first.message}`, {
        details: { ...first, errors },
      });
    }
    if (result.error !== undefined && (result.error as { killed?: boolean }).killed === true) {
      const max = options.timeoutMs ?? BUF_TIMEOUT_MS;
      throw new SchemaError("SCHEMA_TOO_COMPLEX", `the schema is too complex: buf build ran over ${max} ms`, {
        details: { limit: "timeoutMs", max, actual: max },
        cause: result.error,
      });
    }
    throw new Error(`buf build failed (exit ${result.code ?? "signal"}): ${result.stderr.trim() || result.error?.message || "no output"}`, {
      cause: result.error,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
