import { describe, expect, it } from "vitest";
import { manualClock } from "../support/index.js";
import { MAX_TRACKED, MemberBoard } from "./members.js";

const enc = new TextEncoder();
const say = (b: MemberBoard, subject: string, body: unknown) =>
  b.heard(subject, enc.encode(typeof body === "string" ? body : JSON.stringify(body)));
const SUBJECT = "jn.members.JN_ST_orders.work";

describe("MemberBoard", () => {
  it("tracks members by group with their partitions, forgets them on bye or after the member timeout", () => {
    const clock = manualClock(1_000_000);
    const b = new MemberBoard(clock);
    say(b, SUBJECT, { id: "m2", kind: "hello", parts: [] });
    say(b, SUBJECT, { id: "m1", kind: "beat", parts: [0, 2] });
    say(b, SUBJECT, { id: "m2", kind: "beat", parts: [1, 3] });
    say(b, "jn.members.JN_ST_orders.other", { id: "x", kind: "beat", parts: [0] });
    expect(b.members("JN_ST_orders", "work", 5000)).toEqual([
      { id: "m1", partitions: [0, 2], at: 1_000_000, retrying: [] },
      { id: "m2", partitions: [1, 3], at: 1_000_000, retrying: [] },
    ]);
    // The keys a member is retrying come with its heartbeat (bounded, strings only).
    say(b, SUBJECT, { id: "m2", kind: "beat", parts: [1, 3], retrying: ["k7", 5, "", ...Array.from({ length: 30 }, (_, i) => `x${i}`)] });
    const m2 = b.members("JN_ST_orders", "work", 5000).find((m) => m.id === "m2")!;
    expect(m2.retrying[0]).toBe("k7");
    expect(m2.retrying.length).toBeLessThanOrEqual(20);
    say(b, SUBJECT, { id: "m1", kind: "bye" });
    expect(b.members("JN_ST_orders", "work", 5000).map((m) => m.id)).toEqual(["m2"]);
    clock.advance(5001);
    expect(b.members("JN_ST_orders", "work", 5000)).toEqual([]);
    expect(b.members("JN_ST_orders", "other", 10_000).map((m) => m.id)).toEqual(["x"]);
    expect(b.size).toBe(2);
  });

  it("ignores malformed announcements and bad subjects, and stays bounded under a flood", () => {
    const b = new MemberBoard(manualClock(0));
    for (const junk of [
      "nope",
      "null",
      "7",
      { id: 1, kind: "beat" },
      { id: "", kind: "beat" },
      { id: "x".repeat(65), kind: "beat" },
      { id: "a", kind: "shout" },
    ])
      say(b, SUBJECT, junk);
    say(b, "jn.members.onlythree", { id: "a", kind: "beat" });
    say(b, "jn.other.JN_ST_orders.work", { id: "a", kind: "beat" });
    expect(b.size).toBe(0);
    say(b, SUBJECT, { id: "p", kind: "beat", parts: [1, -1, 2.5, "3", 1e9, 4] });
    expect(b.members("JN_ST_orders", "work", 1000)[0]!.partitions).toEqual([1, 4]);
    for (let i = 0; i < MAX_TRACKED + 10; i++) say(b, SUBJECT, { id: `f${i}`, kind: "hello" });
    expect(b.size).toBe(MAX_TRACKED);
  });
});
