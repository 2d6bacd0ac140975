import { describe, expect, it } from "vitest";
import { decodeSdkHex } from "./reports.js";
import { cleanReason } from "./consumers.js";

describe("reports", () => {
  it("reads the SDK's hex (two digits a byte), or gives up", () => {
    expect(Buffer.from(decodeSdkHex(Buffer.from('{"id":"x"}').toString("hex"))!).toString()).toBe('{"id":"x"}');
    expect(decodeSdkHex("abc")).toBeUndefined();
    expect(decodeSdkHex("zz")).toBeUndefined();
  });

  it("keeps a dead-letter reason on one bounded line", () => {
    expect(cleanReason("  bad\r\ninput\t ")).toBe("bad input");
    expect(cleanReason("x".repeat(2000))).toHaveLength(512);
  });
});
