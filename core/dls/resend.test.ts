import { afterEach, describe, expect, it } from "vitest";
import { fakeGateway, type FakeGateway } from "../../test/fakes/gateway.js";
import { DLS_STREAM, Headers, subjects, type DeadLetter, type DeadLetterPage } from "../protocol/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
let g: FakeGateway;
afterEach(async () => {
  await g?.close();
});

async function poison(seq: number, group: string, station = "s"): Promise<void> {
  await g.backend.advisoryFeed.inject({
    kind: "max-deliveries",
    stream: subjects.stationStream(station),
    consumer: group,
    streamSeq: seq,
    deliveries: 3,
    reason: "",
    timestamp: new Date(g.clock.now()).toISOString(),
    advisoryId: `adv-${seq}`,
  });
}

describe("dead letters and resend, in-process on a fake store", () => {
  it("turns an advisory into one dead letter (even when the advisory comes twice) and acks it only after the write", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "s" });
    await g.ok("group.create", { station: "s", group: "billing" });
    await g.produce("s", [{ id: "m1", payload: enc.encode("payload-1"), headers: { trace: "t" } }]);
    await poison(1, "billing");
    await poison(1, "billing");
    expect(g.backend.advisoryFeed.acked).toHaveLength(2);
    const page = await g.ok<DeadLetterPage>("dls.list", { station: "s" });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      id: "poison:s:1:billing",
      reason: "poison",
      groups: ["billing"],
      seq: 1,
      deliveries: 3,
      headers: { trace: "t" },
    });
    expect(Buffer.from(page.items[0]!.payload, "base64").toString()).toBe("payload-1");
    expect(g.backend.messages(DLS_STREAM)[0]!.subject).toBe("jn.dls.s.poison.billing");
  });

  it("resends a poison dead letter to the failing group only, and it leaves the DLS", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "s" });
    await g.ok("group.create", { station: "s", group: "billing" });
    await g.ok("group.create", { station: "s", group: "audit" });
    await g.produce("s", [{ id: "m1", payload: enc.encode("p") }]);
    await poison(1, "billing");
    expect(await g.ok("dls.resend", { id: "poison:s:1:billing" })).toEqual({ resent: 1, failed: 0 });
    const stored = g.backend.messages(subjects.stationStream("s"));
    expect(stored.map((m) => m.subject)).toEqual(["jn.st.s.msg", "jn.st.s.resend.billing"]);
    expect(stored[1]!.headers[Headers.ResentFrom]).toBe("poison:s:1:billing");
    expect(g.backend.messages(DLS_STREAM)).toHaveLength(0);
    expect(await g.api("dls.get", { id: "poison:s:1:billing" })).toMatchObject({ ok: false, error: { code: "DEAD_LETTER_NOT_FOUND" } });
  });

  it("keeps a dead letter whose group is gone, reporting GROUP_NOT_FOUND", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "s" });
    await g.ok("group.create", { station: "s", group: "gone" });
    await g.produce("s", [{ id: "m1", payload: enc.encode("p") }]);
    await poison(1, "gone");
    await g.ok("group.delete", { station: "s", group: "gone" });
    expect(await g.ok("dls.resend", { id: "poison:s:1:gone" })).toMatchObject({
      resent: 0,
      failed: 1,
      errors: [{ code: "GROUP_NOT_FOUND" }],
    });
    expect(g.backend.messages(DLS_STREAM)).toHaveLength(1);
  });

  it("sends a schema dead letter through today's schema again: stored once valid, a linked dead letter when it fails again", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "s" });
    await g.ok("schema.create", {
      name: "sc",
      type: "json",
      definition: JSON.stringify({ type: "object", required: ["a"] }),
      compatibility: "none",
    });
    await g.ok("schema.attach", { name: "sc", station: "s" });
    await g.produce("s", [{ id: "x", payload: enc.encode(JSON.stringify({ b: 1 })) }]);
    const [dl] = (await g.ok<DeadLetterPage>("dls.list", { station: "s", reason: "schema" })).items as [DeadLetter];
    // Still invalid: it fails again and comes back as a new dead letter that names the first.
    const again = await g.ok<{ resent: number; failed: number }>("dls.resend", { id: dl.id });
    expect(again).toMatchObject({ resent: 0, failed: 1 });
    const [linked] = (await g.ok<DeadLetterPage>("dls.list", { station: "s" })).items as [DeadLetter];
    expect(linked).toMatchObject({ reason: "schema", resentFrom: dl.id });
    expect(linked.id).not.toBe(dl.id);
    // A new schema version accepts it: the resend stores it.
    await g.ok("schema.create", { name: "sc", type: "json", definition: JSON.stringify({ type: "object" }) });
    expect(await g.ok("dls.resend", { id: linked.id })).toEqual({ resent: 1, failed: 0 });
    const stored = g.backend.messages(subjects.stationStream("s"));
    expect(stored).toHaveLength(1);
    expect(JSON.parse(dec.decode(stored[0]!.data))).toEqual({ b: 1 });
    expect(stored[0]!.headers[Headers.Schema]).toBe("sc@2");
  });

  it("drops by filter and reports counts; stats count both subject forms", async () => {
    g = await fakeGateway();
    await g.ok("station.create", { name: "s" });
    await g.ok("group.create", { station: "s", group: "g" });
    await g.produce(
      "s",
      [1, 2, 3].map((i) => ({ id: `m${i}`, payload: enc.encode(String(i)) })),
    );
    await poison(1, "g");
    await poison(2, "g");
    await g.backend.writer.publish(subjects.dls("s", "function"), {
      id: "function:s:z",
      headers: undefined,
      payload: enc.encode(
        JSON.stringify({
          id: "function:s:z",
          station: "s",
          reason: "function",
          groups: [],
          payload: "",
          headers: {},
          createdAt: new Date(0).toISOString(),
        }),
      ),
    });
    expect(await g.ok("dls.stats", { station: "s" })).toMatchObject({ total: 3, byReason: { poison: 2, function: 1 }, byGroup: { g: 2 } });
    expect(await g.ok("dls.drop", { filter: { station: "s", reason: "poison" } })).toEqual({ dropped: 2 });
    expect(await g.ok("dls.stats", { station: "s" })).toMatchObject({ total: 1 });
  });
});
