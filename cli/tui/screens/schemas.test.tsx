import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { renderTui, schema, until, KEY } from "../../../test/fakes/tui.js";
import { SchemasScreen, diffText } from "./schemas.js";

const v1 = '{\n  "type": "object",\n  "required": ["id"]\n}';
const v2 = '{\n  "type": "object",\n  "required": ["id", "sku"]\n}';
const versions = [
  { version: 1, createdAt: "2025-01-01T00:00:00.000Z" },
  { version: 2, createdAt: "2025-01-02T00:00:00.000Z" },
];

describe("SchemasScreen", () => {
  it("lists schemas, versions newest first, the definition and the stations using it", async () => {
    const onSelect = vi.fn();
    const onSelectVersion = vi.fn();
    const { lastFrame } = render(
      <SchemasScreen
        schemas={[schema("order"), schema("audit", { type: "protobuf", latest: 1, usedBy: [] })]}
        versions={versions}
        definition={{ version: 2, text: v2 }}
        previous={{ version: 1, text: v1 }}
        width={100}
        height={30}
        onSelect={onSelect}
        onSelectVersion={onSelectVersion}
      />,
    );
    // The selection is reported from effects after the first render; the frame then shows it.
    await until(() => expect(onSelectVersion).toHaveBeenCalledWith("audit", 2));
    const f = lastFrame()!;
    expect(f).toMatch(/› audit protobuf v1/);
    expect(f).toContain("order json v2");
    expect(f.indexOf("v2  2025-01-02")).toBeLessThan(f.indexOf("v1  2025-01-01"));
    expect(f).toContain('"required": ["id", "sku"]');
    expect(onSelect).toHaveBeenCalledWith("audit");
  });

  it("shows the diff from the version before with v, and moves between panes with tab", async () => {
    const onSelectVersion = vi.fn();
    const { lastFrame, press } = renderTui(
      <SchemasScreen
        schemas={[schema("order")]}
        versions={versions}
        definition={{ version: 2, text: v2 }}
        previous={{ version: 1, text: v1 }}
        width={100}
        height={30}
        onSelectVersion={onSelectVersion}
      />,
    );
    await press("v", () => expect(lastFrame()).toContain("order: diff v1 → v2"));
    const f = lastFrame()!;
    expect(f).toContain('-   "required": ["id"]');
    expect(f).toContain('+   "required": ["id", "sku"]');
    expect(f).toContain("used by: orders");
    // The list pane's title loses its focus mark ("● ") when tab moves to the versions.
    await press(KEY.tab, () => expect(lastFrame()).toMatch(/│ Schemas \(1\)/));
    await press("j", () => expect(lastFrame()).toMatch(/› v1/));
    await until(() => expect(onSelectVersion).toHaveBeenLastCalledWith("order", 1));
  });

  it("diffs definitions line by line", () => {
    expect(diffText("a\nb", "a\nc")).toBe("  a\n- b\n+ c");
  });
});
