import { RE2JS } from "re2js";
import type { RegExpEngine } from "ajv/dist/types/index.js";

/**
 * Compiles a JSON Schema `pattern` with RE2 semantics (linear time, no catastrophic
 * backtracking). Throws on syntax RE2 does not support (backreferences, lookaround).
 */
export function compileRe2(pattern: string): RE2JS {
  // translateRegExp maps ECMAScript-only spellings (named groups, \u{…}) to RE2 syntax.
  return RE2JS.compile(RE2JS.translateRegExp(pattern));
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
