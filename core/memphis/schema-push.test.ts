import { describe, expect, it } from "vitest";
import { noSchema, schemaInit, schemaUpdate, sdkCanCompile } from "./schema-push.js";

const json = (definition: object | string) => ({
  name: "order",
  version: 2,
  type: "json",
  definition: typeof definition === "string" ? definition : JSON.stringify(definition),
});

describe("what the SDK is told about a station's schema", () => {
  it("sends a JSON schema the SDK's ajv chain compiles (draft-07 with formats, 2020-12), as Memphis's SchemaUpdateInit", () => {
    const s = json({ type: "object", properties: { email: { type: "string", format: "email" } } });
    expect(schemaInit(s)).toEqual({
      schema_name: "order",
      active_version: { version_number: 2, descriptor: "", schema_content: s.definition, message_struct_name: "" },
      type: "json",
    });
    expect(
      sdkCanCompile(json({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "array", prefixItems: [{ type: "string" }] })),
    ).toBe(true);
    expect(schemaUpdate(s)).toMatchObject({ UpdateType: 1, init: { schema_name: "order" } });
  });

  it("tells the SDK 'no schema' for what it could not compile (the gateway alone checks then)", () => {
    expect(sdkCanCompile(json("{not json"))).toBe(false);
    expect(sdkCanCompile({ ...json({ $ref: "customer.json" }), references: [{ name: "customer", version: 1 }] })).toBe(false);
    expect(sdkCanCompile(json({ type: "object", properties: { a: { type: "strnig" } } }))).toBe(false);
    expect(schemaInit(json("{not json"))).toEqual(noSchema());
    expect(schemaUpdate(undefined)).toEqual({ UpdateType: 2, init: noSchema() });
  });

  it("sends a Protobuf schema with its message type unless it imports more than Google's well-known types", () => {
    const proto = { name: "o", version: 1, type: "protobuf", messageType: "shop.Order" };
    expect(sdkCanCompile({ ...proto, definition: 'syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\nmessage Order {}' })).toBe(
      true,
    );
    expect(sdkCanCompile({ ...proto, definition: 'syntax = "proto3";\nimport "shop/customer.proto";\nmessage Order {}' })).toBe(false);
    expect(schemaInit({ ...proto, definition: "message Order {}" }).active_version.message_struct_name).toBe("shop.Order");
  });
});
