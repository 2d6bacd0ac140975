/**
 * The SDK's specs import their globals from `@jest/globals`; the ones they use
 * (describe, test, test.each, expect, beforeAll, afterAll) are vitest's, with the same API.
 */
export { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, test } from "vitest";
