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
const ipv4 = fromAjv(fullFormats.ipv4 as AjvFormat).check as (s: string) => boolean;
const ipv6 = fromAjv(fullFormats.ipv6 as AjvFormat).check as (s: string) => boolean;
const uri = fromAjv(fullFormats.uri as AjvFormat).check as (s: string) => boolean;
const uriReference = fromAjv(fullFormats["uri-reference"] as AjvFormat).check as (s: string) => boolean;

// RFC 3987 ucschar and iprivate: the non-ASCII characters an IRI may hold (iprivate, allowed in
// the query only, is accepted anywhere: lenient rather than refusing valid data).
const UCSCHAR =
  /[\u{a0}-\u{d7ff}\u{e000}-\u{f8ff}\u{f900}-\u{fdcf}\u{fdf0}-\u{ffef}\u{10000}-\u{1fffd}\u{20000}-\u{2fffd}\u{30000}-\u{3fffd}\u{40000}-\u{4fffd}\u{50000}-\u{5fffd}\u{60000}-\u{6fffd}\u{70000}-\u{7fffd}\u{80000}-\u{8fffd}\u{90000}-\u{9fffd}\u{a0000}-\u{afffd}\u{b0000}-\u{bfffd}\u{c0000}-\u{cfffd}\u{d0000}-\u{dfffd}\u{e1000}-\u{efffd}\u{f0000}-\u{ffffd}\u{100000}-\u{10fffd}]/gu;
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

// RFC 3339 date-time: the offset has minutes; a leap second is 23:59:60 in UTC only.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function dateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : (DAYS[month - 1] as number))) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  const sign = m[7] === "-" ? -1 : 1;
  const offH = m[8] === undefined ? 0 : Number(m[8]);
  const offM = m[9] === undefined ? 0 : Number(m[9]);
  if (offH > 23 || offM > 59) return false;
  if (second === 60) {
    const utc = (((hour * 60 + minute - sign * (offH * 60 + offM)) % 1440) + 1440) % 1440;
    return utc === 23 * 60 + 59;
  }
  return true;
}

// RFC 3339 Appendix A: a year is followed by months before days, hours by minutes before seconds.
const DUR_TIME = "T(?:\\d+H(?:\\d+M(?:\\d+S)?)?|\\d+M(?:\\d+S)?|\\d+S)";
const DURATION = new RegExp(`^P(?:(?:\\d+Y(?:\\d+M(?:\\d+D)?)?|\\d+M(?:\\d+D)?|\\d+D)(?:${DUR_TIME})?|${DUR_TIME}|\\d+W)$`);

// RFC 6570 (level 4), with dotted variable names.
const VARCHARS = "(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+";
const VARSPEC = `${VARCHARS}(?:\\.${VARCHARS})*(?::[1-9][0-9]{0,3}|\\*)?`;
const URI_TEMPLATE = new RegExp(
  `^(?:[^\\x00-\\x20"%<>\\\\^\`{|}\\x7f]|%[0-9A-Fa-f]{2}|\\{[+#./;?&=,!@|]?${VARSPEC}(?:,${VARSPEC})*\\})*$`,
  "u",
);

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

// RFC 5321 mailbox: a dot-atom or quoted local part; a host name or an address literal.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const QUOTED_LOCAL = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;

function email(s: string): boolean {
  const at = s.lastIndexOf("@");
  if (at <= 0 || at === s.length - 1 || at > 64) return false;
  const local = s.slice(0, at);
  const domain = s.slice(at + 1);
  if (!DOT_ATOM.test(local) && !QUOTED_LOCAL.test(local)) return false;
  if (domain.startsWith("[") && domain.endsWith("]")) {
    const literal = domain.slice(1, -1);
    return literal.startsWith("IPv6:") ? ipv6(literal.slice(5)) : ipv4(literal);
  }
  return hostname(domain) && !domain.endsWith(".");
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
CHECKS.set("date-time", { type: "string", check: dateTime });
CHECKS.set("duration", { type: "string", check: (s: string) => DURATION.test(s) });
CHECKS.set("email", { type: "string", check: email });
CHECKS.set("uri-template", { type: "string", check: (s: string) => URI_TEMPLATE.test(s) });
CHECKS.set("uuid", { type: "string", check: (s: string) => UUID.test(s) });
// ECMA-262 with Unicode semantics, as JSON Schema patterns are (ajv-formats also takes Annex B
// forms such as "\a"). Compiling matches nothing, so it costs linear time.
CHECKS.set("regex", {
  type: "string",
  check: (s: string) => {
    try {
      new RegExp(s, "u");
      return true;
    } catch {
      return false;
    }
  },
});
CHECKS.set("idn-email", { type: "string", check: idnEmail });

/** The check of a known format, or undefined for a format Junction does not know (an annotation only). */
export function formatCheck(name: string): FormatCheck | undefined {
  return CHECKS.get(name);
}

/** ajv `addFormat` definitions for the formats ajv-formats lacks. */
export function extraAjvFormats(): Record<string, (s: string) => boolean> {
  const out: Record<string, (s: string) => boolean> = {};
  for (const name of [
    "iri",
    "iri-reference",
    "idn-hostname",
    "idn-email",
    "regex",
    "date-time",
    "duration",
    "email",
    "uri-template",
    "uuid",
  ]) {
    out[name] = (CHECKS.get(name) as FormatCheck).check as (s: string) => boolean;
  }
  return out;
}
