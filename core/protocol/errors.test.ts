import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, JunctionError, isErrorCode } from "./errors.js";
import { errorFromNats } from "./nats-errors.js";

const readme = readFileSync(resolve(import.meta.dirname, "../../README.md"), "utf8");
const protocol = readFileSync(resolve(import.meta.dirname, "../../docs/protocol.md"), "utf8");

/** Rows of the README's error table: | `CODE` | yes/no | … | */
function documented(text: string): Map<string, boolean> {
  const rows = new Map<string, boolean>();
  for (const m of text.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(yes|no)\s*\|/gm)) rows.set(m[1]!, m[2] === "yes");
  return rows;
}

describe("error codes", () => {
  it("the README documents exactly the codes of the table, with the same retriable flag", () => {
    const rows = documented(readme);
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, retriable] of rows) expect(retriable, code).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES].retriable);
  });

  it("docs/protocol.md mentions every code", () => {
    for (const code of Object.keys(ERROR_CODES)) expect(protocol, code).toContain(code);
  });

  it("round-trips through the wire form", () => {
    const e = new JunctionError("PAYLOAD_TOO_LARGE", "too big", { details: { size: 2 } });
    const back = JunctionError.fromBody(e.toBody());
    expect(back).toMatchObject({ code: "PAYLOAD_TOO_LARGE", message: "too big", retriable: false, details: { size: 2 } });
    expect(JunctionError.fromBody({ code: "NOPE" as "INTERNAL", message: "x" }).code).toBe("INTERNAL");
    expect(isErrorCode("TIMEOUT")).toBe(true);
    expect(isErrorCode("toString")).toBe(false);
  });

  it("maps NATS client errors by name and message, keeping the cause", () => {
    const cases: [object, string][] = [
      [{ name: "AuthorizationError", message: "Authorization Violation" }, "AUTH_FAILED"],
      [{ name: "PermissionViolationError", message: "Permissions Violation for Publish" }, "PERMISSION_DENIED"],
      [{ name: "TimeoutError", message: "timeout" }, "TIMEOUT"],
      [{ name: "NoResponders", message: "no responders" }, "GATEWAY_UNAVAILABLE"],
      [{ name: "RequestError", message: "no responders: 'x'" }, "GATEWAY_UNAVAILABLE"],
      [{ name: "ConnectionError", message: "connection refused" }, "NATS_UNAVAILABLE"],
      [{ name: "ClosedConnectionError", message: "closed" }, "CONNECTION_CLOSED"],
      [{ name: "Weird", message: "???" }, "INTERNAL"],
    ];
    for (const [err, code] of cases) {
      const j = errorFromNats(err, "doing");
      expect(j.code).toBe(code);
      expect(j.cause).toBe(err);
    }
  });
});
