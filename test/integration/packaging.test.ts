/**
 * The two npm packages as users install them, from packed tarballs:
 *  - `junction-broker` installed globally (`npm install -g`) gives a working `junction` command,
 *    and `junction dev` from there is the broker the SDK's example runs against;
 *  - `junction-sdk` (packages/sdk) installed into an empty project runs its README example,
 *    type-checks against its bundled types, and brings none of the broker's dependencies.
 * Everything runs the project's pinned Node (node_modules/node) and the real npm against the
 * registry (its cache makes repeats quick). Needs `npm run build` first (pretest does it);
 * packing the SDK runs its own build (prepack). */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findNatsServer } from "../../core/server/index.js";

const root = resolve(import.meta.dirname, "../..");
const sdkDir = join(root, "packages", "sdk");
const nodeBin = join(root, "node_modules", "node", "bin");

/** npm installs on a busy machine can take minutes; these bound a hang, not the speed. */
const NPM_TIMEOUT_MS = 480_000;
const TEST_TIMEOUT_MS = 900_000;
const DEV_START_TIMEOUT_MS = 120_000;

interface PackageJson {
  name: string;
  version: string;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  exports?: unknown;
  types?: string;
  dependencies?: Record<string, string>;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment a user's shell would give: the project's Node first on PATH, and nothing
 * inherited from the npm script or test runner that started this test (npm_config_* would
 * steer the nested npm: workspace, prefix, global).
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === "INIT_CWD" || k === "NODE_OPTIONS" || k.startsWith("VITEST") || k === "NODE_ENV") continue;
    env[k] = v;
  }
  env["PATH"] = [nodeBin, env["PATH"] ?? ""].join(delimiter);
  return { ...env, ...extra };
}

function run(file: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((res) => {
    execFile(
      file,
      args,
      { cwd: o.cwd, env: o.env ?? userEnv(), timeout: o.timeoutMs ?? NPM_TIMEOUT_MS, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        res({ code, stdout, stderr: err && code === 1 && !stderr ? String(err) : stderr });
      },
    );
  });
}

/** Runs a command and fails the test with its output when it does not exit 0. */
async function ok(file: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  const r = await run(file, args, o);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

const npmFlags = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

/**
 * `npm install`, tried up to three times: it reaches the registry for what the cache lacks, and
 * a dropped connection on a busy CI machine is not what this test is about. Installing again
 * over a half-done attempt is what npm is made for.
 */
async function npmInstall(args: string[], cwd: string): Promise<void> {
  const failures: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    const r = await run("npm", ["install", ...args, ...npmFlags], { cwd });
    if (r.code === 0) return;
    failures.push(`attempt ${attempt}: exited ${r.code}\n${r.stderr}`);
  }
  throw new Error(`npm install ${args.join(" ")} failed:\n${failures.join("\n")}`);
}

/** `npm pack` of the package in `dir` into `dest`; returns the tarball's path and file list. */
async function pack(args: string[], dest: string): Promise<{ tarball: string; files: string[] }> {
  const r = await ok("npm", ["pack", ...args, "--pack-destination", dest, "--json", "--loglevel=error"], { cwd: root });
  // Lifecycle scripts may print before the JSON report.
  const report = JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  const first = report[0];
  if (!first) throw new Error(`npm pack reported nothing:\n${r.stdout}`);
  return { tarball: join(dest, first.filename), files: first.files.map((f) => f.path).sort() };
}

/** Every file path named in an `exports` map (all conditions). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === "string") return [exports];
  if (exports && typeof exports === "object") return Object.values(exports).flatMap(exportTargets);
  return [];
}

/** Names of every package in `npm ls --all --json`'s tree. */
function treeNames(node: { dependencies?: Record<string, unknown> }, into = new Set<string>()): Set<string> {
  for (const [name, child] of Object.entries(node.dependencies ?? {})) {
    into.add(name);
    treeNames(child as { dependencies?: Record<string, unknown> }, into);
  }
  return into;
}

/**
 * The packages the SDK's dependencies need, by this repository's lockfile: the closure of
 * `names` over the lock's `dependencies` (and their non-optional peers).
 */
async function lockClosure(names: string[]): Promise<Set<string>> {
  const lock = JSON.parse(await readFile(join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> }>;
  };
  const seen = new Set<string>();
  const todo = [...names];
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const entry = lock.packages[`node_modules/${name}`];
    todo.push(...Object.keys(entry?.dependencies ?? {}), ...Object.keys(entry?.peerDependencies ?? {}));
  }
  return seen;
}

/** The first ```ts block of a Markdown file. */
function firstTsBlock(markdown: string): string {
  const m = /```ts\n([\s\S]*?)```/.exec(markdown);
  if (!m?.[1]) throw new Error("no ```ts block found");
  return m[1];
}

