import { describe, expect, it } from "vitest";
import {
  diffLines,
  fitResponsive,
  formatAge,
  formatBytes,
  formatRate,
  prettyPayload,
  row,
  sparkline,
  truncate,
  visibleWindow,
} from "./format.js";

describe("format", () => {
  it("formats sizes, ages and rates", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatAge(850)).toBe("850ms");
    expect(formatAge(184_000)).toBe("3m04s");
    expect(formatAge(undefined)).toBe("–");
    expect(formatRate(0)).toBe("0/s");
    expect(formatRate(2.5)).toBe("2.5/s");
    expect(formatRate(3400)).toBe("3.4k/s");
  });

  it("draws sparklines scaled to the maximum, padded to the width", () => {
    expect(sparkline([0, 0], 4)).toBe("  ▁▁");
    expect(sparkline([0, 5, 10], 3)).toBe("▁▅█");
    expect(sparkline([1, 2, 3, 4, 5, 6], 3)).toHaveLength(3);
  });

  it("lays out columns and drops low-priority ones when narrow", () => {
    expect(
      row(
        [
          { title: "A", width: 3 },
          { title: "B", width: 4, align: "right" },
        ],
        ["abcdef", "1"],
      ),
    ).toBe("ab…     1");
    expect(truncate("hello", 10)).toBe("hello");
    const cols = [
      { key: "name", title: "N", width: 10 },
      { key: "x", title: "X", width: 30, priority: 1 },
      { key: "y", title: "Y", width: 10, priority: 2 },
    ];
    expect(fitResponsive(cols, 100, "name").map((c) => c.key)).toEqual(["name", "x", "y"]);
    expect(fitResponsive(cols, 30, "name").map((c) => c.key)).toEqual(["name", "y"]);
  });

  it("pretty-prints payloads: JSON, text, binary", () => {
    expect(prettyPayload(new TextEncoder().encode('{"a":1}'))).toEqual({ text: '{\n  "a": 1\n}', kind: "json" });
    expect(prettyPayload(new TextEncoder().encode("hi"))).toEqual({ text: "hi", kind: "text" });
    expect(prettyPayload(new Uint8Array([0xff, 0x00])).kind).toBe("binary");
  });

  it("diffs lines", () => {
    expect(diffLines("a\nb\nc", "a\nc\nd")).toEqual([
      { op: " ", text: "a" },
      { op: "-", text: "b" },
      { op: " ", text: "c" },
      { op: "+", text: "d" },
    ]);
  });

  it("keeps the cursor in the visible window", () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(visibleWindow(items, 0, 5)).toEqual({ items: [0, 1, 2, 3, 4], offset: 0 });
    expect(visibleWindow(items, 19, 5).offset).toBe(15);
  });
});
