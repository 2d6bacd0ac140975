import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { group, renderTui, station, KEY } from "../../../test/fakes/tui.js";
import { stationRow } from "../model.js";
import { OverviewScreen } from "./overview.js";

const rows = [
  stationRow({
    station: station("calm", { state: { messages: 3, bytes: 300, firstSeq: 1, lastSeq: 3, consumers: 1 } }),
    groups: [group("calm", "g")],
    deadLetters: 0,
  }),
  stationRow(
    {
      station: station("orders", { schema: { name: "order", version: 2 }, functions: [{ name: "enrich", version: "latest", inputs: {} }] }),
      groups: [group("orders", "billing", { unacked: 4 })],
      deadLetters: 7,
    },
    { last: { at: 0, lastSeq: 0, acked: 0 }, inRate: 12, outRate: 3, inHistory: [1, 4, 12] },
  ),
  stationRow({ station: station("stuck"), groups: [group("stuck", "idle", { pending: 50, membersOnline: 0 })], deadLetters: 0 }),
];

describe("OverviewScreen", () => {
  it("lists stations worst first with counts, rates, schema and functions", () => {
    const { lastFrame } = render(<OverviewScreen rows={rows} width={140} height={30} />);
    const f = lastFrame()!;
    const order = ["orders", "stuck", "calm"].map((n) => f.indexOf(n + " "));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(f).toMatch(/STATION\s+MSGS\s+BYTES\s+IN\s+IN RATE\s+OUT\s+GROUPS\s+UNACKED\s+DEAD\s+SCHEMA\s+FUNCTIONS/);
    expect(f).toMatch(/!! orders\s+10\s+2\.0 KiB\s+12\/s\s+.*▂▃█\s+3\.0\/s\s+1\s+4\s+7\s+order@2\s+enrich@latest/);
    expect(f).toContain("orders: 7 dead letters");
  });

  it("drops columns on a narrow terminal", () => {
    const f = render(<OverviewScreen rows={rows} width={70} height={20} />).lastFrame()!;
    expect(f).not.toContain("FUNCTIONS");
    expect(f).not.toContain("SCHEMA");
    expect(f).toContain("DEAD");
  });

  it("moves with j/k and arrows and opens the selected station", async () => {
    const onOpen = vi.fn();
    const onDeadLetters = vi.fn();
    const { lastFrame, press } = renderTui(
      <OverviewScreen rows={rows} width={120} height={30} onOpen={onOpen} onDeadLetters={onDeadLetters} />,
    );
    expect(lastFrame()).toMatch(/› !! orders/);
    await press("j", () => expect(lastFrame()).toMatch(/› ! {2}stuck/));
    await press(KEY.down, () => expect(lastFrame()).toMatch(/› {4}calm/));
    await press("k", () => expect(lastFrame()).toMatch(/› ! {2}stuck/));
    await press(KEY.enter, () => expect(onOpen).toHaveBeenCalledWith("stuck"));
    expect(onOpen).toHaveBeenCalledTimes(1);
    await press("x", () => expect(onDeadLetters).toHaveBeenCalledWith("stuck"));
  });

  it("filters by name with /", async () => {
    const { lastFrame, press, type } = renderTui(<OverviewScreen rows={rows} width={120} height={30} />);
    await press("/", () => expect(lastFrame()).toContain("/ █"));
    await type("cal");
    await press(KEY.enter, () => expect(lastFrame()).toContain("filter: cal"));
    const f = lastFrame()!;
    expect(f).toContain("Stations (1)");
    expect(f).not.toContain("orders");
  });
});