let work: string;
const brokerPkg = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as PackageJson;
const sdkPkg = JSON.parse(await readFile(join(sdkDir, "package.json"), "utf8")) as PackageJson;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "junction-pack-"));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("package metadata", () => {
  it("both packages require Node >= 22 and name their entry points and types", () => {
    for (const p of [brokerPkg, sdkPkg]) {
      expect(p.engines?.["node"], p.name).toMatch(/^>=\s*22(\.|$)/);
      expect(exportTargets(p.exports).length, p.name).toBeGreaterThan(0);
      expect(p.types, p.name).toMatch(/\.d\.ts$/);
    }
    expect(brokerPkg.bin).toEqual({ junction: "dist/cli/main.js" });
    expect(sdkPkg.bin).toBeUndefined();
    expect(sdkPkg.version).toBe(brokerPkg.version);
  });

  it("the broker's README shows the SDK README's example", async () => {
    const sdkExample = firstTsBlock(await readFile(join(sdkDir, "README.md"), "utf8"));
    expect(firstTsBlock(await readFile(join(root, "README.md"), "utf8"))).toBe(sdkExample);
  });
});

/** A `junction dev` started from the globally installed broker. */
interface DevBroker {
  child: ChildProcess;
  url: string;
  adminPassword: string;
  output: () => string;
}

async function startDev(junction: string, dir: string, env: NodeJS.ProcessEnv): Promise<DevBroker> {
  const dataDir = join(dir, "dev-data");
  // Port -1: nats-server picks a free port; the banner and credentials.json say which.
  const child = spawn(junction, ["--data-dir", dataDir, "dev", "--port", "-1", "--log-level", "warn"], { cwd: dir, env });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const running = new Promise<void>((r) => {
    const check = () => (out.includes("Junction is running.") ? r() : undefined);
    child.stdout.on("data", check);
    child.stderr.on("data", check);
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), DEV_START_TIMEOUT_MS)));
  const first = await Promise.race([running.then(() => "running" as const), exited.then(() => "exited" as const), timedOut]);
  clearTimeout(timer);
  if (first !== "running") {
    child.kill("SIGINT");
    throw new Error(`junction dev did not start (${first}):\n${out}`);
  }
  const creds = JSON.parse(await readFile(join(dataDir, "credentials.json"), "utf8")) as {
    url: string;
    users: { admin: { password: string } };
  };
  return { child, url: creds.url, adminPassword: creds.users.admin.password, output: () => out };
}

/** Stops `junction dev` as Ctrl-C does (a SIGKILL would orphan its nats-server). */
async function stopDev(dev: DevBroker): Promise<void> {
  if (dev.child.exitCode !== null || dev.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => dev.child.once("exit", () => r()));
  dev.child.kill("SIGINT");
  await exited;
}

