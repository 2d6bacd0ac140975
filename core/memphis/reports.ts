/**
 * Fire-and-forget reports of the SDK, mapped to Junction where a Junction concept exists:
 *
 * - `$memphis_schemaverse_dls`: a message the SDK refused locally against the station's schema.
 *   It never reached the gateway, so it is checked against the station's schema here and, when
 *   the gateway refuses it too, recorded as a `schema` dead letter (a report of a message the
 *   schema accepts is not recorded: no client can plant dead letters).
 * - `$memphis_pm_acks`: acks of dead letters a Memphis broker pushed to a consumer. Junction
 *   resends dead letters through the group's own JetStream consumer instead, so there is nothing
 *   to ack; they are counted.
 * - `$memphis_notifications`: alerts the SDK raises; logged (at most one line every 10 s) and counted.
 *
 * (`$memphis_nacked_dls`, the `deadLetter(reason)` report, is in consumers.ts.)
 */
import { canProduce } from "../auth/index.js";
import type { BusRequest } from "../nats/index.js";
import { recordFailures, runStages, type StageContext } from "../pipeline/index.js";
import { DEFAULT_TENANT, isReservedHeader, scopeOf } from "../protocol/index.js";
import { callerOf, jsonBody, type MemphisContext } from "./context.js";
import { field } from "./mapping.js";
import { junctionName } from "./names.js";
import { MSG_ID_HEADER } from "./produce.js";

/**
 * The bytes the SDK hex-encoded: it writes each character code in hex without padding, so the
 * text is read as two digits per byte; undefined when it cannot be (odd length, not hex).
 */
export function decodeSdkHex(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Handles the reports other than dead-letter reasons. */
export class MemphisReports {
  readonly #ctx: MemphisContext;
  #lastNotice = 0;

  constructor(ctx: MemphisContext) {
    this.#ctx = ctx;
  }

  /** `$memphis_schemaverse_dls`. */
  async schemaverse(req: BusRequest): Promise<void> {
    const { stats, deps } = this.#ctx;
    stats.schemaverseReports++;
    const body = jsonBody(req);
    const caller = body ? await callerOf(this.#ctx, req) : undefined;
    const id = caller?.identity;
    const station = body ? junctionName(field(body, "station_name", "string") ?? "", "station") : undefined;
    const message = body ? field(body, "message", "object") : undefined;
    const payload = decodeSdkHex(typeof message?.["data"] === "string" ? message["data"] : "");
    if (!id || typeof station !== "string" || !payload || id.tenant !== DEFAULT_TENANT) return void stats.refused++;
    if (!id.grants.admin && !canProduce(id.grants, station)) return void stats.refused++;
    const headers: Record<string, string> = {};
    const h = message?.["headers"];
    if (typeof h === "object" && h !== null) {
      for (const [k, v] of Object.entries(h as Record<string, unknown>)) if (typeof v === "string" && !isReservedHeader(k)) headers[k] = v;
    }
    const producerField = field(body!, "producer", "object");
    const producer = typeof producerField?.["name"] === "string" ? producerField["name"] : undefined;
    const records = await deps.records(DEFAULT_TENANT);
    const rec = records.stations.cached(station) ?? (await records.stations.get(station));
    if (!rec?.schema) return;
    const ctx: StageContext = { scope: scopeOf(DEFAULT_TENANT), station: rec, producer };
    const msg = { id: headers[MSG_ID_HEADER] ?? "", headers, payload };
    const { failed } = await runStages([deps.schemaStage], ctx, [{ index: 0, msg }]);
    if (failed.size === 0) return; // the gateway's schema accepts it: nothing to record
    await recordFailures(deps.deadLetters, ctx, failed, deps.clock);
    stats.schemaverseRecorded++;
  }

  /** `$memphis_pm_acks`. */
  pmAck(): void {
    this.#ctx.stats.pmAcks++;
  }

  /** `$memphis_notifications`. */
  notification(req: BusRequest): void {
    const { stats, deps, log } = this.#ctx;
    stats.notifications++;
    const now = deps.clock.now();
    if (now - this.#lastNotice < 10_000) return;
    this.#lastNotice = now;
    const b = jsonBody(req) ?? {};
    log.info("a Memphis client raised a notification", {
      title: String(field(b, "title", "string") ?? "").slice(0, 200),
      type: String(field(b, "type", "string") ?? "").slice(0, 100),
      message: String(field(b, "msg", "string") ?? "").slice(0, 500),
      requester: req.requester()?.user ?? null,
    });
  }
}
