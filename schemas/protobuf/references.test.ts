import { describe, expect, it } from "vitest";
import { loadSchema, prepareSchema, protoImportPath, schemaReferences } from "../index.js";
import type { ReferencedSchema } from "../index.js";

const MONEY = 'syntax = "proto3";\npackage common;\nmessage Money { int64 units = 1; string currency = 2; }\n';

describe("Protobuf imports of registered schemas", () => {
  it("a .proto imports junction/<name>@<version>.proto; the reference is recorded and the types resolve", async () => {
    expect(protoImportPath("money", 2)).toBe("junction/money@2.proto");
    const money = await prepareSchema({ type: "protobuf", definition: MONEY });
    const order = `syntax = "proto3";\npackage shop;\nimport "junction/money@2.proto";\nmessage Order { string id = 1; common.Money total = 2; }\n`;
    expect(schemaReferences({ type: "protobuf", definition: order })).toEqual([{ kind: "version", name: "money", version: 2 }]);
    const references: ReferencedSchema[] = [{ name: "money", version: 2, prepared: money }];
    const p = await prepareSchema({ type: "protobuf", definition: order, messageType: "Order" }, { references });
    expect(p.references).toEqual([{ name: "money", version: 2 }]);
    const s = loadSchema(p); // the descriptor set carries the imported file
    const bytes = s.encode({ id: "o1", total: { units: "12", currency: "EUR" } });
    expect(s.decode(bytes)).toEqual({ id: "o1", total: { units: "12", currency: "EUR" } });
  });

  it("imports of imports are written too and recorded", async () => {
    const money = await prepareSchema({ type: "protobuf", definition: MONEY });
    const lineDef = `syntax = "proto3";\npackage shop;\nimport "junction/money@1.proto";\nmessage Line { string sku = 1; common.Money price = 2; }\n`;
    const line = await prepareSchema(
      { type: "protobuf", definition: lineDef },
      { references: [{ name: "money", version: 1, prepared: money }] },
    );
    const all: ReferencedSchema[] = [
      { name: "line", version: 4, prepared: line },
      { name: "money", version: 1, prepared: money },
    ];
    const order = `syntax = "proto3";\npackage shop;\nimport "junction/line@4.proto";\nmessage Order { repeated Line lines = 1; }\n`;
    const p = await prepareSchema({ type: "protobuf", definition: order, messageType: "shop.Order" }, { references: all });
    expect(p.references).toEqual([
      { name: "line", version: 4 },
      { name: "money", version: 1 },
    ]);
  });

  it("refuses an import that was not supplied, or that is not a .proto schema", async () => {
    const order = `syntax = "proto3";\nimport "junction/money@3.proto";\nmessage Order { common.Money total = 1; }\n`;
    await expect(prepareSchema({ type: "protobuf", definition: order })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { missing: { name: "money", version: 3 } },
    });
    const json = await prepareSchema({ type: "json", definition: "{}" });
    await expect(
      prepareSchema({ type: "protobuf", definition: order }, { references: [{ name: "money", version: 3, prepared: json }] }),
    ).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
      details: { reference: "money@3" },
    });
  });
});
