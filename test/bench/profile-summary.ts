/**
 * Summarizes a V8 `.cpuprofile` (from `--cpu-prof`, e.g. `npm run bench -- --profile`): the
 * functions with the most self time, and the share of time under chosen frames.
 * Usage: `npx tsx test/bench/profile-summary.ts <file.cpuprofile> [top]`.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self and total time per function of a profile, in percent of all samples. */
export function summarizeProfile(p: Profile, top = 25): { self: [string, number][]; total: [string, number][]; idle: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const count = new Map<number, number>();
  for (const s of p.samples) count.set(s, (count.get(s) ?? 0) + 1);
  const total = p.samples.length;
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url ? basename(n.callFrame.url) : ""}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let idle = 0;
  for (const [id, c] of count) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === "(idle)") idle += c;
    self.set(label(n), (self.get(label(n)) ?? 0) + c);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      incl.set(l, (incl.get(l) ?? 0) + c);
    }
  }
  const pct = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]): [string, number] => [k, (100 * v) / total]);
  return { self: pct(self), total: pct(incl), idle: (100 * idle) / total };
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: profile-summary <file.cpuprofile> [top]");
  const r = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(process.argv[3] ?? 25));
  console.log(`idle ${r.idle.toFixed(1)}%\n-- self --`);
  for (const [k, v] of r.self) console.log(`${v.toFixed(1).padStart(5)}%  ${k}`);
  console.log("-- total (inclusive) --");
  for (const [k, v] of r.total) console.log(`${v.toFixed(1).padStart(5)}%  ${k}`);
}
