import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufBuild } from "./buf.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "junction-buf-test-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("bufBuild", () => {
  it("removes its temporary directory after success and after a compile error", async () => {
    const set = await bufBuild('syntax = "proto3";\nmessage A { int32 x = 1; }\n', { tmpRoot: root });
    expect(set.length).toBeGreaterThan(0);
    await expect(bufBuild('syntax = "proto3";\nmessage A { int32 x = }\n', { tmpRoot: root })).rejects.toMatchObject({
      code: "SCHEMA_INVALID",
    });
    expect(await readdir(root)).toEqual([]);
  });

  it("runs builds concurrently without mixing them up", async () => {
    const defs = Array.from({ length: 6 }, (_, i) => `syntax = "proto3";\npackage p${i};\nmessage M${i} { int32 x = 1; }\n`);
    const sets = await Promise.all(defs.map((d) => bufBuild(d, { tmpRoot: root })));
    sets.forEach((set, i) => expect(Buffer.from(set).toString("latin1")).toContain(`M${i}`));
    expect(await readdir(root)).toEqual([]);
  });
});
