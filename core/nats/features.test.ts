import { describe, expect, it } from "vitest";
import { JunctionError } from "../protocol/index.js";
import { MIN_SERVER_VERSION, assertServerVersion, compareVersions, missingFeatures, parseVersion } from "./features.js";

describe("server feature table", () => {
  it("parses versions in their usual spellings and orders them", () => {
    expect(parseVersion("v2.12.1")).toEqual([2, 12, 1]);
    expect(parseVersion("nats-server: v2.15.1-beta.2")).toEqual([2, 15, 1]);
    expect(parseVersion("unknown")).toBeUndefined();
    expect(compareVersions([2, 10, 9], [2, 12, 0])).toBeLessThan(0);
    expect(MIN_SERVER_VERSION).toBe("2.12.0");
  });

  it("names the features an older server lacks, and none for a current one", () => {
    expect(missingFeatures("2.15.1")).toEqual([]);
    expect(missingFeatures("2.11.4")).toEqual([
      "atomic batch publish (one fsync per produce batch) (needs 2.12.0)",
      "message schedules (delayed delivery) (needs 2.12.0)",
    ]);
    expect(missingFeatures("2.10.0")).toHaveLength(4);
  });

  it("refuses a too-old server with UNSUPPORTED_SERVER saying which version and what is missing", () => {
    let err: unknown;
    try {
      assertServerVersion("2.10.22", "the NATS server at nats://x");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JunctionError);
    expect(err).toMatchObject({ code: "UNSUPPORTED_SERVER", retriable: false, details: { version: "2.10.22", minimum: "2.12.0" } });
    expect((err as Error).message).toMatch(/nats-server 2\.10\.22; Junction needs >= 2\.12\.0\. Missing: .*per-message TTL.*atomic batch/);
    expect(() => assertServerVersion("2.12.0", "x")).not.toThrow();
  });
});
