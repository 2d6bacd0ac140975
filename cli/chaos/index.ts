/**
 * `junction chaos`: a topology started with the project's own launcher, a seeded fault
 * schedule, exact books per message id, recovery times, and a verdict.
 */
export { runChaos, CHAOS_GROUP } from "./run.js";
export { resolveChaosOptions, DEFAULT_CHAOS_OPTIONS } from "./options.js";
export { PRESETS, findPreset } from "./presets.js";
export { planFaults, faultUnsupported } from "./schedule.js";
export { Books, MessageKind } from "./books.js";
export { judge, DEFAULT_EXPECTATIONS } from "./checks.js";
export { renderReport, renderSummary, describeSetup, formatMs } from "./report.js";
export { ChaosError, ChaosErrorCode } from "./errors.js";
export { FaultKind, CheckName, FATAL_CHECKS } from "./types.js";
export type { ChaosOptions, ResolvedChaosOptions } from "./options.js";
export type { Plan } from "./schedule.js";
export type { BooksSummary, Delivery, Recovery } from "./books.js";
export type {
  ChaosPreset,
  ChaosResult,
  CheckResult,
  Expectation,
  FaultRecord,
  FaultSpec,
  PlannedFault,
  ScheduleSpec,
  TopologySpec,
  WorkloadSpec,
} from "./types.js";
