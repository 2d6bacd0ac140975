/**
 * `npm run test:memphis`: the Memphis compatibility tests (test/memphis/*.test.ts, each against
 * its own `junction dev --memphis`) and the memphis.js SDK's own specs, unmodified, from its npm
 * package (node_modules/memphis-dev/src/*.spec.ts) against one `junction dev --memphis`.
 */
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vitest/config";

const here = import.meta.dirname;
const sdk = resolve(here, "../../node_modules/memphis-dev");

/** The specs' `./test/environment` import resolves to ours (the broker the global setup started). */
function sdkEnvironment(): Plugin {
  return {
    name: "memphis-sdk-environment",
    enforce: "pre",
    resolveId(source, importer) {
      if (source === "./test/environment" && importer?.startsWith(resolve(sdk, "src"))) return resolve(here, "sdk-specs/environment.ts");
      if (source === "@jest/globals") return resolve(here, "sdk-specs/jest-globals.ts");
      return undefined;
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "memphis",
          root: resolve(here, "../.."),
          include: ["test/memphis/**/*.test.ts"],
          pool: "forks",
          execArgv: ["--no-node-snapshot"],
          maxWorkers: 1,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [sdkEnvironment()],
        // The SDK's source uses TypeScript's (legacy) decorators (its tsconfig: experimentalDecorators).
        oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
        test: {
          name: "memphis-sdk-specs",
          root: sdk,
          dir: resolve(sdk, "src"),
          include: ["**/*.spec.ts"],
          exclude: [],
          globalSetup: [resolve(here, "sdk-specs/global-setup.ts")],
          setupFiles: [resolve(here, "sdk-specs/setup.ts")],
          server: { deps: { inline: [/memphis-dev/] } },
          pool: "forks",
          // One broker for the specs, and they use fixed station names: one file at a time.
          fileParallelism: false,
          // The spec that creates a schema returns early under GitHub Actions; here it runs.
          env: { GITHUB_ACTIONS: "" },
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
