/** The broker's quotas from `junction gateway`'s settings and from the gateway options. */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryBackend } from "../../test/fakes/memory-backend.js";
import { newIssuerSeed } from "../nats/index.js";
import { composeGateway, resolveGatewayConfig, silentLogger } from "../server/index.js";

const env = { JUNCTION_AUTH_ISSUER_SEED: newIssuerSeed() };

function refusal(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("accepted");
}

describe("the broker's quotas in junction gateway's settings", () => {
  it("come from --quotas-file, then --quotas (or JUNCTION_QUOTAS), each quota checked", async () => {
    expect(resolveGatewayConfig({}, env).quotas).toEqual({});
    const file = join(await mkdtemp(join(tmpdir(), "jn-quotas-")), "quotas.json");
    await writeFile(file, JSON.stringify({ stations: 50, groupsPerStation: 5 }));
    expect(resolveGatewayConfig({ quotasFile: file, quotas: "stations=60, connectionsPerUser=7" }, env).quotas).toEqual({
      stations: 60,
      groupsPerStation: 5,
      connectionsPerUser: 7,
    });
    expect(resolveGatewayConfig({}, { ...env, JUNCTION_QUOTAS: "partsPerMessage=10" }).quotas).toEqual({ partsPerMessage: 10 });
  });

  it("fail naming the flag, the variable and the quota", async () => {
    expect(refusal(() => resolveGatewayConfig({ quotas: "stations" }, env)).message).toMatch(
      /^bad gateway settings: --quotas \(env JUNCTION_QUOTAS\) must be quotas for every tenant without its own, as name=value/,
    );
    expect(refusal(() => resolveGatewayConfig({ quotas: "stationz=5" }, env)).message).toMatch(
      /^--quotas \(env JUNCTION_QUOTAS\): unknown quota 'stationz' \(known: stations, /,
    );
    expect(refusal(() => resolveGatewayConfig({ quotas: "partsPerMessage=5000" }, env)).message).toBe(
      "--quotas (env JUNCTION_QUOTAS): quota partsPerMessage must be an integer from 1 to 1000 (got '5000')",
    );
    const dir = await mkdtemp(join(tmpdir(), "jn-quotas-"));
    await writeFile(join(dir, "bad.json"), "[1]");
    expect(refusal(() => resolveGatewayConfig({ quotasFile: join(dir, "bad.json") }, env)).message).toMatch(
      /^--quotas-file .*bad\.json \(env JUNCTION_QUOTAS_FILE\): must be a JSON object of quotas/,
    );
    await writeFile(join(dir, "neg.json"), JSON.stringify({ stations: -3 }));
    expect(refusal(() => resolveGatewayConfig({ quotasFile: join(dir, "neg.json") }, env)).message).toMatch(
      /\(env JUNCTION_QUOTAS_FILE\): quota stations must be an integer from 0 to 1000000 \(got '-3'\)$/,
    );
  });

  it("are checked when the gateway starts, naming the option", async () => {
    const backend = new MemoryBackend();
    await expect(composeGateway(backend, { logger: silentLogger, auth: { mode: "none" }, quotas: { stations: -1 } })).rejects.toMatchObject(
      {
        code: "INVALID_ARGUMENT",
        message: "gateway.quotas.stations must be an integer from 0 to 1000000 (got -1)",
      },
    );
  });
});
