import { afterEach, describe, expect, it } from "vitest";
import { fakeGateway, type FakeGateway } from "../../../test/fakes/gateway.js";
import { DLS_STREAM, Buckets, subjects } from "../../protocol/index.js";

let g: FakeGateway;
afterEach(async () => {
  await g?.close();
});

describe("admin API, in-process on a fake store", () => {
  it("creates, reads, updates and deletes a station; a repeat create is a no-op, other settings STATION_EXISTS", async () => {
    g = await fakeGateway();
    expect(await g.ok("station.create", { name: "s", config: { maxMessages: 10 } })).toMatchObject({
      name: "s",
      created: true,
      config: { maxMessages: 10 },
    });
    expect(await g.ok("station.create", { name: "s", config: { maxMessages: 10 } })).toMatchObject({ created: false });
    expect(await g.api("station.create", { name: "s", config: { maxMessages: 11 } })).toMatchObject({
      ok: false,
      error: { code: "STATION_EXISTS" },
    });
    expect(await g.ok("station.update", { name: "s", config: { maxMessages: 20 } })).toMatchObject({ config: { maxMessages: 20 } });
    expect(await g.api("station.update", { name: "s", config: { storage: "memory" } })).toMatchObject({
      ok: false,
      error: { code: "STATION_UPDATE_REFUSED" },
    });
    expect((await g.ok<{ name: string }[]>("station.list")).map((x) => x.name)).toEqual(["s"]);
    expect(await g.ok("station.delete", { name: "s" })).toEqual({ deleted: true });
    expect(await g.api("station.get", { name: "s" })).toMatchObject({ ok: false, error: { code: "STATION_NOT_FOUND" } });
    expect(g.backend.streams.has(subjects.stationStream("s"))).toBe(false);
  });

  it("validates bodies (path named) and names (INVALID_NAME) before anything is touched", async () => {
    g = await fakeGateway();
    expect(await g.api("station.create", { name: "a.b" })).toMatchObject({ ok: false, error: { code: "INVALID_NAME" } });
    expect(await g.api("station.create", { nam: "x" })).toMatchObject({
      ok: false,
      error: { code: "INVALID_ARGUMENT", details: { path: "name", keyword: "required" } },
    });
    expect(await g.api("station.get", { name: "x", nam: "x" })).toMatchObject({
      ok: false,
      error: { code: "INVALID_ARGUMENT", details: { path: "nam" } },
    });
    expect(await g.api("group.create", { station: "s", group: 7 })).toMatchObject({
      ok: false,
      error: { code: "INVALID_ARGUMENT", details: { path: "group" } },
    });
    expect(await g.api("station.create", { name: "s", config: { colour: "red" } })).toMatchObject({
      ok: false,
      error: { code: "INVALID_ARGUMENT", details: { field: "colour" } },
    });
    expect(await g.api("nope.nope")).toMatchObject({ ok: false, error: { code: "INVALID_ARGUMENT" } });
    const raw = await g.backend.call({ subject: subjects.apiOp("station.list"), data: "{not json" });
    expect(raw).toMatchObject({ ok: false, error: { code: "INVALID_FRAME" } });
    expect(g.backend.streams.size).toBe(1); // only the DLS
  });

  it("manages groups: joining changes only the given settings, another start position is GROUP_CONFLICT, stats count dead letters", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "s" });
    expect(await g.ok("group.create", { station: "s", group: "g", config: { maxAckTimeMs: 500 } })).toMatchObject({
      created: true,
      config: { maxAckTimeMs: 500, maxMsgDeliveries: 10 },
    });
    expect(await g.ok("group.create", { station: "s", group: "g", config: { maxMsgDeliveries: 3 } })).toMatchObject({
      created: false,
      config: { maxAckTimeMs: 500, maxMsgDeliveries: 3 },
    });
    expect(await g.api("group.create", { station: "s", group: "g", config: { startPosition: { kind: "latest" } } })).toMatchObject({
      ok: false,
      error: { code: "GROUP_CONFLICT" },
    });
    // Two poison dead letters of g in the DLS (stored on the 5-token subject) show in its stats.
    for (const seq of [1, 2]) {
      await g.backend.writer.publish(subjects.dls("s", "poison", "g"), {
        id: `poison:s:${seq}:g`,
        headers: undefined,
        payload: new TextEncoder().encode("{}"),
      });
    }
    expect(await g.ok("group.get", { station: "s", group: "g" })).toMatchObject({ stats: { deadLettered: 2 } });
    expect((await g.ok<{ name: string }[]>("group.list", { station: "s" })).map((x) => x.name)).toEqual(["g"]);
    expect(await g.ok("group.delete", { station: "s", group: "g" })).toEqual({ deleted: true });
    expect(await g.api("group.get", { station: "s", group: "g" })).toMatchObject({ ok: false, error: { code: "GROUP_NOT_FOUND" } });
    expect(g.backend.published.some((p) => p.subject === "jn.events.s.group-changed")).toBe(true);
  });

  it("skips a metadata record that fails validation, counts it, and keeps serving the other stations", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "good" });
    const bucket = g.backend.rawBucket(Buckets.Stations);
    bucket.putRaw("broken", "{not json");
    await bucket.put("evil", { name: "evil", config: { retention: "forever" }, createdAt: "x" });
    await bucket.put("other", { name: "mismatch", config: {}, createdAt: "x" });
    expect((await g.ok<{ name: string }[]>("station.list")).map((x) => x.name)).toEqual(["good"]);
    expect(await g.api("station.get", { name: "evil" })).toMatchObject({ ok: false, error: { code: "STATION_NOT_FOUND" } });
    expect(g.gateway.invalidRecords()).toBeGreaterThanOrEqual(3);
    // A bad record can still be deleted by an operator.
    expect(await g.ok("station.delete", { name: "evil" })).toEqual({ deleted: true });
    expect(await bucket.get("evil")).toBeUndefined();
    expect(g.backend.streams.has(DLS_STREAM)).toBe(true);
  });
});
