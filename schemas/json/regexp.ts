import { RE2JS } from "re2js";
import type { RegExpEngine } from "ajv/dist/types/index.js";

/** Why a pattern cannot be used: not ECMA-262 at all, or a feature RE2 does not have. */
export class PatternError extends Error {
  /** `invalid`: not a regular expression; `unsupported`: valid ECMA-262 that RE2 cannot run. */
  readonly kind: "invalid" | "unsupported";
  constructor(kind: "invalid" | "unsupported", message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PatternError";
    this.kind = kind;
  }
}

type Range = readonly [number, number];

const MAX_CODE_POINT = 0x10ffff;
// RE2's own cap on counted repetition ({n,m}).
const MAX_REPEAT = 1000;

// ECMA-262 WhiteSpace and LineTerminator: what `\s` matches (RE2's `\s` is ASCII only).
const WHITESPACE: Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
// What `.` matches without the s flag: anything but a LineTerminator.
const DOT = "[^\\x{a}\\x{d}\\x{2028}\\x{2029}]";

function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  // Lone surrogates are not characters RE2 can match; leave them out of every class.
  return out.flatMap(([lo, hi]): Range[] => {
    if (hi < 0xd800 || lo > 0xdfff) return [[lo, hi]];
    const parts: Range[] = [];
    if (lo < 0xd800) parts.push([lo, 0xd7ff]);
    if (hi > 0xdfff) parts.push([0xe000, hi]);
    return parts;
  });
}

// ECMA-262's long General_Category names and the short ones RE2 knows.
const GENERAL_CATEGORIES: Record<string, string> = {
  Cased_Letter: "LC",
  Close_Punctuation: "Pe",
  Connector_Punctuation: "Pc",
  Control: "Cc",
  cntrl: "Cc",
  Currency_Symbol: "Sc",
  Dash_Punctuation: "Pd",
  Decimal_Number: "Nd",
  digit: "Nd",
  Enclosing_Mark: "Me",
  Final_Punctuation: "Pf",
  Format: "Cf",
  Initial_Punctuation: "Pi",
  Letter: "L",
  Letter_Number: "Nl",
  Line_Separator: "Zl",
  Lowercase_Letter: "Ll",
  Mark: "M",
  Combining_Mark: "M",
  Math_Symbol: "Sm",
  Modifier_Letter: "Lm",
  Modifier_Symbol: "Sk",
  Nonspacing_Mark: "Mn",
  Number: "N",
  Open_Punctuation: "Ps",
  Other: "C",
  Other_Letter: "Lo",
  Other_Number: "No",
  Other_Punctuation: "Po",
  Other_Symbol: "So",
  Paragraph_Separator: "Zp",
  Private_Use: "Co",
  Punctuation: "P",
  punct: "P",
  Separator: "Z",
  Space_Separator: "Zs",
  Spacing_Mark: "Mc",
  Surrogate: "Cs",
  Symbol: "S",
  Titlecase_Letter: "Lt",
  Unassigned: "Cn",
  Uppercase_Letter: "Lu",
};
const SHORT_CATEGORIES = new Set(Object.values(GENERAL_CATEGORIES));
const re2Names = new Map<string, boolean>();

/** The name RE2 knows for an ECMA-262 property (general categories, scripts by long name), if any. */
function re2PropertyName(name: string): string | undefined {
  let n = name;
  const eq = name.indexOf("=");
  if (eq >= 0) {
    const key = name.slice(0, eq);
    const value = name.slice(eq + 1);
    if (key === "General_Category" || key === "gc") n = value;
    else if (key === "Script" || key === "sc") n = value;
    else return undefined;
  }
  const short = GENERAL_CATEGORIES[n] ?? (SHORT_CATEGORIES.has(n) ? n : undefined);
  const candidate = short ?? (eq >= 0 && /^[A-Z][a-z]+(?:_[A-Z][a-z]+)*$/.test(n) ? n : undefined);
  if (candidate === undefined) return undefined;
  let known = re2Names.get(candidate);
  if (known === undefined) {
    try {
      RE2JS.compile(`\\p{${candidate}}`);
      known = true;
    } catch {
      known = false;
    }
    re2Names.set(candidate, known);
  }
  return known ? candidate : undefined;
}

const propertyCache = new Map<string, Range[]>();

/**
 * The code points of a Unicode property escape (`\p{Letter}`, `\p{Script=Greek}`…), as the
 * running JavaScript engine defines them, so every name ECMA-262 accepts works (RE2 knows only
 * short category and script names). Computed once per name.
 */
