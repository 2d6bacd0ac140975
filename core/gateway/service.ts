import type { Bus, BusRequest, Requester } from "../nats/index.js";
import {
  API_PREFIX,
  GATEWAY_QUEUE,
  Headers,
  JunctionError,
  MEMBERS_PREFIX,
  PRODUCE_PREFIX,
  errorFromNats,
  parseApiSubject,
  parseProduceSubject,
  type ErrorBody,
  type Identity,
  type Scope,
  type TraceHeaders,
} from "../protocol/index.js";
import type { Clock, Logger } from "../support/index.js";
import { BodyValidator } from "./api/bodies.js";
import type { ApiContext, ApiHandler, TenantRecords } from "../pipeline/index.js";
import type { ProduceHandler } from "./produce.js";
import type { MemberBoard } from "./members.js";

/** Who asks: a known user, and the tenant it asks to act in (operators may act in any). */
export interface Caller {
  identity: Identity;
  /** The tenant asked for; @default the user's own */
  tenant?: string | undefined;
  /** The asking NATS connection, when there is one. */
  requester?: Requester | undefined;
}

/** Counters of requests the gateway would not serve. */
export interface RefusalStats {
  /** Requests whose reply subject was not an inbox (never answered, never acted on). */
  badReplySubjects: number;
}

/** What the gateway service needs. */
export interface GatewayServiceOptions {
  bus: Bus;
  produce: ProduceHandler;
  /** Admin handlers by operation (`station.create`…). */
  handlers: Readonly<Record<string, ApiHandler>>;
  /** Who sent a bus request, and the tenant it asks to act in (throws when nobody known). */
  identify: (req: BusRequest) => Promise<Caller>;
  /**
   * The tenant a caller acts in, authorized for the operation (throws PERMISSION_DENIED). Runs
   * after the body was validated and before the handler.
   */
  access: (
    caller: Caller,
    op: string,
    body: Record<string, unknown>,
  ) => Promise<{ identity: Identity; scope: Scope; records: TenantRecords }>;
  logger: Logger;
  clock: Clock;
  /**
   * Reply subjects the gateway answers: prefixes of client inboxes and of the server's
   * service-import reply mappings. A request with any other reply subject is dropped (logged and
   * counted): answering it would let a client aim the gateway's full rights at any subject.
   * @default ["_INBOX.", "_INBOX_", "_R_."]
   */
  replyPrefixes?: readonly string[] | undefined;
  /** @default "jn-gateway" */
  queue?: string | undefined;
  /** Where the members of partitioned groups' announcements go (every gateway hears them all). */
  members?: MemberBoard | undefined;
}

/** The default reply prefixes (see {@link GatewayServiceOptions.replyPrefixes}). */
export const DEFAULT_REPLY_PREFIXES = ["_INBOX.", "_INBOX_", "_R_."] as const;

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The gateway's front: serves `jn.produce.*` and `jn.api.>` in the `jn-gateway` queue group (so
 * any number of gateways share the load), refuses requests whose reply subject is not an inbox,
 * validates admin bodies and dispatches them.
 */
export class GatewayService {
  readonly refusals: RefusalStats = { badReplySubjects: 0 };
  readonly #o: GatewayServiceOptions;
  readonly #bodies: BodyValidator = new BodyValidator();
  readonly #prefixes: readonly string[];
  #subs: { stop(): void }[] = [];
  #ready = false;
  #lastWarn = 0;

  constructor(o: GatewayServiceOptions) {
    this.#o = o;
    this.#prefixes = o.replyPrefixes ?? DEFAULT_REPLY_PREFIXES;
  }

  /** Serving requests. */
  get ready(): boolean {
    return this.#ready;
  }