describe("the packed packages, installed as users install them", () => {
  let prefix: string;
  let env: NodeJS.ProcessEnv;
  let dev: DevBroker | undefined;

  // The broker: packed, installed with `npm install -g`, and `junction dev` started from there.
  beforeAll(async () => {
    const main = join(root, "dist", "cli", "main.js");
    if (!existsSync(main)) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
    const dest = join(work, "broker-tarball");
    await mkdir(dest);
    // The build is current (pretest); packing must not rebuild under other tests' feet.
    const { tarball, files } = await pack(["--ignore-scripts"], dest);
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("dist/sdk/index.d.ts");
    expect(files).toContain("scripts/install-nats-server");
    expect(files.filter((f) => /^(packages|sdk|core|cli|schemas|functions|test)\//.test(f) || /\.test\.js$/.test(f))).toEqual([]);

    prefix = join(work, "global");
    await npmInstall(["-g", "--prefix", prefix, tarball], work);
    env = userEnv({
      PATH: [join(prefix, "bin"), nodeBin, process.env["PATH"] ?? ""].join(delimiter),
      // The nats-server the other tests use (an installed broker finds one on PATH otherwise).
      JUNCTION_NATS_SERVER: findNatsServer(),
    });
    dev = await startDev(join(prefix, "bin", "junction"), work, env);
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    if (dev) await stopDev(dev);
  }, 60_000);

  it(
    "npm install -g gives a junction command on PATH that runs, with its sandbox and the buf compiler",
    async () => {
      const version = await ok(join(prefix, "bin", "junction"), ["--version"], { cwd: work, env, timeoutMs: 60_000 });
      expect(version.stdout.trim()).toBe(brokerPkg.version);
      // Found on PATH, as a user types it.
      const help = await ok("junction", ["--help"], { cwd: work, env, timeoutMs: 60_000 });
      for (const command of ["dev", "gateway", "station", "produce", "consume", "dls"]) {
        expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
      }

      // isolated-vm's prebuilt binary and buf's binary package work without install scripts
      // (npm does not run them in a global install unless allowed).
      await writeFile(join(work, "tag.js"), "export default (m) => ({ ...m, payload: { id: 2, tagged: true } })");
      await writeFile(join(work, "samples.jsonl"), '{"id":1}\n');
      const fn = await ok("junction", ["function", "test", "tag.js", "--input", "samples.jsonl"], { cwd: work, env, timeoutMs: 120_000 });
      expect(fn.stdout).toContain('{"payload":{"id":2,"tagged":true}');
      await writeFile(join(work, "order.proto"), 'syntax = "proto3";\nmessage Order { int64 id = 1; double total = 2; }\n');
      await writeFile(join(work, "orders.jsonl"), '{"id":1,"total":9.5}\n');
      const proto = await ok("junction", ["schema", "validate", "orders.jsonl", "--schema", "order.proto"], {
        cwd: work,
        env,
        timeoutMs: 120_000,
      });
      expect(proto.stdout).toContain("1/1 valid");

      // The broker package's own exports resolve from the installed copy.
      const installedDir = join(prefix, "lib", "node_modules", brokerPkg.name);
      for (const target of [...exportTargets(brokerPkg.exports), brokerPkg.types ?? ""]) {
        expect(existsSync(join(installedDir, target)), target).toBe(true);
      }
      const imported = await ok(
        "node",
        ["--input-type=module", "-e", `const m = await import(${JSON.stringify(brokerPkg.name)}); console.log(typeof m.connect);`],
        {
          cwd: join(prefix, "lib"),
          env,
          timeoutMs: 60_000,
        },
      );
      expect(imported.stdout.trim()).toBe("function");
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "the SDK installs into an empty project without the broker's dependencies, type-checks and runs its README example against junction dev",
    async () => {
      if (!dev) throw new Error("junction dev did not start");
      const dest = join(work, "sdk-tarball");
      await mkdir(dest);
      const { tarball, files } = await pack(["-w", sdkPkg.name], dest);
      expect(files).toEqual(["README.md", "dist/index.d.ts", "dist/index.js", "package.json"]);

      const project = join(work, "app");
      await mkdir(project);
      await writeFile(join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }, null, 2));
      await npmInstall([tarball], project);

      // None of the broker's dependencies, except those the SDK's own dependencies need.
      const ls = await ok("npm", ["ls", "--all", "--json"], { cwd: project });
      const installed = treeNames(JSON.parse(ls.stdout) as { dependencies?: Record<string, unknown> });
      expect(installed).toContain(sdkPkg.name);
      for (const dep of Object.keys(sdkPkg.dependencies ?? {})) expect(installed).toContain(dep);
      const needed = await lockClosure(Object.keys(sdkPkg.dependencies ?? {}));
      const brokerOnly = [
        ...Object.keys(brokerPkg.dependencies ?? {}).filter((d) => !needed.has(d)),
        // Named in case the broker's list changes: none of them belongs in a client install.
        ...["isolated-vm", "ink", "react", "@bufbuild/buf", "prom-client", "pino", "fastify", "commander", "@nats-io/kv"],
      ];
      expect(brokerOnly).toContain("isolated-vm");
      expect([...installed].filter((n) => brokerOnly.includes(n))).toEqual([]);
      expect(installed).not.toContain(brokerPkg.name);

      // The installed package's exports and types point at files that are there.
      const installedDir = join(project, "node_modules", sdkPkg.name);
      for (const target of [...exportTargets(sdkPkg.exports), sdkPkg.types ?? ""]) {
        expect(existsSync(join(installedDir, target)), target).toBe(true);
      }

      // The README example, verbatim but for the broker's address.
      const example = firstTsBlock(await readFile(join(installedDir, "README.md"), "utf8"));
      expect(example).toContain(`from "${sdkPkg.name}"`);
      expect(example).toContain("nats://127.0.0.1:4222");
      await writeFile(join(project, "example.ts"), example.replace("nats://127.0.0.1:4222", dev.url));

      // Type-checked as a user's strict project would be (the compiler and Node's types come from
      // this repository, the SDK's types from the installed package, checked too).
      const tsconfig = {
        compilerOptions: {
          target: "ES2023",
          lib: ["ES2023"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(root, "node_modules", "@types")],
        },
        files: ["example.ts", `node_modules/${sdkPkg.name}/${sdkPkg.types ?? ""}`],
      };
      await writeFile(join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
      await ok(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: project });

      // Node runs the TypeScript example directly (type stripping).
      const out = await ok("node", ["example.ts"], {
        cwd: project,
        env: userEnv({ JUNCTION_PASSWORD: dev.adminPassword }),
        timeoutMs: 120_000,
      });
      expect(out.stdout).toContain("SCHEMA_VALIDATION_FAILED");
      expect(out.stdout).toMatch(/^1 \{ id: 1, total: 9\.5 \}$/m);
    },
    TEST_TIMEOUT_MS,
  );
});
