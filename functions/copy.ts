import type { FnMessage } from "./types.js";

/**
 * Prepares messages for copying into a sandbox. A byte array is copied by isolated-vm together
 * with its whole backing `ArrayBuffer`; a `Buffer` or a view into a larger buffer (Node's pool, a
 * frame holding other messages) would let the function read bytes that are not its own. Such
 * views are replaced by exact copies. Everything else is returned as it is (no copy when nothing
 * needs one).
 */
export function prepareMessages(messages: readonly FnMessage[]): FnMessage[] {
  const out: FnMessage[] = new Array<FnMessage>(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as FnMessage;
    const payload = prepareValue(m.payload, 0);
    out[i] = payload === m.payload ? m : { payload, headers: m.headers };
  }
  return out;
}

const MAX_DEPTH = 200;

/** {@link prepareMessages} for one value: exact copies of byte views, everything else as it is. */
export function prepareValue(v: unknown, depth: number): unknown {
  if (typeof v !== "object" || v === null || depth > MAX_DEPTH) return v;
  if (ArrayBuffer.isView(v)) {
    if (v instanceof Uint8Array && v.constructor === Uint8Array && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) {
      return v;
    }
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  }
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const prepared = prepareValue(item, depth + 1);
      if (prepared !== item) {
        copy ??= v.slice();
        copy[i] = prepared;
      }
    }
    return copy ?? v;
  }
  let copy: Record<string, unknown> | undefined;
  const obj = v as Record<string, unknown>;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const item = obj[key];
    const prepared = prepareValue(item, depth + 1);
    if (prepared !== item) {
      copy ??= { ...obj };
      Object.defineProperty(copy, key, { value: prepared, writable: true, enumerable: true, configurable: true });
    }
  }
  return copy ?? v;
}
