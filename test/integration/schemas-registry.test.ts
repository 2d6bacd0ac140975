/**
 * The schema registry on a real broker: Avro stations (binary in, decoded out, functions see
 * objects), evolution under every compatibility mode, references between registered schemas
 * (resolved, and blocking deletion), `schema.check` against stored messages, `schema.diff`,
 * warnings and `$id` ownership.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSchema, prepareSchema } from "../../schemas/index.js";
import { JunctionError, type JunctionClient, type SchemaCompatibility } from "../../sdk/index.js";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let client: JunctionClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
});
afterAll(async () => {
  await broker.stop();
});

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function failure(p: Promise<unknown>): Promise<JunctionError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(JunctionError);
    return err as JunctionError;
  }
  throw new Error("expected an error");
}

const record = (fields: unknown[]) => JSON.stringify({ type: "record", name: "Order", namespace: "shop", fields });
const ID = { name: "id", type: "long" };
const CUSTOMER = { name: "customer", type: "string" };
const ORDER_AVSC = record([ID, CUSTOMER, { name: "total", type: "double" }, { name: "note", type: ["null", "string"], default: null }]);

/** Reads `n` messages of a new group, acking each. */
async function consumeAll(station: string, n: number) {
  const c = await client.consumer({ station, group: uniqueName("g"), maxMessages: n });
  const out = [];
  for await (const m of c) {
    out.push(m);
    m.ack();
  }
  return out;
}

describe("Avro stations", () => {
  it("accepts objects the SDK encodes and valid binary, refuses invalid binary, and consumers decode", async () => {
    const station = uniqueName();
    const name = uniqueName("avro");
    await client.stations.create(station);
    const created = await client.schemas.create({ name, type: "avro", definition: ORDER_AVSC });
    expect(created).toMatchObject({ type: "avro", version: 1, compatibility: "BACKWARD", created: true });
    await client.schemas.attach(name, station);
    const p = client.producer({ station, name: "shop" });
    expect((await p.send({ id: 7, customer: "ada", total: 9.5, note: { string: "gift" } })).seq).toBe(1);

    const local = loadSchema(await prepareSchema({ type: "avro", definition: ORDER_AVSC }));
    const binary = local.encode({ id: 8, customer: "bob", total: 1, note: null });
    expect((await p.send(binary)).seq).toBe(2);

    for (const bad of [
      new Uint8Array([0x0e]), // truncated after the id
      new Uint8Array([...binary, 0x00]), // a byte left over
      new TextEncoder().encode('{"id":9,"customer":"x","total":1,"note":null}'), // JSON is not Avro binary
    ]) {
      const e = await failure(p.send(bad));
      expect(e).toMatchObject({ code: "SCHEMA_VALIDATION_FAILED", retriable: false, details: { schema: name, version: 1 } });
    }
    // A value that does not fit is refused by the SDK before it is sent.
    expect((await failure(p.send({ id: 1, customer: "x" }))).code).toBe("INVALID_ARGUMENT");

    const got = await consumeAll(station, 2);
    expect(got.map((m) => m.schema)).toEqual([`${name}@1`, `${name}@1`]);
    expect(got[0]!.json()).toEqual({ id: 7, customer: "ada", total: 9.5, note: { string: "gift" } });
    expect(await got[1]!.decode()).toEqual({ id: 8, customer: "bob", total: 1, note: null });

    const dead = await waitFor(async () => {
      const page = await client.dls.list({ station, reason: "schema" });
      return page.items.length === 3 ? page.items : undefined;
    });
    expect(dead.every((d) => d.error?.code === "SCHEMA_VALIDATION_FAILED")).toBe(true);
  });

  it("functions see the decoded object and their output is encoded with the station's schema", async () => {
    const station = uniqueName();
    const name = uniqueName("avro");
    const fn = uniqueName("upper");
    await client.stations.create(station);
    await client.schemas.create({ name, type: "avro", definition: ORDER_AVSC });
    await client.schemas.attach(name, station);
    await client.functions.create({
      name: fn,
      source: "export default (m) => ({ ...m, payload: { ...m.payload, customer: m.payload.customer.toUpperCase() } })",
    });
    await client.functions.attach(fn, station);
    const p = client.producer({ station });
    await p.send({ id: 1, customer: "ada", total: 2, note: null });
    const [m] = await consumeAll(station, 1);
    expect(m!.schema).toBe(`${name}@1`);
    expect(await m!.decode()).toEqual({ id: 1, customer: "ADA", total: 2, note: null });
  });

  it("evolves: a fresh producer encodes with the new version, consumers decode each message with its own", async () => {
    const station = uniqueName();
    const name = uniqueName("avro");
    await client.stations.create(station);
    await client.schemas.create({ name, type: "avro", definition: record([ID]) });
    await client.schemas.attach(name, station);
    const old = client.producer({ station });
    await old.send({ id: 1 });
    await client.schemas.create({ name, type: "avro", definition: record([ID, { name: "tag", type: "string", default: "none" }]) });
    // The long-lived producer still encodes with version 1: refused with a hint, and it then
    // looks the version up again, so its next message goes through.
    const stale = await failure(old.send({ id: 2 }));
    expect(stale).toMatchObject({ code: "SCHEMA_VALIDATION_FAILED", details: { version: 2 } });
    expect(stale.message).toMatch(/encoded with version 2/);
    await old.send({ id: 3, tag: "x" });
    await client.producer({ station }).send({ id: 4, tag: "y" });
    const got = await consumeAll(station, 3);
    expect(got.map((m) => m.schema)).toEqual([`${name}@1`, `${name}@2`, `${name}@2`]);
    expect(await Promise.all(got.map((m) => m.decode()))).toEqual([{ id: 1 }, { id: 3, tag: "x" }, { id: 4, tag: "y" }]);
  });
});

