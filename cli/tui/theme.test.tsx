import { describe, expect, it, vi } from "vitest";

// Colour output needs a colour level even though the test's stdout is no terminal.
vi.hoisted(() => {
  process.env["FORCE_COLOR"] = "1";
});

const { render } = await import("ink-testing-library");
const { OverviewScreen } = await import("./screens/overview.js");
const { ThemeProvider, themeFromEnv } = await import("./theme.js");
const { stationRow } = await import("./model.js");
const { group, station } = await import("../../test/fakes/tui.js");

const rows = [stationRow({ station: station("orders"), groups: [group("orders", "g")], deadLetters: 3 })];
// eslint-disable-next-line no-control-regex
const COLOUR = /\u001b\[(3[0-9]|9[0-7])m/;

describe("theme", () => {
  it("reads NO_COLOR: set and not empty means no colour", () => {
    expect(themeFromEnv({}).color).toBe(true);
    expect(themeFromEnv({ NO_COLOR: "" }).color).toBe(true);
    expect(themeFromEnv({ NO_COLOR: "1" }).color).toBe(false);
  });

  it("colours problems, and leaves them readable without colour under NO_COLOR", () => {
    const coloured = render(
      <ThemeProvider theme={themeFromEnv({})}>
        <OverviewScreen rows={rows} width={100} height={20} />
      </ThemeProvider>,
    ).lastFrame()!;
    expect(coloured).toMatch(COLOUR);
    const plain = render(
      <ThemeProvider theme={themeFromEnv({ NO_COLOR: "1" })}>
        <OverviewScreen rows={rows} width={100} height={20} />
      </ThemeProvider>,
    ).lastFrame()!;
    expect(plain).not.toMatch(COLOUR);
    expect(plain).toContain("!! orders");
    expect(plain).toContain("orders: 3 dead letters");
  });
});
