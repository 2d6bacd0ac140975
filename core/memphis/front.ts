import { GATEWAY_QUEUE, DEFAULT_TENANT } from "../protocol/index.js";
import type { StationRecord } from "../stations/index.js";
import type { TenantRecords } from "../pipeline/index.js";
import { MemphisConsumers } from "./consumers.js";
import { serveControl, stationSchema } from "./control.js";
import type { MemphisContext, MemphisFrontDeps, MemphisStats } from "./context.js";
import { ControlSubjects, GatewaySubjects, IngestSubjects, PushSubjects } from "./names.js";
import { resolveMemphisOptions, type MemphisOptions } from "./options.js";
import { MemphisProducer } from "./produce.js";
import { MemphisReports } from "./reports.js";
import { schemaUpdate } from "./schema-push.js";

const enc = new TextEncoder();

/** Longest a producer's destruction waits for its publishes in flight (the SDK gives up after 1 s). */
const FLUSH_WAIT_MS = 750;

/** What {@link startMemphisFront} needs: the gateway's parts and the options. */
export interface MemphisFrontOptions extends MemphisFrontDeps {
  memphis?: MemphisOptions | undefined;
}

/** A running Memphis front. */
export interface MemphisFront {
  readonly stats: Readonly<MemphisStats>;
  /** Publishes answered and acknowledgements forwarded; resolves once nothing is in flight. */
  idle(): Promise<void>;
  /** Stops serving (publishes in flight are answered first). Idempotent. */
  stop(): Promise<void>;
}

/** The schema a station's record names, as a comparable key. */
const schemaKey = (rec: StationRecord | undefined): string => (rec?.schema ? `${rec.schema.name}@${String(rec.schema.version)}` : "");

/**
 * Serves the memphis.js SDK (and its Go and Python siblings) in the gateway's queue group: the
 * control plane, produce with server-side schema and function enforcement, consumer info,
 * acknowledgements and the SDK's reports; and pushes schema changes of the default tenant's
 * stations to the SDKs. See docs/memphis.md.
 */
export async function startMemphisFront(o: MemphisFrontOptions): Promise<MemphisFront> {
  const { memphis, ...deps } = o;
  const stats: MemphisStats = {
    control: 0,
    produced: 0,
    produceRefused: 0,
    consumerInfo: 0,
    acks: 0,
    termReasons: 0,
    nackedDls: 0,
    schemaverseReports: 0,
    schemaverseRecorded: 0,
    pmAcks: 0,
    notifications: 0,
    schemaPushes: 0,
    refused: 0,
  };
  const ctx: MemphisContext = {
    deps,
    o: resolveMemphisOptions(memphis),
    stats,
    log: deps.logger.child("memphis"),
    members: new Map(),
    pullsExpected: new Map(),
    // Called only once serving (after `producer` below exists).
    flushProducer: (user, station, name) => producer.flushed(user, station, name, FLUSH_WAIT_MS),
  };
  const producer = new MemphisProducer(ctx);
  const consumers = new MemphisConsumers(ctx);
  const reports = new MemphisReports(ctx);
  const { bus } = deps;
  const queue = { queue: GATEWAY_QUEUE };
  const failed = (what: string) => (err: unknown) => ctx.log.error(`a Memphis ${what} failed`, { error: String(err) });
  let stopped = false;

  const subs = [
    ...Object.values(ControlSubjects).map((s) =>
      bus.serve(GatewaySubjects.control(s), (req) => void serveControl(ctx, s, req).catch(failed("control request")), queue),
    ),
    bus.serve(GatewaySubjects.produce, (req) => producer.handle(req), queue),
    bus.serve(GatewaySubjects.accountInfo, (req) => consumers.accountInfo(req), queue),
    bus.serve(GatewaySubjects.consumerInfo, (req) => void consumers.consumerInfo(req).catch(failed("consumer info")), queue),
    bus.serve(GatewaySubjects.ack, (req) => void consumers.ack(req).catch(failed("acknowledgement")), queue),
    bus.serve(GatewaySubjects.ingest(IngestSubjects.NackedDls), (req) => void consumers.nackedDls(req).catch(failed("report")), queue),
    bus.serve(GatewaySubjects.ingest(IngestSubjects.SchemaverseDls), (req) => void reports.schemaverse(req).catch(failed("report")), queue),
    bus.serve(GatewaySubjects.ingest(IngestSubjects.PmAcks), () => reports.pmAck(), queue),
    bus.serve(GatewaySubjects.ingest(IngestSubjects.Notifications), (req) => reports.notification(req), queue),
    // Every gateway hears every reason (the +TERM it belongs to may be held by any of them).
    bus.serve(GatewaySubjects.internal, (req) => consumers.reasonNote(req)),
  ];

  // Pushes: a station's schema changed (attached, detached, a new latest version) or the
  // station went. Every gateway watches, so an SDK may hear a change once per gateway.
  const records: TenantRecords = await deps.records(DEFAULT_TENANT);
  const seen = new Map<string, string>();
  for (const rec of await records.stations.list()) seen.set(rec.name, schemaKey(rec));
  const push = (subject: string, body: unknown) => {
    if (!stopped) bus.publish(GatewaySubjects.push(subject), enc.encode(JSON.stringify(body)));
  };
  const pushSchema = (station: string) =>
    void stationSchema(records, station)
      .then((s) => {
        push(PushSubjects.schemaUpdates(station), schemaUpdate(s));
        stats.schemaPushes++;
      })
      .catch(failed("schema push"));
  const unwatch = records.stations.onChange((name, rec) => {
    const before = seen.get(name);
    if (rec === undefined) {
      seen.delete(name);
      if (before !== undefined) push(PushSubjects.ClientsUpdates, { station_name: name, type: "remove_station", update: true });
      return;
    }
    const now = schemaKey(rec);
    seen.set(name, now);
    if (before !== now) pushSchema(name);
  });
  records.schemas.onChange((schema) => {
    for (const [station, key] of seen) if (key === `${schema}@latest`) pushSchema(station);
  });
  await bus.flush();
  ctx.log.info("Memphis compatibility on", { users: ctx.o.users });

  let stopping: Promise<void> | undefined;
  return {
    stats,
    idle: () => producer.idle(),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        unwatch();
        for (const s of subs) s.stop();
        consumers.stop();
        await producer.idle();
      })();
      return stopping;
    },
  };
}
