/**
 * `junction schema …` commands in-process against a real broker: Avro files, warnings on
 * create, `check` against stored messages, `diff`, `show` with references, and the message
 * files of `validate` (.json array vs .jsonl lines).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JunctionClient } from "../../sdk/index.js";
import { adminCli, type CliResult } from "../harness/cli.js";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";

let broker: TestBroker;
let client: JunctionClient;
let dir: string;
let junction: (...args: string[]) => Promise<CliResult>;

beforeAll(async () => {
  broker = await startBroker();
  client = await broker.client();
  dir = await mkdtemp(join(tmpdir(), "jn-schema-cli-"));
  junction = await adminCli(broker);
});
afterAll(async () => {
  await broker.stop();
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const AVSC = { type: "record", name: "Order", namespace: "shop", fields: [{ name: "id", type: "long" }] };

describe("junction schema", () => {
  it("registers an .avsc file (type from the extension) and shows the warnings of a JSON Schema", async () => {
    const avro = uniqueName("avro");
    const r = await junction("schema", "create", avro, "--file", await file("order.avsc", AVSC));
    expect(r).toMatchObject({ code: 0, out: `schema ${avro} version 1 registered (avro, BACKWARD)\n` });
    const json = uniqueName("json");
    const w = await junction(
      "schema",
      "create",
      json,
      "--file",
      await file("typo.json", { properties: { a: { maxLenght: 2 } } }),
      "--compatibility",
      "full_transitive".toUpperCase(),
    );
    expect(w.code).toBe(0);
    expect(w.out).toContain(`schema ${json} version 1 registered (json, FULL_TRANSITIVE)`);
    expect(w.out).toMatch(/warning: .*maxLenght.*did you mean "maxLength"/);
    const noType = await junction("schema", "create", uniqueName("x"), "--file", await file("order.txt", "{}"));
    expect(noType.code).toBe(1);
    expect(noType.err).toContain("--type");
  });

  it("check reports the stored message a stricter candidate would refuse, with exit code 1; --json for scripts", async () => {
    const station = uniqueName();
    const name = uniqueName("c");
    await client.stations.create(station);
    await client.schemas.create({ name, type: "json", definition: JSON.stringify({ type: "object", required: ["id"] }) });
    await client.schemas.attach(name, station);
    const p = client.producer({ station });
    await p.send({ id: 1, email: "a@b.co" });
    await p.send({ id: 2 });
    const stricter = await file("stricter.json", { type: "object", required: ["id", "email"] });
    const r = await junction("schema", "check", name, "--file", stricter);
    expect(r.code).toBe(1);
    expect(r.out).toContain("breaks BACKWARD compatibility");
    expect(r.out).toContain(`station ${station}: 2 stored messages checked, 1 would be refused`);
    expect(r.out).toMatch(new RegExp(`seq 2 \\(stored with ${name}@1\\): /: must have required property 'email'`));
    expect(r.out).toContain("1 of 2 stored messages would be refused");
    const j = await junction(
      "schema",
      "check",
      name,
      "--file",
      stricter,
      "--station",
      station,
      "--sample",
      "1",
      "--json",
      "--compatibility",
      "NONE",
    );
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({ compatibility: { mode: "NONE", changes: [] }, checked: 1, failed: 1 });
    const looser = await junction("schema", "check", name, "--file", await file("looser.json", { type: "object" }));
    expect(looser.code).toBe(0);
    expect(looser.out).toContain("passes BACKWARD compatibility");
  });

  it("diff shows each change, its rule and the modes it breaks; show lists references", async () => {
    const name = uniqueName("d");
    await client.schemas.create({
      name,
      type: "avro",
      definition: JSON.stringify(AVSC),
    });
    await client.schemas.create({
      name,
      type: "avro",
      definition: JSON.stringify({ ...AVSC, fields: [...AVSC.fields, { name: "note", type: "string", default: "" }] }),
    });
    const d = await junction("schema", "diff", name, "1", "2");
    expect(d.code).toBe(0);
    expect(d.out).toContain(`schema ${name} 1 -> 2 (avro): no change that breaks any compatibility mode`);
    const back = await junction("schema", "diff", name, "2", "1", "--json");
    expect(JSON.parse(back.out)).toMatchObject({ from: 2, to: 1, changes: [] });

    const json = uniqueName("dj");
    await client.schemas.create({ name: json, type: "json", compatibility: "NONE", definition: JSON.stringify({ enum: ["a", "b"] }) });
    await client.schemas.create({ name: json, type: "json", definition: JSON.stringify({ enum: ["a"] }) });
    const t = await junction("schema", "diff", json, "1", "2");
    expect(t.out).toMatch(/\/enum\s+json\.enum-value-removed\s+BACKWARD,BACKWARD_TRANSITIVE,FULL,FULL_TRANSITIVE/);

    const user = uniqueName("u");
    await client.schemas.create({ name: user, type: "json", definition: JSON.stringify({ $ref: `junction:${json}@1` }) });
    expect((await junction("schema", "show", user)).out).toContain(`references: ${json}@1`);
    expect((await junction("schema", "show", json)).out).toContain(`referenced by: ${user}@1 (uses 1)`);
    const del = await junction("schema", "delete", json, "--force");
    expect(del.code).toBe(1);
    expect(del.err).toContain("error SCHEMA_REFERENCED");
  });

  it("validate: a .json file may be one array of messages; in a .jsonl file a line [] is one message; Avro from JSON lines", async () => {
    const arraySchema = await file("arr.json", { type: "array" });
    const lines = await junction("schema", "validate", await file("m.jsonl", "[]\n[1]\n"), "--schema", arraySchema);
    expect(lines).toMatchObject({ code: 0 });
    expect(lines.out).toContain("2/2 valid");
    const asArray = await junction("schema", "validate", await file("m.json", "[[], [1], 3]"), "--schema", arraySchema);
    expect(asArray.code).toBe(1);
    expect(asArray.out).toContain("2/3 valid");

    const avsc = await file("v.avsc", AVSC);
    const avro = await junction(
      "schema",
      "validate",
      await file("a.jsonl", '{"id":1}\n{"id":"x"}\n{"id":2,"extra":1}\n'),
      "--schema",
      avsc,
    );
    expect(avro.code).toBe(1);
    expect(avro.out).toContain("message 1: valid");
    expect(avro.out).toContain("1/3 valid");
  });
});
