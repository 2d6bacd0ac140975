import { defineConfig } from "vitest/config";

// isolated-vm needs --no-node-snapshot, which only a forked child process can be given.
const execArgv = ["--no-node-snapshot"];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{core,sdk,cli,schemas,functions,scripts}/**/*.test.{ts,tsx}", "test/bench/**/*.test.ts"],
          pool: "forks",
          execArgv,
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.{ts,tsx}", "test/security/**/*.test.{ts,tsx}", "test/e2e/**/*.test.{ts,tsx}"],
          pool: "forks",
          execArgv,
          // Each file starts its own nats-server; two cores, so keep concurrency low.
          maxWorkers: 2,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
