import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LeasedPull, type LeasedPullHooks, type LeasedPullOptions } from "./leased-pull.js";
import type { Delivery, PullChannel, PullRequest, PullStatus } from "./transport.js";

/** A delivery that records what the member answered. */
class FakeDelivery implements Delivery {
  readonly subject = "jn.st.s.msg";
  readonly data = new Uint8Array();
  readonly timestampNanos = 0;
  readonly pinId: string | undefined = undefined;
  readonly sent: string[] = [];
  settled = false;
  readonly seq: number;
  readonly deliveryCount: number;
  constructor(seq: number, deliveryCount = 1) {
    this.seq = seq;
    this.deliveryCount = deliveryCount;
  }
  headers() {
    return {};
  }
  #final(what: string) {
    if (this.settled) return;
    this.settled = true;
    this.sent.push(what);
  }
  ack() {
    this.#final("ack");
  }
  async ackAndWait() {
    this.#final("ack");
    return true;
  }
  nak(delayMs?: number) {
    this.#final(delayMs ? `nak ${delayMs}` : "nak");
  }
  working() {
    if (!this.settled) this.sent.push("wpi");
  }
  timeout() {
    if (!this.settled) this.sent.push("timeout");
  }
  term(reason?: string) {
    this.#final(reason ? `term ${reason}` : "term");
  }
}

