import { defineConfig } from "vitest/config";

// The benchmark's own unit tests (the report generator): no server, no timing.
// Run with `npx vitest run --config test/bench/vitest.config.ts`.
export default defineConfig({
  test: { include: ["test/bench/**/*.test.ts"], root: new URL("../..", import.meta.url).pathname },
});
