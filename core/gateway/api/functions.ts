import type { FunctionRuntime } from "../../../functions/index.js";
import { JunctionError, assertName, type Scope } from "../../protocol/index.js";
import type { StationRegistry } from "../../stations/index.js";
import { functionRuntimeName, type ApiHandler } from "../../pipeline/index.js";
import { mustGetStation } from "./stations.js";

/** A runtime function name's own name when it belongs to the scope's tenant, else undefined. */
function ownName(scope: Scope, runtimeName: string): string | undefined {
  const slash = runtimeName.indexOf("/");
  const own = slash < 0 ? runtimeName : runtimeName.slice(slash + 1);
  return functionRuntimeName(scope, own) === runtimeName ? own : undefined;
}

/** The stations whose pipeline holds a function. */
async function usedBy(stations: StationRegistry, name: string): Promise<string[]> {
  return (await stations.list()).filter((s) => s.functions?.some((f) => f.name === name)).map((s) => s.name);
}

/** The `function.*` admin handlers (bodies are validated against the API schemas first). */
export function functionHandlers(
  runtime: FunctionRuntime,
  onRelease: (scope: Scope, name: string, versions: number[]) => Promise<void> = async () => {},
  /** Tells the other gateways to lift their quarantine of it too (each quarantines on its own). */
  announceRelease: (runtimeName: string, version: number | undefined) => void = () => {},
): Record<string, ApiHandler> {
  const named = (b: Record<string, unknown>): string => {
    const name = b["name"];
    assertName("function", name);
    return name;
  };
  return {
    "function.create": async (b, { records }) => {
      const r = await records.functions.create({
        name: named(b),
        source: b["source"] as string,
        timeoutMs: b["timeoutMs"] as number | undefined,
        memoryMb: b["memoryMb"] as number | undefined,
        inputs: b["inputs"] as string[] | undefined,
        description: b["description"] as string | undefined,
      });
      return { ...r.meta, version: r.version.version, created: r.created };
    },
    "function.get": async (b, { records }) => {
      const name = named(b);
      const meta = await records.functions.meta(name, true);
      return {
        meta: { ...meta, usedBy: await usedBy(records.stations, name) },
        version: await records.functions.version(name, (b["version"] as number | "latest" | undefined) ?? "latest"),
      };
    },
    "function.list": async (_b, { records, scope }) =>
      Promise.all(
        (await records.functions.list()).map(async (m) => ({
          ...m,
          usedBy: await usedBy(records.stations, m.name),
          stats: runtime.stats(functionRuntimeName(scope, m.name)),
        })),
      ),
    "function.versions": async (b, { records }) => records.functions.versions(named(b)),
    "function.logs": async (b, { records, scope }) => {
      const name = named(b);
      await records.functions.meta(name);
      const rt = functionRuntimeName(scope, name);
      return { logs: runtime.logs(rt), stats: runtime.stats(rt) };
    },
    // Quarantined versions of this tenant's functions (their messages go straight to the DLS).
    "function.quarantined": async (_b, { scope }) =>
      runtime
        .quarantined()
        .map((q) => ({ ...q, function: ownName(scope, q.function) }))
        .filter((q): q is typeof q & { function: string } => q.function !== undefined),
    "function.release": async (b, { records, scope }) => {
      const name = named(b);
      await records.functions.meta(name);
      const version = b["version"] as number | undefined;
      const lifted = runtime.release(functionRuntimeName(scope, name), version);
      // The others lift theirs whether this gateway held one or not.
      announceRelease(functionRuntimeName(scope, name), version);
      if (lifted.length > 0)
        await onRelease(
          scope,
          name,
          lifted.map((q) => q.version),
        );
      return { released: lifted.map((q) => ({ ...q, function: name })) };
    },
    "function.delete": async (b, { records, scope }) => {
      const name = named(b);
      await records.functions.meta(name, true);
      const users = await usedBy(records.stations, name);
      if (users.length > 0 && b["force"] !== true) {
        throw new JunctionError(
          "FUNCTION_IN_USE",
          `function '${name}' is attached to ${users.join(", ")}; detach it first or delete with force`,
          {
            details: { function: name, stations: users },
          },
        );
      }
      for (const s of users) {
        const rec = await records.stations.fresh(s);
        if (rec) await records.stations.put({ ...rec, functions: (rec.functions ?? []).filter((f) => f.name !== name) });
      }
      await records.functions.delete(name);
      runtime.evict(functionRuntimeName(scope, name));
      return { deleted: true, detachedFrom: users };
    },
    "function.attach": async (b, { records }) => {
      const name = named(b);
      const rec = await mustGetStation(records.stations, b["station"]);
      const v = (b["version"] as number | "latest" | undefined) ?? "latest";
      const fv = await records.functions.version(name, v);
      const inputs = (b["inputs"] ?? {}) as Record<string, string>;
      const undeclared = Object.keys(inputs).filter((k) => !fv.inputs.includes(k));
      if (fv.inputs.length > 0 && undeclared.length > 0) {
        throw new JunctionError(
          "INVALID_ARGUMENT",
          `function '${name}' declares no input ${undeclared.map((x) => `'${x}'`).join(", ")} (declared: ${fv.inputs.join(", ")})`,
          { details: { field: "inputs", undeclared } },
        );
      }
      const list = (rec.functions ?? []).filter((f) => f.name !== name);
      const pos = (b["position"] as number | undefined) ?? list.length;
      if (pos > list.length) {
        throw new JunctionError("INVALID_ARGUMENT", `'position' must be between 0 and ${list.length}`, { details: { field: "position" } });
      }
      list.splice(pos, 0, { name, version: v, inputs });
      await records.stations.put({ ...rec, functions: list });
      return { station: rec.name, functions: list };
    },
    "function.detach": async (b, { records }) => {
      const name = named(b);
      const rec = await mustGetStation(records.stations, b["station"]);
      if (!(rec.functions ?? []).some((f) => f.name === name)) {
        throw new JunctionError("FUNCTION_NOT_FOUND", `function '${name}' is not attached to '${rec.name}'`, {
          details: { function: name, station: rec.name },
        });
      }
      const list = (rec.functions ?? []).filter((f) => f.name !== name);
      await records.stations.put({ ...rec, functions: list });
      return { station: rec.name, functions: list };
    },
  };
}
