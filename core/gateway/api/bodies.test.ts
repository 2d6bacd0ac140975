import { describe, expect, it } from "vitest";
import { API_REQUEST_SCHEMAS, JunctionError } from "../../protocol/index.js";
import { BodyValidator } from "./bodies.js";

const v: BodyValidator = new BodyValidator();

function refusal(op: string, body: unknown): JunctionError {
  try {
    v.check(op, body);
  } catch (err) {
    if (err instanceof JunctionError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("admin request bodies", () => {
  it("compiles a schema for every operation and accepts good bodies", () => {
    expect(Object.keys(API_REQUEST_SCHEMAS).length).toBeGreaterThan(30);
    v.check("station.create", { name: "orders", config: { maxMessages: 5 } });
    v.check("dls.resend", { id: "poison:orders:1:g" });
    v.check("dls.resend", { filter: { station: "orders", reason: "poison" } });
    v.check("schema.get", { name: "s", version: "latest" });
    v.check("ping", {});
  });

  it("names the path of a wrong type, a missing field and an unknown field", () => {
    expect(refusal("station.create", { name: 42 })).toMatchObject({ code: "INVALID_ARGUMENT", details: { path: "name", keyword: "type" } });
    expect(refusal("group.create", { station: "s" })).toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { path: "group", keyword: "required" },
    });
    const unknown = refusal("station.get", { name: "s", colour: "red" });
    expect(unknown.details).toMatchObject({ path: "colour", keyword: "additionalProperties" });
    expect(unknown.message).toMatch(/'colour' is not a known field/);
    expect(refusal("function.attach", { name: "f", station: "s", inputs: { a: 1 } }).details).toMatchObject({ path: "inputs.a" });
    expect(refusal("dls.resend", { filter: { station: "s", extra: true } }).details).toMatchObject({ path: "filter.extra" });
  });

  it("refuses a resend that names both or neither of id and filter", () => {
    expect(refusal("dls.resend", {}).message).toMatch(/exactly one/);
    expect(refusal("dls.resend", { id: "x", filter: {} }).message).toMatch(/exactly one/);
  });

  it("refuses an unknown operation and a body that is not an object", () => {
    expect(refusal("station.explode", {})).toMatchObject({ code: "INVALID_ARGUMENT", details: { operation: "station.explode" } });
    expect(refusal("station.list", [])).toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