  /** Subscribes and waits until the server has the subscriptions. */
  async start(): Promise<void> {
    const { bus } = this.#o;
    const queue = this.#o.queue ?? GATEWAY_QUEUE;
    this.#subs.push(
      bus.serve(
        `${PRODUCE_PREFIX}.*`,
        (req) => {
          if (!this.#replyOk(req)) return;
          this.#o.produce.handle(parseProduceSubject(req.subject) ?? "", req);
        },
        { queue },
      ),
      bus.serve(
        `${API_PREFIX}.>`,
        (req) => {
          if (this.#replyOk(req)) void this.#api(req);
        },
        { queue },
      ),
    );
    const board = this.#o.members;
    if (board) this.#subs.push(bus.serve(`${MEMBERS_PREFIX}.>`, (req) => board.heard(req.subject, req.data)));
    await bus.flush();
    this.#ready = true;
  }

  #replyOk(req: BusRequest): boolean {
    const r = req.reply;
    if (r !== undefined && this.#prefixes.some((p) => r.startsWith(p))) return true;
    this.refusals.badReplySubjects++;
    const now = this.#o.clock.now();
    // One line every 10 s at most: a hostile client must not flood the log.
    if (now - this.#lastWarn > 10_000) {
      this.#lastWarn = now;
      this.#o.logger.warn("dropped a request whose reply subject is not an inbox", {
        subject: req.subject,
        reply: r ?? null,
        requester: req.requester() ?? null,
        dropped: this.refusals.badReplySubjects,
      });
    }
    return false;
  }

  async #api(req: BusRequest): Promise<void> {
    const op = parseApiSubject(req.subject) ?? "";
    let reply: { ok: true; data: unknown } | { ok: false; error: ErrorBody };
    try {
      let body: unknown = {};
      if (req.data.length > 0) {
        try {
          body = JSON.parse(dec.decode(req.data));
        } catch (err) {
          throw new JunctionError("INVALID_FRAME", `the request body of '${op}' is not JSON`, { cause: err });
        }
      }
      this.#handler(op);
      const traceparent = req.header(Headers.Traceparent);
      const trace = traceparent ? { traceparent, tracestate: req.header(Headers.Tracestate) } : undefined;
      reply = { ok: true, data: await this.call(await this.#o.identify(req), op, body, trace) };
    } catch (err) {
      reply = { ok: false, error: this.#asError(op, err).toBody() };
    }
    req.respond(enc.encode(JSON.stringify(reply)));
  }

  #handler(op: string): ApiHandler {
    const handler = Object.hasOwn(this.#o.handlers, op) ? this.#o.handlers[op] : undefined;
    if (!handler) throw new JunctionError("INVALID_ARGUMENT", `unknown API operation '${op}'`, { details: { operation: op } });
    return handler;
  }

  #asError(op: string, err: unknown): JunctionError {
    if (err instanceof JunctionError) return err;
    this.#o.logger.error("admin operation failed", { op, error: (err as Error).message });
    return errorFromNats(err, op);
  }

  /**
   * Runs an admin operation for a caller (the bus front above, or an in-process front such as
   * HTTP): validates the body, authorizes, runs the handler. Throws a JunctionError. `trace`: the
   * request's trace context, when it carried one (a resend links to it).
   */
  async call(caller: Caller, op: string, body: unknown, trace?: TraceHeaders): Promise<unknown> {
    try {
      const handler = this.#handler(op);
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new JunctionError("INVALID_FRAME", `the request body of '${op}' must be a JSON object`);
      }
      this.#bodies.check(op, body);
      const b = body as Record<string, unknown>;
      const { identity, scope, records } = await this.#o.access(caller, op, b);
      const ctx: ApiContext = { scope, records, requester: caller.requester, identity };
      if (trace) ctx.trace = trace;
      return await handler(b, ctx);
    } catch (err) {
      throw this.#asError(op, err);
    }
  }

  /** Stops taking requests and waits for produce requests in flight. Idempotent. */
  async stop(): Promise<void> {
    this.#ready = false;
    for (const s of this.#subs.splice(0)) s.stop();
    await this.#o.produce.idle();
  }
}
