import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { fn, renderTui, until } from "../../../test/fakes/tui.js";
import { FunctionsScreen } from "./functions.js";

const functions = [
  fn("enrich", { latest: 2, usedBy: ["orders"], stats: { calls: 120, errors: 0 } }),
  fn("mask", { stats: { calls: 50, errors: 3, lastError: "TypeError: x is undefined" } }),
];

describe("FunctionsScreen", () => {
  it("lists functions with call and error counts (most errors first) and the source", async () => {
    const onSelect = vi.fn();
    const { lastFrame } = render(
      <FunctionsScreen
        functions={functions}
        versions={[{ version: 1, createdAt: "2025-01-01T00:00:00.000Z", timeoutMs: 100, memoryMb: 16 }]}
        source={{ version: 1, text: "export default (m) => ({ ...m, masked: true });" }}
        stats={{ calls: 50, errors: 3, lastError: "TypeError: x is undefined" }}
        width={110}
        height={30}
        onSelect={onSelect}
      />,
    );
    // The selection is reported from an effect after the first render; the frame then shows it.
    await until(() => expect(onSelect).toHaveBeenCalledWith("mask"));
    const f = lastFrame()!;
    expect(f.indexOf("mask v1")).toBeLessThan(f.indexOf("enrich v2"));
    expect(f).toMatch(/› mask v1\s+50 calls, 3 err/);
    expect(f).toContain("calls 50, errors 3, last error: TypeError: x is undefined");
    expect(f).toContain("export default (m) => ({ ...m, masked: true });");
    expect(f).toContain("v1  100ms 16MB");
  });

  it("shows recent logs with l", async () => {
    const { lastFrame, press } = renderTui(
      <FunctionsScreen
        functions={functions}
        logs={[{ time: Date.parse("2025-01-01T10:00:00.000Z"), version: 1, level: "error", message: "boom on order 7" }]}
        width={110}
        height={30}
      />,
    );
    expect(lastFrame()).toContain("mask v… source");
    await press("l", () => expect(lastFrame()).toContain("mask: recent logs"));
    expect(lastFrame()).toContain("10:00:00.000 v1 error boom on order 7");
  });

  it("marks a quarantined function first, in red, and releases it with x", async () => {
    const onRelease = vi.fn();
    const { lastFrame, press } = renderTui(
      <FunctionsScreen
        functions={functions}
        quarantined={[{ function: "enrich", version: 2, reason: "memory", message: "used more than 16 MB", failures: 3, since: 0 }]}
        onRelease={onRelease}
        width={140}
        height={30}
      />,
    );
    const f = lastFrame()!;
    expect(f.indexOf("enrich v2")).toBeLessThan(f.indexOf("mask v1"));
    expect(f).toContain("⛔ enrich v2");
    expect(f).toContain("QUARANTINED v2");
    expect(f).toContain("memory (3 failures)");
    await press("x", () => expect(onRelease).toHaveBeenCalledWith("enrich"));
  });

  it("x does nothing on a function that is not quarantined", async () => {
    const onRelease = vi.fn();
    const { lastFrame, press } = renderTui(
      <FunctionsScreen functions={functions} quarantined={[]} onRelease={onRelease} width={110} height={30} />,
    );
    expect(lastFrame()).not.toContain("QUARANTINED");
    await press("l", () => expect(lastFrame()).toContain("recent logs"));
    await press("x", () => expect(lastFrame()).toContain("recent logs"));
    expect(onRelease).not.toHaveBeenCalled();
  });
});