/**
 * One evolution per case: versions registered in order under `mode`; the last is accepted or
 * refused (with the rule and the version it breaks against).
 */
interface EvolutionCase {
  mode: SchemaCompatibility;
  versions: unknown[][];
  ok: boolean;
  rule?: string;
  against?: number;
}

const TAG_DEFAULT = { name: "tag", type: "string", default: "none" };
const TAG = { name: "tag", type: "string" };
const AVRO_CASES: EvolutionCase[] = [
  // Adding a field with a default is compatible both ways.
  ...(["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"] as const).map(
    (mode): EvolutionCase => ({ mode, versions: [[ID], [ID, TAG_DEFAULT]], ok: true }),
  ),
  // Adding a field without a default: new readers cannot read old data.
  { mode: "BACKWARD", versions: [[ID], [ID, TAG]], ok: false, rule: "avro.field-added-without-default", against: 1 },
  { mode: "FORWARD", versions: [[ID], [ID, TAG]], ok: true },
  { mode: "FULL", versions: [[ID], [ID, TAG]], ok: false, rule: "avro.field-added-without-default", against: 1 },
  { mode: "NONE", versions: [[ID], [ID, TAG]], ok: true },
  // Removing a field without a default: old readers cannot read new data.
  { mode: "BACKWARD", versions: [[ID, TAG], [ID]], ok: true },
  { mode: "FORWARD", versions: [[ID, TAG], [ID]], ok: false, rule: "avro.field-removed-without-default", against: 1 },
  // The transitive modes look past the latest version.
  { mode: "BACKWARD", versions: [[ID], [ID, TAG_DEFAULT], [ID, TAG]], ok: true },
  {
    mode: "BACKWARD_TRANSITIVE",
    versions: [[ID], [ID, TAG_DEFAULT], [ID, TAG]],
    ok: false,
    rule: "avro.field-added-without-default",
    against: 1,
  },
  { mode: "FORWARD", versions: [[ID, TAG], [ID, TAG_DEFAULT], [ID]], ok: true },
  {
    mode: "FORWARD_TRANSITIVE",
    versions: [[ID, TAG], [ID, TAG_DEFAULT], [ID]],
    ok: false,
    rule: "avro.field-removed-without-default",
    against: 1,
  },
  { mode: "FULL", versions: [[ID], [ID, TAG_DEFAULT], [ID, TAG]], ok: true },
  {
    mode: "FULL_TRANSITIVE",
    versions: [[ID], [ID, TAG_DEFAULT], [ID, TAG]],
    ok: false,
    rule: "avro.field-added-without-default",
    against: 1,
  },
  // A type Avro cannot promote breaks every mode but NONE.
  { mode: "FULL", versions: [[ID], [{ name: "id", type: "string" }]], ok: false, rule: "avro.type-changed", against: 1 },
  { mode: "NONE", versions: [[ID], [{ name: "id", type: "string" }]], ok: true },
];

