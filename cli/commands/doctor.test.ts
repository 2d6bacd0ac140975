import { describe, expect, it } from "vitest";
import type { DoctorReport } from "../../core/protocol/index.js";
import { fakeClient, fixtures, junctionOnce } from "../../test/fakes/cli.js";

const FAKE = ["--url", "nats://fake:1"];

const sick: DoctorReport = {
  ok: false,
  checkedAt: "2026-01-01T00:00:00.000Z",
  gateway: "gw-1",
  counts: { ok: 1, warn: 1, fail: 1 },
  checks: [
    { id: "server.version", title: "nats-server version", status: "ok", message: "1 server, nats-server 2.15.1" },
    {
      id: "metadata.records",
      title: "metadata records valid",
      status: "fail",
      message: "1 metadata record fails validation",
      fix: "rewrite it",
      items: ["jn_stations/bad: not JSON"],
    },
    { id: "groups.backlog", title: "idle groups", status: "warn", message: "1 consumer group has messages waiting", fix: "start it" },
  ],
};

/** A client answering doctor.run with `report`, recording the request. */
function doctorClient(report: DoctorReport) {
  const asked: { op: string; body: unknown; timeoutMs: number | undefined }[] = [];
  const client = fakeClient({
    request: async (op: string, body: unknown, timeoutMs?: number) => {
      asked.push({ op, body, timeoutMs });
      return report;
    },
  });
  return { client, asked };
}

describe("junction doctor", () => {
  it("prints each check, what it found and the fix, and exits 1 when a check failed", async () => {
    const { client, asked } = doctorClient(sick);
    const r = await junctionOnce({ client }, ...FAKE, "doctor");
    expect(r.code).toBe(1);
    expect(r.err).toBe("");
    expect(r.out).toBe(
      [
        "junction doctor: 1 failed, 1 warning (3 checks by gateway gw-1 at 2026-01-01T00:00:00.000Z)",
        "",
        "ok    server.version    1 server, nats-server 2.15.1",
        "FAIL  metadata.records  1 metadata record fails validation",
        "                        - jn_stations/bad: not JSON",
        "                        fix: rewrite it",
        "WARN  groups.backlog    1 consumer group has messages waiting",
        "                        fix: start it",
        "",
      ].join("\n"),
    );
    expect(asked).toEqual([{ op: "doctor.run", body: { windowMs: 2000 }, timeoutMs: 32_000 }]);
  });

  it("--json prints the report for scripts (same exit code); a healthy broker exits 0", async () => {
    const { client, asked } = doctorClient(sick);
    const r = await junctionOnce({ client }, ...FAKE, "doctor", "--json", "--window-ms", "500", "--timeout-ms", "9000");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual(sick);
    expect(asked[0]).toMatchObject({ body: { windowMs: 500 }, timeoutMs: 9000 });
    const fine = await junctionOnce({ client: fakeClient() }, ...FAKE, "doctor");
    expect(fine.code).toBe(0);
    expect(fine.out).toMatch(/^junction doctor: everything looks fine \(1 check by gateway gw-1/);
    expect(fixtures.doctor.ok).toBe(true);
  });

  it("refuses a window the gateway would refuse, before connecting", async () => {
    const r = await junctionOnce({ client: fakeClient() }, ...FAKE, "doctor", "--window-ms", "60000");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--window-ms must be between 0 and 30000 \(got 60000\)/);
    expect(r.io.connects).toHaveLength(0);
  });
});
