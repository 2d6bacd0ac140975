import { describe, expect, it } from "vitest";
import {
  ControlSubjects,
  GatewaySubjects,
  MEMPHIS_IMPORTS,
  junctionName,
  memphisAccount,
  parseAckForward,
  parseConsumerInfo,
  parseProduceToken,
  stationOfMemphisStream,
} from "./names.js";

describe("the Memphis wire grammar", () => {
  it("serves every control subject on its own gateway subject, and parses what the gateway receives", () => {
    expect(GatewaySubjects.control(ControlSubjects.StationCreations)).toBe("jn.memphis.api.station_creations");
    expect(parseProduceToken("jn.memphis.produce.orders$1")).toBe("orders$1");
    expect(parseConsumerInfo("jn.memphis.js.consumer.orders$1.billing")).toEqual({ stream: "orders$1", consumer: "billing" });
    expect(parseConsumerInfo("jn.memphis.js.consumer.orders$1")).toBeUndefined();
    expect(parseAckForward("jn.memphis.ack.JN_ST_orders.billing.1.2.2.9.0")).toBe("$JS.ACK.JN_ST_orders.billing.1.2.2.9.0");
    expect(parseAckForward("jn.memphis.ack.")).toBeUndefined();
  });

  it("reads the station of a Memphis stream name (`<station>$<partition>` or the station alone)", () => {
    expect(stationOfMemphisStream("orders$1")).toEqual({ station: "orders", partition: 1 });
    expect(stationOfMemphisStream("orders")).toEqual({ station: "orders", partition: undefined });
    expect(stationOfMemphisStream("orders$x")).toBeUndefined();
  });

  it("maps Memphis names to Junction names, or says why not", () => {
    expect(junctionName("Orders", "station")).toBe("orders");
    expect(junctionName("eu#orders", "station")).toMatchObject({ problem: expect.stringMatching(/'eu\.orders' is not supported/) });
    expect(junctionName("x".repeat(100), "station")).toMatchObject({ problem: expect.stringMatching(/at most 64/) });
    expect(junctionName(7, "schema")).toEqual({ problem: "schema name must be a string" });
  });

  it("gives each Memphis user an account, reached only through the gateway's subjects and JetStream's pull", () => {
    expect(memphisAccount("memphis")).toBe("MEMPHIS_memphis");
    const remotes = MEMPHIS_IMPORTS.map((i) => i.remote);
    expect(remotes.filter((r) => !r.startsWith("jn.memphis."))).toEqual(["$JS.API.CONSUMER.MSG.NEXT.*.*"]);
    // Nothing of the broker's own subject space (stations, KV, DLS, the JS stream API) is reachable.
    expect(remotes.join(" ")).not.toMatch(/jn\.st\.|jn\.api|jn\.produce|\$KV|jn\.dls|STREAM/);
    expect(MEMPHIS_IMPORTS.filter((i) => i.share).length).toBe(MEMPHIS_IMPORTS.length - 2);
  });
});
