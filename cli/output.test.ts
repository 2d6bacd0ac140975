import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { fakeClient, fixtures, junctionOnce } from "../test/fakes/cli.js";
import { buildProgram } from "./program.js";
import { formatValue, outputFormat, print, type Io } from "./output.js";

const FAKE = ["--url", "nats://fake:1"];

/** Every read command, with arguments, and the value it prints in JSON/YAML. */
const READS: [string[], unknown][] = [
  [["station", "list"], [fixtures.station]],
  [["station", "info", "orders"], fixtures.station],
  [["group", "list", "orders"], [fixtures.group]],
  [["group", "info", "orders", "billing"], fixtures.group],
  [["schema", "list"], [fixtures.schema]],
  [["schema", "show", "order"], { meta: fixtures.schema }],
  [["schema", "versions", "order"], [{ version: 1 }]],
  [["function", "list"], [fixtures.fn]],
  [["function", "show", "enrich"], { meta: fixtures.fn }],
  [["function", "versions", "enrich"], [{ version: 1 }]],
  [["function", "logs", "enrich"], { stats: { calls: 4 } }],
  [["dls", "list"], { items: [fixtures.deadLetter] }],
  [["dls", "show", fixtures.deadLetter.id], fixtures.deadLetter],
  [["dls", "retention", "orders"], { station: "orders", maxEntries: 100_000 }],
  [["user", "list"], [fixtures.user]],
  [["user", "show", "app"], fixtures.user],
  [["tenant", "list"], [fixtures.tenant]],
  [["whoami"], fixtures.identity],
  [["doctor", "--window-ms", "0"], fixtures.doctor],
];

describe("output formats", () => {
  it("resolves -o and --json, refusing a format it does not know and a contradiction", () => {
    expect(outputFormat({})).toBe("table");
    expect(outputFormat({ json: true })).toBe("json");
    expect(outputFormat({ output: "yaml" })).toBe("yaml");
    expect(outputFormat({ output: "json", json: true })).toBe("json");
    expect(() => outputFormat({ output: "xml" })).toThrow(/-o\/--output must be table, json or yaml \(got 'xml'\)/);
    expect(() => outputFormat({ output: "yaml", json: true })).toThrow(/--json and -o yaml/);
  });

  it("prints YAML that reads back as the JSON does", () => {
    const v = { a: 1, when: new Date(0), nested: [{ b: "x: y" }], gone: undefined };
    expect(parseYaml(formatValue("yaml", v))).toEqual(JSON.parse(formatValue("json", v)));
    let out = "";
    const io: Io = { out: (s) => void (out += s), err: () => {}, isTTY: false };
    print(io, { output: "table" }, v, () => "text\n");
    print(io, true, { n: 1 }, () => "never\n");
    expect(out).toBe('text\n{\n  "n": 1\n}\n');
  });

  it.each(READS)("junction %j prints table, json (-o json and --json) and yaml", async (args, expected) => {
    const client = fakeClient();
    const json = await junctionOnce({ client }, ...FAKE, ...args, "-o", "json");
    expect(json.code, json.err).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject(expected as object);
    const alias = await junctionOnce({ client }, ...FAKE, ...args, "--json");
    expect(alias.out).toBe(json.out);
    const yaml = await junctionOnce({ client }, ...FAKE, ...args, "--output", "yaml");
    expect(yaml.code).toBe(0);
    expect(parseYaml(yaml.out)).toEqual(JSON.parse(json.out));
    const text = await junctionOnce({ client }, ...FAKE, ...args);
    expect(text.code).toBe(0);
    expect(text.out).not.toBe(json.out);
    expect(await junctionOnce({ client }, ...FAKE, ...args, "-o", "table")).toMatchObject({ out: text.out });
    expect(client.closed).toBe(5);
  });

  it("refuses an unknown format before connecting, as a usage error", async () => {
    const r = await junctionOnce({ client: fakeClient() }, ...FAKE, "station", "list", "-o", "xml");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/argument 'xml' is invalid\. Allowed choices are table, json, yaml/);
    expect(r.io.connects).toHaveLength(0);
  });

  it("every command that takes --json also takes -o, and every read command is covered above", () => {
    const program = buildProgram({ out: () => {}, err: () => {}, isTTY: false });
    // The command path of each covered invocation: the leading words that name subcommands.
    const pathOf = (args: string[]): string => {
      const out: string[] = [];
      let c: Command | undefined = program;
      for (const a of args) {
        c = c?.commands.find((s) => s.name() === a);
        if (!c) break;
        out.push(a);
      }
      return out.join(" ");
    };
    const covered = new Set(READS.map(([a]) => pathOf(a)));
    const walk = (c: Command, path: string[]): string[] =>
      c.commands.flatMap((s) => {
        const p = [...path, s.name()];
        const flags = s.options.map((o) => o.long);
        const here = flags.includes("--json") && !["produce", "consume"].includes(p[0]!) ? [p.join(" ")] : [];
        if (here.length) expect(flags, p.join(" ")).toContain("--output");
        return [...here, ...walk(s, p)];
      });
    const withJson = walk(program, []);
    // `context list|show` read the config file, not the broker: context.test.ts covers their formats.
    const reads = withJson.filter((p) => /\b(list|info|show|versions|logs|retention|whoami|doctor)$/.test(p) && !p.startsWith("context "));
    expect(reads.length).toBeGreaterThan(15);
    for (const r of reads) expect(covered, r).toContain(r);
  });
});
