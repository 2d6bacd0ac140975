/**
 * An in-memory store behind the NATS ports, for unit tests of the gateway's logic (produce,
 * resend, admin) without a nats-server. It keeps what the real store promises that the logic
 * relies on: streams capture subjects, message ids are de-duplicated within a window, an atomic
 * batch is stored whole or not at all (and refused whole, 10201, when it holds a stored id),
 * consumer groups exist per stream. It does not deliver to consumers (the SDK does that against
 * JetStream). Failures can be injected per publish.
 */
import type {
  AdvisoryDelivery,
  AdvisoryFeed,
  AuthDecider,
  JetStreamBridge,
  AuthDecision,
  AuthRequest,
  ClientConnection,
  ServerJetStream,
  SystemAdmin,
  Backend,
  Bus,
  BusRequest,
  ConsumerAdvisory,
  GroupState,
  JsonBucket,
  MetadataBuckets,
  Requester,
  StoreAck,
  StoreMessage,
  StoreWriter,
  StreamAdmin,
  StreamMessage,
  StreamReader,
  StreamState,
  TtlStreamSettings,
} from "../../core/nats/index.js";
import { BucketKind, type GroupConfig, type Scope, type StationConfig } from "../../core/protocol/index.js";

/** Whether a NATS subject matches a filter with `*` and `>` wildcards. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== "*" && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

interface Stored extends StreamMessage {
  id: string;
}

interface MemStream {
  name: string;
  subjects: string[];
  duplicateWindowMs: number;
  lastSeq: number;
  messages: Stored[];
  ids: Map<string, { seq: number; at: number }>;
  groups: Map<string, { config: GroupConfig; deliveredSeq: number; ackFloorSeq: number }>;
}

/** What an injected failure answers instead of storing. */
export type InjectedAck = StoreAck | "hang" | "lost-ack";

const LOST: StoreAck = { ok: false, errCode: 0, description: "no store acknowledgement within 10000 ms", timeout: true };

/** A request sent into the fake bus, answered by whatever serves the subject. */
export interface FakeRequest {
  subject: string;
  data?: Uint8Array | string;
  headers?: Record<string, string>;
  /** @default a fresh `_INBOX.` subject */
  reply?: string | undefined;
  requester?: Requester;
}

const enc = new TextEncoder();

/** The in-memory backend, with test controls. */
export class MemoryBackend implements Backend {
  readonly server = { version: "2.15.1", maxPayload: 8 * 1024 * 1024 };
  readonly streams = new Map<string, MemStream>();
  /** Everything published on the bus (events), in order. */
  readonly published: { subject: string; data: Uint8Array }[] = [];
  /** Failures to inject: each publish (or atomic batch) takes the next one, when any. */
  readonly failures: InjectedAck[] = [];
  readonly #handlers: { subject: string; queue: string | undefined; handler: (r: BusRequest) => void }[] = [];
  readonly #buckets = new Map<string, MemoryBucket<unknown>>();
  readonly #advisories = new MemoryAdvisories();
  #closed = false;
  #now: () => number;
  #inbox = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Injected advisories and their acks. */
  get advisoryFeed(): MemoryAdvisories {
    return this.#advisories;
  }

  readonly bus: Bus = {
    serve: (subject, handler, o = {}) => {
      const entry = { subject, queue: o.queue, handler };
      this.#handlers.push(entry);
      return { stop: () => void this.#handlers.splice(this.#handlers.indexOf(entry), 1) };
    },
    publish: (subject, data) => {
      this.published.push({ subject, data });
    },
    flush: async () => {},
    connected: () => !this.#closed,
    onStatus: () => () => {},
  };

  /**
   * Sends a request to whatever serves the subject. `answer` resolves with the reply; `answered()`
   * says whether one came yet (a request the gateway drops is refused synchronously, so right
   * after `send` returns it is known to be unanswered).
   */
  send(r: FakeRequest): { answer: Promise<Uint8Array>; answered(): boolean } {
    const h = this.#handlers.find((x) => subjectMatches(x.subject, r.subject));
    if (!h) throw new Error(`no responders on ${r.subject}`);
    const reply = r.reply === undefined ? `_INBOX.fake.${this.#inbox++}` : r.reply;
    let done = false;
    let resolve: (d: Uint8Array) => void = () => {};
    const answer = new Promise<Uint8Array>((res) => (resolve = res));
    const headers = r.headers ?? {};
    const data = typeof r.data === "string" ? enc.encode(r.data) : (r.data ?? new Uint8Array());
    h.handler({
      subject: r.subject,
      reply: reply || undefined,
      data,
      header: (n) => headers[n],
      headerNames: () => Object.keys(headers),
      requester: () => r.requester,
      respond: (d) => {
        if (!reply) return false;
        done = true;
        resolve(d);
        return true;
      },
    });
    return { answer, answered: () => done };
  }

  /** Sends a request and parses the JSON answer. */
  async call<T = unknown>(r: FakeRequest): Promise<T> {
    return JSON.parse(new TextDecoder().decode(await this.send(r).answer)) as T;
  }

  #streamFor(subject: string): MemStream | undefined {
    for (const s of this.streams.values()) if (s.subjects.some((f) => subjectMatches(f, subject))) return s;
    return undefined;
  }

