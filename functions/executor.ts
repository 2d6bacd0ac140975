import { ModuleSetupError, packOutcomes, packPayloads, unpackOutcomes, unpackPayloads } from "./sandbox.js";
import type { LogLine, PackedOutcomes, Sandbox, SandboxInput, SandboxOutcome } from "./sandbox.js";

/** Where {@link executeBatch} gets its sandbox from. */
export interface SandboxSource {
  /**
   * The isolate's sandbox, created when there is none (first use, or after a memory breach
   * disposed it). Throws `FUNCTION_INVALID` or {@link ModuleSetupError} like `Sandbox.create`.
   */
  sandbox(setupTimeoutMs: number): Promise<Sandbox>;
}

/** The limits of one batch run. */
export interface BatchLimits {
  /** Time limit of one message, ms. */
  timeoutMs: number;
  /** Time budget of the whole batch, ms. */
  budgetMs: number;
  /** The budget as failures name it (the batch's whole budget, when part was spent waiting). @defaultValue budgetMs */
  budgetLabelMs?: number;
}

/** The result of {@link executeBatch}. */
export interface BatchRun {
  /** One outcome per input message, in order. */
  outcomes: PackedOutcomes;
  /** Console lines written during the run. */
  logs: LogLine[];
  /** Calls made into sandboxes. */
  calls: number;
  /**
   * The first failure the function caused itself (a message out of time or memory, the budget
   * running out while it ran): what counts towards quarantine.
   */
  fault?: { kind: "timeout" | "memory"; message: string };
  /** Set when the isolate hit V8's fatal out-of-memory path: the process must be replaced. */
  fatal?: boolean;
}

/**
 * Runs one batch on one isolate with the time rules of docs/functions.md:
 *
 * - normally ONE call runs the whole batch;
 * - a call is stopped after `timeoutMs` (or less, when the budget has less left). What finished
 *   is kept. The message that was running is guilty only if it ran from the start of the call;
 *   otherwise it goes first in the next call, so it gets its full limit before it is failed;
 * - a call stopped while only promise continuations ran (the culprit is unknown), or a memory
 *   breach (the isolate is gone, and with it what had finished), continues one message per call;
 * - when the budget runs out, every message not done fails as `timeout`; a fatal out-of-memory
 *   error fails every message not done as `memory` (the process must go).
 *
 * Every call either finishes a message or fails one, so a batch of n messages takes at most
 * about 2n calls, and never more time than its budget (plus one module set-up).
 */
