/**
 * The Helm chart's Memphis value (`memphis.users`): rendered into the gateway's JUNCTION_MEMPHIS
 * and the NATS init container's `nats-config --memphis`, refused where it cannot work, and run
 * for real — the rendered NATS pod and gateway pod on this machine, with the unmodified memphis.js
 * SDK producing through the gateway as a listed user. helm comes from scripts/install-helm (when
 * it cannot be obtained every test fails with that reason). Needs `npm run build` first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemphisInstance, type Memphis } from "memphis-dev";
import { CHART_DIR, NAMESPACE, RELEASE, find, render, runHelm, type Rendered, type Values } from "./chart/helm.js";
import { FakeKube, LocalPod, podTemplate } from "./chart/kubelet.js";
import { startRenderedCluster, type LocalCluster, type LocalGateway, startRenderedGateway } from "./chart/nats-cluster.js";
import { validateObject } from "./chart/validate.js";
import { connect, type JunctionClient } from "../../sdk/index.js";

const NATS = `${RELEASE}-nats`;
const GATEWAY = `${RELEASE}-gateway`;
const GATEWAY_CONFIG = `${RELEASE}-gateway-config`;
const AUTH_SECRET = `${RELEASE}-secrets`;
const SECRET_JOB = `${RELEASE}-secrets-job`;

/** Two Memphis users: an operator (like Memphis's root) and an application with one station. */
const MEMPHIS: Values = {
  nats: { replicas: 1 },
  users: [
    { name: "admin", grants: { admin: true } },
    { name: "memphis", grants: { admin: true } },
    { name: "legacy", grants: { produce: ["orders"], consume: ["orders:billing"] } },
  ],
  memphis: { users: ["memphis", "legacy"] },
};

// Loosely typed access into rendered objects: the schemas are checked by kubernetes-models.
type Any = any;

const natsInit = (r: Rendered): Any => (find(r.objects, "StatefulSet", NATS) as Any).spec.template.spec.initContainers[0];
const gatewayConfig = (r: Rendered): Record<string, string> => (find(r.objects, "ConfigMap", GATEWAY_CONFIG) as Any).data;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("memphis.users rendered", () => {
  it("passes helm lint --strict and renders valid Kubernetes objects", () => {
    const lint = runHelm(["lint", CHART_DIR, "--strict", "--namespace", NAMESPACE], MEMPHIS);
    expect(lint.stderr + lint.stdout, "helm lint output").toContain("0 chart(s) failed");
    expect(render(MEMPHIS).objects.flatMap(validateObject)).toEqual([]);
  });

  it("tells the gateway (JUNCTION_MEMPHIS) and the accounts init container (nats-config --memphis) the same users", () => {
    const r = render(MEMPHIS);
    expect(gatewayConfig(r)["JUNCTION_MEMPHIS"]).toBe("memphis,legacy");
    const args = natsInit(r).args as string[];
    expect(args.slice(args.indexOf("--memphis"), args.indexOf("--memphis") + 2)).toEqual(["--memphis", "memphis,legacy"]);
    expect(args.slice(-2)).toEqual(["--out", "/etc/nats-auth/accounts.conf"]);
  });

  it("is off by default: no JUNCTION_MEMPHIS, no --memphis", () => {
    const r = render();
    expect(gatewayConfig(r)["JUNCTION_MEMPHIS"]).toBeUndefined();
    expect(natsInit(r).args).not.toContain("--memphis");
  });

  it("refuses a user name that cannot be a Junction user, and JUNCTION_MEMPHIS set through gateway.config", () => {
    const bad = runHelm(["template", RELEASE, CHART_DIR, "--namespace", NAMESPACE], { memphis: { users: ["Root.User"] } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/\/memphis\/users\/0'.*Root\.User/);
    const owned = runHelm(["template", RELEASE, CHART_DIR, "--namespace", NAMESPACE], { gateway: { config: { JUNCTION_MEMPHIS: "x" } } });
    expect(owned.status).not.toBe(0);
    expect(owned.stderr).toContain("gateway.config.JUNCTION_MEMPHIS is set by the chart");
    expect(owned.stderr).toContain("memphis.users");
  });
});

describe("memphis.users on real nats-server and gateway", () => {
  let kube: FakeKube | undefined;
  let cluster: LocalCluster | undefined;
  let gateway: LocalGateway | undefined;
  let admin: JunctionClient | undefined;
  const sdks: Memphis[] = [];
  afterAll(async () => {
    for (const m of sdks) await m.close().catch(() => {});
    await admin?.close().catch(() => {});
    await gateway?.stop();
    await cluster?.close();
    await kube?.close();
  });

  it("lets the memphis.js SDK connect as a listed user and produce through the gateway, within its grants", async () => {
    const dir = mkdtempSync(join(tmpdir(), "jn-chart-memphis-"));
    dirs.push(dir);
    const r = render(MEMPHIS);
    kube = await FakeKube.start(NAMESPACE, dir);
    const job = new LocalPod({
      name: `${SECRET_JOB}-x`,
      root: mkdtempSync(join(dir, "job-")),
      kube,
      objects: r.objects,
      template: podTemplate(r.objects, "Job", SECRET_JOB),
    });
    await job.runOk("generate");
    const ensured = await job.run("ensure-secret");
    expect(ensured.code, ensured.stderr).toBe(0);
    const secrets = kube.secret(AUTH_SECRET)!;

    cluster = await startRenderedCluster(r, kube, NATS, dir);
    const node = cluster.nodes[0]!;
    // The init container gave each Memphis user an account of its own.
    expect(node.accountsConf).toContain("MEMPHIS_memphis");
    expect(node.accountsConf).toContain("MEMPHIS_legacy");
    const c = cluster;
    gateway = await startRenderedGateway(r, kube, GATEWAY, [c.urls()[0]!], dir).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${c.logs()}`);
    });

    const url = new URL(c.urls()[0]!);
    const as = async (user: string) => {
      const m = createMemphisInstance();
      sdks.push(m);
      await m.connect({
        host: url.hostname,
        port: Number(url.port),
        username: user,
        password: secrets[`${user}-password`]!,
        suppressLogs: true,
      });
      return m;
    };
    // A user memphis.users does not list: `admin$1` is refused; the SDK then tries the plain name,
    // which logs in as an ordinary Junction client, where the SDK's `_INBOX.>` is not allowed.
    await expect(as("admin")).rejects.toThrow(/Permissions Violation for Subscription to "_INBOX\./);
    const root = await as("memphis");
    await root.station({ name: "orders" });
    await root.station({ name: "payments" });
    const legacy = await as("legacy");
    const p = await legacy.producer({ stationName: "orders", producerName: "shop" });
    await p.produce({ message: Buffer.from('{"id":1}'), msgId: "o-1", asyncProduce: false });
    // A station outside the user's grants: the gateway refuses the producer.
    await expect(legacy.producer({ stationName: "payments", producerName: "shop" })).rejects.toThrow(
      /may not produce to station 'payments'/,
    );

    admin = await connect({ servers: c.urls()[0]!, user: "admin", pass: secrets["admin-password"]!, name: "chart-memphis-admin" });
    expect((await admin.stations.get("orders")).state?.messages).toBe(1);
    expect((await admin.stations.get("payments")).state?.messages).toBe(0);
  });
});