function propertyRanges(name: string): Range[] {
  const cached = propertyCache.get(name);
  if (cached !== undefined) return cached;
  let re: RegExp;
  try {
    re = new RegExp(`^\\p{${name}}$`, "u");
  } catch (err) {
    throw new PatternError("invalid", `unknown Unicode property \\p{${name}}`, { cause: err });
  }
  const out: Range[] = [];
  let start = -1;
  for (let cp = 0; cp <= MAX_CODE_POINT; cp++) {
    if (cp === 0xd800) {
      if (start >= 0) out.push([start, 0xd7ff]);
      start = -1;
      cp = 0xdfff;
      continue;
    }
    if (re.test(String.fromCodePoint(cp))) {
      if (start < 0) start = cp;
    } else if (start >= 0) {
      out.push([start, cp - 1]);
      start = -1;
    }
  }
  if (start >= 0) out.push([start, MAX_CODE_POINT]);
  propertyCache.set(name, out);
  return out;
}

const hex = (cp: number): string => `\\x{${cp.toString(16)}}`;

function rangesClass(ranges: readonly Range[], negate = false): string {
  if (ranges.length === 0) return negate ? "[\\x{0}-\\x{10ffff}]" : "[^\\x{0}-\\x{10ffff}]";
  return `[${negate ? "^" : ""}${rangesBody(ranges)}]`;
}

