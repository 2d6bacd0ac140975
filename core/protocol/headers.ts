import { isReservedHeader } from "./subjects.js";

/**
 * Most bytes a message's own headers (names, values and its id) may take. JetStream refuses a
 * header block over 64 KiB (nats-server errors.json 10097); Junction keeps 1 KiB for the headers
 * it adds itself (producer, schema, batch and de-duplication headers).
 */
export const MAX_HEADER_BYTES = 63 * 1024;

/** What is wrong with one message's headers. */
export interface HeaderProblem {
  /** The header at fault (`id` for the message id); empty when the whole block is too large. */
  header: string;
  problem: string;
  /** The block is over {@link MAX_HEADER_BYTES}: `MESSAGE_TOO_LARGE`, else `INVALID_HEADER`. */
  tooLarge: boolean;
  /** The block's size, when it is too large. */
  bytes?: number;
}

function nameProblem(k: string): string | undefined {
  if (k.length === 0) return "a header name must not be empty";
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c === 58 || c < 33 || c > 126) return `header name '${k}' must be printable ASCII without ':' or spaces`;
  }
  return undefined;
}

function valueProblem(what: string, v: string): string | undefined {
  if (v.includes("\r") || v.includes("\n")) return `${what} contains CR or LF, which NATS headers cannot carry`;
  if (v.trim() !== v) return `${what} has leading or trailing spaces, which NATS headers do not keep`;
  return undefined;
}

/**
 * Why a message's headers and id cannot be stored exactly as given, or undefined. With
 * `reservedAllowed` false, `Jn-*` and `Nats-*` names (Junction's and JetStream's) are refused.
 */
export function headersProblem(
  headers: Readonly<Record<string, string>> | undefined,
  id: string,
  reservedAllowed = false,
): HeaderProblem | undefined {
  let bytes = 0;
  if (id) {
    const p = valueProblem("the message id", id);
    if (p) return { header: "id", problem: p, tooLarge: false };
    bytes += 13 + utf8Length(id);
  }
  if (headers) {
    for (const k in headers) {
      const n = nameProblem(k);
      if (n) return { header: k, problem: n, tooLarge: false };
      if (!reservedAllowed && isReservedHeader(k)) {
        return { header: k, problem: `header '${k}' is reserved (Jn-* and Nats-* are Junction's and JetStream's)`, tooLarge: false };
      }
      const v = headers[k]!;
      const p = valueProblem(`the value of header '${k}'`, v);
      if (p) return { header: k, problem: p, tooLarge: false };
      bytes += k.length + 4 + (v.length < 64 ? v.length * 3 : utf8Length(v));
    }
  }
  if (bytes > MAX_HEADER_BYTES) {
    // The estimate counts short values at 3 bytes per character; measure before refusing.
    const exact = headerBytes(headers, id);
    if (exact > MAX_HEADER_BYTES) {
      return { header: "", problem: `headers take ${exact} bytes; at most ${MAX_HEADER_BYTES} are allowed`, tooLarge: true, bytes: exact };
    }
  }
  return undefined;
}

/** Bytes a message's own headers and id take in a NATS header block. */
export function headerBytes(headers: Readonly<Record<string, string>> | undefined, id: string): number {
  let n = id ? 13 + utf8Length(id) : 0;
  if (headers) for (const k in headers) n += k.length + 4 + utf8Length(headers[k]!);
  return n;
}

/** UTF-8 length of a string (lone surrogates count as the 3 bytes of U+FFFD). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
