import { describe, expect, it } from "vitest";
import { JunctionError } from "../protocol/index.js";
import { manualClock } from "./clock.js";
import { createLogger, levelOf, parseLogLevels, prettyLine, resolveLoggerOptions, silentLogger, type LoggerOptions } from "./logger.js";

/** A logger writing into an array, on a clock held at 2026-01-01T00:00:00Z. */
function capture(o: LoggerOptions = {}) {
  const lines: string[] = [];
  const clock = manualClock();
  const logger = createLogger({ namespace: "gateway", clock, write: (l) => lines.push(l), ...o });
  return { logger, lines, clock, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger: JSON lines", () => {
  it("writes one JSON object per entry: level, time from the clock, component, message, fields", () => {
    const { logger, lines, clock, json } = capture();
    logger.info("gateway ready", { id: "gw-1", stations: 3 });
    clock.advance(1500);
    logger.child("produce").warn("slow store", { station: "orders", ms: 812.5 });
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).not.toContain("\n");
    expect(json()).toEqual([
      { level: "info", time: "2026-01-01T00:00:00.000Z", component: "gateway", msg: "gateway ready", id: "gw-1", stations: 3 },
      { level: "warn", time: "2026-01-01T00:00:01.500Z", component: "gateway.produce", msg: "slow store", station: "orders", ms: 812.5 },
    ]);
  });

  it("names each generation of children once, dot-separated", () => {
    const { logger, json } = capture();
    logger.child("dls").child("writer").error("write failed");
    expect(json()).toEqual([expect.objectContaining({ component: "gateway.dls.writer", msg: "write failed" })]);
    expect(Object.keys(json()[0]!).filter((k) => k === "component")).toHaveLength(1);
  });

  it("keeps its own fields when an entry has fields of the same names", () => {
    const { logger, json } = capture();
    logger.info("m", { level: "x", msg: "y", time: 1, component: "z" });
    expect(json()[0]).toEqual({
      level: "info",
      time: "2026-01-01T00:00:00.000Z",
      component: "gateway",
      msg: "m",
      level_: "x",
      msg_: "y",
      time_: 1,
      component_: "z",
    });
  });

  it("serializes errors, dates, bytes and bigints, and survives cycles", () => {
    const { logger, json } = capture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    const err = new JunctionError("STORE_FAILED", "store did not answer", { cause: new Error("timeout") });
    logger.error("boom", { err, at: new Date(0), body: new Uint8Array(5), big: 2n ** 70n, cyclic });
    const e = json()[0]!;
    expect(e["err"]).toMatchObject({
      type: "JunctionError",
      message: "store did not answer",
      code: "STORE_FAILED",
      cause: { message: "timeout" },
    });
    expect((e["err"] as { stack: string }).stack).toContain("store did not answer");
    expect(e).toMatchObject({
      at: "1970-01-01T00:00:00.000Z",
      body: "[5 bytes]",
      big: "1180591620717411303424",
      cyclic: { a: 1, self: "[circular]" },
    });
  });
});

