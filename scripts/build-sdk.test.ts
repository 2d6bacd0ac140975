import { describe, expect, it } from "vitest";
// @ts-expect-error -- a plain ES module without types (it runs before the build)
import { checkDependencies, packageOf, runtimeRequires } from "./build-sdk.mjs";

type Pkg = { version: string; dependencies?: Record<string, string> };
const check = checkDependencies as (imported: Set<string>, sdk: Pkg, broker: Pkg) => string[];
const requires = runtimeRequires as (code: string) => Set<string>;
const pkgOf = packageOf as (spec: string) => string | undefined;

describe("the SDK build's dependency allow-list", () => {
  it("names the package of an import, and nothing for a built-in", () => {
    expect(pkgOf("@bufbuild/protobuf/wkt")).toBe("@bufbuild/protobuf");
    expect(pkgOf("ajv/dist/2020.js")).toBe("ajv");
    expect(pkgOf("node:os")).toBeUndefined();
    expect(pkgOf("os")).toBeUndefined();
  });

  it("finds packages loaded through createRequire, directly or through a variable", () => {
    const code = [
      'var avsc = createRequire(import.meta.url)("avsc");',
      "var require2 = createRequire2(import.meta.url);",
      "var ajvRef = (path) => require2(`ajv/dist/refs/${path}`);",
      'var { fullFormats } = require2("ajv-formats/dist/formats");',
      "var require4 = createRequire5(import.meta.url);",
      "var f = require4.resolve(`${pkg}/bin/${exe}`);",
      'var local = require2("./local.js");',
      'var fs = require2("node:fs");',
      'var other = notARequire("left-alone");',
    ].join("\n");
    expect([...requires(code)].sort()).toEqual(["ajv", "ajv-formats", "avsc"]);
  });

  it("accepts a list that matches the imports and the broker's ranges", () => {
    const broker = { version: "1.2.3", dependencies: { ajv: "^8.0.0", "isolated-vm": "^6.0.0" } };
    expect(check(new Set(["ajv"]), { version: "1.2.3", dependencies: { ajv: "^8.0.0" } }, broker)).toEqual([]);
  });

  it("fails an undeclared import, an unused entry, a drifting range and a version mismatch", () => {
    const broker = { version: "1.2.3", dependencies: { ajv: "^8.0.0", re2js: "^2.0.0" } };
    const problems = check(new Set(["ajv", "avsc"]), { version: "1.2.4", dependencies: { ajv: "^8.1.0", re2js: "^2.0.0" } }, broker);
    expect(problems).toEqual([
      "the SDK imports avsc, which is not in packages/sdk/package.json dependencies (add it there, with the broker's range, if applications should install it)",
      "ajv: the SDK asks for ^8.1.0, the broker for ^8.0.0; keep one range",
      "packages/sdk/package.json depends on re2js, which the SDK does not import",
      "packages/sdk/package.json has version 1.2.4, the broker 1.2.3; they are released together",
    ]);
  });
});
