import { describe, expect, it } from "vitest";
import { JunctionError } from "../protocol/index.js";
import { manualClock } from "./clock.js";
import { createLogger, type LogFormat } from "./logger.js";
import { REDACTED, isSecretKey, redactSecrets, redactString } from "./redact.js";

/** Secrets, each unique, so a leak can be found by searching the output for it. */
const S = {
  password: "pw-Aa1-0001",
  pass: "pw-Aa1-0002",
  token: "tok-Bb2-0003",
  seed: "SAAGNJOZTRPYHBSX2JHOKYOBQH4GMIZY6DBYNMZNPTSBOXFO3KHPCWMWZA",
  secret: "sec-Cc3-0005",
  authorization: "Basic dXNlcjpwYXNzLTAwMDY=",
  credentials: "cred-Dd4-0007",
  urlPassword: "urlpw-Ee5-0008",
  bearer: "bearer-Ff6-0009-abcdefgh",
  privateKey: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-0010",
  apiKey: "api-Gg7-0011",
  cookie: "sid=Hh8-0012",
  systemPassword: "pw-Ii9-0013",
  metricsToken: "tok-Jj0-0014",
  inArray: "pw-Kk1-0015",
  inMap: "tok-Ll2-0016",
  inError: "pw-Mm3-0017",
  inCause: "sec-Nn4-0018",
} as const;

/** A structure with secrets at several depths, the way real code might log it. */
function leaky(): Record<string, unknown> {
  const cause = new Error("connect failed");
  (cause as unknown as Record<string, unknown>)["credentials"] = { secret: S.inCause };
  const err = new JunctionError("AUTH_FAILED", "refused", { cause, details: { user: "billing", password: S.inError } });
  return {
    user: "billing",
    password: S.password,
    options: {
      servers: [`nats://gateway:${S.urlPassword}@nats-0:4222`],
      pass: S.pass,
      auth: { mode: "callout", issuerSeed: S.seed, systemPassword: S.systemPassword },
      tls: { caFile: "/etc/ca.pem", key: `-----BEGIN PRIVATE KEY-----\n${S.privateKey}\n-----END PRIVATE KEY-----` },
    },
    request: {
      headers: { Authorization: S.authorization, "X-Api-Key": S.apiKey, cookie: S.cookie, accept: "text/plain" },
      note: `retrying with Bearer ${S.bearer}`,
    },
    deep: { a: { b: { c: { d: { token: S.token, e: { client_secret: S.secret } } } } } },
    users: [
      { name: "a", credentials: S.credentials },
      { name: "b", passwordFile: "/run/pw", PASSWORD: S.inArray },
    ],
    http: { metricsToken: S.metricsToken },
    map: new Map<string, unknown>([["session", { refreshToken: S.inMap }]]),
    err,
  };
}

describe("redaction", () => {
  it("recognizes secret keys in any case and spelling", () => {
    for (const k of [
      "password",
      "PASSWORD",
      "pass",
      "systemPassword",
      "JUNCTION_PASSWORD",
      "token",
      "metricsToken",
      "access_token",
      "issuerSeed",
      "seed",
      "secret",
      "client-secret",
      "Authorization",
      "credentials",
      "x-api-key",
      "apiKey",
      "Cookie",
      "privateKey",
      "jwt",
      "nkey",
    ]) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of ["user", "station", "group", "passage", "host", "keyFile"]) expect(isSecretKey(k), k).toBe(false);
  });

  it("masks secrets inside strings", () => {
    expect(redactString(`nats://gw:${S.urlPassword}@h:4222,tls://u:p2@h2`)).toBe(`nats://gw:${REDACTED}@h:4222,tls://u:${REDACTED}@h2`);
    expect(redactString(`Authorization: Bearer ${S.bearer}`)).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactString(`seed ${S.seed} leaked`)).toBe(`seed ${REDACTED} leaked`);
    expect(redactString("nats://h:4222 plain")).toBe("nats://h:4222 plain");
    expect(redactString("a Basic idea")).toBe("a Basic idea");
  });

  it("replaces every secret at every depth and leaves the rest", () => {
    const out = JSON.stringify(redactSecrets(leaky()));
    for (const [name, value] of Object.entries(S)) expect(out, name).not.toContain(value);
    const r = redactSecrets(leaky()) as Record<string, any>;
    expect(r.user).toBe("billing");
    expect(r.password).toBe(REDACTED);
    expect(r.options.auth).toEqual({ mode: "callout", issuerSeed: REDACTED, systemPassword: REDACTED });
    expect(r.options.tls.caFile).toBe("/etc/ca.pem");
    expect(r.request.headers.accept).toBe("text/plain");
    expect(r.deep.a.b.c.d).toEqual({ token: REDACTED, e: { client_secret: REDACTED } });
    expect(r.users[0]).toEqual({ name: "a", credentials: REDACTED });
    expect(r.err).toMatchObject({
      code: "AUTH_FAILED",
      details: { user: "billing", password: REDACTED },
      cause: { credentials: REDACTED },
    });
  });

  it.each(["json", "pretty"] as LogFormat[])("no secret reaches a %s log line, as fields, message or error", (format) => {
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", format, namespace: "gateway", clock: manualClock(), write: (l) => lines.push(l) });
    const data = leaky();
    logger.info("starting", data);
    logger.child("auth").debug(`connecting to nats://gateway:${S.urlPassword}@nats-0:4222 with seed ${S.seed}`, { attempt: 1 });
    logger.error("failed", { error: data["err"], context: data });
    const out = lines.join("\n");
    expect(lines.length).toBe(3);
    for (const [name, value] of Object.entries(S)) expect(out, name).not.toContain(value);
    expect(out).toContain(REDACTED);
    expect(out).toContain("billing"); // the rest is kept
  });
});
