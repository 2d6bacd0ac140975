import { createHash } from "node:crypto";
import type { SchemaType } from "./types.js";

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

/** Decodes UTF-8, throwing a TypeError on malformed input (a leading BOM is dropped). */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return utf8Fatal.decode(bytes);
}

/** JSON text with object keys sorted, so equal documents give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      // defineProperty: a "__proto__" key stays a plain key.
      Object.defineProperty(out, key, {
        value: sortKeys((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
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
