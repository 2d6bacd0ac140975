import type { BooksSummary } from "./books.js";
import { CheckName, FATAL_CHECKS, type CheckResult, type Expectation, type FaultRecord } from "./types.js";

/** What a failed check means when the preset says nothing. */
export const DEFAULT_EXPECTATIONS: Readonly<Record<CheckName, Expectation>> = Object.freeze({
  [CheckName.Lost]: "fail",
  [CheckName.StoredTwice]: "fail",
  [CheckName.DlsDoubled]: "fail",
  [CheckName.UnknownEntries]: "fail",
  [CheckName.Recovered]: "fail",
  [CheckName.StoredButReportedFailed]: "fail",
  [CheckName.FalseDeadLetters]: "fail",
  // JetStream delivers at least once; a replay is a duplicate the application cannot tell by
  // `redelivered`, worth showing, not a loss.
  [CheckName.Replays]: "report",
  [CheckName.StaleCopies]: "report",
  [CheckName.ClientsClosed]: "fail",
  [CheckName.KeyOrder]: "fail",
});

/** Faults after which produce or consume did not come back on their own. */
export function unrecovered(faults: readonly FaultRecord[]): FaultRecord[] {
  return faults.filter(
    (f) =>
      f.skipped === undefined &&
      (f.produceBackMs === undefined || f.consumeBackMs === undefined || f.notes.some((n) => n.startsWith(RESTART_NOTE))),
  );
}

/** The note of a fault the engine had to repair by restarting nats-server. */
export const RESTART_NOTE = "recovered only after nats-server was restarted";

/**
 * Judges the books: each check with its count and status. Fatal checks always fail on a
 * non-zero count; the others follow the preset's expectation (a known defect fails only when
 * `strict`).
 */
export function judge(
  s: BooksSummary,
  faults: readonly FaultRecord[],
  clientsClosed: number,
  expect: Readonly<Partial<Record<CheckName, Expectation>>>,
  strict: boolean,
): { checks: CheckResult[]; passed: boolean } {
  const values: Record<CheckName, number> = {
    [CheckName.Lost]: s.lost,
    [CheckName.StoredTwice]: s.storedTwice,
    [CheckName.DlsDoubled]: s.dlsDoubled,
    [CheckName.UnknownEntries]: s.unknownEntries,
    [CheckName.Recovered]: unrecovered(faults).length,
    [CheckName.StoredButReportedFailed]: s.storedButReportedFailed,
    [CheckName.FalseDeadLetters]: s.falseDeadLetters,
    [CheckName.Replays]: s.replays,
    [CheckName.StaleCopies]: s.staleCopies,
    [CheckName.ClientsClosed]: clientsClosed,
    [CheckName.KeyOrder]: s.keyOrderBroken,
  };
  const checks: CheckResult[] = [];
  for (const name of Object.values(CheckName)) {
    const value = values[name];
    const e: Expectation = FATAL_CHECKS.includes(name) ? "fail" : (expect[name] ?? DEFAULT_EXPECTATIONS[name]);
    if (value === 0) checks.push({ name, value, status: "ok" });
    else if (e === "fail") checks.push({ name, value, status: "fail" });
    else if (e === "report") checks.push({ name, value, status: "report" });
    else checks.push({ name, value, status: strict ? "fail" : "known", note: e.known });
  }
  return { checks, passed: checks.every((c) => c.status !== "fail") };
}
