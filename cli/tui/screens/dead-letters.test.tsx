import { render } from "ink-testing-library";
import { describe, expect, it, vi } from "vitest";
import { deadLetter, renderTui, until, KEY } from "../../../test/fakes/tui.js";
import { DeadLetterScreen, DeadLettersScreen, deadLetterText } from "./dead-letters.js";

const now = Date.parse("2025-01-01T00:01:03.000Z");
const items = [
  deadLetter("dl-aaaa"),
  deadLetter("dl-bbbb", {
    reason: "schema",
    groups: [],
    seq: undefined,
    deliveries: undefined,
    error: { code: "SCHEMA_VALIDATION_FAILED", message: "/total must be number" },
  }),
];

describe("DeadLettersScreen", () => {
  it("lists dead letters with reason, groups, deliveries and error", () => {
    const f = render(<DeadLettersScreen items={items} filter={{}} now={now} width={120} height={20} />).lastFrame()!;
    expect(f).toContain("Dead letters (2)");
    expect(f).toMatch(/ID\s+AGE\s+STATION\s+REASON\s+GROUPS\s+DELIV\s+ERROR/);
    expect(f).toMatch(/› dl-aaaa\s+1m00s\s+orders\s+poison\s+billing\s+2\s+MAX_DELIVERIES: delivered 2/);
    expect(f).toMatch(/dl-bbbb\s+1m00s\s+orders\s+schema\s+-\s+-\s+SCHEMA_VALIDATION_FAILED/);
  });

  it("filters by reason, group and text, and refuses a bad reason", async () => {
    const onFilter = vi.fn();
    const { lastFrame, press, type } = renderTui(
      <DeadLettersScreen items={items} filter={{}} now={now} width={120} height={20} onFilter={onFilter} />,
    );
    await press("/", () => expect(lastFrame()).toContain("/ █"));
    await type("reason:bogus");
    await press(KEY.enter, () => expect(lastFrame()).toContain("reason must be one of poison, terminated, schema, function"));
    // The refusal comes from the same key press that would have applied the filter.
    expect(lastFrame()).toContain("/ reason:bogus█");
    expect(onFilter).not.toHaveBeenCalled();
    let draft = "reason:bogus";
    for (let i = 0; i < 5; i++) {
      draft = draft.slice(0, -1);
      const line = `/ ${draft}█`;
      await press(KEY.backspace, () => expect(lastFrame()).toContain(line));
    }
    await type("poison group:billing sku-1", "reason:");
    await press(KEY.enter, () => expect(onFilter).toHaveBeenCalledWith({ reason: "poison", group: "billing", text: "sku-1" }));
    await until(() => expect(lastFrame()).toContain("filter: reason:poison group:billing sku-1"));
    expect(onFilter).toHaveBeenCalledTimes(1);
  });

  it("resends the selected one after confirming, and shows the result", async () => {
    const onResend = vi.fn(async () => ({ resent: 1, failed: 0 }));
    const { lastFrame, press } = renderTui(
      <DeadLettersScreen items={items} filter={{ station: "orders" }} now={now} width={120} height={20} onResend={onResend} />,
    );
    await press("r", () => expect(lastFrame()).toContain("Resend dead letter dl-aaaa? [y/N]"));
    await press("n", () => expect(lastFrame()).toContain("cancelled"));
    // "n" was handled (the question is gone) in the key press that "y" would have resent in.
    expect(lastFrame()).not.toContain("[y/N]");
    expect(onResend).not.toHaveBeenCalled();
    await press("r", () => expect(lastFrame()).toContain("Resend dead letter dl-aaaa? [y/N]"));
    await press("y", () => expect(onResend).toHaveBeenCalledWith({ id: "dl-aaaa" }));
    await until(() => expect(lastFrame()).toContain("resent 1, failed 0"));
    expect(onResend).toHaveBeenCalledTimes(1);
  });

  it("resends / drops all matching, and drops one, each confirmed", async () => {
    const onResend = vi.fn(async () => ({
      resent: 1,
      failed: 1,
      errors: [{ id: "dl-bbbb", code: "SCHEMA_VALIDATION_FAILED", message: "still invalid" }],
    }));
    const onDrop = vi.fn(async (t: unknown) => ({ dropped: "id" in (t as object) ? 1 : 2 }));
    const filter = { station: "orders", reason: "poison" as const };
    const { lastFrame, press } = renderTui(
      <DeadLettersScreen items={items} filter={filter} now={now} width={120} height={20} onResend={onResend} onDrop={onDrop} />,
    );
    await press("R", () => expect(lastFrame()).toContain("Resend ALL dead letters matching station:orders reason:poison? [y/N]"));
    await press("y", () => expect(onResend).toHaveBeenCalledWith({ filter }));
    await until(() => expect(lastFrame()).toContain("resent 1, failed 1 (SCHEMA_VALIDATION_FAILED: still invalid)"));
    await press("j", () => expect(lastFrame()).toContain("› dl-bbbb"));
    await press("d", () => expect(lastFrame()).toContain("Drop dead letter dl-bbbb? It is deleted for good. [y/N]"));
    await press("y", () => expect(onDrop).toHaveBeenLastCalledWith({ id: "dl-bbbb" }));
    await until(() => expect(lastFrame()).toContain("dropped 1"));
    await press("D", () =>
      expect(lastFrame()).toContain("Drop ALL dead letters matching station:orders reason:poison? They are deleted for good. [y/N]"),
    );
    await press("y", () => expect(onDrop).toHaveBeenLastCalledWith({ filter }));
    await until(() => expect(lastFrame()).toContain("dropped 2"));
  });

  it("shows a failed action as an error", async () => {
    const onDrop = vi.fn(async () => {
      throw Object.assign(new Error("dead letter not found"), { code: "DEAD_LETTER_NOT_FOUND" });
    });
    const { lastFrame, press } = renderTui(
      <DeadLettersScreen items={items} filter={{}} now={now} width={120} height={20} onDrop={onDrop} />,
    );
    await press("d", () => expect(lastFrame()).toContain("Drop dead letter dl-aaaa? It is deleted for good. [y/N]"));
    await press("y", () => expect(lastFrame()).toContain("failed: DEAD_LETTER_NOT_FOUND: dead letter not found"));
  });

  it("opens the selected one with enter", async () => {
    const onOpen = vi.fn();
    const { lastFrame, press } = renderTui(
      <DeadLettersScreen items={items} filter={{}} now={now} width={120} height={20} onOpen={onOpen} />,
    );
    await press(KEY.down, () => expect(lastFrame()).toContain("› dl-bbbb"));
    await press(KEY.enter, () => expect(onOpen).toHaveBeenCalledWith("dl-bbbb"));
  });
});

