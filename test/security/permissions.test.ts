/**
 * The permission matrix: for each kind of grant (produce, consume, admin, none) and each
 * operation, the expected outcome — allowed, or PERMISSION_DENIED (from the gateway for API and
 * produce requests, from NATS for a pull on a group the user may not consume as).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isJunctionError, type JunctionClient } from "../../sdk/index.js";
import { startBroker, uniqueName, type TestBroker } from "../harness/index.js";

type Who = "producer" | "consumer" | "admin" | "none";
type Outcome = "allow" | "deny";

let broker: TestBroker;
let admin: JunctionClient;
const clients = {} as Record<Who, JunctionClient>;
const station = uniqueName("pm");
const otherStation = uniqueName("pm-other");

/** Runs an operation as `who`; "allow" when it succeeds, "deny" on PERMISSION_DENIED, else throws. */
async function outcome(op: () => Promise<unknown>): Promise<Outcome> {
  try {
    await op();
    return "allow";
  } catch (err) {
    if (isJunctionError(err, "PERMISSION_DENIED")) return "deny";
    throw err;
  }
}

/** Each operation, and who may do it. */
const MATRIX: { op: string; run: (c: JunctionClient, who: Who) => Promise<unknown>; allowed: Who[] }[] = [
  {
    op: "produce to a granted station",
    run: (c) => c.producer({ station, sendTimeoutMs: 5000 }).send({ n: 1 }),
    allowed: ["producer", "admin"],
  },
  {
    op: "produce to another station",
    run: (c) => c.producer({ station: otherStation, sendTimeoutMs: 5000 }).send({ n: 1 }),
    allowed: ["admin"],
  },
  { op: "station.get", run: (c) => c.stations.get(station), allowed: ["producer", "consumer", "admin"] },
  { op: "station.create", run: (c, who) => c.stations.create(uniqueName(`pm-new-${who}`)), allowed: ["admin"] },
  { op: "station.update", run: (c) => c.stations.update(station, { maxMessages: 1_000_000 }), allowed: ["admin"] },
  { op: "group.create (granted group)", run: (c) => c.groups.create(station, "workers"), allowed: ["consumer", "admin"] },
  { op: "group.get (granted group)", run: (c) => c.groups.get(station, "workers"), allowed: ["consumer", "admin"] },
  { op: "group.create (another group)", run: (c) => c.groups.create(station, "others"), allowed: ["admin"] },
  {
    op: "consume (pull and ack) as the granted group",
    run: async (c) => {
      const m = await c.consumer({ station, group: "workers", maxMessages: 1, batchSize: 1 });
      for await (const msg of m) {
        await msg.ackAndWait();
        break;
      }
    },
    allowed: ["consumer", "admin"],
  },
  { op: "schema.get", run: (c) => c.schemas.get("pm-schema"), allowed: ["producer", "consumer", "admin", "none"] },
  {
    op: "schema.create",
    run: (c) => c.schemas.create({ name: "pm-schema", type: "json", definition: '{"type":"object"}' }),
    allowed: ["admin"],
  },
  { op: "function.list", run: (c) => c.functions.list(), allowed: ["admin"] },
  { op: "dls.list of a granted station", run: (c) => c.dls.list({ station }), allowed: ["producer", "consumer", "admin"] },
  { op: "dls.list of every station", run: (c) => c.dls.list({}), allowed: ["admin"] },
  { op: "dls.resend", run: (c) => c.dls.resend({ filter: { station } }), allowed: ["admin"] },
  { op: "user.list", run: (c) => c.users.list(), allowed: ["admin"] },
  { op: "tenant.list", run: (c) => c.tenants.list(), allowed: ["admin"] },
  { op: "ping", run: (c) => c.request("ping", {}), allowed: ["producer", "consumer", "admin", "none"] },
];

beforeAll(async () => {
  broker = await startBroker();
  admin = await broker.client();
  await admin.stations.create(station);
  await admin.stations.create(otherStation);
  await admin.schemas.create({ name: "pm-schema", type: "json", definition: '{"type":"object"}' });
  await admin.producer({ station }).sendBatch(Array.from({ length: 10 }, (_, n) => ({ payload: { n } })));
  const grants: Record<Exclude<Who, "admin">, { produce: string[]; consume: string[] }> = {
    producer: { produce: [station], consume: [] },
    consumer: { produce: [], consume: [`${station}:workers`] },
    none: { produce: [], consume: [] },
  };
  clients.admin = admin;
  for (const who of ["producer", "consumer", "none"] as const) {
    const u = await admin.users.create({ name: `pm-${who}`, grants: grants[who] });
    clients[who] = await broker.client({ user: u.name, pass: u.password! });
  }
}, 60_000);
afterAll(async () => {
  await broker.stop();
});

describe("permission matrix", () => {
  for (const row of MATRIX) {
    it(row.op, async () => {
      for (const who of ["admin", "producer", "consumer", "none"] as const) {
        const expected: Outcome = row.allowed.includes(who) ? "allow" : "deny";
        expect({ who, outcome: await outcome(() => row.run(clients[who], who)) }).toEqual({ who, outcome: expected });
      }
    });
  }

  it("a refusal names the user, the action and the resource", async () => {
    const err = await clients.consumer.stations.create("pm-x").catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: "PERMISSION_DENIED",
      message: "user 'pm-consumer' may not administer this tenant",
      details: { operation: "station.create" },
    });
    const p = await clients.producer
      .producer({ station: otherStation, sendTimeoutMs: 5000 })
      .send("x")
      .catch((e: unknown) => e);
    expect(p).toMatchObject({ code: "PERMISSION_DENIED", message: `user 'pm-producer' may not produce to station '${otherStation}'` });
  });
});
