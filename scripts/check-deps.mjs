#!/usr/bin/env node
// Checks the folder architecture (see the README's Development section):
//  - dependencies point one way: cli -> sdk -> core/protocol; core -> schemas, functions;
//  - only core/nats/ imports @nats-io/*;
//  - no import cycles between source files.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");
const tops = ["core", "sdk", "cli", "schemas", "functions"];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === "node_modules" || name === "examples") continue;
      walk(p);
    } else if (/\.(ts|tsx)$/.test(name) && !/\.d\.ts$/.test(name)) files.push(p);
  }
}
for (const t of tops) {
  try {
    walk(join(root, t));
  } catch {
    /* folder may not exist yet */
  }
}

const importRe = /(?:^|\n)\s*((?:import|export)\s[^'"]*?)from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const allowed = {
  cli: ["cli", "sdk", "core", "schemas", "functions"],
  sdk: ["sdk", "core/protocol", "schemas"],
  core: ["core", "schemas", "functions"],
  schemas: ["schemas"],
  functions: ["functions"],
};
const problems = [];
const graph = new Map();
for (const f of files) {
  const rel = relative(root, f);
  const top = rel.split("/")[0];
  const isTest = /\.test\.tsx?$/.test(rel);
  const src = readFileSync(f, "utf8");
  const edges = [];
  for (const m of src.matchAll(importRe)) {
    const spec = m[2] ?? m[3];
    const typeOnly = m[1] !== undefined && /^(import|export)\s+type\s/.test(m[1].trim());
    if (spec.startsWith("@nats-io/") && !rel.startsWith("core/nats/") && rel !== "sdk/transport.ts" && !isTest) {
      problems.push(`${rel}: imports ${spec}; only core/nats/ (and sdk/transport.ts for the SDK) may import @nats-io/*`);
    }
    if (!spec.startsWith(".")) continue;
    const target = relative(root, resolve(dirname(f), spec)).replace(/\.js$/, "");
    const ttop = target.split("/")[0];
    if (!tops.includes(ttop)) continue;
    const ok = allowed[top].some((a) => target === a || target.startsWith(a + "/"));
    if (!ok && !isTest) problems.push(`${rel}: imports ${target}; ${top}/ may only import ${allowed[top].join(", ")}`);
    if (!isTest && !typeOnly) edges.push(target);
  }
  graph.set(rel.replace(/\.tsx?$/, ""), edges);
}
// Cycle detection (DFS with colours). Targets resolve to "x" for x.ts or "x/index".
const norm = (t) => (graph.has(t) ? t : graph.has(t + "/index") ? t + "/index" : t);
const colour = new Map();
const stack = [];
function dfs(n) {
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
}
for (const n of graph.keys()) if (!colour.get(n)) dfs(n);

if (problems.length) {
  console.error(`dependency check: ${problems.length} problem(s)`);
  for (const p of problems) console.error("  " + p);
  process.exit(1);
}
console.log(`dependency check: ${graph.size} files, no cycles, layering respected`);
