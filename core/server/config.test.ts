import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newIssuerSeed } from "../nats/index.js";
import { DEFAULT_GATEWAY_CONFIG, resolveGatewayConfig } from "./config.js";

const seed = newIssuerSeed();

function refusal(flags: Record<string, string>, env: NodeJS.ProcessEnv): Error {
  try {
    resolveGatewayConfig(flags, env);
  } catch (e) {
    return e as Error;
  }
  throw new Error("accepted");
}

describe("junction gateway settings", () => {
  it("fills defaults when only the issuer seed is given", () => {
    expect(resolveGatewayConfig({}, { JUNCTION_AUTH_ISSUER_SEED: seed })).toMatchObject({
      ...DEFAULT_GATEWAY_CONFIG,
      authIssuerSeed: seed,
      user: undefined,
      password: undefined,
    });
  });

  it("reads the environment, and a flag wins over it; numbers are coerced", () => {
    const cfg = resolveGatewayConfig(
      { replicas: "3" },
      {
        JUNCTION_URL: "nats://a:4222,nats://b:4222",
        JUNCTION_DEFAULT_REPLICAS: "5",
        JUNCTION_HTTP_PORT: "9000",
        JUNCTION_USER: "gw",
        JUNCTION_AUTH_ISSUER_SEED: seed,
      },
    );
    expect(cfg).toMatchObject({ natsUrl: ["nats://a:4222", "nats://b:4222"], replicas: 3, httpPort: 9000, user: "gw" });
  });

  it("takes secrets from files or the environment, never a flag, and never echoes them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "jn-cfg-"));
    await writeFile(join(dir, "pw"), "from-a-file\n");
    await writeFile(join(dir, "seed"), seed + "\n");
    const cfg = resolveGatewayConfig(
      { passwordFile: join(dir, "pw"), authIssuerSeedFile: join(dir, "seed") },
      { JUNCTION_PASSWORD: "from-env" },
    );
    expect(cfg).toMatchObject({ password: "from-a-file", authIssuerSeed: seed });
    expect(resolveGatewayConfig({}, { JUNCTION_PASSWORD: "from-env", JUNCTION_AUTH_ISSUER_SEED: seed }).password).toBe("from-env");
    // There is no --password flag: a value given as one is ignored, not used.
    expect(
      resolveGatewayConfig({ password: "on-the-command-line" } as never, { JUNCTION_AUTH_ISSUER_SEED: seed }).password,
    ).toBeUndefined();
    const missing = refusal({ passwordFile: join(dir, "nope") }, { JUNCTION_AUTH_ISSUER_SEED: seed });
    expect(missing.message).toMatch(/--password-file \(env JUNCTION_PASSWORD_FILE\): cannot read/);
    const empty = refusal({}, { JUNCTION_AUTH_ISSUER_SEED: seed, JUNCTION_HTTP_PORT: "x", JUNCTION_SYSTEM_PASSWORD: "" });
    expect(empty.message).not.toMatch(/from-env|on-the-command-line/);
  });

  it("requires the issuer seed in callout mode, and not with --auth none", () => {
    expect(refusal({}, {}).message).toMatch(/auth-callout issuer seed/);
    expect(resolveGatewayConfig({ authMode: "none" }, {}).authMode).toBe("none");
  });

  it("names the flag, the variable and where a bad value came from — every bad value at once", () => {
    const err = refusal(
      { logLevel: "loud" },
      { JUNCTION_DEFAULT_REPLICAS: "7", JUNCTION_URL: "http://x", JUNCTION_AUTH_ISSUER_SEED: seed },
    );
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(err.message).toMatch(/--replicas \(env JUNCTION_DEFAULT_REPLICAS\).*got "7" from JUNCTION_DEFAULT_REPLICAS/);
    expect(err.message).toMatch(/--log-level \(env JUNCTION_LOG_LEVEL\).*from --log-level/);
    expect(err.message).toMatch(/--nats-url \(env JUNCTION_URL\)/);
  });

  it("takes a log level per component and a log format, and explains a bad level", () => {
    const cfg = resolveGatewayConfig(
      { logLevel: "warn, gateway.produce=debug" },
      { JUNCTION_AUTH_ISSUER_SEED: seed, JUNCTION_LOG_FORMAT: "pretty" },
    );
    expect(cfg).toMatchObject({ logLevel: "warn, gateway.produce=debug", logFormat: "pretty" });
    expect(resolveGatewayConfig({}, { JUNCTION_AUTH_ISSUER_SEED: seed })).toMatchObject({ logLevel: "info", logFormat: "json" });
    for (const bad of ["gateway.produce=loud", "info,,debug", "Gateway=info", "info gateway=debug"]) {
      const err = refusal({}, { JUNCTION_AUTH_ISSUER_SEED: seed, JUNCTION_LOG_LEVEL: bad });
      expect(err.message).toContain(`--log-level (env JUNCTION_LOG_LEVEL) must be debug, info, warn, error or silent; per component`);
      expect(err.message).toContain(`got ${JSON.stringify(bad)} from JUNCTION_LOG_LEVEL`);
    }
    expect(refusal({ logFormat: "xml" }, { JUNCTION_AUTH_ISSUER_SEED: seed }).message).toMatch(
      /--log-format \(env JUNCTION_LOG_FORMAT\) must be equal to one of the allowed values/,
    );
  });
});
