/**
 * Consume: the SDK pulls straight from JetStream (its NATS permissions name the groups it may
 * pull), but asks the gateway for `$JS.API.INFO` and consumer info first, and acknowledges
 * through the gateway. The gateway maps the stream name the SDK asks for (`<station>$1`) to the
 * station's stream and answers with JetStream's own consumer info — whose `stream_name` the SDK
 * then pulls from —, and checks every acknowledgement against the user's grants before it
 * forwards it.
 *
 * `message.deadLetter(reason)` terminates the message (`+TERM`) and then reports the reason on
 * `$memphis_nacked_dls`. The gateway holds the `+TERM` until the reason arrives (any gateway may
 * receive the report: it tells the others on an internal subject) and forwards `+TERM <reason>`,
 * so Junction's dead letter records it.
 */
import { canConsume, needsNewPermissions } from "../auth/index.js";
import type { Caller } from "../gateway/index.js";
import { ackStreamSeq, parseAckSubject, type BusRequest } from "../nats/index.js";
import { DEFAULT_TENANT, parseStationStream, scopeOf } from "../protocol/index.js";
import { callerOf, errorText, jsonBody, replyJson, replyOk, type MemphisContext } from "./context.js";
import { CONSUMER_INFO_TYPE, JsErrors, accountInfo, field } from "./mapping.js";
import { GatewaySubjects, junctionName, parseAckForward, parseConsumerInfo, stationOfMemphisStream } from "./names.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Longest acknowledgement body forwarded. */
const MAX_ACK_BODY = 4096;
/** Longest dead-letter reason kept. */
const MAX_REASON = 512;

/** The station a stream name stands for in the default tenant: the station's own stream, or a Memphis name. */
export function stationOfStream(token: string): string | undefined {
  const p = parseStationStream(token);
  if (p) return p.tenant === DEFAULT_TENANT ? p.station : undefined;
  const m = stationOfMemphisStream(token);
  if (!m) return undefined;
  const n = junctionName(m.station, "station");
  return typeof n === "string" ? n : undefined;
}

/** How long after a member asked for its group's consumer info its pull is expected, in ms. */
export const PULL_EXPECTED_MS = 500;
/** Most groups remembered as about to pull at once (a flood of info requests cannot grow the map further). */
const MAX_PULLS_EXPECTED = 10_000;

/**
 * Notes that a member of `group` is about to pull (it asked for the consumer info first, and may
 * pull as the group). A full map first forgets what is older than PULL_EXPECTED_MS.
 */
export function notePullExpected(ctx: MemphisContext, station: string, group: string): void {
  const key = `${station}\u0000${group}`;
  const now = ctx.deps.clock.now();
  const m = ctx.pullsExpected;
  if (m.size >= MAX_PULLS_EXPECTED && !m.has(key)) for (const [k, at] of m) if (now - at > PULL_EXPECTED_MS) m.delete(k);
  if (m.size < MAX_PULLS_EXPECTED || m.has(key)) m.set(key, now);
}

/** A reason as JetStream will carry it (one line, bounded). */
export function cleanReason(r: string): string {
  return r
    .replace(/[\r\n\t]+/g, " ")
    .trim()
    .slice(0, MAX_REASON);
}

/** What gateways tell each other about a dead-letter reason. */
interface ReasonNote {
  station: string;
  group: string;
  seq: number;
  reason: string;
  user: string;
}

interface HeldTerm {
  subject: string;
  user: string;
  req: BusRequest;
  timer: ReturnType<typeof setTimeout>;
}

/** Consumer info, `$JS.API.INFO`, acknowledgements and dead-letter reasons. */
export class MemphisConsumers {
  readonly #ctx: MemphisContext;
  readonly #held = new Map<string, HeldTerm>();
  readonly #reasons = new Map<string, { reason: string; user: string; at: number }>();

  constructor(ctx: MemphisContext) {
    this.#ctx = ctx;
  }

  /** `$JS.API.INFO`: JetStream is there. */
  accountInfo(req: BusRequest): void {
    if (!replyOk(req)) {
      this.#ctx.stats.refused++;
      return;
    }
    replyJson(req, accountInfo());
  }

