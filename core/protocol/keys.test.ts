import { describe, expect, it } from "vitest";
import { JunctionError } from "./errors.js";
import { MAX_KEY_BYTES, assertKey, fnv1a32, keyProblem, messagePartition, messageSubject, partitionOf } from "./keys.js";
import { defaultScope, groupConsumers, parseGroupConsumer, parseStationSubject, partitionConsumer, scopeOf } from "./subjects.js";

describe("ordering keys", () => {
  it("hashes with FNV-1a 32 (reference vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("maps a key to the same partition every time, within range", () => {
    for (let i = 0; i < 500; i++) {
      const p = partitionOf(`k${i}`, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
      expect(partitionOf(`k${i}`, 7)).toBe(p);
    }
    expect(partitionOf("anything", 1)).toBe(0);
  });

  it("spreads keys over partitions", () => {
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 4000; i++) counts[partitionOf(`customer-${i}`, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(700);
  });

  it("refuses empty, too long, non-string and control-character keys", () => {
    expect(keyProblem("order-1")).toBeUndefined();
    expect(keyProblem("é".repeat(MAX_KEY_BYTES / 2))).toBeUndefined();
    expect(keyProblem("é".repeat(MAX_KEY_BYTES / 2 + 1))).toMatch(/bytes/);
    expect(keyProblem("")).toMatch(/empty/);
    expect(keyProblem("a\nb")).toMatch(/control/);
    expect(keyProblem(5)).toMatch(/string/);
    try {
      assertKey("");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(JunctionError);
      expect((err as JunctionError).code).toBe("INVALID_ARGUMENT");
      expect((err as JunctionError).details).toMatchObject({ option: "key" });
    }
  });
});

describe("partition subjects and consumers", () => {
  it("builds and parses partition subjects, partition consumers and their resend subjects", () => {
    const s = scopeOf("acme");
    expect(defaultScope.stationPartition("orders", 3)).toBe("jn.st.orders.part.3");
    expect(parseStationSubject("jn.st.orders.part.3")).toEqual({ tenant: "default", station: "orders", kind: "part", partition: 3 });
    expect(parseStationSubject(s.stationPartition("orders", 0))).toEqual({ tenant: "acme", station: "orders", kind: "part", partition: 0 });
    expect(parseStationSubject("jn.st.orders.part.x")).toBeUndefined();
    expect(parseStationSubject("jn.st.orders.part.01")).toBeUndefined();
    expect(partitionConsumer("billing", 2)).toBe("billing-P2");
    expect(parseGroupConsumer("billing-P2")).toEqual({ group: "billing", partition: 2 });
    expect(parseGroupConsumer("billing-p2")).toEqual({ group: "billing-p2" });
    expect(parseGroupConsumer("billing")).toEqual({ group: "billing" });
    expect(parseStationSubject(defaultScope.stationResend("orders", partitionConsumer("billing", 5)))).toEqual({
      tenant: "default",
      station: "orders",
      kind: "resend",
      group: "billing",
      partition: 5,
    });
    expect(groupConsumers("g", 1)).toEqual(["g"]);
    expect(groupConsumers("g", 3)).toEqual(["g-P0", "g-P1", "g-P2"]);
  });

  it("stores a message on its key's partition, an unkeyed one on its id's", () => {
    expect(messageSubject(defaultScope, "o", 1, "k", "id")).toBe("jn.st.o.msg");
    expect(messageSubject(defaultScope, "o", 4, "k", "id")).toBe(`jn.st.o.part.${partitionOf("k", 4)}`);
    expect(messageSubject(defaultScope, "o", 4, undefined, "id-1")).toBe(messageSubject(defaultScope, "o", 4, undefined, "id-1"));
    const spread = new Set(Array.from({ length: 40 }, () => messagePartition(undefined, undefined, 4)));
    expect(spread.size).toBe(4);
  });
});
