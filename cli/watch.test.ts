import { describe, expect, it } from "vitest";
import { JunctionError } from "../core/protocol/index.js";
import { fakeClient, fixtures, RecordingIo, runJunction } from "../test/fakes/cli.js";

const FAKE = ["--url", "nats://fake:1"];

/** A client whose station has one more message at every read. */
function growingStation(errors: Record<number, JunctionError> = {}) {
  let reads = 0;
  return fakeClient({
    stations: {
      get: async () => {
        reads++;
        const e = errors[reads];
        if (e) throw e;
        return { ...fixtures.station, state: { ...fixtures.station.state, messages: reads } };
      },
    },
  });
}

const snapshots = (io: RecordingIo) => io.stdout.match(/^station orders$/gm)?.length ?? 0;

describe("--watch", () => {
  it("without a terminal prints each snapshot after a blank line, every --interval, until Ctrl-C", async () => {
    const client = growingStation();
    const io = new RecordingIo({ client });
    const done = runJunction(io, ...FAKE, "station", "info", "orders", "--watch", "--interval", "500");
    await io.until((x) => snapshots(x) === 1 && x.sleeping.length === 1, "the first snapshot");
    expect(io.sleeping).toEqual([500]);
    io.tick();
    await io.until((x) => snapshots(x) === 2 && x.sleeping.length === 1, "the second snapshot");
    io.tick();
    await io.until((x) => snapshots(x) === 3 && x.sleeping.length === 1, "the third snapshot");
    io.interrupt();
    expect(await done).toBe(0);
    const parts = io.stdout.split("\n\n");
    expect(parts).toHaveLength(3);
    parts.forEach((p, i) => expect(p).toMatch(new RegExp(`^station orders\\n[\\s\\S]*messages: ${i + 1} `)));
    expect(io.stdout).not.toContain("\x1b[");
    expect(io.connects).toHaveLength(1);
    expect(client.closed).toBe(1);
  });

  it("on a terminal clears and redraws under a header with the interval and the time", async () => {
    const io = new RecordingIo({ client: growingStation(), outIsTTY: true, startMs: Date.parse("2026-03-01T10:00:00Z") });
    const done = runJunction(io, ...FAKE, "station", "info", "orders", "-w");
    await io.until((x) => x.sleeping.length === 1, "the first redraw");
    expect(io.sleeping).toEqual([2000]);
    io.tick();
    await io.until((x) => snapshots(x) === 2 && x.sleeping.length === 1, "the second redraw");
    io.interrupt();
    expect(await done).toBe(0);
    const frames = io.stdout.split("\x1b[H\x1b[2J\x1b[3J").slice(1);
    expect(frames).toHaveLength(2);
    expect(frames[0]).toMatch(/^Every 2000 ms: junction station info orders {4}2026-03-01T10:00:00\.000Z\n\nstation orders\n/);
    expect(frames[1]).toMatch(/^Every 2000 ms: junction station info orders {4}2026-03-01T10:00:02\.000Z\n\n[\s\S]*messages: 2 /);
  });

  it("group info --watch -o json prints one JSON document per snapshot", async () => {
    let n = 0;
    const io = new RecordingIo({
      client: fakeClient({ groups: { get: async () => ({ ...fixtures.group, stats: { ...fixtures.group.stats, pending: ++n } }) } }),
    });
    const done = runJunction(io, ...FAKE, "group", "info", "orders", "billing", "--watch", "--interval", "100", "-o", "json");
    await io.until((x) => x.sleeping.length === 1);
    io.tick();
    await io.until((x) => x.stdout.split("\n\n").length === 2 && x.sleeping.length === 1);
    io.interrupt();
    expect(await done).toBe(0);
    expect(io.stdout.split("\n\n").map((p) => (JSON.parse(p) as typeof fixtures.group).stats.pending)).toEqual([1, 2]);
  });

  it("shows an error a retry can fix and goes on; another error ends the watch with exit 1", async () => {
    const io = new RecordingIo({
      client: growingStation({
        2: new JunctionError("GATEWAY_UNAVAILABLE", "no gateway answered"),
        4: new JunctionError("STATION_NOT_FOUND", "station 'orders' not found"),
      }),
    });
    const done = runJunction(io, ...FAKE, "station", "info", "orders", "--watch");
    await io.until((x) => x.sleeping.length === 1);
    io.tick();
    await io.until((x) => x.stdout.includes("error GATEWAY_UNAVAILABLE") && x.sleeping.length === 1);
    expect(io.stdout).toContain("\nerror GATEWAY_UNAVAILABLE: no gateway answered (trying again in 2000 ms)\n");
    io.tick();
    await io.until((x) => snapshots(x) === 2 && x.sleeping.length === 1);
    io.tick();
    expect(await done).toBe(1);
    expect(io.stderr).toBe("error STATION_NOT_FOUND: station 'orders' not found\n");
  });

  it("Ctrl-C during a request ends the watch without waiting for it", async () => {
    let asked!: () => void;
    const requested = new Promise<void>((r) => (asked = r));
    const client = fakeClient({
      stations: {
        get: () => {
          asked();
          return new Promise(() => {}); // never answers
        },
      },
    });
    const io = new RecordingIo({ client });
    const done = runJunction(io, ...FAKE, "station", "info", "orders", "--watch");
    await requested;
    io.interrupt();
    expect(await done).toBe(0);
    expect(io.stdout).toBe("");
    expect(client.closed).toBe(1);
  });

  it("refuses a too short or malformed --interval", async () => {
    const io = new RecordingIo({ client: growingStation() });
    expect(await runJunction(io, ...FAKE, "station", "info", "orders", "--watch", "--interval", "10")).toBe(1);
    expect(io.stderr).toMatch(/--interval must be at least 100 ms \(got 10\)/);
    expect(await runJunction(io, ...FAKE, "group", "info", "a", "b", "--watch", "--interval", "soon")).toBe(1);
    expect(io.stderr).toMatch(/--interval must be an integer \(got 'soon'\)/);
  });
});