function rangesBody(ranges: readonly Range[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join("");
}

/** A class atom: one code point, or a set (a class escape) that cannot end a range. */
type ClassAtom = { cp: number } | { set: string };

class Translator {
  private pos = 0;
  private readonly cps: number[];
  private readonly source: string;
  private readonly unicode: boolean;

  constructor(source: string, unicode: boolean) {
    this.source = source;
    this.unicode = unicode;
    this.cps = Array.from(source, (c) => c.codePointAt(0) as number);
  }

  private peek(offset = 0): number | undefined {
    return this.cps[this.pos + offset];
  }

  private at(s: string): boolean {
    for (let i = 0; i < s.length; i++) if (this.peek(i) !== s.charCodeAt(i)) return false;
    return true;
  }

  private fail(kind: "invalid" | "unsupported", message: string): never {
    throw new PatternError(kind, `${message} (at offset ${this.pos} of ${JSON.stringify(this.source)})`);
  }

  translate(): string {
    const out = this.disjunction();
    if (this.pos < this.cps.length) this.fail("invalid", "unbalanced parenthesis");
    return out;
  }

  private disjunction(): string {
    let out = this.alternative();
    while (this.peek() === 0x7c /* | */) {
      this.pos++;
      out += `|${this.alternative()}`;
    }
    return out;
  }

  private alternative(): string {
    let out = "";
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === 0x7c || c === 0x29 /* ) */) return out;
      const atom = this.term();
      out += atom;
    }
  }

  private term(): string {
    const c = this.peek() as number;
    if (c === 0x5e /* ^ */ || c === 0x24 /* $ */) {
      this.pos++;
      return String.fromCharCode(c);
    }
    if (c === 0x5c /* \ */ && (this.peek(1) === 0x62 || this.peek(1) === 0x42) /* \b \B */) {
      this.pos += 2;
      return this.peek(-1) === 0x62 ? "\\b" : "\\B";
    }
    if (this.at("(?=") || this.at("(?!") || this.at("(?<=") || this.at("(?<!")) {
      this.fail("unsupported", "lookahead and lookbehind assertions are not supported (RE2 matches in linear time and has none)");
    }
    const atom = this.atom();
    return atom + this.quantifier();
  }

  private quantifier(): string {
    const c = this.peek();
    let q = "";
    if (c === 0x2a || c === 0x2b || c === 0x3f /* * + ? */) {
      this.pos++;
      q = String.fromCharCode(c);
    } else if (c === 0x7b /* { */) {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 24)));
      if (m === null) return "";
      const min = Number(m[1]);
      const max = m[3] === undefined || m[3] === "" ? undefined : Number(m[3]);
      if (max !== undefined && max < min) this.fail("invalid", "numbers out of order in {} quantifier");
      if (min > MAX_REPEAT || (max ?? 0) > MAX_REPEAT) {
        this.fail("unsupported", `a counted repetition over ${MAX_REPEAT} ({${m[1]}${m[2] ?? ""}}) is not supported by RE2`);
      }
      this.pos += m[0].length;
      q = m[0];
    } else return "";
    if (this.peek() === 0x3f) {
      this.pos++;
      q += "?";
    }
    return q;
  }

  private atom(): string {
    const c = this.peek() as number;
    switch (c) {
      case 0x2e /* . */:
        this.pos++;
        return DOT;
      case 0x28 /* ( */:
        return this.group();
      case 0x5b /* [ */:
        return this.characterClass();
      case 0x5c /* \ */:
        return this.atomEscape();
      case 0x2a:
      case 0x2b:
      case 0x3f:
        this.fail("invalid", "nothing to repeat");
      // falls through (fail never returns)
      default:
        this.pos++;
        return hex(c);
    }
  }

  private group(): string {
    this.pos++; // (
    let prefix = "(?:";
    if (this.peek() === 0x3f /* ? */) {
      if (this.at("?:")) this.pos += 2;
      else if (this.at("?<")) {
        const end = this.cps.indexOf(0x3e /* > */, this.pos);
        if (end < 0) this.fail("invalid", "unterminated group name");
        this.pos = end + 1;
      } else {
        // ES2025 modifiers: (?i:…), (?-i:…), (?ims-ims:…)
        const m = /^\?([ims]*)(?:-([ims]*))?:/.exec(String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 12)));
        if (m === null) this.fail("invalid", "invalid group");
        this.pos += m[0].length;
        prefix = `(?${m[1] ?? ""}${m[2] ? `-${m[2]}` : ""}:`;
      }
    }
    const inner = this.disjunction();
    if (this.peek() !== 0x29) this.fail("invalid", "missing )");
    this.pos++;
    return `${prefix}${inner})`;
  }

  private atomEscape(): string {
    const c = this.peek(1);
    if (c === undefined) this.fail("invalid", "\\ at end of pattern");
    if (c >= 0x31 && c <= 0x39 /* 1-9 */) {
      this.fail("unsupported", "backreferences (\\1…\\9) are not supported (RE2 matches in linear time and has none)");
    }
    if (c === 0x6b /* k */ && (this.unicode || this.source.includes("(?<")) && this.peek(2) === 0x3c) {
      this.fail("unsupported", "named backreferences (\\k<name>) are not supported (RE2 matches in linear time and has none)");
    }
    const atom = this.classEscape(false);
    return "set" in atom ? atom.set : hex(atom.cp);
  }

  /** Reads an escape (after `\`) in or out of a class; `\b` is backspace inside a class. */
  private classEscape(inClass: boolean): ClassAtom {
    this.pos++; // backslash
    const c = this.peek() as number;
    this.pos++;
    const ch = String.fromCodePoint(c);
    switch (ch) {
      case "d":
      case "D":
      case "w":
      case "W":
        return { set: `\\${ch}` };
      case "s":
        return { set: inClass ? rangesBody(WHITESPACE) : rangesClass(WHITESPACE) };
      case "S":
        return { set: inClass ? rangesBody(complement(WHITESPACE)) : rangesClass(complement(WHITESPACE)) };
      case "p":
      case "P": {
        if (this.peek() !== 0x7b) {
          if (this.unicode) this.fail("invalid", `\\${ch} needs {…}`);
          return { cp: c };
        }
        const end = this.cps.indexOf(0x7d, this.pos);
        if (end < 0) this.fail("invalid", "unterminated property escape");
        const name = String.fromCodePoint(...this.cps.slice(this.pos + 1, end));
        this.pos = end + 1;
        try {
          new RegExp(`\\p{${name}}`, "u");
        } catch (err) {
          throw new PatternError("invalid", `unknown Unicode property \\p{${name}}`, { cause: err });
        }
        // RE2's own tables for categories and scripts; the JavaScript engine's data for the rest.
        const native = re2PropertyName(name);
        if (native !== undefined) return { set: `\\${ch}{${native}}` };
        const ranges = ch === "p" ? propertyRanges(name) : complement(propertyRanges(name));
        return { set: inClass ? rangesBody(ranges) : rangesClass(ranges) };
      }
      case "t":
        return { cp: 0x09 };
      case "n":
        return { cp: 0x0a };
      case "v":
        return { cp: 0x0b };
      case "f":
        return { cp: 0x0c };
      case "r":
        return { cp: 0x0d };
      case "b":
        if (inClass) return { cp: 0x08 };
        break;
      case "0":
        if (!(this.peek() !== undefined && (this.peek() as number) >= 0x30 && (this.peek() as number) <= 0x39)) return { cp: 0 };
        this.fail("unsupported", "octal escapes are not supported");
      // falls through (fail never returns)
      case "c": {
        const l = this.peek();
        if (l !== undefined && ((l >= 0x41 && l <= 0x5a) || (l >= 0x61 && l <= 0x7a))) {
          this.pos++;
          return { cp: l % 32 };
        }
        // Annex B: "\\c" not followed by a letter is a backslash, then "c".
        this.pos--;
        return { cp: 0x5c };
      }
      case "x": {
        const m = /^[0-9a-fA-F]{2}/.exec(String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 2)));
        if (m === null) return { cp: c };
        this.pos += 2;
        return { cp: parseInt(m[0], 16) };
      }
      case "u":
        return { cp: this.unicodeEscape() };
      default:
        break;
    }
    if (inClass && ch === "-") return { cp: c };
    return { cp: c }; // identity escape: the character itself
  }

  private unicodeEscape(): number {
    const rest = String.fromCodePoint(...this.cps.slice(this.pos, this.pos + 12));
    const braced = /^\{([0-9a-fA-F]+)\}/.exec(rest);
    if (braced !== null && this.unicode) {
      const cp = parseInt(braced[1] as string, 16);
      if (cp > MAX_CODE_POINT) this.fail("invalid", "\\u{…} out of range");
      this.pos += braced[0].length;
      return cp;
    }
    const four = /^[0-9a-fA-F]{4}/.exec(rest);
    if (four === null) return 0x75; // "u"
    this.pos += 4;
    let cp = parseInt(four[0], 16);
    // A surrogate pair written as two escapes is one code point.
    const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(rest.slice(4));
    if (cp >= 0xd800 && cp <= 0xdbff && low !== null) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(low[1] as string, 16) - 0xdc00);
      this.pos += 6;
    }
    return cp;
  }

  private classAtom(): ClassAtom {
    const c = this.peek();
    if (c === undefined) this.fail("invalid", "missing ]");
    if (c === 0x5c) return this.classEscape(true);
    this.pos++;
    return { cp: c };
  }

  private characterClass(): string {
    this.pos++; // [
    let negate = false;
    if (this.peek() === 0x5e) {
      negate = true;
      this.pos++;
    }
    const ranges: Range[] = [];
    const sets: string[] = [];
    while (this.peek() !== 0x5d /* ] */) {
      const a = this.classAtom();
      if (this.peek() === 0x2d /* - */ && this.peek(1) !== 0x5d && this.peek(1) !== undefined) {
        const save = this.pos;
        this.pos++;
        const b = this.classAtom();
        if ("cp" in a && "cp" in b) {
          if (b.cp < a.cp) this.fail("invalid", "range out of order in character class");
          ranges.push([a.cp, b.cp]);
          continue;
        }
        if (this.unicode) this.fail("invalid", "a class escape cannot bound a range");
        // Annex B: [\d-z] is \d, "-" and "z".
        this.pos = save;
      }
      if ("cp" in a) ranges.push([a.cp, a.cp]);
      else sets.push(a.set);
    }
    this.pos++; // ]
    const body = rangesBody(ranges) + sets.join("");
    if (body === "") return negate ? "[\\x{0}-\\x{10ffff}]" : "[^\\x{0}-\\x{10ffff}]";
    return `[${negate ? "^" : ""}${body}]`;
  }
}

