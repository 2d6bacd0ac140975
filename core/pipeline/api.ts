import type { Requester } from "../nats/index.js";
import type { Identity, Scope, TraceHeaders } from "../protocol/index.js";
import type { FunctionRegistry, SchemaRegistry } from "../registry/index.js";
import type { GroupStore, StationRegistry } from "../stations/index.js";

/** A tenant's metadata: stations, groups, schemas and functions. */
export interface TenantRecords {
  stations: StationRegistry;
  groups: GroupStore;
  schemas: SchemaRegistry;
  functions: FunctionRegistry;
}

/** Who asks, in which tenant, and that tenant's records. */
export interface ApiContext {
  /** The tenant's names. */
  scope: Scope;
  /** The tenant's metadata. */
  records: TenantRecords;
  /** Who sent the request, when the server says. */
  requester: Requester | undefined;
  /** Who asks, resolved and authorized for the operation. */
  identity: Identity;
  /** The request's trace context (W3C headers), when it carried one: spans of the operation link to it. */
  trace?: TraceHeaders | undefined;
}

/** An admin API handler: a validated JSON body in, JSON data out; throws JunctionError. */
export type ApiHandler = (body: Record<string, unknown>, ctx: ApiContext) => Promise<unknown>;
