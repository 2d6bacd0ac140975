import { createRequire } from "node:module";
import { domainToASCII } from "node:url";

/** A `format` check: applies to strings (most formats) or numbers (`int32`, `int64`, `float`, `double`). */
export interface FormatCheck {
  readonly type: "string" | "number";
  readonly check: (value: never) => boolean;
}

type AjvFormat = RegExp | ((s: string) => boolean) | boolean | { type?: "string" | "number"; validate: RegExp | ((v: never) => boolean) };

const require = createRequire(import.meta.url);
const { fullFormats } = require("ajv-formats/dist/formats") as { fullFormats: Record<string, AjvFormat> };

function fromAjv(def: AjvFormat): FormatCheck {
  if (def instanceof RegExp) return { type: "string", check: (s: string) => def.test(s) };
  if (typeof def === "function") return { type: "string", check: def as (s: never) => boolean };
  if (typeof def === "boolean") return { type: "string", check: () => def };
  const v = def.validate;
  return { type: def.type ?? "string", check: v instanceof RegExp ? (s: string) => v.test(s) : v };
}

const hostname = fromAjv(fullFormats.hostname as AjvFormat).check as (s: string) => boolean;
const uri = fromAjv(fullFormats.uri as AjvFormat).check as (s: string) => boolean;
const uriReference = fromAjv(fullFormats["uri-reference"] as AjvFormat).check as (s: string) => boolean;

// RFC 3987 ucschar and iprivate: the non-ASCII characters an IRI may hold.
const UCSCHAR =
  /[\u{a0}-\u{d7ff}\u{f900}-\u{fdcf}\u{fdf0}-\u{ffef}\u{10000}-\u{1fffd}\u{20000}-\u{2fffd}\u{30000}-\u{3fffd}\u{40000}-\u{4fffd}\u{50000}-\u{5fffd}\u{60000}-\u{6fffd}\u{70000}-\u{7fffd}\u{80000}-\u{8fffd}\u{90000}-\u{9fffd}\u{a0000}-\u{afffd}\u{b0000}-\u{bfffd}\u{c0000}-\u{cfffd}\u{d0000}-\u{dfffd}\u{e1000}-\u{efffd}]/gu;
const NON_ASCII = /[\u0080-\u{10ffff}]/u;

/** An IRI is a URI once its allowed non-ASCII characters are percent-encoded (RFC 3987 §3.1). */
function iriAsUri(s: string): string | undefined {
  const encoded = s.replace(UCSCHAR, (c) => encodeURIComponent(c));
  return NON_ASCII.test(encoded) ? undefined : encoded;
}

function idnHostname(s: string): boolean {
  if (s === "") return false;
  // UTS #46 processing as WHATWG URL does it, then the ASCII hostname rules.
  const ascii = domainToASCII(s);
  return ascii !== "" && hostname(ascii);
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u{80}-\u{10ffff}-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u{80}-\u{10ffff}-]+)*$/u;
const QUOTED = /^"(?:[^"\\\r\n]|\\.)*"$/u;
const IP_LITERAL = /^\[(?:IPv6:)?[0-9A-Fa-f:.]+\]$/;

function idnEmail(s: string): boolean {
  const at = s.lastIndexOf("@");
  if (at <= 0 || at === s.length - 1) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (!ATEXT.test(local) && !QUOTED.test(local)) return false;
  return IP_LITERAL.test(domain) || idnHostname(domain);
}

const CHECKS = new Map<string, FormatCheck>();
for (const [name, def] of Object.entries(fullFormats)) CHECKS.set(name, fromAjv(def));
CHECKS.set("iri", {
  type: "string",
  check: (s: string) => {
    const u = iriAsUri(s);
    return u !== undefined && uri(u);
  },
});
CHECKS.set("iri-reference", {
  type: "string",
  check: (s: string) => {
    const u = iriAsUri(s);
    return u !== undefined && uriReference(u);
  },
});
CHECKS.set("idn-hostname", { type: "string", check: idnHostname });
CHECKS.set("idn-email", { type: "string", check: idnEmail });

/** The check of a known format, or undefined for a format Junction does not know (an annotation only). */
export function formatCheck(name: string): FormatCheck | undefined {
  return CHECKS.get(name);
}

/** Every format Junction checks. */
export const KNOWN_FORMATS: readonly string[] = [...CHECKS.keys()].sort();

/** Formats whose check is approximate (documented): it may accept some invalid strings. */
export const APPROXIMATE_FORMATS: readonly string[] = ["idn-email", "idn-hostname", "iri", "iri-reference"];

/** ajv `addFormat` definitions for the formats ajv-formats lacks. */
export function extraAjvFormats(): Record<string, (s: string) => boolean> {
  const out: Record<string, (s: string) => boolean> = {};
  for (const name of ["iri", "iri-reference", "idn-hostname", "idn-email"]) {
    out[name] = (CHECKS.get(name) as FormatCheck).check as (s: string) => boolean;
  }
  return out;
}
