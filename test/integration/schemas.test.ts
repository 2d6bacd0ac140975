import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { JunctionError, type DeadLetter, type JunctionClient } from "../../sdk/index.js";
import { Headers, subjects } from "../../core/protocol/index.js";

let broker: TestBroker;
let client: JunctionClient;

const orderSchema = JSON.stringify({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: { id: { type: "integer" }, email: { type: "string", format: "email" }, total: { type: "number", minimum: 0 } },
  required: ["id", "total"],
});

const proto = `syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  int64 id = 1;
  string customer = 2;
  double total = 3;
  google.protobuf.Timestamp at = 4;
}
`;

beforeAll(async () => {
  broker = await startBroker({ gateways: 2 });
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

async function codeOf(p: Promise<unknown>): Promise<JunctionError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(JunctionError);
    return err as JunctionError;
  }
  throw new Error("expected an error");
}

/** The dead letters stored for a station and reason (read straight from JN_DLS). */
async function deadLetters(station: string, reason: string): Promise<DeadLetter[]> {
  const jsm = await broker.jsm();
  const out: DeadLetter[] = [];
  const info = await jsm.streams.info("JN_DLS", { subjects_filter: subjects.dls(station, reason) });
  if (!info.state.subjects || Object.keys(info.state.subjects).length === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage("JN_DLS", { seq }).catch(() => undefined);
    if (m && m.subject === subjects.dls(station, reason)) out.push(m.json<DeadLetter>());
  }
  return out;
}

