import { execFile } from "node:child_process";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { junctionOnce } from "../test/fakes/cli.js";
import { bashCompletion, completionTree, zshCompletion, type CompletionCommand } from "./completion.js";
import { buildProgram } from "./program.js";

const run = promisify(execFile);
const program = buildProgram({ out: () => {}, err: () => {}, isTTY: false });
const tree = completionTree(program);
const root = tree[0]!;
const globals = root.options.flatMap((o) => o.names);

let dir: string;
let script: string;
/** A stand-in for the junction command that lists two contexts, as `context list --quiet` does. */
let fakeJunction: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "jn-completion-"));
  script = join(dir, "junction.bash");
  await writeFile(script, bashCompletion(program));
  fakeJunction = join(dir, "junction");
  await writeFile(fakeJunction, '#!/bin/sh\n[ "$*" = "context list --quiet" ] && printf "prod\\nlab\\n"\n');
  await chmod(fakeJunction, 0o755);
  await writeFile(join(dir, "order.json"), "{}");
});

/**
 * Completes each command line in one real bash, as readline would call the function: the words
 * so far, the last one being the word under the cursor. Returns the candidates of each line.
 */
async function complete(lines: string[][]): Promise<string[][]> {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const driver = [
    `source ${q(script)}`,
    'line() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _junction; printf "%s\\n" "${COMPREPLY[*]}"; }',
    ...lines.map((words) => `line ${words.map(q).join(" ")}`),
  ].join("\n");
  const { stdout } = await run("bash", ["--noprofile", "--norc", "-c", driver], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
  const out = stdout.split("\n").slice(0, lines.length);
  expect(out).toHaveLength(lines.length);
  return out.map((l) => (l === "" ? [] : l.split(" ").sort()));
}

const words = (c: CompletionCommand) => ["junction", ...c.path];

describe("junction completion", () => {
  it("prints the bash and zsh scripts, and refuses another shell", async () => {
    expect((await junctionOnce({}, "completion", "bash")).out).toBe(bashCompletion(program));
    expect((await junctionOnce({}, "completion", "zsh")).out).toBe(zshCompletion(program));
    const fish = await junctionOnce({}, "completion", "fish");
    expect(fish.code).toBe(1);
    expect(fish.err).toMatch(/value 'fish' is invalid for argument 'shell'\. Allowed choices are bash, zsh/);
  });

  it("covers every command, subcommand and option of the program, in both scripts", () => {
    expect(tree.length).toBeGreaterThan(50);
    const bash = bashCompletion(program);
    const zsh = zshCompletion(program);
    for (const c of tree) {
      const key = `'${c.path.join(" ")}')`;
      for (const s of c.subcommands) {
        expect(bash, `${key} ${s.name}`).toMatch(new RegExp(`^    ${escape(key)} printf .*'${escape(s.name)}'`, "m"));
        expect(zsh, `${key} ${s.name}`).toMatch(new RegExp(`^    ${escape(key)} printf .*'${escape(s.name)}:`, "m"));
      }
      for (const o of c.options.flatMap((x) => x.names)) {
        if (c.path.length > 0 && globals.includes(o)) continue;
        expect(bash, `${key} ${o}`).toMatch(new RegExp(`^    ${escape(key)} printf .*'${escape(o)}'`, "m"));
        expect(zsh, `${key} ${o}`).toMatch(new RegExp(`^    ${escape(key)} printf .*'${escape(o)}:`, "m"));
      }
    }
    // A command added later is covered without touching the completion code.
    const extended = buildProgram({ out: () => {}, err: () => {}, isTTY: false });
    extended.command("brand-new").option("--shiny <level>").command("deeper");
    expect(bashCompletion(extended)).toMatch(/'brand-new'\) printf '%s\\n' 'deeper'/);
    expect(bashCompletion(extended)).toMatch(/'brand-new'\) printf '%s\\n' '--shiny'/);
  });

  it("is valid bash", async () => {
    await expect(run("bash", ["-n", script])).resolves.toMatchObject({ stderr: "" });
  });

  it("completes every command's subcommands and options in a real bash", async () => {
    const parents = tree.filter((c) => c.subcommands.length > 0);
    const got = await complete([...parents.map((c) => [...words(c), ""]), ...tree.map((c) => [...words(c), "-"])]);
    parents.forEach((c, i) => expect(got[i], c.path.join(" ")).toEqual(c.subcommands.map((s) => s.name).sort()));
    tree.forEach((c, i) => {
      const own = c.options.flatMap((o) => o.names);
      expect(got[parents.length + i], c.path.join(" ") || "(root)").toEqual([...new Set([...own, ...globals])].sort());
    });
  });

  it("completes prefixes, option values (choices, files, contexts) and skips the values of options", async () => {
    const got = await complete([
      ["junction", "st"],
      ["junction", "station", "info", "orders", "-o", ""],
      ["junction", "station", "list", "--output", "=", "y"],
      ["junction", "--url", "nats://x:1", "--user", "station", "station", "l"],
      ["junction", "station", "info", "-o", "json", ""],
      ["junction", "group", "info", "--w"],
      ["junction", "completion", ""],
      ["junction", "schema", "create", "order", "--file", "ord"],
      ["junction", "--password-file", "order"],
      [fakeJunction, "--context", ""],
      [fakeJunction, "context", "use", "p"],
      [fakeJunction, "--tenant", "acme", "context", "show", ""],
      ["junction", "context", "add", ""],
    ]);
    expect(got).toEqual([
      ["station"],
      ["json", "table", "yaml"],
      ["yaml"],
      ["list"],
      [],
      ["--watch"],
      ["bash", "zsh"],
      ["order.json"],
      ["order.json"],
      ["lab", "prod"],
      ["prod"],
      ["lab", "prod"],
      [],
    ]);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
