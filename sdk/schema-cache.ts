import { loadSchema, type CompiledSchema, type PreparedSchema, type ReferencedSchema } from "../schemas/index.js";
import type { SchemasApi } from "./admin.js";

/**
 * Compiled schemas by `name@version`, fetched from the gateway once and kept (versions are
 * immutable). Used to encode objects for Protobuf and Avro stations and to decode consumed
 * messages. A JSON Schema that references other registered schemas is loaded with them.
 */
export class SchemaCache {
  readonly #api: SchemasApi;
  readonly #compiled = new Map<string, CompiledSchema>();
  readonly #loading = new Map<string, Promise<CompiledSchema>>();
  readonly #prepared = new Map<string, Promise<PreparedSchema>>();
  readonly #types = new Map<string, CompiledSchema["type"]>();

  constructor(api: SchemasApi) {
    this.#api = api;
  }

  /**
   * The type of a schema of which some version is loaded (a schema's versions all have one
   * type), or undefined.
   */
  typeOf(name: string): CompiledSchema["type"] | undefined {
    return this.#types.get(name);
  }

  /** The compiled schema if already loaded. */
  peek(name: string, version: number): CompiledSchema | undefined {
    return this.#compiled.get(`${name}@${version}`);
  }

  /**
   * Loads (once) and returns the compiled schema of a version. Unknown Protobuf fields are kept
   * out of the way (accepted) here: the gateway decides on produce.
   */
  get(name: string, version: number): Promise<CompiledSchema> {
    const key = `${name}@${version}`;
    const c = this.#compiled.get(key);
    if (c) return Promise.resolve(c);
    let p = this.#loading.get(key);
    if (!p) {
      p = this.load(name, version, { allowUnknownFields: true }).then((compiled) => {
        this.#compiled.set(key, compiled);
        this.#types.set(name, compiled.type);
        this.#loading.delete(key);
        return compiled;
      });
      p.catch(() => this.#loading.delete(key));
      this.#loading.set(key, p);
    }
    return p;
  }

  /** Compiles a version as the gateway does (not cached): for checking messages locally. */
  async load(name: string, version: number, o: { allowUnknownFields?: boolean } = {}): Promise<CompiledSchema> {
    const prepared = await this.#fetch(name, version);
    const references: ReferencedSchema[] = [];
    for (const r of prepared.references ?? []) {
      references.push({
        name: r.name,
        version: r.version,
        prepared: await this.#fetch(r.name, r.version),
        ...(r.uri ? { uri: r.uri } : {}),
      });
    }
    return loadSchema(prepared, { allowUnknownFields: o.allowUnknownFields === true, references });
  }

  #fetch(name: string, version: number): Promise<PreparedSchema> {
    const key = `${name}@${version}`;
    let p = this.#prepared.get(key);
    if (!p) {
      p = this.#api.get(name, version).then((r) => r.version.prepared as PreparedSchema);
      p.catch(() => this.#prepared.delete(key));
      this.#prepared.set(key, p);
    }
    return p;
  }
}
