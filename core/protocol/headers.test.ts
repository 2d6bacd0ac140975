import { describe, expect, it } from "vitest";
import { MAX_HEADER_BYTES, headersProblem } from "./headers.js";

describe("headersProblem", () => {
  it("accepts ordinary headers, UTF-8 values and no headers", () => {
    expect(headersProblem(undefined, "")).toBeUndefined();
    expect(headersProblem({ "x-trace": "abc", lang: "héllo wörld" }, "id-1")).toBeUndefined();
  });

  it.each([
    [{ "bad name": "v" }, "bad name", /printable ASCII/],
    [{ "a:b": "v" }, "a:b", /printable ASCII/],
    [{ "": "v" }, "", /must not be empty/],
    [{ héader: "v" }, "héader", /printable ASCII/],
    [{ x: "a\r\nInjected: 1" }, "x", /CR or LF/],
    [{ x: " padded" }, "x", /leading or trailing spaces/],
    [{ "Jn-Schema": "s@1" }, "Jn-Schema", /reserved/],
    [{ "nats-msg-id": "1" }, "nats-msg-id", /reserved/],
  ])("refuses %j naming the header", (headers, header, why) => {
    const p = headersProblem(headers as Record<string, string>, "");
    expect(p?.header).toBe(header);
    expect(p?.problem).toMatch(why);
    expect(p?.tooLarge).toBe(false);
  });

  it("allows reserved names when asked (Junction's own headers)", () => {
    expect(headersProblem({ "Jn-Producer": "p" }, "", true)).toBeUndefined();
  });

  it("refuses a message id with CR/LF as the header 'id'", () => {
    expect(headersProblem(undefined, "a\nb")?.header).toBe("id");
  });

  it("counts UTF-8 bytes against the limit, exactly at the boundary", () => {
    // One header: name "k" (1) + ": " and CRLF (4) + value.
    const fits = "é".repeat(((MAX_HEADER_BYTES - 5) / 2 - 0.5) | 0);
    expect(headersProblem({ k: fits }, "")).toBeUndefined();
    const over = { k: "é".repeat(MAX_HEADER_BYTES / 2) };
    const p = headersProblem(over, "");
    expect(p?.tooLarge).toBe(true);
    expect(p?.bytes).toBeGreaterThan(MAX_HEADER_BYTES);
  });
});
