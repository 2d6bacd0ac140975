#!/usr/bin/env node
// Checks the folder architecture (see the README's Development section):
//  - dependencies point one way: cli -> sdk -> core/protocol; core -> schemas, functions;
//  - inside core, layers run downhill:
//      server -> http, memphis, quotas -> gateway, dls -> pipeline, auth -> registry, stations -> nats -> support -> protocol
//    (a layer imports only layers below it; folders on the same layer do not import each other);
//  - only core/nats/ (and sdk/transport.ts for the SDK) imports @nats-io/*;
//  - an import into another module goes through its index.ts (no deep imports);
//  - no import cycles between source files, type-only imports included.
// Test files (*.test.ts[x]) may import anything, but count for nothing else.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const TOPS = ["core", "sdk", "cli", "schemas", "functions"];

/** Which top-level folders each may import. */
const ALLOWED = {
  cli: ["cli", "sdk", "core", "schemas", "functions"],
  sdk: ["sdk", "core/protocol", "schemas"],
  core: ["core", "schemas", "functions"],
  schemas: ["schemas"],
  functions: ["functions"],
};

/** The layers of core, bottom first; a folder imports only folders of a lower layer. */
export const CORE_LAYERS = [
  ["protocol"],
  ["support"],
  ["nats"],
  ["registry", "stations"],
  ["pipeline", "auth"],
  ["gateway", "dls"],
  ["http", "memphis", "quotas"],
  ["server"],
];

const rankOf = new Map(CORE_LAYERS.flatMap((names, i) => names.map((n) => [n, i])));

/** The module a path belongs to: `core/<folder>`, `cli/tui`, or the top folder. */
export function moduleOf(path) {
  const parts = path.split("/");
  if (parts[0] === "core" && parts.length > 2) return `core/${parts[1]}`;
  if (parts[0] === "cli" && parts[1] === "tui" && parts.length > 2) return "cli/tui";
  return parts[0];
}

const importRe = /(?:^|\n)\s*((?:import|export)\s[^'"]*?)from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/**
 * Checks source files given as a map of repository-relative path -> source text. Returns the
 * problems found (empty when the architecture holds) and the number of files checked.
 */
export function checkSources(sources) {
  const problems = [];
  const graph = new Map();
  for (const [rel, src] of sources) {
    const top = rel.split("/")[0];
    const isTest = /\.test\.tsx?$/.test(rel);
    const edges = [];
    for (const m of src.matchAll(importRe)) {
      const spec = m[2] ?? m[3];
      if (spec.startsWith("@nats-io/") && !rel.startsWith("core/nats/") && rel !== "sdk/transport.ts" && !isTest) {
        problems.push(`${rel}: imports ${spec}; only core/nats/ (and sdk/transport.ts for the SDK) may import @nats-io/*`);
      }
      if (!spec.startsWith(".")) continue;
      const target = join(dirname(rel), spec).replace(/\.js$/, "");
      const ttop = target.split("/")[0];
      if (!TOPS.includes(ttop)) continue;
      edges.push(target);
      if (isTest) continue;
      if (!ALLOWED[top].some((a) => target === a || target.startsWith(a + "/"))) {
        problems.push(`${rel}: imports ${target}; ${top}/ may only import ${ALLOWED[top].join(", ")}`);
        continue;
      }
      const from = moduleOf(rel);
      const to = moduleOf(
        target.endsWith("/index") || sources.has(target + ".ts") || sources.has(target + ".tsx") ? target : target + "/index",
      );
      if (from !== to) {
        const viaIndex = target === `${to}/index` || (to === target && (sources.has(`${to}/index.ts`) || sources.has(`${to}/index.tsx`)));
        if (!viaIndex) problems.push(`${rel}: imports ${target} past ${to}/index.ts; import the module's index instead`);
      }
      if (from.startsWith("core/") && to.startsWith("core/") && from !== to) {
        const a = from.slice(5);
        const b = to.slice(5);
        const ra = rankOf.get(a);
        const rb = rankOf.get(b);
        if (ra === undefined || rb === undefined) problems.push(`${rel}: core/${ra === undefined ? a : b} has no place in the core layers`);
        else if (rb >= ra)
          problems.push(
            `${rel}: core/${a} imports core/${b}, which is ${rb === ra ? "on the same layer" : "a layer above it"} (layers, bottom first: ${CORE_LAYERS.map((l) => l.join("|")).join(" < ")})`,
          );
      }
    }
    if (!isTest) graph.set(rel.replace(/\.tsx?$/, ""), edges);
  }
  // Cycle detection (DFS with colours) over every import, type-only ones included.
  const norm = (t) => (graph.has(t) ? t : graph.has(t + "/index") ? t + "/index" : t);
  const colour = new Map();
  const stack = [];
  const dfs = (n) => {
    colour.set(n, 1);
    stack.push(n);
    for (const e of graph.get(n) ?? []) {
      const t = norm(e);
      if (!graph.has(t)) continue;
      if (colour.get(t) === 1) problems.push(`import cycle: ${[...stack.slice(stack.indexOf(t)), t].join(" -> ")}`);
      else if (!colour.get(t)) dfs(t);
    }
    stack.pop();
    colour.set(n, 2);
  };
  for (const n of graph.keys()) if (!colour.get(n)) dfs(n);
  return { problems, files: graph.size };
}

/** Reads every .ts/.tsx source under the top folders of `root`. */
export function readSources(root) {
  const sources = new Map();
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name === "node_modules" || name === "examples") continue;
        walk(p);
      } else if (/\.(ts|tsx)$/.test(name) && !/\.d\.ts$/.test(name)) sources.set(relative(root, p), readFileSync(p, "utf8"));
    }
  };
  for (const t of TOPS) {
    try {
      walk(join(root, t));
    } catch {
      /* folder may not exist */
    }
  }
  return sources;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const { problems, files } = checkSources(readSources(root));
  if (problems.length) {
    console.error(`dependency check: ${problems.length} problem(s)`);
    for (const p of problems) console.error("  " + p);
    process.exit(1);
  }
  console.log(`dependency check: ${files} files, no cycles, core layers downhill, imports through index.ts`);
}
