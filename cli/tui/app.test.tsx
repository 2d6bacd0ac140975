import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { App } from "./app.js";
import { deadLetter, fn, group, schema, station, tick, KEY } from "../../test/fakes/tui.js";
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
    const { lastFrame, stdin } = render(<App open={async () => f.source} theme={theme} pollMs={60_000} />);
    await vi.waitFor(() => expect(lastFrame()).toContain("› !! orders"));
    expect(lastFrame()).toContain("● live nats://broker:4222");
    stdin.write(KEY.enter);
    await vi.waitFor(() => expect(lastFrame()).toContain("Station orders"));
    expect(lastFrame()).toMatch(/› !! billing\s+0\s+1\s+0\s+2/);
    stdin.write(KEY.enter);
    await vi.waitFor(() => expect(lastFrame()).toContain("filter: station:orders group:billing"));
    expect(f.source.dlsList).toHaveBeenLastCalledWith({ station: "orders", group: "billing" }, 200);
    await vi.waitFor(() => expect(lastFrame()).toContain("› dl-1"));
    expect(lastFrame()).not.toContain("dl-2");
    stdin.write(KEY.enter);
    await vi.waitFor(() => expect(lastFrame()).toContain("Dead letter dl-1"));
    expect(lastFrame()).toContain("Delivery history");
    stdin.write(KEY.esc);
    await vi.waitFor(() => expect(lastFrame()).toContain("Dead letters (1)"));
    stdin.write(KEY.backspace);
    await vi.waitFor(() => expect(lastFrame()).toContain("Station orders"));
    stdin.write(KEY.esc);
    await vi.waitFor(() => expect(lastFrame()).toContain("Stations (2)"));
  });

  it("switches screens with 1-4, shows help with ?, and quits with q", async () => {
    const f = fakeSource();
    const onExit = vi.fn();
    const { lastFrame, stdin } = render(<App open={async () => f.source} theme={theme} pollMs={60_000} onExit={onExit} />);
    await vi.waitFor(() => expect(lastFrame()).toContain("Stations (2)"));
    stdin.write("3");
    await vi.waitFor(() => expect(lastFrame()).toContain("Schemas (1)"));
    stdin.write("4");
    await vi.waitFor(() => expect(lastFrame()).toContain("Functions (1)"));
    stdin.write("2");
    await vi.waitFor(() => expect(lastFrame()).toContain("Dead letters (2)"));
    stdin.write("?");
    await vi.waitFor(() => expect(lastFrame()).toContain("resend all that match the filter"));
    stdin.write(KEY.esc);
    await vi.waitFor(() => expect(lastFrame()).toContain("Dead letters (2)"));
    // While the filter line is open, q is text, not quit.
    stdin.write("/");
    await tick();
    stdin.write("q");
    await tick();
    expect(onExit).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(lastFrame()).toContain("/ q█"));
    stdin.write(KEY.esc);
    await tick();
    stdin.write("q");
    await vi.waitFor(() => expect(onExit).toHaveBeenCalled());
    expect(f.source.close).toHaveBeenCalled();
  });

  it("shows a banner while the broker is down and reconnects by itself", async () => {
    const f = fakeSource();
    let attempts = 0;
    const open = async () => {
      if (++attempts < 3) throw Object.assign(new Error("connection refused"), { code: "NATS_UNAVAILABLE" });
      return f.source;
    };
    const { lastFrame } = render(<App open={open} theme={theme} pollMs={60_000} reconnectMs={50} />);
    await vi.waitFor(() => expect(lastFrame()).toContain("BROKER UNREACHABLE (NATS_UNAVAILABLE)"));
    await vi.waitFor(() => expect(lastFrame()).toContain("Stations (2)"));
    expect(lastFrame()).not.toContain("UNREACHABLE");
    f.link("down");
    await vi.waitFor(() => expect(lastFrame()).toContain("BROKER UNREACHABLE (connection lost)"));
    expect(lastFrame()).toContain("○ down");
    f.link("up");
    await vi.waitFor(() => expect(lastFrame()).not.toContain("UNREACHABLE"));
  });

  it("refreshes at once on a live event and shows it", async () => {
    const f = fakeSource();
    const { lastFrame } = render(<App open={async () => f.source} theme={theme} pollMs={60_000} />);
    await vi.waitFor(() => expect(lastFrame()).toContain("Stations (2)"));
    const calls = vi.mocked(f.source.stations).mock.calls.length;
    f.event({ station: "orders", kind: "dead-lettered", at: Date.now() });
    await vi.waitFor(() => expect(vi.mocked(f.source.stations).mock.calls.length).toBeGreaterThan(calls));
    await vi.waitFor(() => expect(lastFrame()).toContain("last event: dead-lettered on orders"));
  });
});
