import { describe, expect, it } from "vitest";
import { DEFAULT_GATEWAY_CONFIG, resolveGatewayConfig } from "./config.js";

describe("junction gateway settings", () => {
  it("fills defaults when nothing is given", () => {
    expect(resolveGatewayConfig({}, {})).toEqual({ ...DEFAULT_GATEWAY_CONFIG, user: undefined, password: undefined });
  });

  it("reads the environment, and a flag wins over it; numbers are coerced", () => {
    const cfg = resolveGatewayConfig(
      { replicas: "3" },
      { JUNCTION_URL: "nats://a:4222,nats://b:4222", JUNCTION_DEFAULT_REPLICAS: "5", JUNCTION_HTTP_PORT: "9000", JUNCTION_USER: "gw" },
    );
    expect(cfg).toMatchObject({ natsUrl: ["nats://a:4222", "nats://b:4222"], replicas: 3, httpPort: 9000, user: "gw" });
  });

  it("names the flag, the variable and where a bad value came from — every bad value at once", () => {
    let err: unknown;
    try {
      resolveGatewayConfig({ logLevel: "loud" }, { JUNCTION_DEFAULT_REPLICAS: "7", JUNCTION_URL: "http://x" });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "INVALID_ARGUMENT" });
    const m = (err as Error).message;
    expect(m).toMatch(/--replicas \(env JUNCTION_DEFAULT_REPLICAS\).*got "7" from JUNCTION_DEFAULT_REPLICAS/);
    expect(m).toMatch(/--log-level \(env JUNCTION_LOG_LEVEL\).*from --log-level/);
    expect(m).toMatch(/--nats-url \(env JUNCTION_URL\)/);
  });
});
