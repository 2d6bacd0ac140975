/**
 * Gateway memory per station, per consumer group, per schema version and per function: the
 * gateway's resident set (and heap) after a full garbage collection, before and after adding N
 * of each, divided by N. Function sandboxes live in worker processes: their resident set is
 * reported beside the gateway's.
 */
import type { BenchBroker, GatewayMemory } from "../broker.js";
import { DEFAULT_FUNCTION_RUNTIME_OPTIONS } from "../../../functions/index.js";
import { createStation } from "../gateway.js";
import { jsonPayload } from "../load.js";
import { CellFormat, section, type Cell } from "../report/index.js";
import { inParallel, type BenchContext } from "./common.js";

interface Step {
  item: string;
  n: number;
  before: GatewayMemory;
  after: GatewayMemory;
  how: string;
}

const KIB = 1024;

/** A JSON Schema whose version `v` adds an optional property (a compatible change). */
function versionedSchema(v: number): string {
  const properties: Record<string, unknown> = { id: { type: "integer" } };
  for (let i = 1; i <= v; i++) properties[`f${i}`] = { type: "string", maxLength: 100 + i };
  return JSON.stringify({ type: "object", required: ["id"], properties });
}

/** Runs the memory scenario on a fresh broker (its first gateway) and adds its section. */
export async function runMemory(ctx: BenchContext, broker: BenchBroker): Promise<void> {
  ctx.log("\n=== gateway memory ===");
  const gw = broker.gateways[0]!;
  const client = await broker.client("bench-memory");
  const { stations, groups, schemaVersions, functions } = ctx.plan.settings.memory;
  const steps: Step[] = [];
  const measure = async (item: string, n: number, how: string, add: () => Promise<void>) => {
    const before = await gw.memory();
    await add();
    const after = await gw.memory();
    steps.push({ item, n, before, after, how });
    const per = (after.rss - before.rss) / n / KIB;
    ctx.log(
      `  ${item.padEnd(16)} × ${String(n).padStart(5)}: RSS ${per.toFixed(1)} KiB each, heap ${((after.heapUsed - before.heapUsed) / n / KIB).toFixed(1)} KiB each, sandbox workers ${((after.childrenRss - before.childrenRss) / n / KIB).toFixed(1)} KiB each (${before.children} → ${after.children} processes)`,
    );
  };
  // Warm the gateway's code paths first (the first station, schema and function load code).
  const warm = await createStation(client, "json+fn");
  const warmProducer = client.producer({ station: warm });
  await warmProducer.send(jsonPayload(1024));
  await warmProducer.close();

  await measure("station", stations, "empty stations created through the gateway (no schema)", async () => {
    await inParallel(stations, 8, (i) => client.stations.create(`mem-st-${i}`));
  });
  await client.stations.create("mem-groups");
  await measure("consumer group", groups, "consumer groups created on one station (no member connected)", async () => {
    await inParallel(groups, 8, (i) => client.groups.create("mem-groups", `g${i}`));
  });
  await client.stations.create("mem-schema");
  await client.schemas.create({ name: "mem-schema", type: "json", definition: versionedSchema(0), compatibility: "backward" });
  await client.schemas.attach("mem-schema", "mem-schema");
  const schemaProducer = client.producer({ station: "mem-schema" });
  await schemaProducer.send({ id: 0 });
  await measure(
    "schema version",
    schemaVersions,
    "versions registered to a schema attached at latest, one message produced after each (so each is compiled)",
    async () => {
      for (let v = 1; v <= schemaVersions; v++) {
        await client.schemas.create({ name: "mem-schema", type: "json", definition: versionedSchema(v), compatibility: "backward" });
        await schemaProducer.send({ id: v });
      }
    },
  );
  await schemaProducer.close();
  // Functions: the pool starts a new sandbox worker for a new function while it has fewer than
  // maxWorkers, then places functions in the existing ones; the two cost very differently.
  const workersNow = (await gw.memory()).children;
  const fresh = Math.max(0, DEFAULT_FUNCTION_RUNTIME_OPTIONS.maxWorkers - workersNow);
  let fnN = 0;
  const addFunctions = async (n: number) => {
    const first = fnN;
    fnN += n;
    for (let i = first; i < first + n; i++) {
      await client.functions.create({ name: `mem-fn-${i}`, source: `export default (m) => { m.headers["x-f"] = "${i}"; return m; }` });
      await client.functions.attach(`mem-fn-${i}`, `mem-fn-${i}`);
      const p = client.producer({ station: `mem-fn-${i}` });
      await p.send("x");
      await p.close();
    }
  };
  await inParallel(fresh + functions, 8, (i) => client.stations.create(`mem-fn-${i}`));
  if (fresh > 0) {
    await measure(
      "function, new sandbox worker",
      fresh,
      `functions while the pool has fewer than ${DEFAULT_FUNCTION_RUNTIME_OPTIONS.maxWorkers} workers (each starts one), each attached to its own station, one message through each`,
      () => addFunctions(fresh),
    );
  }
  await measure(
    "function, existing worker",
    functions,
    "functions placed in the running sandbox workers, each attached to its own station, one message through each",
    () => addFunctions(functions),
  );

  const rows: Cell[][] = steps.map((s) => [
    s.item,
    s.n,
    (s.after.rss - s.before.rss) / s.n / KIB,
    (s.after.heapUsed - s.before.heapUsed) / s.n / KIB,
    (s.after.childrenRss - s.before.childrenRss) / s.n / KIB,
    s.after.rss / (KIB * KIB),
    `${s.before.children} → ${s.after.children}`,
    s.how,
  ]);
  const s = section("memory", "Gateway memory per station, group, schema version and function", [
    "One gateway process (started with --expose-gc). Before and after adding N of an item, the gateway runs a full garbage collection twice and reports its resident set (RSS) and V8 heap in use; the difference divided by N is the cost of one item. Function sandboxes run in worker processes owned by the gateway: their RSS is summed separately. RSS moves in pages and the allocator keeps freed memory, so small N give coarse numbers; the heap column is finer.",
    "Before the first step one station with a JSON schema and a function is created and used, so code loading is not counted against the first item.",
  ]);
  s.tables.push({
    caption: "memory per item (KiB)",
    columns: [
      { label: "item", format: CellFormat.Text },
      { label: "N" },
      { label: "gateway RSS KiB/item", format: CellFormat.Fixed1 },
      { label: "gateway heap KiB/item", format: CellFormat.Fixed1 },
      { label: "sandbox workers RSS KiB/item", format: CellFormat.Fixed1 },
      { label: "gateway RSS after, MiB", format: CellFormat.Fixed1 },
      { label: "worker processes", format: CellFormat.Text },
      { label: "how", format: CellFormat.Text },
    ],
    rows,
  });
  s.charts.push({
    id: "memory",
    title: "Memory per item (KiB)",
    kind: "bar",
    labels: steps.map((x) => x.item),
    yLabel: "KiB",
    series: [
      { label: "gateway RSS", values: rows.map((r) => r[2] as number) },
      { label: "gateway heap", values: rows.map((r) => r[3] as number) },
      { label: "sandbox workers RSS", values: rows.map((r) => r[4] as number) },
    ],
  });
  ctx.sections.push(s);
}