function harness(o: Partial<LeasedPullOptions> = {}, hooks: Partial<LeasedPullHooks> = {}) {
  const requests: PullRequest[] = [];
  let message: (d: Delivery) => void = () => {};
  let status: (s: PullStatus) => void = () => {};
  const late: ((d: Delivery) => void)[] = [];
  let probes = 0;
  let ended: string | undefined | null = null;
  const channel: PullChannel = {
    request: (r) => requests.push(r),
    close: async (onLate) => {
      late.push(onLate);
    },
  };
  const pull = new LeasedPull(
    (m, s) => {
      message = m;
      status = s;
      return channel;
    },
    async () => {
      probes++;
    },
    {
      window: 10,
      leaseMs: 4000,
      deadlineMs: () => 30_000,
      maxDeliveries: 3,
      expiresMs: 10_000,
      heartbeatMs: 2000,
      ordered: false,
      now: () => Date.now(),
      ...o,
    },
    { available: () => {}, ended: (r) => (ended = r), ...hooks },
  );
  pull.start();
  const deliver = (d: FakeDelivery) => {
    message(d);
    return d;
  };
  return {
    pull,
    requests,
    deliver,
    status: (s: PullStatus) => status(s),
    lateHandler: () => late[0]!,
    probes: () => probes,
    ended: () => ended,
    asked: () => requests.reduce((n, r) => n + r.batch, 0),
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("flow control", () => {
  it("asks for no more than its window and for more only as messages are settled", () => {
    const h = harness({ window: 10 });
    expect(h.requests).toEqual([expect.objectContaining({ batch: 10 })]);
    for (let i = 1; i <= 10; i++) h.deliver(new FakeDelivery(i));
    expect(h.pull.held).toBe(10);
    // A slow application: nothing settled, so nothing more is asked for, however long it takes.
    vi.advanceTimersByTime(60_000);
    expect(h.asked()).toBe(10);
    // While messages wait in the buffer, settling one or two does not send a request yet (a
    // quarter of the window must be free)…
    const a = h.pull.take()!;
    const b = h.pull.take()!;
    h.pull.ack(a);
    h.pull.ack(b);
    vi.advanceTimersByTime(1); // the acks are sent together, then the room asked for
    expect(h.asked()).toBe(10);
    // …a third does, for exactly the free room.
    h.pull.ack(h.pull.take()!);
    vi.advanceTimersByTime(1);
    expect(h.requests.at(-1)).toMatchObject({ batch: 3 });
    expect(h.pull.held + h.pull.outstanding).toBe(10);
  });

  it("gets back the unfilled part of an ended request, and asks again after a reconnect", () => {
    const h = harness({ window: 10 });
    h.deliver(new FakeDelivery(1));
    h.status({ kind: "ended", unfilled: 9, code: 408, description: "Request Timeout" });
    expect(h.requests.at(-1)).toMatchObject({ batch: 9 });
    expect(h.pull.outstanding).toBe(9);
    h.status({ kind: "reconnected" });
    expect(h.requests.at(-1)).toMatchObject({ batch: 9 });
    expect(h.pull.outstanding).toBe(9);
  });

  it("asks again later after a refusal, and at once when a request is taken for lost", () => {
    const h = harness({ window: 4, heartbeatMs: 1000 });
    h.status({ kind: "ended", unfilled: 4, code: 503, description: "No Responders" });
    expect(h.requests).toHaveLength(1);
    vi.advanceTimersByTime(1100);
    expect(h.requests).toHaveLength(2);
    // The server holds the request but sends nothing, not even heartbeats: after two missed
    // heartbeats the request is taken for lost.
    vi.advanceTimersByTime(3600);
    expect(h.requests).toHaveLength(3);
  });

  it("never asks beyond its limit and gives back what comes beyond it", () => {
    const h = harness({ window: 10, limit: 3 });
    expect(h.requests).toEqual([expect.objectContaining({ batch: 3 })]);
    for (let i = 1; i <= 3; i++) h.deliver(new FakeDelivery(i));
    const extra = h.deliver(new FakeDelivery(4));
    expect(extra.sent).toEqual(["nak"]);
    expect(h.pull.exhausted).toBe(true);
  });
});

describe("leases and deadlines", () => {
  it("renews a buffered message while it waits, and starts its deadline when it is handed out", () => {
    const h = harness({ leaseMs: 4000, deadlineMs: () => 6000 });
    const d = h.deliver(new FakeDelivery(1));
    vi.advanceTimersByTime(20_000); // far past the lease and the deadline, still buffered
    expect(d.sent.filter((x) => x === "wpi").length).toBeGreaterThanOrEqual(20_000 / 4000);
    expect(d.sent).not.toContain("timeout");
    const held = h.pull.take()!;
    expect(held.deadline - held.handedAt).toBe(6000);
    vi.advanceTimersByTime(5000);
    expect(d.sent).not.toContain("timeout");
    vi.advanceTimersByTime(1500);
    expect(d.sent.at(-1)).toBe("timeout");
    expect(h.pull.held).toBe(0);
    // A late ack is still sent: it may spare the group a third delivery.
    h.pull.ack(held);
    vi.runOnlyPendingTimers();
    expect(d.sent.at(-1)).toBe("ack");
  });

  it("keeps renewing a handed-out message until its deadline; inProgress starts the deadline again", () => {
    const h = harness({ leaseMs: 1000, deadlineMs: () => 3000 });
    const d = h.deliver(new FakeDelivery(1));
    const held = h.pull.take()!;
    vi.advanceTimersByTime(2500);
    expect(d.sent.filter((x) => x === "wpi").length).toBeGreaterThanOrEqual(6);
    h.pull.inProgress(held);
    vi.advanceTimersByTime(2500);
    expect(d.sent).not.toContain("timeout");
    vi.advanceTimersByTime(1000);
    expect(d.sent.at(-1)).toBe("timeout");
  });

  it("takes each delivery's deadline from its delivery count (backoff)", () => {
    const backoff = [100, 500, 2000];
    const h = harness({ deadlineMs: (dc) => backoff[Math.min(dc, backoff.length) - 1]! });
    h.deliver(new FakeDelivery(1, 1));
    h.deliver(new FakeDelivery(2, 2));
    h.deliver(new FakeDelivery(3, 7));
    expect([h.pull.take()!, h.pull.take()!, h.pull.take()!].map((x) => x.deadline - x.handedAt)).toEqual([100, 500, 2000]);
  });

  it("ordered: renews every held message together, in stream order, also when a redelivery arrives behind", () => {
    const h = harness({ ordered: true, leaseMs: 4000 });
    const order: number[] = [];
    const track = (d: FakeDelivery) => {
      const w = d.working.bind(d);
      d.working = () => {
        order.push(d.seq);
        w();
      };
      return d;
    };
    h.deliver(track(new FakeDelivery(5)));
    h.deliver(track(new FakeDelivery(7)));
    expect(order).toEqual([]);
    h.deliver(track(new FakeDelivery(3, 2))); // a redelivery behind held messages
    expect(order).toEqual([3, 5, 7]);
    order.length = 0;
    vi.advanceTimersByTime(1100);
    expect(order).toEqual([3, 5, 7]);
  });
});

describe("close", () => {
  it("gives back buffered and late messages at once and keeps renewing what the application holds", async () => {
    const h = harness({ leaseMs: 1000, deadlineMs: () => 60_000 });
    const handed = h.deliver(new FakeDelivery(1));
    const buffered = h.deliver(new FakeDelivery(2));
    const held = h.pull.take()!;
    await h.pull.close();
    expect(buffered.sent).toEqual(["nak"]);
    const late = new FakeDelivery(3);
    h.lateHandler()(late);
    expect(late.sent).toEqual(["nak"]);
    vi.advanceTimersByTime(2000);
    expect(handed.sent.filter((x) => x === "wpi").length).toBeGreaterThanOrEqual(2);
    h.pull.ack(held);
    vi.runOnlyPendingTimers();
    expect(handed.sent.at(-1)).toBe("ack");
    expect(h.ended()).toBeUndefined();
    const before = handed.sent.length;
    vi.advanceTimersByTime(5000);
    expect(handed.sent.length).toBe(before);
  });

  it("probes once when it gives back a message at its last delivery and pulls no more", async () => {
    const h = harness({ maxDeliveries: 3, deadlineMs: () => 500 });
    h.deliver(new FakeDelivery(1, 3));
    h.deliver(new FakeDelivery(2, 1));
    h.pull.take();
    await h.pull.close();
    expect(h.probes()).toBe(0);
    vi.advanceTimersByTime(600); // seq 1's deadline passes: given back at its last delivery
    expect(h.probes()).toBe(1);
  });
});

describe("a keyed partition's pull (a window out, handed out by key, retries kept, hand-over in order)", () => {
  /** Everything the deliveries were told, in order, across deliveries. */
  let log: string[] = [];
  class KeyedDelivery extends FakeDelivery {
    readonly key: string | undefined;
    override readonly pinId: string | undefined;
    constructor(seq: number, key: string | undefined, pin?: string, deliveryCount = 1) {
      super(seq, deliveryCount);
      this.key = key;
      this.pinId = pin;
    }
    override headers(): Record<string, string> {
      return this.key === undefined ? {} : { "Jn-Key": this.key };
    }
    override ack() {
      log.push(`ack ${this.seq}`);
      super.ack();
    }
    override nak(delayMs?: number) {
      log.push(`nak ${this.seq}`);
      super.nak(delayMs);
    }
    override term(reason?: string) {
      log.push(`term ${this.seq} ${reason ?? ""}`);
      super.term(reason);
    }
  }
  beforeEach(() => {
    log = [];
  });
  it("holds what arrives in stream order, hands out by key, retries a nak'd message itself and gives it up as poison", async () => {
    let wakes = 0;
    const h = harness({ window: 8, keyed: true, group: "jn", ordered: true, maxDeliveries: 3 }, { available: () => wakes++ });
    const take = () => h.pull.take();
    h.deliver(new KeyedDelivery(3, "a"));
    h.deliver(new KeyedDelivery(1, "a"));
    h.deliver(new KeyedDelivery(2, "b"));
    const one = take()!;
    expect(one.delivery.seq).toBe(1);
    // a is out: b goes, a's later message waits.
    expect(take()!.delivery.seq).toBe(2);
    expect(take()).toBeUndefined();
    // A nak with a delay keeps the message here; a's later message still waits behind it. The
    // owner is woken once the nak call has returned (not from inside it).
    const before = wakes;
    h.pull.nak(one, 500);
    expect(wakes).toBe(before);
    await Promise.resolve();
    expect(wakes).toBe(before + 1);
    expect(take()).toBeUndefined();
    vi.advanceTimersByTime(501);
    const again = take()!;
    expect([again.delivery.seq, again.attempts]).toEqual([1, 2]);
    h.pull.nak(again);
    const third = take()!;
    expect([third.delivery.seq, third.attempts]).toEqual([1, 3]);
    // Its last delivery: given up as poison (the dead-letter listener reads the reason), and the
    // key goes on.
    h.pull.nak(third);
    expect(log).toContain("term 1 jn:poison:3");
    expect(take()!.delivery.seq).toBe(3);
    // The server saw no nak at all.
    expect(log.filter((l) => l.startsWith("nak"))).toEqual([]);
  });

  it("keeps one copy of a message redelivered while held, answering through the newest delivery", () => {
    const h = harness({ window: 8, keyed: true, group: "jn", ordered: true });
    h.deliver(new KeyedDelivery(5, "a"));
    const newer = new KeyedDelivery(5, "a", undefined, 2);
    h.deliver(newer);
    expect(h.pull.held).toBe(1);
    const x = h.pull.take()!;
    h.pull.ack(x);
    vi.runOnlyPendingTimers();
    expect(newer.sent).toContain("ack");
  });

  it("acks again, without handing it out, a redelivery of a message it acked (the ack was lost)", () => {
    const h = harness({ window: 8, keyed: true, group: "jn", ordered: true });
    h.deliver(new KeyedDelivery(7, "a"));
    h.pull.ack(h.pull.take()!);
    vi.runOnlyPendingTimers();
    const again = h.deliver(new KeyedDelivery(7, "a", undefined, 2));
    expect(again.sent).toEqual(["ack"]);
    expect(h.pull.held).toBe(0);
    expect(h.pull.take()).toBeUndefined();
    // A first delivery of another message is handed out as usual.
    h.deliver(new KeyedDelivery(8, "a"));
    expect(h.pull.take()!.delivery.seq).toBe(8);
  });

  it("remembers the last 4,096 acked sequences: an older one redelivered is handed out again", () => {
    const h = harness({ window: 8, keyed: true, group: "jn", ordered: true });
    for (let seq = 1; seq <= 4097; seq++) {
      h.deliver(new KeyedDelivery(seq, "a"));
      h.pull.ack(h.pull.take()!);
    }
    vi.runOnlyPendingTimers();
    const recent = h.deliver(new KeyedDelivery(4097, "a", undefined, 2));
    expect(recent.sent).toEqual(["ack"]);
    h.deliver(new KeyedDelivery(1, "a", undefined, 2));
    expect(h.pull.take()!.delivery.seq).toBe(1);
  });

  it("hands over only when nothing is out with the application and its requests are gone, giving back in stream order", async () => {
    const handed: (string | undefined)[] = [];
    const h = harness({ window: 8, keyed: true, group: "jn", ordered: true }, { handedOver: (pin) => handed.push(pin) });
    for (const seq of [4, 2, 3, 1]) h.deliver(new KeyedDelivery(seq, `k${seq % 2}`, "pin-1"));
    const out = h.pull.take()!;
    expect(out.delivery.seq).toBe(1);
    let done: string | undefined | null = null;
    void h.pull.handOver().then((pin) => (done = pin));
    // Nothing more is handed out while it hands over.
    expect(h.pull.take()).toBeUndefined();
    // Its request for 8 still waits on the server with 4 unfilled: not yet.
    await Promise.resolve();
    expect(done).toBeNull();
    h.status({ kind: "ended", unfilled: 4, code: 408, description: "Request Timeout" });
    await Promise.resolve();
    expect(done).toBeNull();
    // The message out is settled: everything else goes back, oldest first, then the pin is freed.
    h.pull.ack(out);
    await Promise.resolve();
    expect(log).toEqual(["ack 1", "nak 2", "nak 3", "nak 4"]);
    expect(done).toBe("pin-1");
    expect(handed).toEqual(["pin-1"]);
    expect(h.pull.held).toBe(0);
    expect(h.asked()).toBe(8);
  });
});