  /** `$JS.API.CONSUMER.INFO.<stream>.<group>`: JetStream's answer for the station's stream, after the checks. */
  async consumerInfo(req: BusRequest): Promise<void> {
    const { stats, deps } = this.#ctx;
    if (!replyOk(req)) {
      stats.refused++;
      return;
    }
    const fail = (e: { code: number; err_code?: number; description: string }) => replyJson(req, { type: CONSUMER_INFO_TYPE, error: e });
    const p = parseConsumerInfo(req.subject);
    const station = p ? stationOfStream(p.stream) : undefined;
    if (!p || !station) return fail(JsErrors.streamNotFound);
    const caller = await callerOf(this.#ctx, req);
    if (!caller) return fail({ code: 403, description: "the request carries no known Junction user" });
    const refusal = await this.#mayPull(caller, station, p.consumer);
    if (refusal === "no station") return fail(JsErrors.streamNotFound);
    if (refusal === "no group") return fail(JsErrors.consumerNotFound);
    if (refusal) return fail({ code: 403, description: refusal });
    notePullExpected(this.#ctx, station, p.consumer);
    try {
      stats.consumerInfo++;
      req.respond(await deps.jetstream.consumerInfo(scopeOf(DEFAULT_TENANT).stationStream(station), p.consumer));
    } catch (err) {
      fail({ code: 500, description: `consumer info failed: ${errorText(err)}` });
    }
  }

  /**
   * Why this caller may not pull as `group` of `station` on this connection: no grant, no such
   * station or group, or a connection whose pull rights predate them (an operator's do not).
   */
  async #mayPull(caller: Caller, station: string, group: string): Promise<string | undefined> {
    const { identity } = caller;
    if (identity.tenant !== DEFAULT_TENANT) return "Memphis users belong to the default tenant";
    if (!identity.grants.admin && !canConsume(identity.grants, station, group)) {
      return `user '${identity.user}' may not consume as group '${group}' of station '${station}'`;
    }
    const records = await this.#ctx.deps.records(DEFAULT_TENANT);
    const st = records.stations.cached(station) ?? (await records.stations.get(station));
    if (!st) return "no station";
    const g = await records.groups.get(station, group);
    if (!g) return "no group";
    const since = identity.connectedAtMs;
    if (identity.grants.admin || since === undefined) return undefined;
    const newer = (iso: string) => Date.parse(iso) >= since - 1000;
    if (needsNewPermissions(identity.grants, station, group, { stationIsNewer: newer(st.createdAt), groupIsNew: newer(g.createdAt) })) {
      return `this connection's rights predate station '${station}' or group '${group}': connect again to consume from it`;
    }
    return undefined;
  }

  /** An acknowledgement (`$JS.ACK.<stream>.<group>.…`): checked against the grants, then forwarded. */
  async ack(req: BusRequest): Promise<void> {
    const { stats } = this.#ctx;
    const subject = parseAckForward(req.subject);
    const a = subject ? parseAckSubject(subject) : undefined;
    const station = a ? stationOfStream(a.stream) : undefined;
    // An acknowledgement may ask for a confirmation; the answer only goes to an inbox.
    if (!subject || !a || !station || req.data.length > MAX_ACK_BODY || (req.reply !== undefined && !replyOk(req))) {
      stats.refused++;
      return;
    }
    const caller = await callerOf(this.#ctx, req);
    const id = caller?.identity;
    if (!id || id.tenant !== DEFAULT_TENANT || (!id.grants.admin && !canConsume(id.grants, station, a.consumer))) {
      stats.refused++;
      return;
    }
    const body = dec.decode(req.data);
    if (body.trim() === "+TERM") {
      const key = `${station}\u0000${a.consumer}\u0000${ackStreamSeq(subject)}`;
      const known = this.#reasons.get(key);
      if (known && known.user === id.user) {
        this.#reasons.delete(key);
        return this.#forward(req, subject, `+TERM ${known.reason}`, true);
      }
      const prev = this.#held.get(key);
      if (prev) {
        clearTimeout(prev.timer);
        this.#forward(prev.req, prev.subject, "+TERM", false);
      }
      const timer = setTimeout(() => {
        if (this.#held.get(key)?.timer !== timer) return;
        this.#held.delete(key);
        this.#forward(req, subject, "+TERM", false);
      }, this.#ctx.o.termReasonWaitMs);
      this.#held.set(key, { subject, user: id.user, req, timer });
      return;
    }
    this.#forward(req, subject, body, false);
  }

  #forward(req: BusRequest, subject: string, body: string, withReason: boolean): void {
    const { stats, deps, log } = this.#ctx;
    stats.acks++;
    if (withReason) stats.termReasons++;
    const data = enc.encode(body);
    try {
      if (req.reply === undefined) {
        deps.jetstream.ack(subject, data);
        return;
      }
      deps.jetstream.ackAndWait(subject, data).then(
        (answer) => req.respond(answer),
        (err: unknown) => log.warn("an acknowledgement was not confirmed", { error: errorText(err) }),
      );
    } catch (err) {
      log.warn("an acknowledgement was not forwarded", { subject, error: errorText(err) });
    }
  }

  /** `$memphis_nacked_dls`: the reason of a message the SDK just terminated; every gateway hears of it. */
  async nackedDls(req: BusRequest): Promise<void> {
    const { stats, deps } = this.#ctx;
    stats.nackedDls++;
    const body = jsonBody(req);
    const caller = body ? await callerOf(this.#ctx, req) : undefined;
    const station = body ? junctionName(field(body, "station_name", "string") ?? "", "station") : undefined;
    const group = body ? junctionName(field(body, "cg_name", "string") ?? "", "consumer group") : undefined;
    const seq = body ? field(body, "seq", "number") : undefined;
    const id = caller?.identity;
    if (!id || typeof station !== "string" || typeof group !== "string" || !seq || !Number.isSafeInteger(seq) || seq < 1) {
      stats.refused++;
      return;
    }
    if (id.tenant !== DEFAULT_TENANT || (!id.grants.admin && !canConsume(id.grants, station, group))) {
      stats.refused++;
      return;
    }
    const note: ReasonNote = { station, group, seq, reason: cleanReason(field(body!, "error", "string") ?? ""), user: id.user };
    deps.bus.publish(GatewaySubjects.internal, enc.encode(JSON.stringify(note)));
  }

  /** A reason another gateway (or this one) heard of. */
  reasonNote(req: BusRequest): void {
    let n: ReasonNote;
    try {
      n = JSON.parse(dec.decode(req.data)) as ReasonNote;
    } catch {
      return;
    }
    if (typeof n.station !== "string" || typeof n.group !== "string" || typeof n.seq !== "number" || typeof n.user !== "string") return;
    const key = `${n.station}\u0000${n.group}\u0000${n.seq}`;
    const reason = cleanReason(String(n.reason ?? ""));
    const held = this.#held.get(key);
    if (held && held.user === n.user) {
      clearTimeout(held.timer);
      this.#held.delete(key);
      this.#forward(held.req, held.subject, reason ? `+TERM ${reason}` : "+TERM", reason !== "");
      return;
    }
    // The report came first: keep it for the +TERM, a while.
    const now = this.#ctx.deps.clock.now();
    for (const [k, v] of this.#reasons) if (now - v.at > this.#ctx.o.termReasonWaitMs) this.#reasons.delete(k);
    if (this.#reasons.size < 10_000 && reason) this.#reasons.set(key, { reason, user: n.user, at: now });
  }

  /** Forwards every held `+TERM` without its reason (the gateway is stopping). */
  stop(): void {
    for (const [key, h] of this.#held) {
      clearTimeout(h.timer);
      this.#held.delete(key);
      this.#forward(h.req, h.subject, "+TERM", false);
    }
    this.#reasons.clear();
  }

  /** Acknowledgements held now (tests). */
  get held(): number {
    return this.#held.size;
  }
}