describe("compatibility modes", () => {
  it("an Avro schema evolves under each mode as the table in docs/schemas.md says", async () => {
    for (const c of AVRO_CASES) {
      const name = uniqueName("ev");
      const label = `${c.mode}: ${JSON.stringify(c.versions)}`;
      const all = c.versions.map((fields) => record(fields));
      for (const [i, definition] of all.slice(0, -1).entries()) {
        const r = await client.schemas.create({ name, type: "avro", definition, compatibility: c.mode });
        expect(r.version, label).toBe(i + 1);
      }
      const last = client.schemas.create({ name, type: "avro", definition: all.at(-1)! });
      if (c.ok) {
        expect((await last).version, label).toBe(all.length);
        continue;
      }
      const e = await failure(last);
      expect(e.code, label).toBe("SCHEMA_INCOMPATIBLE");
      expect(e.details, label).toMatchObject({ mode: c.mode });
      const changes = e.details!["changes"] as { rule: string; version: number }[];
      expect(changes, label).toContainEqual(expect.objectContaining({ rule: c.rule, version: c.against }));
    }
  });

  it("normalizes the first release's lowercase names, refuses unknown ones, and changes the mode with the same definition", async () => {
    const name = uniqueName("m");
    const def = JSON.stringify({ type: "object" });
    expect(await client.schemas.create({ name, type: "json", definition: def, compatibility: "forward" })).toMatchObject({
      compatibility: "FORWARD",
    });
    expect(await client.schemas.create({ name, type: "json", definition: def, compatibility: "FULL_TRANSITIVE" })).toMatchObject({
      version: 1,
      created: false,
      compatibility: "FULL_TRANSITIVE",
    });
    const bad = await failure(client.schemas.create({ name, type: "json", definition: def, compatibility: "sideways" as "NONE" }));
    expect(bad).toMatchObject({ code: "INVALID_ARGUMENT", details: { field: "compatibility" } });
    expect(bad.message).toContain("BACKWARD_TRANSITIVE");
    expect((await client.schemas.list()).find((s) => s.name === name)?.compatibility).toBe("FULL_TRANSITIVE");
  });

  it("a JSON Schema under BACKWARD_TRANSITIVE is checked against every earlier version", async () => {
    // Open models: dropping `a` and declaring it again with another type passes against the
    // latest version alone, not against version 1, whose data may hold a string there.
    const v = (props: Record<string, unknown>) => JSON.stringify({ type: "object", properties: props });
    const [v1, v2, v3] = [v({ a: { type: "string" } }), v({}), v({ a: { type: "integer" } })];
    const plain = uniqueName("jb");
    await client.schemas.create({ name: plain, type: "json", definition: v1 });
    await client.schemas.create({ name: plain, type: "json", definition: v2 });
    expect((await client.schemas.create({ name: plain, type: "json", definition: v3 })).version).toBe(3);
    const name = uniqueName("jt");
    await client.schemas.create({ name, type: "json", definition: v1, compatibility: "BACKWARD_TRANSITIVE" });
    await client.schemas.create({ name, type: "json", definition: v2 });
    const e = await failure(client.schemas.create({ name, type: "json", definition: v3 }));
    expect(e).toMatchObject({ code: "SCHEMA_INCOMPATIBLE", details: { mode: "BACKWARD_TRANSITIVE" } });
    expect(e.details!["changes"]).toEqual([
      expect.objectContaining({ rule: "json.type-narrowed", path: "/properties/a/type", version: 1 }),
    ]);
  });
});