/**
 * Translates an ECMA-262 pattern (as JSON Schema's `pattern` and `patternProperties` use) into
 * RE2 syntax with the same meaning: `.` excludes every line terminator, `\s` is Unicode white
 * space, `\p{…}` takes every property name ECMA-262 knows. Throws {@link PatternError} for
 * patterns that are not ECMA-262, and for backreferences and lookaround, which RE2 lacks.
 */
export function translatePattern(pattern: string): string {
  let unicode = true;
  try {
    new RegExp(pattern, "u"); // compiles only: nothing is matched here
  } catch {
    try {
      new RegExp(pattern);
      unicode = false;
    } catch (err) {
      throw new PatternError("invalid", `not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }
  return new Translator(pattern, unicode).translate();
}

const compiled = new Map<string, RE2JS>();
const MAX_CACHED = 2000;

/**
 * Compiles a JSON Schema pattern for RE2 (linear-time matching, no catastrophic backtracking).
 * Throws {@link PatternError}. Compiled patterns are cached.
 */
export function compileRe2(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (re !== undefined) return re;
  const translated = translatePattern(pattern);
  try {
    re = RE2JS.compile(translated);
  } catch (err) {
    throw new PatternError("unsupported", `RE2 cannot run this pattern: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

/** ajv `code.regExp` engine backed by re2js; used for `pattern` and `patternProperties`. */
export const re2RegExpEngine: RegExpEngine = Object.assign(
  (pattern: string, _flags: string) => {
    const re = compileRe2(pattern);
    // ajv keys its compiled-pattern cache on toString().
    return { test: (s: string) => re.test(s), toString: () => pattern };
  },
  // Only used by ajv's standalone code generation, which Junction does not use.
  { code: "re2js" },
);
