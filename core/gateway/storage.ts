import type { StreamAdmin, SystemAdmin } from "../nats/index.js";
import type { Clock, Logger } from "../support/index.js";

/** How much the store can take now. */
export const StorageState = {
  /** Room for atomic batches. */
  Ok: "ok",
  /** Close to a storage limit: requests are stored message by message, so each gets its exact outcome at once. */
  Tight: "tight",
  /** nats-server stopped JetStream for lack of disk space: produce is answered STORE_FULL at once. */
  OutOfSpace: "out-of-space",
} as const;
export type StorageState = (typeof StorageState)[keyof typeof StorageState];

/** What the produce path asks of the storage guard. */
export interface StorageView {
  state(): StorageState;
  /** A write was refused for lack of space: read the store's state again now. */
  noteFull(): void;
}

/** Options of the {@link StorageGuard}. */
export interface StorageGuardOptions {
  admin: Pick<StreamAdmin, "accountStorage">;
  /** The system account, for per-server storage, out-of-storage advisories and JetStream restarts. */
  system: Pick<SystemAdmin, "jetstream" | "reload" | "onOutOfStorage"> | undefined;
  logger: Logger;
  clock: Clock;
  /** How often the store's headroom is read, in ms. @default 2000 */
  pollMs?: number | undefined;
  /** Below this many free bytes (the smallest over account and servers) the state is Tight. @default 64 MiB */
  tightBytes?: number | undefined;
  /** First wait before asking a server to restart the JetStream it stopped for lack of space, in ms; doubles up to 30 s. @default 2000 */
  recoveryMs?: number | undefined;
}

/** Counters of the storage guard (for /metrics and tests). */
export interface StorageGuardStats {
  /** Times a server reported running out of storage. */
  outOfSpace: number;
  /** Reloads sent to restart a stopped JetStream. */
  restartsAsked: number;
  /** Free bytes at the last read (the smallest over account and servers); undefined when unknown. */
  headroomBytes: number | undefined;
}

const MAX_RECOVERY_MS = 30_000;

/**
 * Watches how much the store can take, so produce never lies at a limit. Two nats-server
 * behaviours make this necessary (2.15, read in server/stream.go and jetstream.go):
 * - a non-clustered atomic batch is committed message by message; one that crosses a storage
 *   limit is partly stored and never acknowledged. Near a limit the gateway therefore stores
 *   message by message, and each message gets its exact outcome (stored, or STORE_FULL) at once.
 * - on a real "no space left on device" the server stops JetStream and it stays stopped until
 *   the server restarts or reloads its configuration. The gateway answers STORE_FULL at once
 *   meanwhile, logs it, and asks the server to reload (which restarts JetStream) with backoff, so
 *   the station recovers by itself once space is freed.
 */
export class StorageGuard implements StorageView {
  readonly stats: StorageGuardStats = { outOfSpace: 0, restartsAsked: 0, headroomBytes: undefined };
  readonly #o: StorageGuardOptions & { pollMs: number; tightBytes: number; recoveryMs: number };
  #state: StorageState = StorageState.Ok;
  /** Servers that stopped JetStream for lack of space, and when to ask each again. */
  readonly #stopped = new Map<string, { next: number; waitMs: number }>();
  #timer: NodeJS.Timeout | undefined;
  #advisories: { stop(): void } | undefined;
  #reading: Promise<void> | undefined;
  #closed = false;

  constructor(o: StorageGuardOptions) {
    this.#o = { ...o, pollMs: o.pollMs ?? 2000, tightBytes: o.tightBytes ?? 64 * 1024 * 1024, recoveryMs: o.recoveryMs ?? 2000 };
  }

  state(): StorageState {
    return this.#state;
  }

  noteFull(): void {
    void this.refresh();
  }

  /** Reads the state once, then keeps reading it and listens for out-of-storage advisories. */
  async start(): Promise<void> {
    this.#advisories = this.#o.system?.onOutOfStorage((serverId, stream) => {
      this.stats.outOfSpace++;
      this.#o.logger.error("nats-server ran out of storage and stopped JetStream; produce answers STORE_FULL until it is back", {
        serverId,
        stream: stream ?? null,
      });
      if (!this.#stopped.has(serverId))
        this.#stopped.set(serverId, { next: this.#o.clock.now() + this.#o.recoveryMs, waitMs: this.#o.recoveryMs });
      this.#state = StorageState.OutOfSpace;
      void this.refresh();
    });
    await this.refresh();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.refresh().finally(() => this.#schedule());
    }, this.#o.pollMs);
    this.#timer.unref();
  }

  /** Reads the account's and the servers' storage now (one read at a time). */
  refresh(): Promise<void> {
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(): Promise<void> {
    let headroom: number | undefined;
    const fold = (free: number) => (headroom = headroom === undefined ? free : Math.min(headroom, free));
    let enabled = 0;
    let disabled = 0;
    try {
      const servers = (await this.#o.system?.jetstream()) ?? [];
      for (const s of servers) {
        if (s.disabled) {
          disabled++;
          await this.#recover(s.serverId);
          continue;
        }
        enabled++;
        if (this.#stopped.delete(s.serverId))
          this.#o.logger.info("JetStream is back on the server", { serverId: s.serverId, server: s.serverName });
        if (s.maxStorageBytes > 0) fold(s.maxStorageBytes - s.storageBytes);
      }
    } catch (err) {
      this.#o.logger.debug("could not read JetStream's state from the system account", { error: String(err) });
    }
    try {
      const a = await this.#o.admin.accountStorage();
      if (a.limitBytes > 0) fold(a.limitBytes - a.usedBytes);
    } catch (err) {
      // JetStream not answering while a server stopped it for lack of space: out of space.
      if (disabled === 0) this.#o.logger.debug("could not read the account's storage", { error: String(err) });
    }
    this.stats.headroomBytes = headroom;
    if (disabled > 0 && enabled === 0) this.#state = StorageState.OutOfSpace;
    else this.#state = headroom !== undefined && headroom < this.#o.tightBytes ? StorageState.Tight : StorageState.Ok;
  }

  /** Asks a server that stopped JetStream for lack of space to reload (restarting JetStream), with backoff. */
  async #recover(serverId: string): Promise<void> {
    const r = this.#stopped.get(serverId);
    // Only servers that reported running out of storage: an operator may have turned JetStream off.
    if (!r || this.#o.clock.now() < r.next || !this.#o.system) return;
    r.next = this.#o.clock.now() + r.waitMs;
    r.waitMs = Math.min(r.waitMs * 2, MAX_RECOVERY_MS);
    this.stats.restartsAsked++;
    try {
      await this.#o.system.reload(serverId);
      this.#o.logger.warn("asked nats-server to restart JetStream after running out of storage", { serverId });
    } catch (err) {
      this.#o.logger.warn("could not ask nats-server to restart JetStream", { serverId, error: String(err) });
    }
  }

  /** Stops reading. Idempotent. */
  stop(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#advisories?.stop();
  }
}
