import { describe, expect, it } from "vitest";
import { headersProblem } from "./headers.js";
import { formatTraceparent, isTraceHeader, parseTraceparent, traceHeadersOf } from "./trace.js";

const TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("traceparent", () => {
  it("parses a version 00 value and formats it back", () => {
    const t = parseTraceparent(TP);
    expect(t).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 });
    expect(formatTraceparent(t!)).toBe(TP);
    expect(formatTraceparent({ ...t!, flags: 0 })).toBe(TP.slice(0, -2) + "00");
  });

  it("reads a later version's first four fields and ignores what follows", () => {
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")?.spanId).toBe("00f067aa0ba902b7");
  });

  it.each([
    ["absent", undefined],
    ["empty", ""],
    ["too short", TP.slice(0, 54)],
    ["version 00 with more fields", `${TP}-x`],
    ["version ff", `ff${TP.slice(2)}`],
    ["uppercase hex", TP.toUpperCase()],
    ["all-zero trace id", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"],
    ["all-zero span id", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"],
    ["wrong separators", TP.replace(/-/g, "_")],
    ["non-hex flags", `${TP.slice(0, -2)}zz`],
    ["a later version glued to more text", `01${TP.slice(2)}x`],
  ])("refuses %s", (_what, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe("traceHeadersOf", () => {
  it("takes traceparent and tracestate, lowercase, from message headers", () => {
    expect(traceHeadersOf({ traceparent: TP, tracestate: "shop=1,vendor=x", other: "y" })).toEqual({
      traceparent: TP,
      tracestate: "shop=1,vendor=x",
    });
    expect(traceHeadersOf({ traceparent: TP })).toEqual({ traceparent: TP });
  });

  it("has nothing without a valid traceparent (a lone tracestate means nothing)", () => {
    expect(traceHeadersOf(undefined)).toBeUndefined();
    expect(traceHeadersOf({ tracestate: "shop=1" })).toBeUndefined();
    expect(traceHeadersOf({ traceparent: "garbage", tracestate: "shop=1" })).toBeUndefined();
    expect(traceHeadersOf({ Traceparent: TP })).toBeUndefined();
  });

  it("names only the two trace headers, which pass the gateway's header rules", () => {
    expect(["traceparent", "tracestate", "Traceparent", "trace"].map(isTraceHeader)).toEqual([true, true, false, false]);
    expect(headersProblem({ traceparent: TP, tracestate: "shop=1,vendor=x" }, "id-1")).toBeUndefined();
  });
});