describe("references", () => {
  const ADDRESS = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "https://schemas.example.com/address.json",
    type: "object",
    properties: { street: { type: "string" }, zip: { $ref: "#/$defs/zip" } },
    required: ["street"],
    $defs: { zip: { type: "string", pattern: "^[0-9]{5}$" } },
  };

  it("resolve by name@version and by $id at registration and on produce, and block deletion while used", async () => {
    const address = uniqueName("address");
    const order = uniqueName("order");
    const station = uniqueName();
    // A $id is unique to one schema: give each test run its own.
    const id = `https://schemas.example.com/${address}.json`;
    await client.schemas.create({ name: address, type: "json", definition: JSON.stringify({ ...ADDRESS, $id: id }) });
    const r = await client.schemas.create({
      name: order,
      type: "json",
      definition: JSON.stringify({
        type: "object",
        properties: { ship: { $ref: `junction:${address}@1` }, bill: { $ref: id }, zip: { $ref: `junction:${address}@1#/$defs/zip` } },
        required: ["ship"],
      }),
    });
    expect(r.version).toBe(1);
    const got = await client.schemas.get(order);
    expect(got.version.prepared.references).toEqual([{ name: address, version: 1 }]);
    expect((await client.schemas.get(address)).meta.referencedBy).toEqual([{ schema: order, version: 1, uses: 1 }]);

    await client.stations.create(station);
    await client.schemas.attach(order, station);
    const p = client.producer({ station });
    await p.send({ ship: { street: "Main", zip: "12345" }, bill: { street: "Side" } });
    const bad = await failure(p.send({ ship: { street: "Main", zip: "1234" }, bill: {} }));
    expect((bad.details!["issues"] as { path: string }[]).map((i) => i.path).sort()).toEqual(["/bill", "/ship/zip"]);

    // A reference that does not resolve is named.
    const missing = await failure(
      client.schemas.create({ name: uniqueName("o"), type: "json", definition: JSON.stringify({ $ref: `junction:${address}@9` }) }),
    );
    expect(missing).toMatchObject({ code: "SCHEMA_INVALID", details: { missingRef: `junction:${address}@9` } });

    // The referenced schema cannot go while order@1 uses it, not even with force.
    for (const force of [false, true]) {
      const e = await failure(client.schemas.delete(address, { force }));
      expect(e).toMatchObject({
        code: "SCHEMA_REFERENCED",
        details: { schema: address, referrers: [{ schema: order, version: 1, uses: 1 }] },
      });
      expect(e.message).toContain(`${order}@1`);
    }
    expect((await client.schemas.get(address)).meta.latest).toBe(1);
    await client.schemas.delete(order, { force: true });
    expect(await client.schemas.delete(address)).toMatchObject({ deleted: true });
    // Its $id is free again.
    await client.schemas.create({ name: uniqueName("address"), type: "json", definition: JSON.stringify({ ...ADDRESS, $id: id }) });
  });

  it("a $id belongs to one schema", async () => {
    const id = `https://schemas.example.com/${uniqueName("x")}.json`;
    await client.schemas.create({ name: uniqueName("a"), type: "json", definition: JSON.stringify({ $id: id, type: "string" }) });
    const e = await failure(
      client.schemas.create({ name: uniqueName("b"), type: "json", definition: JSON.stringify({ $id: id, type: "integer" }) }),
    );
    expect(e).toMatchObject({ code: "SCHEMA_INVALID", details: { path: "/$id", uri: id } });
  });

  it("a .proto imports a registered .proto; produce, decode and deletion follow the import", async () => {
    const money = uniqueName("money");
    const order = uniqueName("order");
    const station = uniqueName();
    await client.schemas.create({
      name: money,
      type: "protobuf",
      definition: 'syntax = "proto3";\npackage common;\nmessage Money { string currency = 1; int64 units = 2; }\n',
    });
    await client.schemas.create({
      name: order,
      type: "protobuf",
      definition: `syntax = "proto3";\npackage shop;\nimport "junction/${money}@1.proto";\nmessage Order { string id = 1; common.Money total = 2; }\n`,
      messageType: "shop.Order",
    });
    await client.stations.create(station);
    await client.schemas.attach(order, station);
    await client.producer({ station }).send({ id: "o1", total: { currency: "EUR", units: "12" } });
    const [m] = await consumeAll(station, 1);
    expect(m!.json()).toEqual({ id: "o1", total: { currency: "EUR", units: "12" } });
    const missing = await failure(
      client.schemas.create({
        name: uniqueName("o"),
        type: "protobuf",
        definition: `syntax = "proto3";\nimport "junction/${money}@2.proto";\nmessage A { common.Money m = 1; }\n`,
      }),
    );
    expect(missing).toMatchObject({ code: "SCHEMA_INVALID", details: { missingRef: `junction/${money}@2.proto` } });
    expect((await failure(client.schemas.delete(money))).code).toBe("SCHEMA_REFERENCED");
  });
});

