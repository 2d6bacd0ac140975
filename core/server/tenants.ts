import type { Backend } from "../nats/index.js";
import { DEFAULT_TENANT, scopeOf, type Scope } from "../protocol/index.js";
import type { TenantRecords } from "../pipeline/index.js";
import { FunctionRegistry, SchemaRegistry, type SchemaRuntime } from "../registry/index.js";
import { GroupStore, StationRegistry, type InvalidRecordHandler } from "../stations/index.js";
import type { Clock } from "../support/index.js";

/** A tenant's names and its metadata registries. */
export interface Tenant {
  scope: Scope;
  records: TenantRecords;
}

/**
 * The tenants a gateway serves: each tenant's buckets are opened, and its registries started
 * (watches), on first use, then kept.
 */
export class TenantDirectory {
  readonly #backend: Backend;
  readonly #replicas: number;
  readonly #onInvalid: InvalidRecordHandler;
  readonly #open = new Map<string, Promise<Tenant>>();
  /** Called once per tenant, when its registries are up (to hook watchers). */
  readonly #onOpen: (t: Tenant) => void;

  readonly #clock: Clock;
  /** The gateway's schema machinery, shared by every tenant's schema registry. */
  readonly #schemaRuntime: SchemaRuntime;

  constructor(
    backend: Backend,
    replicas: number,
    clock: Clock,
    schemaRuntime: SchemaRuntime,
    onInvalid: InvalidRecordHandler,
    onOpen: (t: Tenant) => void = () => {},
  ) {
    this.#backend = backend;
    this.#schemaRuntime = schemaRuntime;
    this.#clock = clock;
    this.#replicas = replicas;
    this.#onInvalid = onInvalid;
    this.#onOpen = onOpen;
  }

  /** The tenant's registries (opened once). */
  get(tenant: string = DEFAULT_TENANT): Promise<Tenant> {
    let t = this.#open.get(tenant);
    if (!t) {
      t = this.#start(tenant);
      this.#open.set(tenant, t);
      t.catch(() => this.#open.delete(tenant));
    }
    return t;
  }

  async #start(tenant: string): Promise<Tenant> {
    const scope = scopeOf(tenant);
    const b = await this.#backend.metadata(scope, this.#replicas);
    const stations = new StationRegistry(b.stations, this.#onInvalid);
    const schemas = new SchemaRegistry(b.schemas, { runtime: this.#schemaRuntime, clock: this.#clock });
    const functions = new FunctionRegistry(b.functions, this.#clock);
    await stations.start();
    await schemas.start();
    await functions.start();
    const t: Tenant = { scope, records: { stations, groups: new GroupStore(b.groups, this.#onInvalid), schemas, functions } };
    this.#onOpen(t);
    return t;
  }

  /** The tenants opened so far. */
  async opened(): Promise<Tenant[]> {
    const out: Tenant[] = [];
    for (const t of this.#open.values()) {
      try {
        out.push(await t);
      } catch {
        /* failed to open: not served */
      }
    }
    return out;
  }

  /** Stops every watch. */
  async close(): Promise<void> {
    for (const t of await this.opened()) {
      t.records.stations.close();
      t.records.schemas.close();
      t.records.functions.close();
    }
    this.#open.clear();
  }
}