describe("levels per component", () => {
  it("parses a default and component levels; the longest component wins; later entries win", () => {
    const l = parseLogLevels(" warn , gateway.produce = debug,gateway=error,gateway.produce=info,gateway.dls=silent");
    expect(l).toEqual({ default: "warn", components: { "gateway.produce": "info", gateway: "error", "gateway.dls": "silent" } });
    expect(levelOf(l, "gateway")).toBe("error");
    expect(levelOf(l, "gateway.produce")).toBe("info");
    expect(levelOf(l, "gateway.produce.batch")).toBe("info");
    expect(levelOf(l, "gateway.producer")).toBe("error"); // a component boundary is a dot, not a prefix
    expect(levelOf(l, "gateway.dls.writer")).toBe("silent");
    expect(levelOf(l, "cli")).toBe("warn");
    expect(parseLogLevels("gateway.auth=debug")).toEqual({ default: "info", components: { "gateway.auth": "debug" } });
  });

  it("refuses a bad setting, naming the entry", () => {
    for (const [spec, entry] of [
      ["loud", "loud"],
      ["info,gateway.produce=loud", "gateway.produce=loud"],
      ["info,,debug", ""],
      ["Gateway=debug", "Gateway=debug"],
      ["", ""],
    ] as const) {
      let err: unknown;
      try {
        parseLogLevels(spec);
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(JunctionError);
      expect((err as JunctionError).code).toBe("INVALID_ARGUMENT");
      expect((err as JunctionError).message).toContain(`${JSON.stringify(entry)} is not a level`);
    }
    expect(() => createLogger({ level: "info,gateway=verbose" })).toThrow(/"gateway=verbose" is not a level/);
  });

  it("logs each component at its own level", () => {
    const { logger, json } = capture({ level: "warn,gateway.produce=debug,gateway.dls=silent" });
    const produce = logger.child("produce");
    const dls = logger.child("dls");
    logger.info("root info (dropped)");
    logger.warn("root warn");
    produce.debug("produce debug");
    produce.child("batch").debug("batch debug");
    dls.error("dls error (dropped)");
    logger.child("auth").info("auth info (dropped)");
    expect(json().map((e) => `${e["component"] as string}:${e["msg"] as string}`)).toEqual([
      "gateway:root warn",
      "gateway.produce:produce debug",
      "gateway.produce.batch:batch debug",
    ]);
  });

  it("evaluates nothing for a disabled level (fields are not even walked)", () => {
    const { logger, lines } = capture({ level: "error" });
    const fields = {
      get expensive(): string {
        throw new Error("walked a field of a disabled level");
      },
    };
    logger.debug("x", fields);
    logger.info("x", fields);
    expect(lines).toEqual([]);
  });
});

describe("options", () => {
  it("validates options, naming the bad one", () => {
    expect(() => resolveLoggerOptions({ format: "xml" as never })).toThrow(/logger\.format must be one of "json", "pretty"/);
    expect(() => resolveLoggerOptions({ namespace: "Gate way" })).toThrow(/logger\.namespace must be a component name/);
    expect(() => resolveLoggerOptions({ bogus: 1 } as never)).toThrow(/unknown logger option 'bogus'/);
    expect(resolveLoggerOptions({})).toMatchObject({ level: "info", format: "json", namespace: "junction", color: false });
  });

  it("keeps the positional shorthand: level, namespace, write, clock", () => {
    const lines: string[] = [];
    createLogger("debug", "cli", (l) => lines.push(l), manualClock(0)).debug("hi");
    expect(JSON.parse(lines[0]!)).toEqual({ level: "debug", time: "1970-01-01T00:00:00.000Z", component: "cli", msg: "hi" });
  });

  it("the silent logger and its children drop everything", () => {
    expect(() => silentLogger.child("x").error("nothing", { password: "p" })).not.toThrow();
    expect(silentLogger.child("x")).toBe(silentLogger);
  });
});

describe("pretty format", () => {
  it("writes readable lines: time, level, component, message, key=value", () => {
    const { logger, lines } = capture({ format: "pretty" });
    logger.child("produce").warn("slow store", { station: "orders", ms: 812, note: "two words", tags: ["a"] });
    expect(lines).toEqual([
      `2026-01-01T00:00:00.000Z WARN  [gateway.produce] slow store station=orders ms=812 note="two words" tags=["a"]`,
    ]);
  });

  it("puts an error's stack below the line, and colours only when asked", () => {
    const { logger, lines } = capture({ format: "pretty", color: true });
    logger.error("failed", { err: new Error("kaput") });
    const [head, ...stack] = lines[0]!.split("\n");
    expect(head).toBe(
      `2026-01-01T00:00:00.000Z \x1b[31mERROR\x1b[0m \x1b[2m[gateway]\x1b[0m failed err={"type":"Error","message":"kaput"}`,
    );
    expect(stack[0]).toBe("    Error: kaput");
    expect(stack.length).toBeGreaterThan(1);
    expect(prettyLine("not json")).toBe("not json");
  });
});
