import { describe, expect, it } from "vitest";
import { encodeFunctionRelease, parseFunctionRelease } from "./index.js";

const enc = new TextEncoder();

describe("function release notes (gateway to gateway)", () => {
  it("round-trips a note with and without a version", () => {
    expect(parseFunctionRelease(encodeFunctionRelease({ fn: "acme/redact", version: 3 }))).toEqual({ fn: "acme/redact", version: 3 });
    expect(parseFunctionRelease(encodeFunctionRelease({ fn: "redact" }))).toEqual({ fn: "redact" });
  });

  it("ignores anything malformed", () => {
    for (const bad of [
      "",
      "not json",
      "null",
      "[]",
      '{"fn":""}',
      '{"fn":7}',
      '{"fn":"f","version":0}',
      '{"fn":"f","version":1.5}',
      '{"fn":"f","version":"1"}',
    ]) {
      expect(parseFunctionRelease(enc.encode(bad)), bad).toBeUndefined();
    }
    expect(parseFunctionRelease(enc.encode(JSON.stringify({ fn: "x".repeat(2000) })))).toBeUndefined();
  });
});