describe("JSON Schema on produce", () => {
  it("stores valid messages with the schema header, refuses invalid ones per message with precise errors and DLS copies", async () => {
    const station = uniqueName();
    const schema = uniqueName("orders");
    await client.stations.create(station);
    await client.schemas.create({ name: schema, type: "json", definition: orderSchema });
    await client.schemas.attach(schema, station);
    const p = client.producer({ station, name: "checkout" });
    const out = await p.sendBatch([
      { payload: { id: 1, total: 9.5 } },
      { payload: { id: "two", total: -1 }, id: "bad-1" },
      { payload: "not json at all" },
      { payload: { id: 3, total: 1, email: "a@b.co" } },
      { payload: { id: 4, total: 2, email: "nope" } },
    ]);
    expect(out.map((o) => o.ok)).toEqual([true, false, false, true, false]);
    const e1 = (out[1] as { error: JunctionError }).error;
    expect(e1.code).toBe("SCHEMA_VALIDATION_FAILED");
    expect(e1.details).toMatchObject({ schema, version: 1 });
    const paths = (e1.details!["issues"] as { path: string }[]).map((i) => i.path).sort();
    expect(paths).toEqual(["/id", "/total"]);
    expect((out[2] as { error: JunctionError }).error.code).toBe("SCHEMA_VALIDATION_FAILED");
    expect(((out[4] as { error: JunctionError }).error.details!["issues"] as { path: string; keyword: string }[])[0]).toMatchObject({
      path: "/email",
      keyword: "format",
    });

    const c = await client.consumer({ station, group: "g", maxMessages: 2 });
    const got = [];
    for await (const m of c) {
      got.push(m);
      m.ack();
    }
    expect(got.map((m) => m.json<{ id: number }>().id)).toEqual([1, 3]);
    expect(got[0]!.headers[Headers.Schema]).toBe(`${schema}@1`);

    const dead = (await waitFor(async () => {
      const d = await deadLetters(station, "schema");
      return d.length === 3 ? d : undefined;
    }))!;
    const first = dead.find((d) => d.id.endsWith(":bad-1"))!;
    expect(first).toMatchObject({ station, reason: "schema", producer: "checkout", error: { code: "SCHEMA_VALIDATION_FAILED" } });
    expect(Buffer.from(first.payload, "base64").toString()).toBe('{"id":"two","total":-1}');
    // A retried invalid message (same id) is recorded once. The gateway stores the dead letter
    // before it answers, so once send() has failed the write has happened (as a duplicate).
    await expect(p.send({ id: "two", total: -1 }, { id: "bad-1" })).rejects.toMatchObject({ code: "SCHEMA_VALIDATION_FAILED" });
    expect((await deadLetters(station, "schema")).length).toBe(3);
  });

  it("refuses breaking versions under backward, accepts compatible ones, and keeps a pinned station on its version", async () => {
    const name = uniqueName("s");
    await client.schemas.create({
      name,
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { a: { type: "string" } }, required: ["a"] }),
    });
    const breaking = await codeOf(
      client.schemas.create({
        name,
        type: "json",
        definition: JSON.stringify({ type: "object", properties: { a: { type: "string" }, b: { type: "string" } }, required: ["a", "b"] }),
      }),
    );
    expect(breaking.code).toBe("SCHEMA_INCOMPATIBLE");
    expect((breaking.details!["changes"] as { rule: string }[]).map((c) => c.rule)).toContain("json.required-added");
    const narrowed = await codeOf(
      client.schemas.create({
        name,
        type: "json",
        definition: JSON.stringify({ type: "object", properties: { a: { type: "string", maxLength: 3 } }, required: ["a"] }),
      }),
    );
    expect(narrowed.code).toBe("SCHEMA_INCOMPATIBLE");
    const v2 = await client.schemas.create({
      name,
      type: "json",
      definition: JSON.stringify({
        type: "object",
        properties: { a: { type: "string" }, b: { type: "string", default: "x" } },
        required: ["a"],
      }),
    });
    expect(v2).toMatchObject({ version: 2, created: true });
    // The same definition again registers nothing.
    expect(
      await client.schemas.create({
        name,
        type: "json",
        definition: JSON.stringify({
          type: "object",
          properties: { a: { type: "string" }, b: { type: "string", default: "x" } },
          required: ["a"],
        }),
      }),
    ).toMatchObject({ version: 2, created: false });
    // Mode none allows anything.
    const v3 = await client.schemas.create({
      name,
      type: "json",
      compatibility: "none",
      definition: JSON.stringify({ type: "object", properties: { a: { type: "integer" } }, required: ["a"] }),
    });
    expect(v3.version).toBe(3);
    expect((await client.schemas.versions(name)).map((v) => v.version)).toEqual([1, 2, 3]);

    const pinned = uniqueName();
    const latest = uniqueName();
    await client.stations.create(pinned);
    await client.stations.create(latest);
    await client.schemas.attach(name, pinned, { version: 1 });
    await client.schemas.attach(name, latest);
    const v4 = await client.schemas.create({
      name,
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { a: { type: "boolean" } }, required: ["a"] }),
    });
    expect(v4.version).toBe(4);
    // Every gateway sees the new version without a restart: produce many times so both answer.
    for (let i = 0; i < 6; i++) {
      const onPinned = await client.producer({ station: pinned }).send({ a: "text" });
      expect(onPinned.seq).toBe(i + 1);
      const r = await client.producer({ station: latest }).sendBatch([{ payload: { a: true } }, { payload: { a: "text" } }]);
      expect(r[0]!.ok).toBe(true);
      expect(r[1]).toMatchObject({ ok: false, error: { code: "SCHEMA_VALIDATION_FAILED", details: { version: 4 } } });
    }
    for (const g of broker.gateways) expect(g.produceStats().requests).toBeGreaterThan(0);
  });
});

