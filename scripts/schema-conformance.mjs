#!/usr/bin/env node
// Runs the official JSON Schema Test Suite (github.com/json-schema-org/JSON-Schema-Test-Suite,
// checked out anywhere) through Junction's schema engine: prepareSchema → loadSchema → validate,
// exactly as the gateway does, with the suite's remote documents served as referenced schemas.
//
//   npm run conformance -- <suite dir> [--draft draft2020-12] [--cross-check] [--verbose] [--json <file>]
//
// Required tests are every file at the top of a draft's folder; optional/ and optional/format/
// are reported separately. Required tests run with formats "annotate" (the specification's
// default for 2019-09 and 2020-12; the older drafts' required tests do not depend on it),
// optional/format with formats "assert". --cross-check also runs every test on Junction's own
// validator when ajv serves the schema, and lists any disagreement. Exits 1 when a required test
// fails.
import { Buffer } from "node:buffer";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { loadSchema, prepareSchema, schemaReferences } from "../schemas/index.ts";
import { jsonEngineOf, loadJsonSchema } from "../schemas/json/schema.ts";

const DRAFTS = [
  ["draft4", "draft-04"],
  ["draft6", "draft-06"],
  ["draft7", "draft-07"],
  ["draft2019-09", "2019-09"],
  ["draft2020-12", "2020-12"],
];

function parseArgs(argv) {
  const out = { suite: undefined, draft: undefined, crossCheck: false, verbose: false, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--draft") out.draft = argv[++i];
    else if (a === "--cross-check") out.crossCheck = true;
    else if (a === "--verbose") out.verbose = true;
    else if (a === "--json") out.json = argv[++i];
    else if (!a.startsWith("--") && out.suite === undefined) out.suite = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (out.suite === undefined)
    throw new Error(
      "usage: npm run conformance -- <JSON-Schema-Test-Suite dir> [--draft draft2020-12] [--cross-check] [--verbose] [--json <file>]",
    );
  return out;
}

function jsonFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...jsonFiles(p));
    else if (name.endsWith(".json")) out.push(p);
  }
  return out;
}

/** The suite's remotes as referenced schemas, prepared (in dependency order) for one draft. */
async function prepareRemotes(suite, dialect) {
  const root = join(suite, "remotes");
  const sources = new Map();
  for (const f of jsonFiles(root)) {
    const uri = `http://localhost:1234/${relative(root, f).split(sep).join("/")}`;
    sources.set(uri, readFileSync(f, "utf8"));
  }
  const prepared = new Map(); // uri -> ReferencedSchema | null (unusable in this draft)
  const byId = new Map();
  let n = 0;
  const resolve = async (uri, stack) => {
    if (prepared.has(uri)) return prepared.get(uri);
    if (byId.has(uri)) return byId.get(uri);
    const text = sources.get(uri);
    if (text === undefined || stack.includes(uri)) return null;
    const src = { type: "json", definition: text, dialect, baseUri: uri };
    let entry = null;
    try {
      const refs = await referencesFor(src, [...stack, uri]);
      const p = await prepareSchema(src, { references: refs });
      entry = { name: `remote-${++n}`, version: 1, uri, prepared: p };
      for (const id of p.ids ?? []) byId.set(id, entry);
    } catch {
      entry = null;
    }
    prepared.set(uri, entry);
    return entry;
  };
  // A reference and everything it references in turn.
  const referencesFor = async (src, stack = []) => {
    const out = new Map();
    const add = (r) => {
      if (r === null || out.has(`${r.name}@${r.version}`)) return;
      out.set(`${r.name}@${r.version}`, r);
      for (const t of r.prepared.references ?? []) {
        for (const cand of prepared.values()) if (cand !== null && cand.name === t.name && cand.version === t.version) add(cand);
      }
    };
    for (const req of schemaReferences(src)) {
      if (req.kind !== "uri") continue;
      add(await resolve(req.uri, stack));
    }
    return [...out.values()];
  };
  for (const uri of sources.keys()) await resolve(uri, []);
  return referencesFor;
}