describe("DeadLetterScreen", () => {
  it("shows the payload pretty-printed, headers, error and delivery history", () => {
    const text = deadLetterText(deadLetter("dl-aaaa"));
    expect(text).toContain("reason     poison");
    expect(text).toContain("  MAX_DELIVERIES: delivered 2 times without an ack");
    expect(text).toContain("  delivered 2 times");
    expect(text).toContain("  first delivery  2025-01-01T00:00:01.000Z");
    expect(text).toContain("  Jn-Producer: shop");
    expect(text).toContain('Payload (21 bytes, json)\n  {\n    "id": 7,\n    "total": 12.5\n  }');
    expect(deadLetterText(deadLetter("x", { decoded: { id: 1 } }))).toContain("decoded by the station's schema");
  });

  it("resends after confirming", async () => {
    const onResend = vi.fn(async () => ({ resent: 1, failed: 0 }));
    const { lastFrame, press } = renderTui(<DeadLetterScreen deadLetter={deadLetter("dl-aaaa")} height={40} onResend={onResend} />);
    expect(lastFrame()).toContain("Dead letter dl-aaaa");
    expect(lastFrame()).toContain("Delivery history");
    await press("r", () => expect(lastFrame()).toContain("Resend dead letter dl-aaaa? [y/N]"));
    await press("y", () => expect(onResend).toHaveBeenCalledWith({ id: "dl-aaaa" }));
    await until(() => expect(lastFrame()).toContain("resent 1, failed 0"));
  });
});