  #store(s: MemStream, subject: string, m: StoreMessage): { seq: number; duplicate: boolean } {
    const now = this.#now();
    if (m.id) {
      const seen = s.ids.get(m.id);
      if (seen && now - seen.at < s.duplicateWindowMs) return { seq: seen.seq, duplicate: true };
    }
    const seq = ++s.lastSeq;
    const headers = { ...(m.headers ?? {}) };
    if (m.id) headers["Nats-Msg-Id"] = m.id;
    s.messages.push({ subject, seq, headers, data: m.payload.slice(), time: new Date(now), id: m.id });
    if (m.id) s.ids.set(m.id, { seq, at: now });
    return { seq, duplicate: false };
  }

  /** The next injected failure; "lost-ack" stores, then answers a timeout (`stored` is told). */
  #injected(): Promise<StoreAck> | "lost-ack" | undefined {
    const f = this.failures.shift();
    if (f === undefined) return undefined;
    if (f === "hang") return new Promise(() => {});
    if (f === "lost-ack") return f;
    return Promise.resolve(f);
  }

  readonly writer: StoreWriter = {
    publish: (subject, m) => {
      const inj = this.#injected();
      if (inj && inj !== "lost-ack") return inj;
      const s = this.#streamFor(subject);
      if (!s) return Promise.resolve({ ok: false, errCode: 503, description: `no stream captures ${subject}` });
      const r = this.#store(s, subject, m);
      if (inj === "lost-ack") return Promise.resolve(LOST);
      return Promise.resolve({ ok: true, seq: r.seq, duplicate: r.duplicate, count: 1 });
    },
    publishAtomic: (subject, msgs) => {
      const inj = this.#injected();
      if (inj && inj !== "lost-ack") return inj;
      const s = this.#streamFor(subject);
      if (!s) return Promise.resolve({ ok: false, errCode: 503, description: `no stream captures ${subject}` });
      const now = this.#now();
      // nats-server 2.12: a batch holding a stored id is refused whole (10201).
      if (msgs.some((m) => m.id && s.ids.has(m.id) && now - s.ids.get(m.id)!.at < s.duplicateWindowMs)) {
        return Promise.resolve({ ok: false, errCode: 10201, description: "batch has a duplicate message id" });
      }
      let seq = 0;
      for (const m of msgs) seq = this.#store(s, subject, m).seq;
      if (inj === "lost-ack") return Promise.resolve(LOST);
      return Promise.resolve({ ok: true, seq, duplicate: false, count: msgs.length });
    },
    close: () => {},
  };

  #state(s: MemStream): StreamState {
    const first = s.messages[0]?.seq ?? 0;
    return {
      messages: s.messages.length,
      bytes: s.messages.reduce((n, m) => n + m.data.length, 0),
      firstSeq: first,
      lastSeq: s.lastSeq,
      consumers: s.groups.size,
    };
  }

  #groupState(s: MemStream, name: string): GroupState | undefined {
    const g = s.groups.get(name);
    if (!g) return undefined;
    return {
      name,
      pending: s.messages.filter((m) => m.seq > g.deliveredSeq).length,
      ackPending: 0,
      redelivered: 0,
      waiting: 0,
      deliveredSeq: g.deliveredSeq,
      ackFloorSeq: g.ackFloorSeq,
    };
  }

  /** The account storage limit the fake reports (-1 = none). */
  storageLimitBytes = -1;
  readonly admin: StreamAdmin = {
    accountStorage: async () => {
      let used = 0;
      for (const s of this.streams.values()) used += s.messages.reduce((n, m) => n + m.data.length, 0);
      return { usedBytes: used, limitBytes: this.storageLimitBytes };
    },
    ensureStation: async (scope: Scope, station: string, c: StationConfig) => {
      const name = scope.stationStream(station);
      let s = this.streams.get(name);
      if (!s) {
        s = {
          name,
          subjects: [scope.stationAll(station)],
          duplicateWindowMs: c.idempotencyWindowMs,
          lastSeq: 0,
          messages: [],
          ids: new Map(),
          groups: new Map(),
        };
        this.streams.set(name, s);
      } else s.duplicateWindowMs = c.idempotencyWindowMs;
      return this.#state(s);
    },
    stationState: async (scope, station) => {
      const s = this.streams.get(scope.stationStream(station));
      return s ? this.#state(s) : undefined;
    },
    deleteStation: async (scope, station) => {
      this.streams.delete(scope.stationStream(station));
    },
    ensureGroup: async (scope, station, group, config) => {
      const s = this.streams.get(scope.stationStream(station));
      if (!s) throw new Error(`stream not found: ${scope.stationStream(station)}`);
      const g = s.groups.get(group);
      if (g) g.config = config;
      else s.groups.set(group, { config, deliveredSeq: 0, ackFloorSeq: 0 });
      return this.#groupState(s, group)!;
    },
    groupState: async (scope, station, group) => {
      const s = this.streams.get(scope.stationStream(station));
      return s ? this.#groupState(s, group) : undefined;
    },
    deleteGroup: async (scope, station, group) => this.streams.get(scope.stationStream(station))?.groups.delete(group) ?? false,
    listGroups: async (scope, station) => {
      const s = this.streams.get(scope.stationStream(station));
      return s ? [...s.groups.keys()].map((g) => this.#groupState(s, g)!) : [];
    },
    resetGroup: async (scope, station, group, to) => {
      const s = this.streams.get(scope.stationStream(station));
      const g = s?.groups.get(group);
      if (!s || !g) return undefined;
      const seq =
        "seq" in to
          ? to.seq
          : "latest" in to
            ? s.lastSeq + 1
            : (s.messages.find((m) => m.time.getTime() >= to.timeMs)?.seq ?? s.lastSeq + 1);
      g.deliveredSeq = g.ackFloorSeq = Math.max(0, seq - 1);
      return { seq, state: this.#groupState(s, group)! };
    },
    ensureTtlStream: async (o: TtlStreamSettings) => {
      if (!this.streams.has(o.name)) {
        this.streams.set(o.name, {
          name: o.name,
          subjects: o.subjects,
          duplicateWindowMs: o.duplicateWindowMs,
          lastSeq: 0,
          messages: [],
          ids: new Map(),
          groups: new Map(),
        });
      }
    },
  };

  readonly reader: StreamReader = {
    get: async (stream, seq) => {
      const m = this.streams.get(stream)?.messages.find((x) => x.seq === seq);
      return m ? plain(m) : undefined;
    },
    read: async (stream, o) => {
      const all = (this.streams.get(stream)?.messages ?? []).filter((m) => m.seq >= o.fromSeq && subjectMatches(o.filter, m.subject));
      return { messages: all.slice(0, o.batch).map(plain), more: all.length > o.batch };
    },
    delete: async (stream, seq) => {
      const s = this.streams.get(stream);
      const i = s?.messages.findIndex((m) => m.seq === seq) ?? -1;
      if (!s || i < 0) return false;
      s.messages.splice(i, 1);
      return true;
    },
    subjectCounts: async (stream, filter) => {
      const out: Record<string, number> = {};
      for (const m of this.streams.get(stream)?.messages ?? [])
        if (subjectMatches(filter, m.subject)) out[m.subject] = (out[m.subject] ?? 0) + 1;
      return out;
    },
    purgeKeep: async (stream, filter, keep) => {
      const s = this.streams.get(stream);
      if (!s) return 0;
      const matching = s.messages.filter((m) => subjectMatches(filter, m.subject));
      const drop = new Set(matching.slice(0, Math.max(0, matching.length - keep)).map((m) => m.seq));
      s.messages = s.messages.filter((m) => !drop.has(m.seq));
      return drop.size;
    },
  };

  get advisories(): AdvisoryFeed {
    return this.#advisories;
  }

  /** No JetStream to relay to in memory (Memphis compatibility runs on a real server only). */
  readonly jetstream: JetStreamBridge = {
    consumerInfo: () => Promise.reject(new Error("the memory backend has no JetStream API")),
    ack: () => {},
    ackAndWait: () => Promise.reject(new Error("the memory backend has no JetStream API")),
  };

  /** Messages of a stream, in order. */
  messages(stream: string): StreamMessage[] {
    return (this.streams.get(stream)?.messages ?? []).map(plain);
  }

  async metadata(scope: Scope): Promise<MetadataBuckets> {
    return {
      stations: await this.bucket(scope.bucket(BucketKind.Stations)),
      groups: await this.bucket(scope.bucket(BucketKind.Groups)),
      schemas: await this.bucket(scope.bucket(BucketKind.Schemas)),
      functions: await this.bucket(scope.bucket(BucketKind.Functions)),
    };
  }

  async bucket<T>(name: string): Promise<JsonBucket<T>> {
    let b = this.#buckets.get(name);
    if (!b) {
      b = new MemoryBucket<unknown>();
      this.#buckets.set(name, b);
    }
    return b as JsonBucket<T>;
  }

  /** A bucket by name, to plant records directly (as a hostile writer could). */
  rawBucket(name: string): MemoryBucket<unknown> {
    let b = this.#buckets.get(name);
    if (!b) {
      b = new MemoryBucket<unknown>();
      this.#buckets.set(name, b);
    }
    return b;
  }

  #decide: AuthDecider | undefined;

  serveAuth(decide: AuthDecider): { stop(): void } {
    this.#decide = decide;
    return { stop: () => void (this.#decide = undefined) };
  }

  /** Asks the auth callout, as the server would for a connecting client. */
  async authenticate(r: Partial<AuthRequest>): Promise<AuthDecision> {
    if (!this.#decide) throw new Error("no auth callout is served");
    return this.#decide({ user: "", pass: "", token: "", clientName: "", host: "127.0.0.1", serverId: "fake", ...r });
  }

  /** Connections the fake system account knows (tests add them) and the ones it was told to close. */
  readonly connections: (ClientConnection & { account: string; user: string })[] = [];
  readonly kicked: ClientConnection[] = [];
  /** The JetStream the fake system account reports: one server, this sync setting, the streams held. */
  jetstreamSync = { syncAlways: true, syncIntervalMs: 120_000 };
  readonly system: SystemAdmin = {
    jetstream: async () =>
      this.jetstreamServers.map((j) => ({
        ...j,
        version: this.server.version,
        ...this.jetstreamSync,
        streams: [...this.streams.keys()].map((name) => ({ account: "JUNCTION", name })),
      })),
    connections: async (account, user) => this.connections.filter((c) => c.account === account && c.user === user),
    kick: async (c) => {
      this.kicked.push(c);
      const i = this.connections.findIndex((x) => x.cid === c.cid && x.serverId === c.serverId);
      if (i >= 0) this.connections.splice(i, 1);
    },
    reload: async (serverId) => {
      this.reloads.push(serverId);
      const j = this.jetstreamServers.find((x) => x.serverId === serverId);
      if (j && this.reloadRestartsJetStream) j.disabled = false;
    },
    onOutOfStorage: (cb) => {
      this.#outOfStorage.push(cb);
      return { stop: () => void this.#outOfStorage.splice(this.#outOfStorage.indexOf(cb), 1) };
    },
    close: async () => {},
  };
  /** What the fake system account reports about JetStream per server. */
  readonly jetstreamServers: Pick<ServerJetStream, "serverId" | "serverName" | "disabled" | "maxStorageBytes" | "storageBytes">[] = [
    { serverId: "fake", serverName: "fake", disabled: false, maxStorageBytes: 2 ** 40, storageBytes: 0 },
  ];
  /** Servers told to reload, in order; whether a reload brings JetStream back. */
  readonly reloads: string[] = [];
  reloadRestartsJetStream = true;
  readonly #outOfStorage: ((serverId: string, stream: string | undefined) => void)[] = [];
  /** Plays nats-server stopping JetStream for lack of disk space. */
  outOfStorage(serverId = "fake"): void {
    const j = this.jetstreamServers.find((x) => x.serverId === serverId);
    if (j) j.disabled = true;
    for (const cb of [...this.#outOfStorage]) cb(serverId, undefined);
  }

  closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#advisories.stopAll();
  }
}

function plain(m: Stored): StreamMessage {
  return { subject: m.subject, seq: m.seq, headers: { ...m.headers }, data: m.data, time: m.time };
}

/** A JSON bucket in memory, with a watch. */
export class MemoryBucket<T> implements JsonBucket<T> {
  readonly #values = new Map<string, { raw: string; revision: number }>();
  readonly #watchers = new Set<{
    filter: string;
    onChange: (k: string, v: T | undefined) => void;
    onInvalid?: ((k: string, e: unknown) => void) | undefined;
  }>();
  #revision = 0;

  async get(key: string): Promise<{ value: T; revision: number } | undefined> {
    const e = this.#values.get(key);
    return e ? { value: JSON.parse(e.raw) as T, revision: e.revision } : undefined;
  }

  /** Stores raw text (which may not be JSON), as a hostile writer could. */
  putRaw(key: string, raw: string): void {
    this.#values.set(key, { raw, revision: ++this.#revision });
    this.#notify(key);
  }

  async put(key: string, value: T): Promise<number> {
    this.putRaw(key, JSON.stringify(value));
    return this.#revision;
  }

  async create(key: string, value: T): Promise<boolean> {
    if (this.#values.has(key)) return false;
    await this.put(key, value);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.#values.delete(key);
    this.#notify(key);
  }

  async keys(filter = ">"): Promise<string[]> {
    return [...this.#values.keys()].filter((k) => subjectMatches(filter, k));
  }

  #notify(key: string): void {
    for (const w of this.#watchers) if (subjectMatches(w.filter, key)) this.#emit(w, key);
  }

  #emit(
    w: { onChange: (k: string, v: T | undefined) => void; onInvalid?: ((k: string, e: unknown) => void) | undefined },
    key: string,
  ): void {
    const e = this.#values.get(key);
    if (!e) return w.onChange(key, undefined);
    let v: T;
    try {
      v = JSON.parse(e.raw) as T;
    } catch (err) {
      w.onInvalid?.(key, err);
      return;
    }
    w.onChange(key, v);
  }

  async watch(
    onChange: (k: string, v: T | undefined) => void,
    filter = ">",
    onInvalid?: (k: string, e: unknown) => void,
  ): Promise<{ stop(): void }> {
    const w = { filter, onChange, onInvalid };
    for (const k of this.#values.keys()) if (subjectMatches(filter, k)) this.#emit(w, k);
    this.#watchers.add(w);
    return { stop: () => void this.#watchers.delete(w) };
  }
}

/** Advisories injected by a test; acks and naks are recorded. */
export class MemoryAdvisories implements AdvisoryFeed {
  readonly acked: ConsumerAdvisory[] = [];
  readonly naked: ConsumerAdvisory[] = [];
  #handle: ((d: AdvisoryDelivery) => Promise<void>) | undefined;

  /** How many times the store was nudged. */
  nudges = 0;

  async ensure(): Promise<void> {}

  async nudge(): Promise<number> {
    this.nudges++;
    return 0;
  }

  async consume(handle: (d: AdvisoryDelivery) => Promise<void>): Promise<{ stop(): Promise<void> }> {
    this.#handle = handle;
    return { stop: async () => void (this.#handle = undefined) };
  }

  /** Hands an advisory to the consumer; resolves once it was handled. */
  async inject(a: ConsumerAdvisory): Promise<void> {
    if (!this.#handle) throw new Error("nobody consumes advisories");
    await this.#handle({
      advisory: a,
      redeliveries: 1,
      ack: async () => {
        this.acked.push(a);
        return true;
      },
      nak: () => void this.naked.push(a),
    });
  }

  async stopAll(): Promise<void> {
    this.#handle = undefined;
  }
}