export async function executeBatch(
  source: SandboxSource,
  input: SandboxInput,
  limits: BatchLimits,
  now: () => number = () => performance.now(),
): Promise<BatchRun> {
  const n = input.kinds.length;
  const deadline = now() + limits.budgetMs;
  const outcomes: (SandboxOutcome | undefined)[] = new Array<SandboxOutcome | undefined>(n);
  const logs: LogLine[] = [];
  const run: BatchRun = { outcomes: { shape: "[]", text: "", textLens: [], binary: [] }, logs, calls: 0 };
  const timeoutMessage = `the function ran longer than its ${limits.timeoutMs} ms time limit`;
  const budgetMessage = `the batch ran out of its ${limits.budgetLabelMs ?? limits.budgetMs} ms time budget before this message was done`;
  const fail = (indices: readonly number[], kind: string, message: string): void => {
    for (const i of indices) if (outcomes[i] === undefined) outcomes[i] = [0, kind, message];
  };
  const fault = (kind: "timeout" | "memory", message: string): void => {
    run.fault ??= { kind, message };
  };
  let headers: unknown[] | undefined;
  let payloads: unknown[] | undefined;
  const subset = (indices: readonly number[]): SandboxInput => {
    if (indices.length === n) return input;
    headers ??= JSON.parse(input.headers) as unknown[];
    payloads ??= unpackPayloads(input);
    let kinds = "";
    const data: unknown[] = [];
    const hs: unknown[] = [];
    for (const i of indices) {
      kinds += input.kinds[i];
      data.push(payloads[i]);
      hs.push(headers[i]);
    }
    return { ...packPayloads(kinds, data), headers: JSON.stringify(hs), context: input.context };
  };

  let todo: number[] = Array.from({ length: n }, (_, i) => i);
  let single = false;
  while (todo.length > 0) {
    const remaining = Math.floor(deadline - now());
    if (remaining < 1) {
      fail(todo, "timeout", budgetMessage);
      fault("timeout", budgetMessage);
      break;
    }
    let sandbox: Sandbox;
    try {
      sandbox = await source.sandbox(remaining);
    } catch (e) {
      if (!(e instanceof ModuleSetupError)) throw e;
      // A module that cannot start fails every message the same way.
      fail(todo, e.kind, e.message);
      if (e.kind === "timeout" || e.kind === "memory") fault(e.kind, e.message);
      if (e.fatal) run.fatal = true;
      break;
    }
    const batch = single ? todo.slice(0, 1) : todo;
    const rest = todo.slice(batch.length);
    const callTimeout = Math.min(limits.timeoutMs, remaining);
    const result = await sandbox.call(subset(batch), callTimeout);
    run.calls++;
    if (result.ok) {
      logs.push(...result.logs);
      if (run.calls === 1 && batch.length === n) {
        // The usual case: one call did the whole batch; its packed outcomes go out as they are.
        run.outcomes = result.packed;
        return run;
      }
      const unpacked = unpackOutcomes(result.packed);
      batch.forEach((index, k) => (outcomes[index] = renumber(unpacked[k] as SandboxOutcome, batch)));
      todo = rest;
      continue;
    }
    if (result.fatal) {
      fail(todo, "memory", result.message);
      fault("memory", result.message);
      run.fatal = true;
      break;
    }
    if (result.kind === "memory") {
      fault("memory", result.message);
      if (batch.length === 1) {
        fail(batch, "memory", result.message);
        todo = rest;
      } else single = true;
      continue;
    }
    if (result.kind !== "timeout") {
      fail(batch, result.kind, result.message);
      todo = rest;
      continue;
    }
    // Out of time: keep what finished, then decide who is to blame.
    const progress = await sandbox.progress();
    if (progress !== undefined) {
      logs.push(...progress.logs);
      batch.forEach((index, k) => {
        const o = progress.outcomes[k];
        if (o !== null && o !== undefined) outcomes[index] = renumber(o, batch);
      });
    }
    const left = batch.filter((i) => outcomes[i] === undefined);
    if (callTimeout < limits.timeoutMs) {
      // The budget, not the message's own limit, stopped this call.
      fail([...left, ...rest], "timeout", budgetMessage);
      fault("timeout", budgetMessage);
      break;
    }
    const running = progress !== undefined && !progress.syncDone && progress.current >= 0 ? batch[progress.current] : undefined;
    if (batch.length === 1 || (running !== undefined && running === batch[0])) {
      // It had the whole call to itself from the start.
      const guilty = batch[0] as number;
      fail([guilty], "timeout", timeoutMessage);
      fault("timeout", timeoutMessage);
      todo = [...left.filter((i) => i !== guilty), ...rest];
    } else if (running !== undefined) {
      todo = [running, ...left.filter((i) => i !== running), ...rest];
    } else {
      todo = [...left, ...rest];
      single = true;
    }
  }
  run.outcomes = packOutcomes(outcomes.map((o) => o ?? [0, "threw", "the message was not run"]));
  return run;
}

/** An outcome of a call over `batch` (a subset), with its `R<i>` references made batch-wide. */
function renumber(o: SandboxOutcome, batch: readonly number[]): SandboxOutcome {
  if (o[0] !== 1) return o;
  let copy: unknown[] | undefined;
  for (let j = 1; j + 2 < o.length; j += 3) {
    const tag = o[j];
    if (typeof tag === "string" && tag.startsWith("R")) {
      copy ??= [...o];
      copy[j] = `R${String(batch[Number(tag.slice(1))])}`;
    }
  }
  return copy ?? o;
}
