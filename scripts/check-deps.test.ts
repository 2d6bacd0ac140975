import { describe, expect, it } from "vitest";
import { resolve } from "node:path";
// @ts-expect-error -- a plain ES module without types (it runs before the build)
import { checkSources, readSources } from "./check-deps.mjs";

type Check = (sources: Map<string, string>) => { problems: string[]; files: number };
const check = checkSources as Check;

/** The real tree, with `changes` applied. */
function tree(changes: Record<string, string>): Map<string, string> {
  const sources = (readSources as (root: string) => Map<string, string>)(resolve(import.meta.dirname, ".."));
  for (const [k, v] of Object.entries(changes)) sources.set(k, v);
  return sources;
}

describe("the dependency check", () => {
  it("passes on the tree as it is", () => {
    expect(check(tree({})).problems).toEqual([]);
  });

  it("fails an upward import inside core (protocol importing the server)", () => {
    const { problems } = check(tree({ "core/protocol/oops.ts": 'import { startJunctionGateway } from "../server/index.js";\n' }));
    expect(problems.join("\n")).toMatch(/core\/protocol imports core\/server, which is a layer above it/);
  });

  it("fails an import between folders on the same layer (gateway and dls)", () => {
    const { problems } = check(tree({ "core/dls/oops.ts": 'import type { ProduceHandler } from "../gateway/index.js";\n' }));
    expect(problems.join("\n")).toMatch(/core\/dls imports core\/gateway, which is on the same layer/);
  });

  it("fails a deep import past a module's index.ts", () => {
    const { problems } = check(tree({ "core/gateway/oops.ts": 'import { NatsStoreWriter } from "../nats/batch.js";\n' }));
    expect(problems.join("\n")).toMatch(/imports core\/nats\/batch past core\/nats\/index\.ts/);
  });

  it("counts type-only imports in cycles", () => {
    const { problems } = check(
      tree({
        "sdk/a.ts": 'import type { B } from "./b.js";\nexport type A = B;\n',
        "sdk/b.ts": 'import type { A } from "./a.js";\nexport type B = A;\n',
      }),
    );
    expect(problems.join("\n")).toMatch(/import cycle: sdk\/(a|b) -> sdk\/(a|b) -> sdk\/(a|b)/);
  });

  it("fails @nats-io imports outside core/nats and the SDK transport", () => {
    const { problems } = check(tree({ "core/gateway/oops.ts": 'import { connect } from "@nats-io/transport-node";\n' }));
    expect(problems.join("\n")).toMatch(/only core\/nats\//);
  });

  it("fails the SDK importing core beyond the protocol", () => {
    const { problems } = check(tree({ "sdk/oops.ts": 'import { startJunctionGateway } from "../core/server/index.js";\n' }));
    expect(problems.join("\n")).toMatch(/sdk\/ may only import/);
  });
});
