import { describe, expect, it } from "vitest";
import { checkCompatibility, prepareSchema } from "../index.js";
import type { BreakingChange, CompatibilityMode, PreparedSchema } from "../index.js";

const prep = (body: string, messageType = "Order"): Promise<PreparedSchema> =>
  prepareSchema({ type: "protobuf", definition: `syntax = "proto3";\npackage shop;\n${body}\n`, messageType });

const BASE = `
message Order {
  string id = 1;
  int64 total = 2;
  repeated Line lines = 3;
  Status status = 4;
  oneof payment { string card = 5; string iban = 6; }
}
message Line { string sku = 1; int32 qty = 2; }
enum Status { STATUS_UNSPECIFIED = 0; STATUS_PAID = 1; STATUS_SHIPPED = 2; }
`;

async function diff(next: string, mode: CompatibilityMode = "backward", messageType = "Order"): Promise<BreakingChange[]> {
  return checkCompatibility(mode, await prep(BASE), await prep(next, messageType));
}
const rules = (cs: BreakingChange[]): string[] => cs.map((c) => c.rule).sort();

describe("Protobuf compatibility", () => {
  it("adding a field is compatible in every mode; none never breaks", async () => {
    const added = BASE.replace("string id = 1;", "string id = 1;\n  string note = 7;");
    for (const mode of ["none", "backward", "forward", "full"] as const) expect(await diff(added, mode)).toEqual([]);
    expect(await diff(BASE.replace("int64 total = 2;", "string total = 2;"), "none")).toEqual([]);
  });

  it("the rules apply alike under backward, forward and full", async () => {
    const changed = BASE.replace("int64 total = 2;", "string total = 2;");
    for (const mode of ["backward", "forward", "full"] as const) {
      expect(rules(await diff(changed, mode)), mode).toEqual(["protobuf.field-type-changed"]);
    }
  });

  it("protobuf.field-type-changed", async () => {
    expect(await diff(BASE.replace("int64 total = 2;", "int32 total = 2;"))).toEqual([
      { path: "shop.Order.total", rule: "protobuf.field-type-changed", message: expect.stringContaining("int64") },
    ]);
  });

  it("protobuf.field-name-changed: a number reused with another name", async () => {
    expect(await diff(BASE.replace("int64 total = 2;", "int64 sum = 2;"))).toEqual([
      { path: "shop.Order.total", rule: "protobuf.field-name-changed", message: expect.stringContaining('"sum"') },
    ]);
  });

  it("protobuf.field-label-changed: singular <-> repeated", async () => {
    expect(rules(await diff(BASE.replace("int64 total = 2;", "repeated int64 total = 2;")))).toEqual(["protobuf.field-label-changed"]);
    expect(rules(await diff(BASE.replace("repeated Line lines = 3;", "Line lines = 3;")))).toEqual(["protobuf.field-label-changed"]);
  });

  it("protobuf.field-number-not-reserved and protobuf.field-name-not-reserved: removed fields must be reserved", async () => {
    const removed = BASE.replace("int64 total = 2;", "");
    expect(rules(await diff(removed))).toEqual(["protobuf.field-name-not-reserved", "protobuf.field-number-not-reserved"]);
    expect(rules(await diff(BASE.replace("int64 total = 2;", "reserved 2;")))).toEqual(["protobuf.field-name-not-reserved"]);
    expect(rules(await diff(BASE.replace("int64 total = 2;", 'reserved "total";')))).toEqual(["protobuf.field-number-not-reserved"]);
    expect(await diff(BASE.replace("int64 total = 2;", 'reserved 2;\n  reserved "total";'))).toEqual([]);
    // A range covers several numbers; names still have to be listed one by one.
    const ranged = BASE.replace("int64 total = 2;", 'reserved 2 to 4;\n  reserved "total";')
      .replace("repeated Line lines = 3;", "")
      .replace("Status status = 4;", "");
    expect((await diff(ranged)).map((c) => `${c.rule} ${c.path}`).sort()).toEqual([
      "protobuf.field-name-not-reserved shop.Order.lines",
      "protobuf.field-name-not-reserved shop.Order.status",
    ]);
  });

  it("protobuf.reserved-number-reused and protobuf.reserved-name-reused", async () => {
    const v1 = await prep('message Order { string id = 1; reserved 2; reserved "total"; }');
    const byNumber = await prep("message Order { string id = 1; int64 amount = 2; }");
    const byName = await prep("message Order { string id = 1; int64 total = 3; }");
    expect(rules(checkCompatibility("backward", v1, byNumber))).toEqual(["protobuf.reserved-number-reused"]);
    expect(rules(checkCompatibility("backward", v1, byName))).toEqual(["protobuf.reserved-name-reused"]);
  });

  it("protobuf.message-type-changed", async () => {
    const renamed = BASE.replace("message Order {", "message Purchase {");
    expect(await diff(renamed, "backward", "Purchase")).toEqual([
      { path: "shop.Purchase", rule: "protobuf.message-type-changed", message: expect.stringContaining("shop.Order") },
    ]);
  });

  it("recurses into message fields, with the nested path", async () => {
    expect(await diff(BASE.replace("int32 qty = 2;", "string qty = 2;"))).toEqual([
      { path: "shop.Line.qty", rule: "protobuf.field-type-changed", message: expect.any(String) },
    ]);
  });

  it("a message field that changes its message type is a type change", async () => {
    const other = BASE.replace("repeated Line lines = 3;", "repeated Item lines = 3;") + "message Item { string sku = 1; }";
    expect(rules(await diff(other))).toEqual(["protobuf.field-type-changed"]);
  });

  it("protobuf.enum-value-removed and protobuf.enum-value-name-changed", async () => {
    expect(await diff(BASE.replace(" STATUS_SHIPPED = 2;", ""))).toEqual([
      { path: "shop.Status.STATUS_SHIPPED", rule: "protobuf.enum-value-removed", message: expect.any(String) },
    ]);
    expect(await diff(BASE.replace(" STATUS_SHIPPED = 2;", " reserved 2;"))).toEqual([]);
    expect(rules(await diff(BASE.replace("STATUS_SHIPPED = 2;", "STATUS_SENT = 2;")))).toEqual(["protobuf.enum-value-name-changed"]);
  });

  it("protobuf.field-oneof-changed", async () => {
    const moved = BASE.replace(
      "oneof payment { string card = 5; string iban = 6; }",
      "string card = 5;\n  oneof payment { string iban = 6; }",
    );
    expect(await diff(moved)).toEqual([{ path: "shop.Order.card", rule: "protobuf.field-oneof-changed", message: expect.any(String) }]);
  });
});
