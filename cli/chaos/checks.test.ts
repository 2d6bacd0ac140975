import { describe, expect, it } from "vitest";
import { Books, MessageKind, type BooksSummary } from "./books.js";
import { RESTART_NOTE, judge, unrecovered } from "./checks.js";
import { CheckName, FaultKind, type FaultRecord } from "./types.js";

const clean = (): BooksSummary => new Books().summarize();
const fault = (o: Partial<FaultRecord> = {}): FaultRecord => ({
  index: 1,
  kind: FaultKind.GatewayKill,
  atMs: 1000,
  holdMs: 1000,
  pick: 0,
  injectedAtMs: 1000,
  healedAtMs: 2000,
  target: "gw-1",
  produceBackMs: 100,
  consumeBackMs: 100,
  worstEndToEndMs: 100,
  notes: [],
  ...o,
});
const status = (r: ReturnType<typeof judge>, name: string) => r.checks.find((c) => c.name === name)?.status;

describe("judge", () => {
  it("passes clean books", () => {
    const r = judge(clean(), [fault()], 0, {}, false);
    expect(r.passed).toBe(true);
    expect(r.checks.map((c) => c.status)).toEqual(Object.values(CheckName).map(() => "ok"));
  });

  it("fails on a lost, doubled or unknown message whatever the preset says", () => {
    for (const key of ["lost", "storedTwice", "dlsDoubled", "unknownEntries"] as const) {
      const s = { ...clean(), [key]: 1 };
      const r = judge(
        s,
        [],
        0,
        { lost: { known: "x" }, "stored-twice": "report", "dls-doubled": "report", "unknown-entries": "report" },
        false,
      );
      expect(r.passed, key).toBe(false);
    }
  });

  it("follows the preset for the other checks: report, known (fails only when strict), fail", () => {
    const s = { ...clean(), storedButReportedFailed: 3, replays: 2, falseDeadLetters: 1 };
    const r = judge(s, [], 0, { "stored-but-reported-failed": { known: "finding 2" }, "false-dead-letters": "report" }, false);
    expect(status(r, "stored-but-reported-failed")).toBe("known");
    expect(r.checks.find((c) => c.name === "stored-but-reported-failed")?.note).toBe("finding 2");
    expect(status(r, "false-dead-letters")).toBe("report");
    expect(status(r, "replays")).toBe("report");
    expect(r.passed).toBe(true);
    expect(judge(s, [], 0, { "stored-but-reported-failed": { known: "finding 2" }, "false-dead-letters": "report" }, true).passed).toBe(
      false,
    );
    expect(judge(s, [], 0, {}, false).passed).toBe(false);
  });

  it("fails when a fault was not recovered from, or only by restarting nats-server", () => {
    expect(status(judge(clean(), [fault({ produceBackMs: undefined })], 0, {}, false), "recovered")).toBe("fail");
    expect(status(judge(clean(), [fault({ consumeBackMs: undefined })], 0, {}, false), "recovered")).toBe("fail");
    const restarted = fault({ notes: [`${RESTART_NOTE} (no ack within 30 s)`] });
    expect(unrecovered([restarted, fault()])).toEqual([restarted]);
    // A skipped fault is not judged.
    expect(unrecovered([fault({ skipped: "no tmpfs", produceBackMs: undefined })])).toEqual([]);
  });

  it("fails when an SDK client gave up for good, unless the preset knows why", () => {
    expect(status(judge(clean(), [], 2, {}, false), "clients-closed")).toBe("fail");
    expect(status(judge(clean(), [], 2, { "clients-closed": { known: "reconnect gives up" } }, false), "clients-closed")).toBe("known");
  });

  it("judges real books end to end", () => {
    const b = new Books();
    b.sent("a", MessageKind.Normal, 0, 0);
    b.acked("a", 1, false);
    const r = judge(b.summarize(), [], 0, {}, false);
    expect(r.checks.find((c) => c.name === "lost")).toMatchObject({ value: 1, status: "fail" });
  });
});