async function runDraft(suite, folder, dialect, opts) {
  const referencesFor = await prepareRemotes(suite, dialect);
  const dir = join(suite, "tests", folder);
  const stats = { required: [0, 0], optional: [0, 0], format: [0, 0] };
  const engines = { ajv: 0, interpreter: 0 };
  const failures = [];
  const disagreements = [];
  for (const file of jsonFiles(dir)) {
    const rel = relative(dir, file).split(sep).join("/");
    const kind = rel.startsWith("optional/format/") ? "format" : rel.startsWith("optional/") ? "optional" : "required";
    const formats = kind === "format" ? "assert" : "annotate";
    for (const tc of JSON.parse(readFileSync(file, "utf8"))) {
      const src = { type: "json", definition: JSON.stringify(tc.schema), dialect, formats };
      let compiled;
      let reference;
      let error;
      try {
        const references = await referencesFor(src);
        const prepared = await prepareSchema(src, { references });
        compiled = loadSchema(prepared, { references });
        const engine = jsonEngineOf(prepared, { references });
        engines[engine]++;
        if (opts.crossCheck && engine === "ajv") reference = loadJsonSchema(prepared, { references }, false);
      } catch (err) {
        error = `${err.code ?? err.name}: ${err.message}`;
      }
      for (const t of tc.tests) {
        stats[kind][1]++;
        let got;
        if (compiled === undefined) got = `not prepared (${error})`;
        else {
          const payload = Buffer.from(JSON.stringify(t.data), "utf8");
          got = compiled.validate(payload).ok;
          if (reference !== undefined) {
            const other = reference.validate(payload).ok;
            if (other !== got)
              disagreements.push(`${rel} | ${tc.description} | ${t.description}: ajv ${got}, Junction's validator ${other}`);
          }
        }
        if (got === t.valid) stats[kind][0]++;
        else failures.push({ kind, file: rel, case: tc.description, test: t.description, expected: t.valid, got });
      }
    }
  }
  return { folder, dialect, stats, engines, failures, disagreements };
}

const pct = ([pass, total]) => (total === 0 ? "-" : `${((100 * pass) / total).toFixed(1)}%`);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const results = [];
  for (const [folder, dialect] of DRAFTS) {
    if (opts.draft !== undefined && opts.draft !== folder && opts.draft !== dialect) continue;
    results.push(await runDraft(opts.suite, folder, dialect, opts));
  }
  console.log("JSON Schema Test Suite through prepareSchema → loadSchema → validate");
  console.log("draft          required              optional            optional/format      ajv/Junction cases");
  for (const r of results) {
    const cell = (k) => `${r.stats[k][0]}/${r.stats[k][1]} (${pct(r.stats[k])})`.padEnd(20);
    console.log(
      `${r.dialect.padEnd(14)} ${cell("required")}  ${cell("optional")}  ${cell("format")} ${r.engines.ajv}/${r.engines.interpreter}`,
    );
  }
  let requiredFailures = 0;
  for (const r of results) {
    const shown = r.failures.filter((f) => opts.verbose || f.kind !== "format");
    requiredFailures += r.failures.filter((f) => f.kind === "required").length;
    if (shown.length > 0)
      console.log(
        `\n${r.dialect}: ${r.failures.length} failing (${shown.length} shown${opts.verbose ? "" : "; --verbose lists optional/format too"})`,
      );
    for (const f of shown) console.log(`  [${f.kind}] ${f.file} | ${f.case} | ${f.test}: expected ${f.expected}, got ${f.got}`);
    for (const d of r.disagreements) console.log(`  [engines disagree] ${d}`);
  }
  if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify(results, null, 2));
  process.exitCode = requiredFailures > 0 ? 1 : 0;
}

await main();
