import { describe, expect, it } from "vitest";
import { Health, groupRow, nextRates, parseDlsFilter, formatDlsFilter, sortStations, stationRow } from "./model.js";
import { group, station } from "../../test/fakes/tui.js";

describe("model", () => {
  it("rates a group's problems", () => {
    expect(groupRow(group("o", "ok")).health).toBe(Health.Ok);
    expect(groupRow(group("o", "idle", { pending: 5, membersOnline: 0 }))).toMatchObject({
      health: Health.Warn,
      problems: ["backlog, no members online"],
    });
    expect(groupRow(group("o", "dead", { deadLettered: 3 }))).toMatchObject({ health: Health.Bad, deadLettered: 3 });
    expect(groupRow(group("o", "late", { unacked: 1, oldestUnackedAgeMs: 60_000 })).problems).toContain("unacked past ack time");
    const part = (partition: number, o: object = {}) => ({
      partition,
      pending: 0,
      unacked: 0,
      waiting: 1,
      redelivered: 0,
      member: "p",
      ...o,
    });
    expect(
      groupRow(
        group("o", "keyed", {
          membersOnline: 2,
          partitions: [part(0, { unacked: 1, redelivered: 2 }), part(1, { member: undefined, pending: 4 }), part(2)],
          members: [
            { id: "m1", partitions: [0, 2], lastSeen: "2025-01-01T00:00:00.000Z", retrying: ["k1", "k9"] },
            { id: "m2", partitions: [1], lastSeen: "2025-01-01T00:00:00.000Z" },
          ],
        }),
      ),
    ).toMatchObject({
      health: Health.Warn,
      problems: expect.arrayContaining([
        "2 keys being retried (their later messages wait)",
        "1 of 3 partitions with work and no member",
      ]) as string[],
    });
    // Older gateways without deadLettered in the stats: the DLS stats fill it in.
    expect(groupRow(group("o", "g"), 2).deadLettered).toBe(2);
  });

  it("sorts stations worst first, then by name", () => {
    const rows = [
      stationRow({ station: station("calm"), groups: [group("calm", "g")] }),
      stationRow({ station: station("stuck"), groups: [group("stuck", "g", { pending: 9, membersOnline: 0 })] }),
      stationRow({ station: station("broken"), groups: [group("broken", "g")], deadLetters: 4 }),
      stationRow({ station: station("alpha"), groups: [] }),
    ];
    expect(sortStations(rows).map((r) => r.name)).toEqual(["broken", "stuck", "alpha", "calm"]);
  });

  it("hides the TUI's own browse groups", () => {
    const r = stationRow({ station: station("s"), groups: [group("s", "g"), group("s", "jn-tui-browse-1234", { unacked: 3 })] });
    expect(r.groups).toBe(1);
    expect(r.unacked).toBe(0);
  });

  it("computes rates between samples and keeps a bounded history", () => {
    let r = nextRates(undefined, { at: 1000, lastSeq: 10, acked: 0 });
    expect(r.inRate).toBeUndefined();
    r = nextRates(r, { at: 3000, lastSeq: 30, acked: 10 });
    expect(r).toMatchObject({ inRate: 10, outRate: 5, inHistory: [10] });
    for (let i = 0; i < 40; i++) r = nextRates(r, { at: 4000 + i * 1000, lastSeq: 30, acked: 10 });
    expect(r.inHistory).toHaveLength(30);
  });

  it("parses the dead-letter filter line", () => {
    expect(parseDlsFilter('reason:poison group:billing station:orders "out of stock" sku')).toEqual({
      filter: { reason: "poison", group: "billing", station: "orders", text: "out of stock sku" },
    });
    expect(parseDlsFilter("reason:nope")).toEqual({ error: expect.stringContaining("reason must be one of") });
    expect(formatDlsFilter({ station: "orders", reason: "schema", text: "a b" })).toBe('station:orders reason:schema "a b"');
  });
});
