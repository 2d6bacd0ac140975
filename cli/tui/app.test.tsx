import { describe, expect, it, vi } from "vitest";
import { App } from "./app.js";
import { deadLetter, fn, group, renderTui, schema, station, until, KEY } from "../../test/fakes/tui.js";
import type { LinkState, TuiEvent, TuiSource } from "./source.js";

/** An in-memory source whose link and events the test drives. */
function fakeSource() {
  let link: ((s: LinkState) => void) | undefined;
  let event: ((e: TuiEvent) => void) | undefined;
  const dls = [deadLetter("dl-1"), deadLetter("dl-2", { groups: ["audit"] })];
  const source: TuiSource = {
    target: "nats://broker:4222",
    stations: vi.fn(async () => [
      { station: station("orders"), groups: [group("orders", "billing", { unacked: 1 })], deadLetters: dls.length },
      { station: station("calm"), groups: [], deadLetters: 0 },
    ]),
    station: vi.fn(async (name: string) => ({
      station: station(name),
      groups: [group(name, "billing", { unacked: 1 })],
      deadLettersByGroup: { billing: 2 },
    })),
    browse: vi.fn(async () => []),
    dlsList: vi.fn(async (f) => ({ items: dls.filter((d) => !f.group || d.groups.includes(f.group)) })),
    dlsGet: vi.fn(async (id: string) => dls.find((d) => d.id === id)!),
    dlsResend: vi.fn(async () => ({ resent: 1, failed: 0 })),
    dlsDrop: vi.fn(async () => ({ dropped: 1 })),
    schemas: vi.fn(async () => [schema("order")]),
    schemaVersions: vi.fn(async () => [{ version: 1, createdAt: "2025-01-01T00:00:00.000Z" }]),
    schemaDefinition: vi.fn(async () => '{"type":"object"}'),
    functions: vi.fn(async () => [fn("enrich")]),
    functionVersions: vi.fn(async () => []),
    functionSource: vi.fn(async () => ""),
    functionLogs: vi.fn(async () => ({ logs: [], stats: { calls: 0, errors: 0 } })),
    functionQuarantines: vi.fn(async () => []),
    groupReset: vi.fn(async () => 1),
    functionRelease: vi.fn(async () => 0),
    onEvent: (cb) => ((event = cb), () => (event = undefined)),
    onLink: (cb) => ((link = cb), () => (link = undefined)),
    close: vi.fn(async () => {}),
  };
  return { source, dls, link: (s: LinkState) => link?.(s), event: (e: TuiEvent) => event?.(e) };
}

const theme = { color: false };

describe("App", () => {
  it("navigates overview → station → group's dead letters → one dead letter, and back with esc", async () => {
    const f = fakeSource();
    const { lastFrame, press } = renderTui(<App open={async () => f.source} theme={theme} pollMs={60_000} />);
    await until(() => expect(lastFrame()).toContain("› !! orders"));
    expect(lastFrame()).toContain("● live nats://broker:4222");
    await press(KEY.enter, () => expect(lastFrame()).toMatch(/› !! billing\s+0\s+1\s+0\s+2/));
    expect(lastFrame()).toContain("Station orders");
    await press(KEY.enter, () => expect(lastFrame()).toContain("filter: station:orders group:billing"));
    await until(() => expect(lastFrame()).toContain("› dl-1"));
    expect(f.source.dlsList).toHaveBeenLastCalledWith({ station: "orders", group: "billing" }, 200);
    expect(lastFrame()).not.toContain("dl-2");
    await press(KEY.enter, () => expect(lastFrame()).toContain("Delivery history"));
    expect(lastFrame()).toContain("Dead letter dl-1");
    await press(KEY.esc, () => expect(lastFrame()).toContain("Dead letters (1)"));
    await press(KEY.backspace, () => expect(lastFrame()).toContain("Station orders"));
    await press(KEY.esc, () => expect(lastFrame()).toContain("Stations (2)"));
  });

  it("switches screens with 1-4, shows help with ?, and quits with q", async () => {
    const f = fakeSource();
    const onExit = vi.fn();
    const { lastFrame, press } = renderTui(<App open={async () => f.source} theme={theme} pollMs={60_000} onExit={onExit} />);
    await until(() => expect(lastFrame()).toContain("Stations (2)"));
    await press("3", () => expect(lastFrame()).toContain("Schemas (1)"));
    await press("4", () => expect(lastFrame()).toContain("Functions (1)"));
    await press("2", () => expect(lastFrame()).toContain("Dead letters (2)"));
    await press("?", () => expect(lastFrame()).toContain("resend all that match the filter"));
    await press(KEY.esc, () => expect(lastFrame()).toContain("Dead letters (2)"));
    // While the filter line is open, q is text, not quit: quitting closes the source at once,
    // in the same key press that shows the q on the line.
    await press("/", () => expect(lastFrame()).toContain("/ █"));
    await press("q", () => expect(lastFrame()).toContain("/ q█"));
    expect(f.source.close).not.toHaveBeenCalled();
    // A later key is still handled (a quit would have unmounted the App), and by then a quit's
    // onExit would have run.
    await press(KEY.esc, () => expect(lastFrame()).not.toContain("/ q"));
    expect(lastFrame()).toContain("Dead letters (2)");
    expect(onExit).not.toHaveBeenCalled();
    expect(f.source.close).not.toHaveBeenCalled();
    await press("q", () => expect(onExit).toHaveBeenCalled());
    expect(f.source.close).toHaveBeenCalled();
  });

  it("shows a banner while the broker is down and reconnects by itself", async () => {
    const f = fakeSource();
    let attempts = 0;
    const open = async () => {
      if (++attempts < 3) throw Object.assign(new Error("connection refused"), { code: "NATS_UNAVAILABLE" });
      return f.source;
    };
    const { lastFrame } = renderTui(<App open={open} theme={theme} pollMs={60_000} reconnectMs={50} />);
    await until(() => expect(lastFrame()).toContain("BROKER UNREACHABLE (NATS_UNAVAILABLE)"));
    await until(() => expect(lastFrame()).toContain("Stations (2)"));
    expect(lastFrame()).not.toContain("UNREACHABLE");
    f.link("down");
    await until(() => expect(lastFrame()).toContain("BROKER UNREACHABLE (connection lost)"));
    expect(lastFrame()).toContain("○ down");
    f.link("up");
    await until(() => expect(lastFrame()).toContain("● live"));
    expect(lastFrame()).not.toContain("UNREACHABLE");
  });

  it("refreshes at once on a live event and shows it", async () => {
    const f = fakeSource();
    const { lastFrame } = renderTui(<App open={async () => f.source} theme={theme} pollMs={60_000} />);
    await until(() => expect(lastFrame()).toContain("Stations (2)"));
    const calls = vi.mocked(f.source.stations).mock.calls.length;
    f.event({ station: "orders", kind: "dead-lettered", at: Date.now() });
    await until(() => expect(vi.mocked(f.source.stations).mock.calls.length).toBeGreaterThan(calls));
    await until(() => expect(lastFrame()).toContain("last event: dead-lettered on orders"));
  });
});
