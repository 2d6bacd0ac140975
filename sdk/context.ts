import type { StationsApi, GroupsApi } from "./admin.js";
import type { SchemasApi } from "./admin.js";
import type { SchemaCache } from "./schema-cache.js";
import type { Transport } from "./transport.js";

/**
 * What producers and consumers need from the client (an interface, so they do not depend on
 * the client class that creates them).
 */
export interface ClientContext {
  /** The client name (default producer name). */
  readonly name: string;
  readonly transport: Transport;
  readonly stations: StationsApi;
  readonly groups: GroupsApi;
  readonly schemas: SchemasApi;
  /** Compiled schemas, fetched once per version. */
  readonly schemaCache: SchemaCache;
  /** Headers every request carries (an operator's tenant), if any. */
  readonly headers: Record<string, string> | undefined;
  /** Calls an admin operation (`jn.api.<op>`). */
  request<T>(op: string, body: unknown, timeoutMs?: number): Promise<T>;
}
