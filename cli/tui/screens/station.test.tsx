import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { group, renderTui, station, until, KEY } from "../../../test/fakes/tui.js";
import { groupRow } from "../model.js";
import { StationScreen, type BrowsedMessage } from "./station.js";

const info = station("orders", {
  schema: { name: "order", version: "latest" },
  functions: [
    { name: "enrich", version: 2, inputs: {} },
    { name: "mask", version: "latest", inputs: {} },
  ],
});
const groups = [
  groupRow(group("orders", "audit")),
  groupRow(
    group("orders", "billing", { pending: 3, unacked: 2, redelivered: 5, deadLettered: 4, oldestUnackedAgeMs: 95_000, membersOnline: 2 }),
  ),
  groupRow(group("orders", "search", { pending: 40, membersOnline: 0 })),
];
const messages: BrowsedMessage[] = [
  {
    seq: 10,
    time: "2025-01-01T10:00:10.000Z",
    subject: "jn.st.orders.msg",
    headers: { "Jn-Schema": "order@2" },
    size: 20,
    payload: '{\n  "id": 10,\n  "sku": "A-1"\n}',
    decodedAs: "order@2",
  },
  {
    seq: 9,
    time: "2025-01-01T10:00:09.000Z",
    subject: "jn.st.orders.msg",
    headers: {},
    size: 18,
    payload: '{\n  "id": 9\n}',
    decodedAs: "json",
  },
];

describe("StationScreen", () => {
  it("shows the station, its schema and functions, and groups worst first", () => {
    const f = render(<StationScreen station={info} groups={groups} width={100} height={34} />).lastFrame()!;
    expect(f).toContain("Station orders");
    expect(f).toContain("schema: order@latest (follows new versions)   functions: enrich@2 → mask@latest");
    expect(f).toMatch(/GROUP\s+PENDING\s+UNACKED\s+REDELIV\s+DEAD\s+OLDEST\s+MEMBERS/);
    expect(f).toMatch(/› !! billing\s+3\s+2\s+5\s+4\s+1m35s\s+2/);
    expect(f.indexOf("billing")).toBeLessThan(f.indexOf("search"));
    expect(f.indexOf("search")).toBeLessThan(f.indexOf("audit"));
    expect(f).toContain("billing: ack time 30s, max deliveries 10; 4 dead-lettered; unacked past ack time; 5 redelivered");
  });

  it("opens the message browser on tab and shows the decoded payload of the selected message", async () => {
    const onBrowse = vi.fn();
    const { lastFrame, press, rerender } = renderTui(
      <StationScreen station={info} groups={groups} width={100} height={40} onBrowse={onBrowse} />,
    );
    await press(KEY.tab, () => {
      expect(onBrowse).toHaveBeenCalledTimes(1);
      expect(lastFrame()).toContain("● Messages (latest 0");
    });
    rerender(<StationScreen station={info} groups={groups} width={100} height={40} onBrowse={onBrowse} messages={messages} />);
    const f = await until(() => {
      const f = lastFrame()!;
      expect(f).toContain("● Messages (latest 2");
      return f;
    });
    expect(f).toMatch(/› #10\s+10:00:10\s+\{ "id": 10, "sku": "A-1" \}/);
    expect(f).toContain("seq 10, 20 bytes, order@2");
    expect(f).toContain('  "sku": "A-1"');
    await press("j", () => expect(lastFrame()).toContain("seq 9, 18 bytes, json"));
    await press("r", () => expect(onBrowse).toHaveBeenCalledTimes(2));
  });

  it("enter on a group opens its dead letters, x the station's", async () => {
    const onDeadLetters = vi.fn();
    const { press } = renderTui(<StationScreen station={info} groups={groups} width={100} height={34} onDeadLetters={onDeadLetters} />);
    await press(KEY.enter, () => expect(onDeadLetters).toHaveBeenLastCalledWith("billing"));
    await press("x", () => expect(onDeadLetters).toHaveBeenLastCalledWith());
  });

  it("z replays the selected group from the station's first message, after a confirmation; Z skips to the latest", async () => {
    const onReset = vi.fn(async (g: string, to: { seq: number } | { latest: true }) => `group ${g} reset to ${JSON.stringify(to)}`);
    const { lastFrame, press } = renderTui(<StationScreen station={info} groups={groups} width={120} height={34} onReset={onReset} />);
    // The worst group (billing) is selected first.
    await press("z", () => expect(lastFrame()).toContain("Reset group billing to re-read from #1?"));
    expect(onReset).not.toHaveBeenCalled();
    await press("y", () => expect(lastFrame()).toContain('group billing reset to {"seq":1}'));
    expect(onReset).toHaveBeenCalledWith("billing", { seq: 1 });
    await press("Z", () => expect(lastFrame()).toContain("to the latest message"));
    await press("n", () => expect(lastFrame()).toContain("cancelled"));
    expect(onReset).toHaveBeenCalledTimes(1);
  });

  it("z in the message browser replays from the selected message", async () => {
    const onReset = vi.fn(async () => "done");
    const { lastFrame, press } = renderTui(
      <StationScreen station={info} groups={groups} messages={messages} width={120} height={34} onReset={onReset} />,
    );
    await press(KEY.tab, () => expect(lastFrame()).toContain("seq 10"));
    await press("j", () => expect(lastFrame()).toContain("seq 9, 18 bytes"));
    await press("z", () => expect(lastFrame()).toContain("re-read from #9?"));
    await press("y", () => expect(onReset).toHaveBeenCalledWith("billing", { seq: 9 }));
  });

  it("on a partitioned station shows the partitions, who reads which, keys being retried, and delayed messages waiting", () => {
    const keyed = station("orders", {
      config: { ...info.config, partitions: 4 },
      state: { messages: 12, bytes: 2048, firstSeq: 1, lastSeq: 12, consumers: 4, delayed: 3 },
    });
    const part = (partition: number, o: Partial<{ unacked: number; redelivered: number }> = {}) => ({
      partition,
      pending: 1,
      unacked: 0,
      waiting: 1,
      redelivered: 0,
      ...o,
    });
    const g = groupRow(
      group("orders", "work", {
        membersOnline: 2,
        partitions: [part(0), part(1, { unacked: 1, redelivered: 2 }), part(2), part(3)],
        members: [
          { id: "aaaaaaaa-1111", partitions: [0, 2], lastSeen: "2025-01-01T00:00:00.000Z" },
          { id: "bbbbbbbb-2222", partitions: [1], lastSeen: "2025-01-01T00:00:00.000Z", retrying: ["customer-7"] },
        ],
      }),
    );
    const f = render(<StationScreen station={keyed} groups={[g]} width={140} height={34} />).lastFrame()!;
    expect(f).toContain("12 msgs (3 delayed, waiting)");
    expect(f).toContain("4 partitions");
    expect(f).toContain(
      "partitions: 4 partitions over 2 members — aaaaaaaa: 0,2 · bbbbbbbb: 1; keys retrying: customer-7; redelivered: 1; no member: 3",
    );
    expect(f).toContain("1 key being retried (their later messages wait)");
  });
});
