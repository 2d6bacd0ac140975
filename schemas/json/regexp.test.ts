import { describe, expect, it } from "vitest";
import { loadSchema, prepareSchema } from "../index.js";
import { compileRe2, PatternError, translatePattern } from "./regexp.js";

const matches = (pattern: string, s: string): boolean => compileRe2(pattern).test(s);
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

describe("ECMA-262 patterns on RE2", () => {
  it("refuses a named backreference clearly instead of matching the literal text k<n>", async () => {
    expect(() => translatePattern("^(?<n>a)\\k<n>$")).toThrow(PatternError);
    expect(() => translatePattern("^(?<n>a)\\k<n>$")).toThrow(/named backreferences \(\\k<name>\) are not supported/);
    await expect(prepareSchema({ type: "json", definition: JSON.stringify({ pattern: "^(?<n>a)\\k<n>$" }) })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { path: "/pattern", pattern: "^(?<n>a)\\k<n>$", reason: "unsupported" },
    });
  });

  it("refuses numbered backreferences and lookaround", () => {
    expect(() => translatePattern("(a)\\1")).toThrow(/backreferences/);
    expect(() => translatePattern("a(?=b)")).toThrow(/lookahead and lookbehind/);
    expect(() => translatePattern("(?<!a)b")).toThrow(/lookahead and lookbehind/);
  });

  it("refuses a pattern that is not a regular expression, with kind invalid", () => {
    let err: unknown;
    try {
      translatePattern("(a");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatternError);
    expect(err).toMatchObject({ kind: "invalid" });
  });

  it("supports Unicode property escapes with every name ECMA-262 knows", () => {
    expect(matches("^\\p{Letter}+$", "Ünïcödé")).toBe(true);
    expect(matches("^\\p{Letter}+$", "abc1")).toBe(false);
    expect(matches("^\\p{L}$", "ж")).toBe(true);
    expect(matches("^\\p{Script=Greek}+$", "αβγ")).toBe(true);
    expect(matches("^\\p{Script=Greek}+$", "abc")).toBe(false);
    expect(matches("^\\P{Letter}$", "1")).toBe(true);
    expect(matches("^[\\p{Nd}x]+$", "٣x3")).toBe(true);
    expect(matches("^\\p{Emoji_Presentation}$", "😀")).toBe(true);
    expect(() => translatePattern("\\p{NoSuchProperty}")).toThrow(/unknown Unicode property/);
  });

  it("\\s is Unicode white space as ECMA-262 defines it; \\S its complement, in and out of classes", () => {
    for (const ws of [" ", "\t", "\n", "\v", "\f", "\r", "\u00a0", "\u1680", "\u2003", "\u2028", "\u2029", "\u202f", "\u3000", "\ufeff"]) {
      expect(matches("^\\s$", ws), JSON.stringify(ws)).toBe(true);
      expect(matches("^[\\s]$", ws), JSON.stringify(ws)).toBe(true);
      expect(matches("^\\S$", ws), JSON.stringify(ws)).toBe(false);
    }
    expect(matches("^\\S$", "a")).toBe(true);
    expect(matches("^[\\Sx]+$", "ab")).toBe(true);
    expect(matches("^\\s$", "\u200b")).toBe(false); // zero width space is not white space
  });

  it(". does not match line terminators; \\d and \\w stay ASCII", () => {
    expect(matches("^.$", "\n")).toBe(false);
    expect(matches("^.$", "\r")).toBe(false);
    expect(matches("^.$", "\u2028")).toBe(false);
    expect(matches("^.$", "😀")).toBe(true);
    expect(matches("^\\d$", "٣")).toBe(false);
    expect(matches("^\\w$", "é")).toBe(false);
  });

  it("keeps ECMA-262 escapes and Annex B literals", () => {
    expect(matches("^\\u{1F600}$", "😀")).toBe(true);
    expect(matches("^\\ud83d\\ude00$", "😀")).toBe(true);
    expect(matches("^\\x41\\cJ$", "A\n")).toBe(true);
    expect(matches("^a{2}$", "aa")).toBe(true);
    expect(matches("^[^]$", "\n")).toBe(true);
    expect(matches("^[]$", "")).toBe(false);
    expect(matches("^\\/\\.$", "/.")).toBe(true);
  });

  it("refuses counted repetition over RE2's limit", () => {
    expect(() => translatePattern("a{1001}")).toThrow(/over 1000/);
  });

  it("matches in linear time: a catastrophic backtracking pattern returns at once", async () => {
    const s = loadSchema(await prepareSchema({ type: "json", definition: JSON.stringify({ type: "string", pattern: "^(a|a)*(b|aa)+$" }) }));
    expect(s.validate(enc(`${"a".repeat(100_000)}!`)).ok).toBe(false);
  });

  it("patterns behave the same on ajv and on Junction's validator", async () => {
    const schema = { type: "object", properties: { s: { pattern: "^\\s\\p{Lu}.$" } } };
    const s = loadSchema(await prepareSchema({ type: "json", definition: JSON.stringify(schema) }));
    expect(s.validate(enc({ s: "\u00a0Éx" })).ok).toBe(true);
    expect(s.validate(enc({ s: "\u00a0Éx\n" })).ok).toBe(false);
    expect(s.validate(enc({ s: "\u00a0é\n" })).ok).toBe(false);
  });
});