describe("schema check and diff", () => {
  it("reports the stored messages a stricter candidate would refuse, and registers nothing", async () => {
    const station = uniqueName();
    const other = uniqueName();
    const name = uniqueName("c");
    await client.stations.create(station);
    await client.stations.create(other);
    await client.schemas.create({
      name,
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { id: { type: "integer" }, email: { type: "string" } }, required: ["id"] }),
    });
    await client.schemas.attach(name, station);
    await client.schemas.attach(name, other);
    const p = client.producer({ station });
    await p.send({ id: 1, email: "a@b.co" });
    await p.send({ id: 2 });
    await p.send({ id: 3, email: "c@d.co" });
    await client.producer({ station: other }).send({ id: 4 });
    const stricter = JSON.stringify({
      type: "object",
      properties: { id: { type: "integer" }, email: { type: "string", format: "email" } },
      required: ["id", "email"],
    });
    const r = await client.schemas.check(name, { definition: stricter });
    expect(r.compatibility.mode).toBe("BACKWARD");
    expect(r.compatibility.changes).toContainEqual(expect.objectContaining({ rule: "json.required-added", version: 1 }));
    const mine = r.stations.find((s) => s.station === station)!;
    expect(mine).toMatchObject({ checked: 3, failed: 1, failures: [{ seq: 2, storedWith: `${name}@1` }] });
    expect(mine.failures[0]!.issues[0]).toMatchObject({ keyword: "required" });
    expect(r.stations.find((s) => s.station === other)).toMatchObject({ checked: 1, failed: 1 });
    expect(r).toMatchObject({ checked: 4, failed: 2 });

    // One station, the last message only: it passes.
    const one = await client.schemas.check(name, { definition: stricter, station, sample: 1 });
    expect(one.stations).toEqual([{ station, checked: 1, failed: 0, failures: [] }]);
    // Nothing was registered.
    expect((await client.schemas.get(name)).meta.latest).toBe(1);
    // A station that does not use the schema is refused.
    const notAttached = uniqueName();
    await client.stations.create(notAttached);
    expect((await failure(client.schemas.check(name, { definition: stricter, station: notAttached }))).code).toBe("INVALID_ARGUMENT");
  });

  it("reads the last N stored messages in chunks, counts every failure and lists the first 20", async () => {
    const station = uniqueName();
    const name = uniqueName("c");
    await client.stations.create(station);
    await client.schemas.create({ name, type: "json", definition: JSON.stringify({ type: "object" }) });
    await client.schemas.attach(name, station);
    const p = client.producer({ station });
    await p.sendBatch(range(1, 81).map((n) => ({ payload: { n } })));
    const r = await client.schemas.check(name, { definition: JSON.stringify({ type: "object", required: ["m"] }), sample: 70 });
    expect(r).toMatchObject({ sample: 70, checked: 70, failed: 70 });
    expect(r.stations[0]!.failures.map((f) => f.seq)).toEqual(range(11, 31));
  });

  it("checks Avro messages by whether the candidate can read the version they were written with", async () => {
    const station = uniqueName();
    const name = uniqueName("ac");
    await client.stations.create(station);
    await client.schemas.create({ name, type: "avro", definition: record([ID]) });
    await client.schemas.attach(name, station);
    await client.producer({ station }).send({ id: 1 });
    const ok = await client.schemas.check(name, { definition: record([ID, TAG_DEFAULT]) });
    expect(ok).toMatchObject({ checked: 1, failed: 0, compatibility: { changes: [] } });
    const notReadable = await client.schemas.check(name, { definition: record([ID, TAG]) });
    expect(notReadable.stations[0]!.failures[0]).toMatchObject({ seq: 1, storedWith: `${name}@1` });
    expect(notReadable.stations[0]!.failures[0]!.issues[0]).toMatchObject({ keyword: "avro.field-added-without-default" });
  });

  it("diffs two versions with the rule each change triggers and the modes it breaks", async () => {
    const name = uniqueName("d");
    await client.schemas.create({
      name,
      type: "json",
      compatibility: "NONE",
      definition: JSON.stringify({ type: "object", properties: { colour: { enum: ["red", "green"] } } }),
    });
    await client.schemas.create({
      name,
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { colour: { enum: ["red", "green", "blue"] } }, required: ["colour"] }),
    });
    const d = await client.schemas.diff(name, 1, 2);
    expect(d).toMatchObject({ name, type: "json", from: 1, to: 2 });
    expect(d.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: "json.enum-value-added", breaks: ["FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"] }),
        expect.objectContaining({ rule: "json.required-added", breaks: ["BACKWARD", "BACKWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"] }),
      ]),
    );
    expect((await client.schemas.diff(name, 2, 2)).changes).toEqual([]);
    expect((await failure(client.schemas.diff(name, 1, 3))).code).toBe("SCHEMA_VERSION_NOT_FOUND");
  });

  it("returns the engine's warnings on create, and accepts a legal schema ajv's strict mode refused", async () => {
    const r = await client.schemas.create({
      name: uniqueName("w"),
      type: "json",
      definition: JSON.stringify({ type: "object", properties: { a: { type: "string", maxLenght: 3 } }, then: { required: ["a"] } }),
    });
    expect(r.created).toBe(true);
    expect(r.warnings.some((w) => w.includes("maxLenght") && w.includes("maxLength"))).toBe(true);
    expect(r.warnings.some((w) => w.includes('"then"'))).toBe(true);
  });
});
