// A worker thread of the schema worker pool: runs one job at a time, off the caller's event loop.
import { parentPort, workerData } from "node:worker_threads";
import { checkCompatibility } from "../compat.js";
import { diffSchemas } from "../diff.js";
import { load, prepareProtobuf, prepareSync } from "../engine.js";
import type { CompiledSchema, LoadOptions, PreparedSchema } from "../types.js";
import { toWire, type WorkerRequest, type WorkerResponse } from "./protocol.js";

const port = parentPort;
if (port === null) throw new Error("the schema worker must run in a worker thread");

const maxCached =
  typeof (workerData as { cachedSchemas?: unknown })?.cachedSchemas === "number"
    ? (workerData as { cachedSchemas: number }).cachedSchemas
    : 64;
const cache = new Map<string, CompiledSchema>();

function compiled(prepared: PreparedSchema, options: LoadOptions): CompiledSchema {
  const refs = (options.references ?? []).map((r) => `${r.name}@${r.version}:${r.prepared.fingerprint}`).join(",");
  const key = `${prepared.type}:${prepared.fingerprint}:${options.allowUnknownFields === true ? 1 : 0}:${refs}`;
  let c = cache.get(key);
  if (c !== undefined) {
    // Most recently used last.
    cache.delete(key);
    cache.set(key, c);
    return c;
  }
  c = load(prepared, options);
  if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
  cache.set(key, c);
  return c;
}

async function run(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case "prepare":
      return prepareSync(req.src, req.options);
    case "prepare-protobuf": {
      const bytes = req.descriptorSet;
      return prepareProtobuf(req.src, req.options, () => Promise.resolve(bytes));
    }
    case "compat":
      return checkCompatibility(req.mode, req.previous, req.next);
    case "diff":
      return diffSchemas(req.a, req.b);
    case "validate":
      return compiled(req.prepared, req.options).validate(req.payload);
  }
}

// Jobs are sent only once the modules are loaded, so start-up does not count against a job's budget.
port.postMessage({ ready: true });

port.on("message", (req: WorkerRequest) => {
  run(req).then(
    (value) => port.postMessage({ id: req.id, ok: true, value } satisfies WorkerResponse),
    (err: unknown) => port.postMessage({ id: req.id, ok: false, error: toWire(err) } satisfies WorkerResponse),
  );
});
