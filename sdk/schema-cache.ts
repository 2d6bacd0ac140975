import { loadSchema, type CompiledSchema, type PreparedSchema } from "../schemas/index.js";
import type { SchemasApi } from "./admin.js";

/**
 * Compiled schemas by `name@version`, fetched from the gateway once and kept (versions are
 * immutable). Used to encode objects for Protobuf stations and to decode consumed messages.
 */
export class SchemaCache {
  readonly #api: SchemasApi;
  readonly #compiled = new Map<string, CompiledSchema>();
  readonly #loading = new Map<string, Promise<CompiledSchema>>();

  constructor(api: SchemasApi) {
    this.#api = api;
  }

  /** The compiled schema if already loaded. */
  peek(name: string, version: number): CompiledSchema | undefined {
    return this.#compiled.get(`${name}@${version}`);
  }

  /** Loads (once) and returns the compiled schema of a version. */
  get(name: string, version: number): Promise<CompiledSchema> {
    const key = `${name}@${version}`;
    const c = this.#compiled.get(key);
    if (c) return Promise.resolve(c);
    let p = this.#loading.get(key);
    if (!p) {
      p = this.#api.get(name, version).then((r) => {
        // Unknown fields are kept when decoding for display; the gateway decides on produce.
        const compiled = loadSchema(r.version.prepared as PreparedSchema, { allowUnknownFields: true });
        this.#compiled.set(key, compiled);
        this.#loading.delete(key);
        return compiled;
      });
      p.catch(() => this.#loading.delete(key));
      this.#loading.set(key, p);
    }
    return p;
  }
}
