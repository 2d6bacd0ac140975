import { createHash } from "node:crypto";
import { SchemaError } from "./errors.js";
import { MAX_SCHEMA_BYTES, type SchemaType } from "./types.js";

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8, throwing a TypeError on malformed input (a leading BOM is dropped). */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return utf8Fatal.decode(bytes);
}

/** Throws SCHEMA_TOO_LARGE when the definition is over {@link MAX_SCHEMA_BYTES}. */
export function assertSchemaSize(definition: string): void {
  const bytes = Buffer.byteLength(definition, "utf8");
  if (bytes > MAX_SCHEMA_BYTES) {
    throw new SchemaError("SCHEMA_TOO_LARGE", `the schema definition is ${bytes} bytes; the limit is ${MAX_SCHEMA_BYTES}`, {
      details: { bytes, maxBytes: MAX_SCHEMA_BYTES },
    });
  }
}

/** JSON text with object keys sorted, so equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** Structural equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** SHA-256 (hex) over the type, the message type and the already normalized definition. */
export function fingerprint(type: SchemaType, normalizedDefinition: string, messageType?: string): string {
  return createHash("sha256")
    .update(`${type}\n${messageType ?? ""}\n${normalizedDefinition}`)
    .digest("hex");
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function pointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}
