import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_REQUEST_SCHEMAS } from "./api.js";

/** Whether the admin table names `op`: in full, or in its resource's row (`jn.api.tenant.create` / `get`). */
function documented(lines: readonly string[], op: string): boolean {
  const [resource, verb] = op.split(".") as [string, string];
  return lines.some(
    (l) =>
      l.startsWith("| `jn.api.") &&
      (l.includes(`\`jn.api.${op}\``) || (l.includes(`jn.api.${resource}.`) && (l.includes(`\`${op}\``) || l.includes(`\`${verb}\``)))),
  );
}

describe("docs/protocol.md", () => {
  it("names every admin operation the gateway accepts", () => {
    const lines = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8").split("\n");
    const ops = Object.keys(API_REQUEST_SCHEMAS);
    expect(ops.length).toBeGreaterThan(30);
    expect(ops.filter((op) => !documented(lines, op))).toEqual([]);
    expect(documented(lines, "station.explode")).toBe(false);
  });
});
