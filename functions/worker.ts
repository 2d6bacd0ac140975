/**
 * A function worker process: the isolates live here, never in the gateway. Started by the
 * runtime (see child.ts) with `--no-node-snapshot`; it talks over file descriptor 3 in frames
 * (see codec.ts) and exits when that socket closes, so it never outlives its parent.
 *
 * Frames it understands: `run` (a batch on one isolate; the first run of an isolate carries the
 * function version), `dispose` (forget an isolate), `check` (compile and start a module in a
 * throwaway isolate) and `close` (finish what is running, then exit). It answers `ready` once,
 * then `result` / `checked` per request.
 */
import { Socket } from "node:net";
import { decodeBatch, encodeFrame, encodeOutcomes, FrameReader } from "./codec.js";
import type { Frame, Part } from "./codec.js";
import { FunctionError } from "./errors.js";
import { executeBatch } from "./executor.js";
import { ModuleSetupError, Sandbox } from "./sandbox.js";
import type { FunctionContext, FunctionSpec } from "./types.js";

/** The worker's settings, passed as its one command-line argument (JSON). */
export interface WorkerConfig {
  maxOutputBytes: number;
  /** Most messages returned for one input message. @defaultValue 1000 */
  maxOutputMessages?: number;
  logCap: number;
}

interface IsolateEntry {
  spec: FunctionSpec;
  sandbox: Sandbox | undefined;
}

const config = JSON.parse(process.argv[2] ?? "{}") as WorkerConfig;
const socket = new Socket({ fd: 3, readable: true, writable: true });
const isolates = new Map<number, IsolateEntry>();
let inFlight = 0;
let closing = false;

function send(meta: Record<string, unknown>, parts?: Part[]): void {
  socket.write(encodeFrame(meta, parts));
}

function invalidBody(e: FunctionError): Record<string, unknown> {
  return { code: e.code, message: e.message, details: e.details ?? {} };
}

async function handleRun(meta: Record<string, unknown>, frame: Frame): Promise<void> {
  const id = meta.id as number;
  const iso = meta.iso as number;
  const kinds = meta.kinds as string;
  let entry = isolates.get(iso);
  if (entry === undefined) {
    if (meta.spec === undefined) {
      send({ t: "result", id, error: `unknown isolate ${iso}` });
      return;
    }
    entry = { spec: meta.spec as FunctionSpec, sandbox: undefined };
    isolates.set(iso, entry);
  }
  const current = entry;
  let created = 0;
  let abandoned: string | undefined;
  const batch = decodeBatch(frame, kinds, meta.tb);
  try {
    const run = await executeBatch(
      {
        sandbox: async (setupTimeoutMs) => {
          if (current.sandbox !== undefined && !current.sandbox.disposed) return current.sandbox;
          current.sandbox = undefined;
          const sandbox = await Sandbox.create(current.spec, {
            maxOutputBytes: config.maxOutputBytes,
            maxOutputMessages: config.maxOutputMessages ?? 1000,
            logCap: config.logCap,
            setupTimeoutMs,
            onAbandon: (message) => {
              abandoned = message;
            },
          });
          created++;
          current.sandbox = sandbox;
          return sandbox;
        },
      },
      { ...batch, context: meta.ctx as FunctionContext },
      { timeoutMs: current.spec.timeoutMs, budgetMs: meta.budgetMs as number, budgetLabelMs: meta.budgetLabelMs as number },
    );
    const { parts, textBytes } = encodeOutcomes(run.outcomes);
    send(
      {
        t: "result",
        id,
        tb: textBytes,
        calls: run.calls,
        created,
        logs: run.logs,
        ...(run.fault !== undefined ? { fault: run.fault } : {}),
        ...(run.fatal === true ? { fatal: true, abandoned: abandoned ?? "fatal out-of-memory error" } : {}),
      },
      parts,
    );
  } catch (e) {
    if (e instanceof FunctionError) send({ t: "result", id, created, invalid: invalidBody(e) });
    else send({ t: "result", id, created, error: e instanceof Error ? e.message : String(e) });
  }
}

async function handleCheck(meta: Record<string, unknown>): Promise<void> {
  const id = meta.id as number;
  let abandoned = false;
  try {
    const sandbox = await Sandbox.create(meta.spec as FunctionSpec, {
      maxOutputBytes: 1024,
      logCap: 0,
      onAbandon: () => {
        abandoned = true;
      },
    });
    sandbox.dispose();
    send({ t: "checked", id });
  } catch (e) {
    if (e instanceof FunctionError) send({ t: "checked", id, invalid: invalidBody(e) });
    else if (e instanceof ModuleSetupError) send({ t: "checked", id, setup: { kind: e.kind, message: e.message }, fatal: abandoned });
    else send({ t: "checked", id, error: e instanceof Error ? e.message : String(e) });
  }
}

function maybeExit(): void {
  if (!closing || inFlight > 0) return;
  for (const entry of isolates.values()) entry.sandbox?.dispose();
  isolates.clear();
  socket.end(() => process.exit(0));
}

function onFrame(frame: Frame): void {
  const meta = frame.meta;
  switch (meta.t) {
    case "run":
    case "check":
      inFlight++;
      (meta.t === "run" ? handleRun(meta, frame) : handleCheck(meta))
        .catch((e: unknown) => {
          send({ t: meta.t === "run" ? "result" : "checked", id: meta.id, error: e instanceof Error ? e.message : String(e) });
        })
        .finally(() => {
          inFlight--;
          maybeExit();
        });
      break;
    case "dispose": {
      const entry = isolates.get(meta.iso as number);
      entry?.sandbox?.dispose();
      isolates.delete(meta.iso as number);
      break;
    }
    case "close":
      closing = true;
      maybeExit();
      break;
    default:
      throw new Error(`unknown frame type ${String(meta.t)}`);
  }
}

// A terminal's Ctrl-C (or a signal to the whole process group) reaches the workers too: they
// leave their ending to the runtime, which drains them on close; they still exit when the socket
// closes, so they never outlive the gateway.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);

const reader = new FrameReader(onFrame);
socket.on("data", (chunk: Buffer) => reader.push(chunk));
// The parent is gone (or closed the channel): nothing left to do.
socket.on("end", () => process.exit(0));
socket.on("error", () => process.exit(0));
send({ t: "ready", pid: process.pid });
