import { describe, expect, it } from "vitest";
import { Books, MessageKind } from "./books.js";
import { judge } from "./checks.js";
import { findPreset } from "./presets.js";
import { formatMs, renderReport, renderSummary } from "./report.js";
import { FaultKind, type ChaosResult } from "./types.js";

function result(passed = true): ChaosResult {
  const p = findPreset("smoke")!;
  const b = new Books();
  b.sent("m-0", MessageKind.Normal, 0, 0);
  b.acked("m-0", 5, false);
  b.stored("m-0", 1);
  b.delivered("m-0", { atMs: 9, member: "member-1", deliveryCount: 1, seq: 1 }, true);
  if (!passed) {
    b.sent("m-1", MessageKind.Normal, 0, 0);
    b.acked("m-1", 5, false);
    b.sent("m-2", MessageKind.Normal, 0, 0);
    b.failed("m-2", 5, "CONNECTION_CLOSED", "the connection is closed");
  }
  const books = b.summarize();
  const faults = [
    {
      index: 1,
      kind: FaultKind.GatewayKill,
      atMs: 7600,
      holdMs: 1000,
      pick: 0.3,
      injectedAtMs: 7610,
      healedAtMs: 9100,
      target: "gw-1",
      produceBackMs: 10_100,
      consumeBackMs: 40,
      worstEndToEndMs: 10_300,
      notes: [],
    },
    {
      ...{ index: 2, kind: FaultKind.DiskFull, atMs: 9000, holdMs: 1000, pick: 0 },
      injectedAtMs: undefined,
      healedAtMs: undefined,
      target: "store filesystem",
      skipped: "no tmpfs",
      produceBackMs: undefined,
      consumeBackMs: undefined,
      worstEndToEndMs: undefined,
      notes: [],
    },
  ];
  const v = judge(books, faults, 0, {}, false);
  return {
    preset: p.name,
    description: p.description,
    seed: 1,
    durationMs: p.durationMs,
    startedAt: "2026-01-01T00:00:00.000Z",
    wallMs: 36_500,
    topology: { ...p.topology, tmpfs: "off", natsServerVersion: "2.15.1" },
    workload: p.workload,
    planNotes: [],
    faults,
    books,
    drain: { ms: 15, complete: true },
    checks: v.checks,
    passed: v.passed,
    clientsClosed: 0,
    notes: [],
    dir: passed ? undefined : "/tmp/x",
  };
}

describe("report", () => {
  it("formats times", () => {
    expect(formatMs(undefined)).toBe("—");
    expect(formatMs(12.4)).toBe("12 ms");
    expect(formatMs(10_140)).toBe("10.1 s");
  });

  it("shows faults with recovery times, the books, the checks and the verdict", () => {
    const text = renderReport(result());
    expect(text).toMatch(/preset smoke, seed 1/);
    expect(text).toMatch(/1\s+\+7\.6 s\s+gateway-kill\s+gw-1\s+1\.5 s\s+10\.1 s\s+40 ms\s+10\.3 s/);
    expect(text).toMatch(/disk-full .*skipped: no tmpfs/);
    expect(text).toMatch(/lost\s+0\s+ok/);
    expect(text).toMatch(/result: PASS\n$/);
    const failing = renderReport(result(false));
    expect(failing).toMatch(/lost\s+1\s+FAIL/);
    expect(failing).toMatch(/first CONNECTION_CLOSED: m-2: the connection is closed/);
    expect(failing).toMatch(/lostNotConsumed: m-1|lostNotStored: m-1/);
    expect(failing).toMatch(/result: FAIL \(logs and stores kept in \/tmp\/x\)/);
  });

  it("summarizes runs as a Markdown table, one row each", () => {
    const text = renderSummary([result(), result(false)]);
    const lines = text.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\| preset \| seed \| faults \|/);
    expect(lines[2]).toMatch(/^\| smoke \| 1 \| 1 \(\+1 skipped\) \| 1 \| 0 \|.*\| 10\.1 s \| 40 ms \| pass \|$/);
    expect(lines[3]).toMatch(/\| FAIL \|$/);
  });
});