describe("Protobuf on produce", () => {
  it("encodes objects from the SDK, validates strictly, and decodes for consumers", async () => {
    const station = uniqueName();
    const name = uniqueName("order");
    await client.stations.create(station);
    const created = await client.schemas.create({ name, type: "protobuf", definition: proto, messageType: "shop.Order" });
    expect(created).toMatchObject({ type: "protobuf", version: 1 });
    await client.schemas.attach(name, station);
    const p = client.producer({ station });
    const ok = await p.send({ id: "7", customer: "ada", total: 12.5, at: "2026-01-02T03:04:05Z" });
    expect(ok.seq).toBe(1);
    const garbage = await codeOf(p.send(new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02])));
    expect(garbage.code).toBe("SCHEMA_VALIDATION_FAILED");
    // Field 9 is unknown: refused by default...
    const unknownField = new Uint8Array([0x48, 0x01]);
    expect((await codeOf(p.send(unknownField))).code).toBe("SCHEMA_VALIDATION_FAILED");
    // ...and allowed by the attachment switch.
    await client.schemas.attach(name, station, { allowUnknownFields: true });
    await waitFor(
      async () =>
        await client
          .producer({ station })
          .send(unknownField)
          .then(
            () => true,
            () => false,
          ),
    );
    const c = await client.consumer({ station, group: "g", maxMessages: 1 });
    for await (const m of c) {
      expect(m.json()).toMatchObject({ id: "7", customer: "ada", total: 12.5, at: "2026-01-02T03:04:05Z" });
      expect(await m.decode()).toMatchObject({ customer: "ada" });
      m.ack();
    }
  });
});

describe("schema bad input", () => {
  it("rejects invalid definitions with where the problem is", async () => {
    const bad = await codeOf(
      client.schemas.create({
        name: uniqueName("b"),
        type: "json",
        definition: JSON.stringify({ type: "object", properties: { a: { type: "strin" } } }),
      }),
    );
    expect(bad.code).toBe("SCHEMA_INVALID");
    expect(String(bad.details!["path"])).toContain("/properties/a");
    const notJson = await codeOf(client.schemas.create({ name: uniqueName("b"), type: "json", definition: "{ nope" }));
    expect(notJson.code).toBe("SCHEMA_INVALID");
    const badProto = await codeOf(
      client.schemas.create({ name: uniqueName("b"), type: "protobuf", definition: 'syntax = "proto3";\nmessage A {\n  int32 a = 1\n}\n' }),
    );
    expect(badProto.code).toBe("SCHEMA_INVALID");
    expect(badProto.details).toMatchObject({ line: expect.any(Number) as number, column: expect.any(Number) as number });
    const unknownType = await codeOf(
      client.schemas.create({ name: uniqueName("b"), type: "protobuf", definition: proto, messageType: "shop.Nope" }),
    );
    expect(unknownType.code).toBe("SCHEMA_INVALID");
    expect(unknownType.details).toMatchObject({ messageType: "shop.Nope", available: ["shop.Order"] });
    const big = await codeOf(
      client.schemas.create({ name: uniqueName("b"), type: "json", definition: JSON.stringify({ description: "x".repeat(300_000) }) }),
    );
    expect(big.code).toBe("SCHEMA_TOO_LARGE");
    const loop = await codeOf(client.schemas.create({ name: uniqueName("b"), type: "json", definition: JSON.stringify({ $ref: "#" }) }));
    expect(loop.code).toBe("SCHEMA_INVALID");
    expect((await codeOf(client.schemas.create({ name: "Bad.Name", type: "json", definition: "{}" }))).code).toBe("INVALID_NAME");
  });

  it("refuses attaching to unknown stations, schemas and versions, and deleting an attached schema", async () => {
    const station = uniqueName();
    const name = uniqueName("s");
    await client.stations.create(station);
    await client.schemas.create({ name, type: "json", definition: "{}" });
    expect((await codeOf(client.schemas.attach(name, "no-such-station"))).code).toBe("STATION_NOT_FOUND");
    expect((await codeOf(client.schemas.attach("no-such-schema", station))).code).toBe("SCHEMA_NOT_FOUND");
    expect((await codeOf(client.schemas.attach(name, station, { version: 9 }))).code).toBe("SCHEMA_VERSION_NOT_FOUND");
    await client.schemas.attach(name, station);
    const inUse = await codeOf(client.schemas.delete(name));
    expect(inUse).toMatchObject({ code: "SCHEMA_IN_USE", details: { stations: [station] } });
    expect(await client.schemas.delete(name, { force: true })).toEqual({ deleted: true, detachedFrom: [station] });
    expect((await client.stations.get(station)).schema).toBeUndefined();
    expect((await codeOf(client.schemas.get(name))).code).toBe("SCHEMA_NOT_FOUND");
  });
});
