import { describe, expect, it } from "vitest";
import type { MemphisContext } from "./context.js";
import { notePullExpected } from "./consumers.js";
import { groupSettled } from "./control.js";

/** Just enough of a context for the destruction wait: consumer info from a script, a set clock. */
function context(info: Record<string, unknown> | Error) {
  const clock = { t: 1_000_000, now: () => clock.t };
  const ctx = {
    deps: {
      clock,
      jetstream: {
        consumerInfo: async () => {
          if (info instanceof Error) throw info;
          return new TextEncoder().encode(JSON.stringify(info));
        },
      },
    },
    pullsExpected: new Map<string, number>(),
  } as unknown as MemphisContext;
  return { ctx, clock };
}

describe("destroying a Memphis consumer waits for what is in flight", () => {
  it("is settled when nothing is stored for the group or everything was acked", async () => {
    expect(await groupSettled(context({ num_ack_pending: 0, num_pending: 0, num_waiting: 1 }).ctx, "s", "g")).toBe(true);
  });

  it("waits while messages are handed out and not acked", async () => {
    expect(await groupSettled(context({ num_ack_pending: 3, num_pending: 0, num_waiting: 0 }).ctx, "s", "g")).toBe(false);
  });

  it("waits while stored messages are on their way to a waiting pull", async () => {
    expect(await groupSettled(context({ num_ack_pending: 0, num_pending: 10, num_waiting: 1 }).ctx, "s", "g")).toBe(false);
  });

  it("waits for a pull a member announced by asking for the consumer info, but not for ever", async () => {
    const { ctx, clock } = context({ num_ack_pending: 0, num_pending: 10, num_waiting: 0 });
    expect(await groupSettled(ctx, "s", "g")).toBe(true); // nobody is about to pull: nothing to wait for
    notePullExpected(ctx, "s", "g");
    expect(await groupSettled(ctx, "s", "g")).toBe(false);
    expect(await groupSettled(ctx, "s", "other")).toBe(true);
    clock.t += 501; // the member never pulled
    expect(await groupSettled(ctx, "s", "g")).toBe(true);
  });

  it("remembers at most 10,000 groups about to pull, forgetting stale ones first", () => {
    const { ctx, clock } = context({});
    for (let i = 0; i < 10_000; i++) notePullExpected(ctx, "s", `g${i}`);
    notePullExpected(ctx, "s", "late");
    expect(ctx.pullsExpected.has("s\u0000late")).toBe(false); // full of fresh ones: not noted
    clock.t += 501;
    notePullExpected(ctx, "s", "late");
    expect([...ctx.pullsExpected.keys()]).toEqual(["s\u0000late"]); // the stale ones went
  });

  it("does not wait on a group that is gone or an info that fails", async () => {
    expect(await groupSettled(context({ error: { code: 404 } }).ctx, "s", "g")).toBe(true);
    expect(await groupSettled(context(new Error("timeout")).ctx, "s", "g")).toBe(true);
  });
});
