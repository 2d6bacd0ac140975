/**
 * The Helm chart (k8s/junction): lint, render with several value sets, validate every object
 * against the Kubernetes schemas, assert the fields that matter, run the secret hook Job against
 * a fake Kubernetes API, and run the rendered pods for real — a 3-server NATS cluster whose
 * accounts block comes from the init container (`junction nats-config`), and the gateway
 * (`junction gateway`) admitting application users through the auth callout. helm comes from
 * scripts/install-helm; when it cannot be obtained every test fails with that reason (nothing is
 * skipped). Needs `npm run build` first: the Junction image's stand-in is dist/cli/main.js.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CHART_DIR,
  NAMESPACE,
  RELEASE,
  find,
  helmBinary,
  helmVersion,
  ofKind,
  parseManifests,
  render,
  runHelm,
  type K8sObject,
  type Rendered,
  type Values,
} from "./chart/helm.js";
import { FakeKube, LocalPod, podTemplate, type Completed } from "./chart/kubelet.js";
import {
  httpGet,
  monitor,
  natsExchange,
  startRenderedCluster,
  startRenderedGateway,
  waitFor,
  type LocalCluster,
  type LocalGateway,
} from "./chart/nats-cluster.js";
import { CUSTOM_KINDS, typeKey, validateObject } from "./chart/validate.js";
import { issuerPublicKey } from "../../core/nats/index.js";
import { ensureLocalTls } from "../../core/server/index.js";
import { connect, type JunctionClient, type JunctionError } from "../../sdk/index.js";

const FULL = RELEASE; // release "junction" already contains the chart name
const NATS = `${FULL}-nats`;
const NATS_HEADLESS = `${FULL}-nats-headless`;
const NATS_CONFIG = `${FULL}-nats-config`;
const GATEWAY = `${FULL}-gateway`;
const GATEWAY_CONFIG = `${FULL}-gateway-config`;
const GATEWAY_BOOTSTRAP = `${FULL}-gateway-bootstrap`;
const AUTH_SECRET = `${FULL}-secrets`;
const SECRET_JOB = `${FULL}-secrets-job`;
const IMAGE = "junction-broker/junction:0.1.0";

/** Users and tenants as an operator would list them. */
const USERS: Values = {
  tenants: ["acme"],
  users: [
    { name: "admin", grants: { admin: true } },
    {
      name: "billing",
      existingSecret: "billing-credentials",
      secretKey: "password",
      grants: { produce: ["orders"], consume: ["orders:billing"] },
    },
    { name: "acme-ops", tenant: "acme", grants: { admin: true } },
  ],
};

/** The value sets every structural check runs against. */
const VALUE_SETS: Record<string, Values> = {
  defaults: {},
  "external NATS": {
    nats: { enabled: false },
    externalNats: { url: "nats://nats.messaging.svc:4222" },
    auth: { existingSecret: "junction-nats-secrets" },
  },
  "HPA + ServiceMonitor + metrics token": {
    gateway: {
      autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12, targetMemoryUtilizationPercentage: 80 },
      metrics: { token: { enabled: true }, serviceMonitor: { enabled: true, labels: { release: "prometheus" } } },
    },
  },
  "5 NATS replicas": { nats: { replicas: 5 } },
  existingSecret: { auth: { existingSecret: "junction-passwords" } },
  "required anti-affinity": { nats: { antiAffinity: "required", antiAffinityTopologyKey: "topology.kubernetes.io/zone" } },
  "fast sync": { nats: { jetstream: { syncInterval: "2m" } } },
  "single NATS server": { nats: { replicas: 1 } },
  "mutual TLS": { tls: { enabled: true, existingSecret: "nats-tls", verify: true, gatewayClientSecret: "gateway-tls" } },
  "users and tenants": USERS,
  "dashboard and alerts": {
    gateway: {
      logLevel: "info,gateway.produce=debug",
      logFormat: "pretty",
      metrics: {
        dashboard: { enabled: true, labelValue: "junction" },
        alerts: { enabled: true, selector: 'job="gw"', consumerLag: { enabled: false } },
      },
    },
  },
};

// Loosely typed access into rendered objects: the schemas are checked by kubernetes-models.
type Any = any;

function natsConf(r: Rendered): string {
  const cm = find(r.objects, "ConfigMap", NATS_CONFIG) as Any;
  return cm.data["nats.conf"] as string;
}
function natsPod(r: Rendered): Any {
  return (find(r.objects, "StatefulSet", NATS) as Any).spec.template.spec;
}
function natsContainer(r: Rendered): Any {
  return natsPod(r).containers[0];
}
function gatewayPod(r: Rendered): Any {
  return (find(r.objects, "Deployment", GATEWAY) as Any).spec.template.spec;
}
function gatewayContainer(r: Rendered): Any {
  return gatewayPod(r).containers[0];
}
function gatewayEnv(r: Rendered): Record<string, string> {
  return (find(r.objects, "ConfigMap", GATEWAY_CONFIG) as Any).data;
}
function volume(spec: Any, name: string): Any {
  const v = (spec.volumes as Any[]).find((x) => x.name === name);
  if (v === undefined) throw new Error(`no volume ${name}; have ${(spec.volumes as Any[]).map((x) => x.name).join(", ")}`);
  return v;
}
function mountOf(container: Any, name: string): Any {
  return (container.volumeMounts as Any[]).find((m) => m.name === name);
}
function envNamed(container: Any, name: string): Any {
  return ((container.env as Any[] | undefined) ?? []).find((e) => e.name === name);
}
function bootstrapJson(r: Rendered): Any {
  return JSON.parse((find(r.objects, "ConfigMap", GATEWAY_BOOTSTRAP) as Any).data["bootstrap.json"] as string);
}
/** Every pod spec of the rendered workloads. */
function podSpecs(objects: readonly K8sObject[]): Any[] {
  return objects.map((o) => (o as Any).spec?.template?.spec).filter((s) => s !== undefined);
}
/** Every env entry with a secretKeyRef, across the objects' pod templates. */
function secretRefs(objects: readonly K8sObject[]): { name: string; key: string; env: string }[] {
  const refs: { name: string; key: string; env: string }[] = [];
  for (const spec of podSpecs(objects)) {
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref !== undefined) refs.push({ name: ref.name, key: ref.key, env: e.name });
      }
    }
  }
  return refs;
}
/** Every Secret a volume takes keys from: "secret/key" pairs, sorted. */
function secretVolumeKeys(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const spec of podSpecs(objects)) {
    for (const v of spec.volumes ?? []) {
      const sources = v.secret
        ? [{ name: v.secret.secretName, items: v.secret.items }]
        : (v.projected?.sources ?? []).map((s: Any) => s.secret);
      for (const s of sources) if (s) for (const it of s.items ?? [{ key: "*" }]) out.push(`${s.name}/${it.key}`);
    }
  }
  return [...new Set(out)].sort();
}
function hookAnnotations(o: K8sObject): Record<string, string> {
  return ((o.metadata as Any).annotations ?? {}) as Record<string, string>;
}

let defaultsCache: Rendered | undefined;
/** The render with default values (helm is obtained on first use). */
function defaultRender(): Rendered {
  defaultsCache ??= render();
  return defaultsCache;
}

const dirs: string[] = [];
/** A temp directory removed after the file. */
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the rendered hook Job (init container `generate`, then `ensure-secret`) against `kube`. */
async function runSecretJob(r: Rendered, kube: FakeKube, dir: string, env: Record<string, string> = {}): Promise<Completed> {
  const pod = new LocalPod({
    name: `${SECRET_JOB}-x`,
    root: mkdtempSync(join(dir, "job-")),
    kube,
    objects: r.objects,
    template: podTemplate(r.objects, "Job", SECRET_JOB),
  });
  await pod.runOk("generate");
  return pod.run("ensure-secret", env);
}

// No beforeAll: when helm cannot be obtained, each test fails with install-helm's message
// rather than the whole file being reported as skipped.
it("obtains helm", () => {
  const version = helmVersion();
  expect(version).toMatch(/^v[34]\./);
  console.info(`chart tests: helm ${version} (${helmBinary()})`);
});

describe("helm lint", () => {
  it.each(Object.entries(VALUE_SETS))("passes --strict with %s", (_name, values) => {
    const run = runHelm(["lint", CHART_DIR, "--strict", "--namespace", NAMESPACE], values);
    expect(run.stderr + run.stdout, "helm lint output").toContain("0 chart(s) failed");
    expect(run.status).toBe(0);
  });
});

describe("rendered manifests", () => {
  it.each(Object.entries(VALUE_SETS))("%s: every object is valid Kubernetes", (_name, values) => {
    const r = render(values);
    expect(r.objects.length).toBeGreaterThan(3);
    const problems = r.objects.flatMap(validateObject);
    expect(problems).toEqual([]);
    // Unique kind/name, all in the release namespace, all labelled with the release.
    const ids = r.objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of r.objects) {
      expect(o.metadata.namespace, `${typeKey(o)} ${o.metadata.name}`).toBe(NAMESPACE);
      expect(o.metadata.labels?.["app.kubernetes.io/instance"]).toBe(RELEASE);
    }
    // Every Deployment/StatefulSet selector matches its pod labels; every PDB/Service selects pods.
    const podLabels = [...ofKind(r.objects, "Deployment"), ...ofKind(r.objects, "StatefulSet")].map((w: Any) => {
      const labels = w.spec.template.metadata.labels as Record<string, string>;
      expect(labels).toMatchObject(w.spec.selector.matchLabels);
      return labels;
    });
    for (const o of [...ofKind(r.objects, "PodDisruptionBudget"), ...ofKind(r.objects, "Service")] as Any[]) {
      const sel = (o.kind === "Service" ? o.spec.selector : o.spec.selector.matchLabels) as Record<string, string>;
      expect(
        podLabels.some((l) => Object.entries(sel).every(([k, v]) => l[k] === v)),
        `${o.kind} ${o.metadata.name} selects no pods`,
      ).toBe(true);
    }
    // Every ConfigMap a pod mounts or reads is rendered.
    const configMaps = new Set(ofKind(r.objects, "ConfigMap").map((c) => c.metadata.name));
    for (const spec of podSpecs(r.objects)) {
      for (const v of spec.volumes ?? []) {
        const names = [v.configMap?.name, ...((v.projected?.sources ?? []) as Any[]).map((s) => s.configMap?.name)].filter(Boolean);
        for (const n of names) expect(configMaps.has(n), `ConfigMap ${n as string}`).toBe(true);
      }
    }
  });

  it("only the Prometheus Operator's kinds escape kubernetes-models, and only when enabled", () => {
    const kinds = (r: Rendered): string[] => r.objects.map(typeKey).filter((k) => CUSTOM_KINDS.has(k));
    expect(kinds(defaultRender())).toEqual([]);
    expect(kinds(render(VALUE_SETS["HPA + ServiceMonitor + metrics token"]))).toEqual(["monitoring.coreos.com/v1/ServiceMonitor"]);
    expect(kinds(render(VALUE_SETS["dashboard and alerts"]))).toEqual(["monitoring.coreos.com/v1/PrometheusRule"]);
  });

  it("parses the raw output as strict YAML (no duplicate keys)", () => {
    expect(() => parseManifests(defaultRender().text)).not.toThrow();
    expect(defaultRender().text).not.toMatch(/\t/);
  });
});

describe("NATS", () => {
  it("fsyncs before every acknowledgement by default", () => {
    const conf = natsConf(defaultRender());
    expect(conf).toMatch(/^\s*sync_interval: always$/m);
    expect(conf).toMatch(/^\s*store_dir: \/data\/jetstream$/m);
    expect(conf).toMatch(/^\s*max_file_store: 9Gi$/m);
    expect(conf).toMatch(/^server_name: \$POD_NAME$/m);
    expect(conf).toMatch(/^port: 4222$/m);
    expect(conf).toMatch(/^http_port: 8222$/m);
    // Produce batches up to 8 MiB must fit.
    expect(conf).toMatch(/^max_payload: 8388608$/m);
  });

  it("trades fsync for speed when nats.jetstream.syncInterval is a duration", () => {
    const conf = natsConf(render(VALUE_SETS["fast sync"]));
    expect(conf).toMatch(/^\s*sync_interval: 2m$/m);
    expect(conf).not.toMatch(/sync_interval: always/);
  });

  it("includes the accounts block the init container renders from the Secret", () => {
    const r = defaultRender();
    const conf = natsConf(r);
    // nats-server joins include paths to the config file's directory (/etc/nats).
    expect(conf.trimEnd().split("\n").pop()).toBe("include ../nats-auth/accounts.conf");
    // No users, passwords or accounts in the ConfigMap itself: only the route user.
    expect(conf).not.toMatch(/accounts\s*\{|users:|auth_callout|system_account/);
    expect(conf.match(/password:/g)).toEqual(["password:"]);
    expect(conf).toContain("authorization { user: route, password: $JN_ROUTE_PASSWORD }");

    const spec = natsPod(r);
    expect(spec.initContainers).toHaveLength(1);
    const init = spec.initContainers[0];
    expect(init.name).toBe("accounts");
    expect(init.image).toBe(IMAGE);
    expect(init.command).toBeUndefined(); // the image's entrypoint: the Junction CLI
    expect(init.args).toEqual([
      "nats-config",
      "--secrets-dir",
      "/secrets",
      "--gateway-user",
      "gateway",
      "--system-user",
      "sys",
      "--out",
      "/etc/nats-auth/accounts.conf",
    ]);
    expect(init.env).toBeUndefined();
    expect(init.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(mountOf(init, "secrets")).toEqual({ name: "secrets", mountPath: "/secrets", readOnly: true });
    expect(mountOf(init, "accounts")).toEqual({ name: "accounts", mountPath: "/etc/nats-auth" });
    // The server reads what the init container wrote, beside its config directory.
    const c = natsContainer(r);
    expect(c.args).toEqual(["--config", "/etc/nats/nats.conf"]);
    expect(mountOf(c, "config")).toEqual({ name: "config", mountPath: "/etc/nats", readOnly: true });
    expect(mountOf(c, "accounts")).toEqual({ name: "accounts", mountPath: "/etc/nats-auth", readOnly: true });
    expect(mountOf(c, "secrets")).toBeUndefined();
    expect(volume(spec, "accounts").emptyDir).toEqual({ medium: "Memory", sizeLimit: "1Mi" });
    // The init container gets exactly the three secrets nats-config reads (not the route password).
    expect(volume(spec, "secrets").secret).toEqual({
      secretName: AUTH_SECRET,
      defaultMode: 0o440,
      items: ["gateway-password", "system-password", "issuer-seed"].map((k) => ({ key: k, path: k })),
    });
  });

  it("names the users of auth.gatewayUser and auth.systemUser everywhere", () => {
    const r = render({ auth: { gatewayUser: "jn-gateway", systemUser: "jn-sys" } });
    const args = natsPod(r).initContainers[0].args as string[];
    expect(args[args.indexOf("--gateway-user") + 1]).toBe("jn-gateway");
    expect(args[args.indexOf("--system-user") + 1]).toBe("jn-sys");
    expect(gatewayEnv(r)).toMatchObject({ JUNCTION_USER: "jn-gateway", JUNCTION_SYSTEM_USER: "jn-sys" });
  });

  it("runs 3 servers on persistent volumes, routed to each other", () => {
    const sts = find(defaultRender().objects, "StatefulSet", NATS) as Any;
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.serviceName).toBe(NATS_HEADLESS);
    expect(sts.spec.podManagementPolicy).toBe("Parallel");
    const [claim] = sts.spec.volumeClaimTemplates as Any[];
    expect(claim.metadata.name).toBe("data");
    expect(claim.spec.resources.requests.storage).toBe("10Gi");
    expect(claim.spec.accessModes).toEqual(["ReadWriteOnce"]);
    expect(claim.spec.storageClassName).toBeUndefined();
    const c = natsContainer(defaultRender());
    expect(c.image).toMatch(/^nats:2\.(1[2-9]|[2-9]\d)/);
    expect(c.volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });

    const conf = natsConf(defaultRender());
    expect(conf).toMatch(/cluster \{[\s\S]*port: 6222[\s\S]*routes: \[\s*\$JN_ROUTE_0\s+\$JN_ROUTE_1\s+\$JN_ROUTE_2\s*\]/);
    for (let i = 0; i < 3; i++) {
      expect(envNamed(c, `JN_ROUTE_${i}`).value).toBe(
        `nats://route:$(JN_ROUTE_PASSWORD)@${NATS}-${i}.${NATS_HEADLESS}.${NAMESPACE}.svc.cluster.local:6222`,
      );
    }
    // $(JN_ROUTE_PASSWORD) only expands when that variable is defined earlier in the list.
    const names = (c.env as Any[]).map((e) => e.name as string);
    expect(names).toEqual(["POD_NAME", "JN_ROUTE_PASSWORD", "JN_ROUTE_0", "JN_ROUTE_1", "JN_ROUTE_2"]);
    expect(envNamed(c, "JN_ROUTE_PASSWORD").valueFrom.secretKeyRef).toEqual({ name: AUTH_SECRET, key: "route-password" });
  });

  it("honours storage values", () => {
    const r = render({ nats: { jetstream: { maxFileStore: "90Gi", storage: { size: "100Gi", storageClassName: "fast-ssd" } } } });
    const claim = (find(r.objects, "StatefulSet", NATS) as Any).spec.volumeClaimTemplates[0];
    expect(claim.spec.resources.requests.storage).toBe("100Gi");
    expect(claim.spec.storageClassName).toBe("fast-ssd");
    expect(natsConf(r)).toMatch(/^\s*max_file_store: 90Gi$/m);
  });

  it("scales to 5 servers with a route to every pod", () => {
    const r = render(VALUE_SETS["5 NATS replicas"]);
    expect((find(r.objects, "StatefulSet", NATS) as Any).spec.replicas).toBe(5);
    const conf = natsConf(r);
    const c = natsContainer(r);
    for (let i = 0; i < 5; i++) {
      expect(conf).toContain(`$JN_ROUTE_${i}\n`);
      expect(envNamed(c, `JN_ROUTE_${i}`).value).toContain(`@${NATS}-${i}.${NATS_HEADLESS}.`);
    }
    expect(envNamed(c, "JN_ROUTE_5")).toBeUndefined();
    // Stations still default to R3 (JetStream's sweet spot), not R5.
    expect(gatewayEnv(r).JUNCTION_DEFAULT_REPLICAS).toBe("3");
  });

  it("runs a single server without cluster, routes or PDB when nats.replicas=1", () => {
    const r = render(VALUE_SETS["single NATS server"]);
    expect(natsConf(r)).not.toContain("cluster {");
    expect(natsConf(r)).not.toContain("password");
    expect((natsContainer(r).env as Any[]).map((e) => e.name)).toEqual(["POD_NAME"]);
    expect(ofKind(r.objects, "PodDisruptionBudget").map((p) => p.metadata.name)).toEqual([GATEWAY]);
    expect(gatewayEnv(r).JUNCTION_DEFAULT_REPLICAS).toBe("1");
  });

  it("spreads servers with preferred anti-affinity by default", () => {
    const sts = find(defaultRender().objects, "StatefulSet", NATS) as Any;
    const anti = sts.spec.template.spec.affinity.podAntiAffinity;
    expect(anti.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    const [term] = anti.preferredDuringSchedulingIgnoredDuringExecution as Any[];
    expect(term.podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
    expect(sts.spec.template.metadata.labels).toMatchObject(term.podAffinityTerm.labelSelector.matchLabels);
  });

  it("requires anti-affinity when asked", () => {
    const sts = find(render(VALUE_SETS["required anti-affinity"]).objects, "StatefulSet", NATS) as Any;
    const anti = sts.spec.template.spec.affinity.podAntiAffinity;
    expect(anti.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    const [term] = anti.requiredDuringSchedulingIgnoredDuringExecution as Any[];
    expect(term.topologyKey).toBe("topology.kubernetes.io/zone");
    expect(sts.spec.template.metadata.labels).toMatchObject(term.labelSelector.matchLabels);
  });

  it("has a PodDisruptionBudget of one server", () => {
    const pdb = find(defaultRender().objects, "PodDisruptionBudget", NATS) as Any;
    expect(pdb.spec.maxUnavailable).toBe(1);
    const sts = find(defaultRender().objects, "StatefulSet", NATS) as Any;
    expect(pdb.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
  });

  it("probes the monitoring port", () => {
    const c = natsContainer(defaultRender());
    expect(c.ports).toEqual(
      expect.arrayContaining([
        { name: "client", containerPort: 4222 },
        { name: "cluster", containerPort: 6222 },
        { name: "monitor", containerPort: 8222 },
      ]),
    );
    expect(c.startupProbe.httpGet).toEqual({ path: "/healthz", port: "monitor" });
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz?js-enabled-only=true", port: "monitor" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/healthz?js-server-only=true", port: "monitor" });
    expect(c.lifecycle.preStop.exec.command).toEqual(["nats-server", "--signal", "ldm=/var/run/nats/nats.pid"]);
  });

  it("has a headless Service for routes and a client Service", () => {
    const headless = find(defaultRender().objects, "Service", NATS_HEADLESS) as Any;
    expect(headless.spec.clusterIP).toBe("None");
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect((headless.spec.ports as Any[]).map((p) => p.port)).toEqual([4222, 6222, 8222]);
    const client = find(defaultRender().objects, "Service", NATS) as Any;
    expect(client.spec.clusterIP).toBeUndefined();
    expect(client.spec.ports).toContainEqual({ name: "client", port: 4222, targetPort: "client" });
  });

  it("runs as non-root with a read-only root file system", () => {
    const spec = natsPod(defaultRender());
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(spec.automountServiceAccountToken).toBe(false);
  });
});

describe("gateway", () => {
  it("runs 2 replicas with health probes and a metrics port", () => {
    const dep = find(defaultRender().objects, "Deployment", GATEWAY) as Any;
    expect(dep.spec.replicas).toBe(2);
    const c = gatewayContainer(defaultRender());
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080 }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(c.envFrom).toEqual([{ configMapRef: { name: GATEWAY_CONFIG } }]);
    expect(c.env).toBeUndefined();
    expect(c.command).toBeUndefined(); // the image's entrypoint: node --no-node-snapshot dist/cli/main.js
    expect(c.args).toEqual(["gateway", "--log-level", "info", "--log-format", "json"]);
    expect(c.resources.requests).toBeDefined();
    const svc = find(defaultRender().objects, "Service", GATEWAY) as Any;
    expect(svc.spec.ports).toEqual([{ name: "metrics", port: 8080, targetPort: "http" }]);
    expect(find(defaultRender().objects, "PodDisruptionBudget", GATEWAY)).toBeDefined();
  });

  it("is configured for the chart's NATS, with its secrets as files", () => {
    expect(gatewayEnv(defaultRender())).toEqual({
      JUNCTION_URL: `nats://${NATS}:4222`,
      JUNCTION_USER: "gateway",
      JUNCTION_PASSWORD_FILE: "/etc/junction/secrets/gateway-password",
      JUNCTION_AUTH_ISSUER_SEED_FILE: "/etc/junction/secrets/issuer-seed",
      JUNCTION_SYSTEM_USER: "sys",
      JUNCTION_SYSTEM_PASSWORD_FILE: "/etc/junction/secrets/system-password",
      JUNCTION_HTTP_PORT: "8080",
      JUNCTION_HTTP_HOST: "0.0.0.0",
      JUNCTION_DEFAULT_REPLICAS: "3",
      JUNCTION_BOOTSTRAP_FILE: "/etc/junction/bootstrap/bootstrap.json",
    });
    const spec = gatewayPod(defaultRender());
    const c = spec.containers[0];
    expect(mountOf(c, "secrets")).toEqual({ name: "secrets", mountPath: "/etc/junction/secrets", readOnly: true });
    expect(mountOf(c, "bootstrap")).toEqual({ name: "bootstrap", mountPath: "/etc/junction/bootstrap", readOnly: true });
    expect(volume(spec, "secrets").secret).toEqual({
      secretName: AUTH_SECRET,
      defaultMode: 0o440,
      items: ["gateway-password", "system-password", "issuer-seed"].map((k) => ({ key: k, path: k })),
    });
  });

  it("restarts its pods when the configuration or the bootstrap file changes", () => {
    const annotations = (r: Rendered) => (find(r.objects, "Deployment", GATEWAY) as Any).spec.template.metadata.annotations;
    const base = annotations(defaultRender());
    const more = annotations(
      render({
        users: [
          { name: "admin", grants: { admin: true } },
          { name: "reports", grants: { consume: ["*:reports"] } },
        ],
      }),
    );
    expect(more["checksum/bootstrap"]).not.toBe(base["checksum/bootstrap"]);
    expect(annotations(render({ gateway: { config: { JUNCTION_X: "1" } } }))["checksum/config"]).not.toBe(base["checksum/config"]);
  });

  it("takes extra settings from gateway.config but neither the ones the chart owns nor secrets", () => {
    const r = render({ gateway: { logLevel: "debug", config: { NODE_OPTIONS: "--max-old-space-size=768", JUNCTION_X: 500 } } });
    expect(gatewayEnv(r)).toMatchObject({ NODE_OPTIONS: "--max-old-space-size=768", JUNCTION_X: "500" });
    expect(gatewayContainer(r).args).toEqual(["gateway", "--log-level", "debug", "--log-format", "json"]);
    const owned = runHelm(["template", RELEASE, CHART_DIR], { gateway: { config: { JUNCTION_BOOTSTRAP_FILE: "/x.json" } } });
    expect(owned.status).not.toBe(0);
    expect(owned.stderr).toContain("gateway.config.JUNCTION_BOOTSTRAP_FILE is set by the chart");
    const secret = runHelm(["template", RELEASE, CHART_DIR], { gateway: { config: { JUNCTION_PASSWORD: "hunter2" } } });
    expect(secret.status).not.toBe(0);
    expect(secret.stderr).toContain("gateway.config.JUNCTION_PASSWORD is a secret");
  });

  it("runs as non-root with a read-only root file system and a writable /tmp", () => {
    const spec = gatewayPod(defaultRender());
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(spec.volumes).toContainEqual({ name: "tmp", emptyDir: {} });
  });

  it("renders the Grafana dashboard and the alert rules only when asked, with the chosen label, namespace and selector", () => {
    expect(ofKind(defaultRender().objects, "PrometheusRule")).toEqual([]);
    expect(ofKind(defaultRender().objects, "ConfigMap").map((c) => c.metadata.name)).not.toContain(`${FULL}-dashboard`);
    const r = render(VALUE_SETS["dashboard and alerts"]);
    const cm = find(r.objects, "ConfigMap", `${FULL}-dashboard`) as Any;
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: "junction", "app.kubernetes.io/component": "gateway" });
    expect(JSON.parse(cm.data["junction.json"] as string).panels.length).toBeGreaterThan(10);
    const rule = find(r.objects, "PrometheusRule", `${FULL}-alerts`) as Any;
    const rules = rule.spec.groups[0].rules as Any[];
    expect(rules.map((x) => x.alert)).not.toContain("JunctionConsumerLagGrowing");
    for (const x of rules) expect(x.expr).toContain('{job="gw"}');
    expect(gatewayContainer(r).args).toEqual(["gateway", "--log-level", "info,gateway.produce=debug", "--log-format", "pretty"]);
    const elsewhere = render({ gateway: { metrics: { dashboard: { enabled: true, namespace: "monitoring" } } } });
    expect(find(elsewhere.objects, "ConfigMap", `${FULL}-dashboard`).metadata.namespace).toBe("monitoring");
  });

  it("renders no HPA or ServiceMonitor by default, and /metrics needs no token", () => {
    expect(ofKind(defaultRender().objects, "HorizontalPodAutoscaler")).toEqual([]);
    expect(ofKind(defaultRender().objects, "ServiceMonitor")).toEqual([]);
    expect(gatewayEnv(defaultRender()).JUNCTION_METRICS_TOKEN_FILE).toBeUndefined();
  });

  it("autoscales with an HPA and is scraped with the metrics token by a ServiceMonitor", () => {
    const r = render(VALUE_SETS["HPA + ServiceMonitor + metrics token"]);
    expect((find(r.objects, "Deployment", GATEWAY) as Any).spec.replicas).toBeUndefined();
    const hpa = find(r.objects, "HorizontalPodAutoscaler", GATEWAY) as Any;
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: GATEWAY });
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.maxReplicas).toBe(12);
    expect((hpa.spec.metrics as Any[]).map((m) => [m.resource.name, m.resource.target.averageUtilization])).toEqual([
      ["cpu", 70],
      ["memory", 80],
    ]);

    const sm = find(r.objects, "ServiceMonitor", GATEWAY) as Any;
    expect(sm.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(sm.metadata.labels.release).toBe("prometheus");
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [NAMESPACE] });
    expect(sm.spec.endpoints).toEqual([
      {
        port: "metrics",
        path: "/metrics",
        interval: "30s",
        scrapeTimeout: "10s",
        authorization: { type: "Bearer", credentials: { name: AUTH_SECRET, key: "metrics-token" } },
      },
    ]);
    const svc = find(r.objects, "Service", GATEWAY) as Any;
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect((svc.spec.ports as Any[]).map((p) => p.name)).toContain("metrics");
    // The gateway reads the same token from a file; the hook Job generates it.
    expect(gatewayEnv(r).JUNCTION_METRICS_TOKEN_FILE).toBe("/etc/junction/metrics/token");
    const spec = gatewayPod(r);
    expect(mountOf(spec.containers[0], "metrics-token")).toEqual({
      name: "metrics-token",
      mountPath: "/etc/junction/metrics",
      readOnly: true,
    });
    expect(volume(spec, "metrics-token").secret).toEqual({
      secretName: AUTH_SECRET,
      defaultMode: 0o440,
      items: [{ key: "metrics-token", path: "token" }],
    });
    const job = podTemplate(r.objects, "Job", SECRET_JOB).spec.containers[0];
    expect(envNamed(job, "JN_RANDOM_KEYS").value).toBe("route-password,metrics-token,admin-password");
  });

  it("takes the metrics token from its own Secret when given", () => {
    const r = render({
      gateway: { metrics: { token: { enabled: true, existingSecret: "scrape", key: "t" }, serviceMonitor: { enabled: true } } },
    });
    expect((find(r.objects, "ServiceMonitor", GATEWAY) as Any).spec.endpoints[0].authorization.credentials).toEqual({
      name: "scrape",
      key: "t",
    });
    expect(volume(gatewayPod(r), "metrics-token").secret.secretName).toBe("scrape");
    const job = podTemplate(r.objects, "Job", SECRET_JOB).spec.containers[0];
    expect(envNamed(job, "JN_RANDOM_KEYS").value).toBe("route-password,admin-password");
  });
});

describe("users and tenants", () => {
  it("bootstraps an admin user whose password the hook generates by default", () => {
    const r = defaultRender();
    expect(bootstrapJson(r)).toEqual({
      tenants: [],
      users: [{ name: "admin", passwordFile: "passwords/admin", grants: { produce: [], consume: [], admin: true } }],
    });
    expect(volume(gatewayPod(r), "bootstrap").projected).toEqual({
      defaultMode: 0o440,
      sources: [
        { configMap: { name: GATEWAY_BOOTSTRAP, items: [{ key: "bootstrap.json", path: "bootstrap.json" }] } },
        { secret: { name: AUTH_SECRET, items: [{ key: "admin-password", path: "passwords/admin" }] } },
      ],
    });
  });

  it("renders tenants and users into the bootstrap file, each password from its Secret", () => {
    const r = render({
      ...USERS,
      users: [
        ...(USERS["users"] as Values[]),
        { name: "audit", existingSecret: "billing-credentials", secretKey: "audit", grants: { consume: ["orders-*:audit-*"] } },
      ],
    });
    expect(bootstrapJson(r)).toEqual({
      tenants: ["acme"],
      users: [
        { name: "admin", passwordFile: "passwords/admin", grants: { produce: [], consume: [], admin: true } },
        { name: "billing", passwordFile: "passwords/billing", grants: { produce: ["orders"], consume: ["orders:billing"], admin: false } },
        { name: "acme-ops", tenant: "acme", passwordFile: "passwords/acme-ops", grants: { produce: [], consume: [], admin: true } },
        { name: "audit", passwordFile: "passwords/audit", grants: { produce: [], consume: ["orders-*:audit-*"], admin: false } },
      ],
    });
    // One projected source per Secret (sorted by name), each with the keys of its users.
    expect(volume(gatewayPod(r), "bootstrap").projected.sources.slice(1)).toEqual([
      {
        secret: {
          name: "billing-credentials",
          items: [
            { key: "password", path: "passwords/billing" },
            { key: "audit", path: "passwords/audit" },
          ],
        },
      },
      {
        secret: {
          name: AUTH_SECRET,
          items: [
            { key: "admin-password", path: "passwords/admin" },
            { key: "acme-ops-password", path: "passwords/acme-ops" },
          ],
        },
      },
    ]);
    // The hook generates exactly the passwords that live in the chart's Secret.
    const job = podTemplate(r.objects, "Job", SECRET_JOB).spec.containers[0];
    expect(envNamed(job, "JN_RANDOM_KEYS").value).toBe("route-password,admin-password,acme-ops-password");
  });

  it("renders no bootstrap file without users or tenants", () => {
    const r = render({ users: [] });
    expect(ofKind(r.objects, "ConfigMap").map((c) => c.metadata.name)).not.toContain(GATEWAY_BOOTSTRAP);
    expect(gatewayEnv(r).JUNCTION_BOOTSTRAP_FILE).toBeUndefined();
    expect(mountOf(gatewayContainer(r), "bootstrap")).toBeUndefined();
  });

  it.each([
    ["a tenant that is not listed", { users: [{ name: "x", tenant: "nope" }] }, 'the tenant "nope" of user "x" is not listed in tenants'],
    ["a user listed twice", { users: [{ name: "x" }, { name: "x" }] }, 'the user "x" is listed twice'],
    ["the gateway's own user", { users: [{ name: "gateway" }] }, '"gateway" is the deployment\'s own NATS user'],
  ])("refuses %s", (_name, values, message) => {
    const run = runHelm(["template", RELEASE, CHART_DIR], values);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(message);
  });
});

describe("TLS", () => {
  it("serves TLS on the client port, verifying client certificates when asked", () => {
    const r = render(VALUE_SETS["mutual TLS"]);
    const conf = natsConf(r);
    expect(conf).toMatch(
      /tls \{\n\s+cert_file: "\/etc\/nats-tls\/tls\.crt"\n\s+key_file: "\/etc\/nats-tls\/tls\.key"\n\s+ca_file: "\/etc\/nats-tls\/ca\.crt"\n\s+verify: true\n\}/,
    );
    const spec = natsPod(r);
    expect(mountOf(spec.containers[0], "tls")).toEqual({ name: "tls", mountPath: "/etc/nats-tls", readOnly: true });
    expect(volume(spec, "tls").secret).toEqual({
      secretName: "nats-tls",
      defaultMode: 0o440,
      items: ["tls.crt", "tls.key", "ca.crt"].map((k) => ({ key: k, path: k })),
    });
    expect(natsConf(render({ tls: { enabled: true, existingSecret: "nats-tls" } }))).not.toContain("verify");
    expect(natsConf(defaultRender())).not.toContain("tls {");
  });

  it("gives the gateway the CA, and its client certificate when the server verifies clients", () => {
    const r = render(VALUE_SETS["mutual TLS"]);
    expect(gatewayEnv(r)).toMatchObject({
      JUNCTION_TLS_CA: "/etc/junction/tls/ca.crt",
      JUNCTION_TLS_CERT: "/etc/junction/tls/tls.crt",
      JUNCTION_TLS_KEY: "/etc/junction/tls/tls.key",
    });
    expect(volume(gatewayPod(r), "tls").projected.sources).toEqual([
      { secret: { name: "nats-tls", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      {
        secret: {
          name: "gateway-tls",
          items: [
            { key: "tls.crt", path: "tls.crt" },
            { key: "tls.key", path: "tls.key" },
          ],
        },
      },
    ]);
    const oneWay = render({ tls: { enabled: true, existingSecret: "nats-tls" } });
    expect(gatewayEnv(oneWay).JUNCTION_TLS_CA).toBe("/etc/junction/tls/ca.crt");
    expect(gatewayEnv(oneWay).JUNCTION_TLS_CERT).toBeUndefined();
    expect(volume(gatewayPod(oneWay), "tls").projected.sources).toHaveLength(1);
    // Without a separate Secret the gateway presents the server's certificate.
    const shared = render({ tls: { enabled: true, existingSecret: "nats-tls", verify: true } });
    expect(volume(gatewayPod(shared), "tls").projected.sources[1].secret.name).toBe("nats-tls");
  });

  it("reaches an external NATS over TLS with the CA", () => {
    const r = render({ ...VALUE_SETS["external NATS"], tls: { enabled: true, existingSecret: "corp-ca" } });
    expect(gatewayEnv(r).JUNCTION_TLS_CA).toBe("/etc/junction/tls/ca.crt");
    expect(volume(gatewayPod(r), "tls").projected.sources[0].secret.name).toBe("corp-ca");
  });
});

describe("secrets", () => {
  it("creates the Secret from a pre-install/pre-upgrade hook Job in the Junction image", () => {
    const r = defaultRender();
    expect(ofKind(r.objects, "Secret")).toEqual([]);
    const hooks = r.objects.filter((o) => hookAnnotations(o)["helm.sh/hook"] !== undefined);
    expect(hooks.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      ["ConfigMap", "Job", "Role", "RoleBinding", "ServiceAccount"].map((k) => `${k}/${SECRET_JOB}`),
    );
    for (const h of hooks) {
      expect(hookAnnotations(h)).toMatchObject({
        "helm.sh/hook": "pre-install,pre-upgrade",
        "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded",
        // The Job runs after its ServiceAccount, Role, RoleBinding and script exist.
        "helm.sh/hook-weight": h.kind === "Job" ? "-5" : "-10",
      });
    }
    expect((find(r.objects, "Role", SECRET_JOB) as Any).rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: [AUTH_SECRET], verbs: ["get", "patch"] },
    ]);
    expect((find(r.objects, "RoleBinding", SECRET_JOB) as Any).subjects).toEqual([
      { kind: "ServiceAccount", name: SECRET_JOB, namespace: NAMESPACE },
    ]);
    expect((find(r.objects, "ConfigMap", SECRET_JOB) as Any).data["ensure-secret.mjs"]).toBe(
      readFileSync(join(CHART_DIR, "files/ensure-secret.mjs"), "utf8"),
    );
    const spec = podTemplate(r.objects, "Job", SECRET_JOB).spec;
    expect(spec.serviceAccountName).toBe(SECRET_JOB);
    expect(spec.automountServiceAccountToken).toBe(true);
    expect(spec.restartPolicy).toBe("Never");
    expect(spec.initContainers[0]).toMatchObject({
      name: "generate",
      image: IMAGE,
      args: ["nats-config", "--generate", "/generated", "--out", "/generated/accounts.conf"],
    });
    const c = spec.containers[0];
    expect(c).toMatchObject({ name: "ensure-secret", image: IMAGE, command: ["node", "/scripts/ensure-secret.mjs"] });
    expect(envNamed(c, "JN_SECRET_NAME").value).toBe(AUTH_SECRET);
    expect(envNamed(c, "JN_RANDOM_KEYS").value).toBe("route-password,admin-password");
    expect(envNamed(c, "NODE_EXTRA_CA_CERTS").value).toBe("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    expect(volume(spec, "generated").emptyDir.medium).toBe("Memory");
    // Only the hook's pod holds a service account token.
    for (const s of podSpecs(r.objects)) if (s !== spec) expect(s.automountServiceAccountToken).toBe(false);
  });

  describe("the hook Job against a Kubernetes API", () => {
    let kube: FakeKube;
    let dir: string;
    beforeAll(async () => {
      dir = tempDir("jn-chart-job-");
      kube = await FakeKube.start(NAMESPACE, dir);
    });
    afterAll(async () => {
      await kube?.close();
    });

    it("creates the Secret with every key, then leaves it alone", async () => {
      const r = render(VALUE_SETS["users and tenants"]);
      const first = await runSecretJob(r, kube, dir);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain(`created Secret ${NAMESPACE}/${AUTH_SECRET}`);
      const s = kube.secret(AUTH_SECRET)!;
      expect(Object.keys(s).sort()).toEqual(
        ["acme-ops-password", "admin-password", "gateway-password", "issuer-seed", "route-password", "system-password"].sort(),
      );
      expect(s["issuer-seed"]).toMatch(/^SA[A-Z2-7]{56}$/);
      for (const k of ["acme-ops-password", "admin-password", "route-password"]) expect(s[k]).toMatch(/^[A-Za-z0-9]{32}$/);
      for (const k of ["gateway-password", "system-password"]) expect(s[k]).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(new Set(Object.values(s)).size).toBe(6);
      expect(kube.labels(AUTH_SECRET)).toEqual({
        "app.kubernetes.io/name": "junction",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": "auth",
      });
      // No value ever reaches the job's output (its log).
      for (const v of Object.values(s)) expect(first.stdout + first.stderr).not.toContain(v);

      const again = await runSecretJob(r, kube, dir);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain("has every key; nothing changed");
      expect(kube.secret(AUTH_SECRET)).toEqual(s);
    });

    it("adds only the keys a Secret lacks (a new user, metrics), keeping every other value", async () => {
      kube.putSecret(AUTH_SECRET, { "gateway-password": "old-gw", "route-password": "oldroute", "issuer-seed": `SA${"A".repeat(56)}` });
      const r = render({ ...VALUE_SETS["HPA + ServiceMonitor + metrics token"], users: [{ name: "admin", grants: { admin: true } }] });
      const run = await runSecretJob(r, kube, dir);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain("added keys admin-password, metrics-token, system-password");
      const s = kube.secret(AUTH_SECRET)!;
      expect(s).toMatchObject({ "gateway-password": "old-gw", "route-password": "oldroute", "issuer-seed": `SA${"A".repeat(56)}` });
      expect(Object.keys(s).sort()).toEqual(
        ["admin-password", "gateway-password", "issuer-seed", "metrics-token", "route-password", "system-password"].sort(),
      );
      expect(kube.requests.at(-1)).toBe(`PATCH /api/v1/namespaces/${NAMESPACE}/secrets/${AUTH_SECRET}`);
    });

    it("refuses a Secret whose issuer-seed is not an nkey account seed", async () => {
      kube.putSecret(AUTH_SECRET, { "issuer-seed": "not-a-seed" });
      const run = await runSecretJob(defaultRender(), kube, dir);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(`key issuer-seed of Secret ${NAMESPACE}/${AUTH_SECRET} is not an nkey account seed`);
      expect(kube.secret(AUTH_SECRET)).toEqual({ "issuer-seed": "not-a-seed" });
    });

    it("trusts only the API server's CA", async () => {
      const before = kube.requests.length;
      const run = await runSecretJob(defaultRender(), kube, dir, { NODE_EXTRA_CA_CERTS: "" });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain("cannot reach the Kubernetes API");
      expect(run.stderr).toMatch(/certificate/);
      // The TLS handshake failed: no request reached the server.
      expect(kube.requests.length).toBe(before);
    });

    it("says what is missing when RBAC refuses", async () => {
      kube.forbid = true;
      try {
        const run = await runSecretJob(defaultRender(), kube, dir);
        expect(run.code).not.toBe(0);
        expect(run.stderr).toContain("HTTP 403");
        expect(run.stderr).toContain("the hook's Role must allow get/create/patch");
      } finally {
        kube.forbid = false;
      }
    });
  });

  it("gives pods secrets only as files, and the route password by secretKeyRef", () => {
    for (const values of [VALUE_SETS["defaults"], VALUE_SETS["5 NATS replicas"], VALUE_SETS["HPA + ServiceMonitor + metrics token"]]) {
      const r = render(values);
      expect(secretRefs(r.objects)).toEqual([{ name: AUTH_SECRET, key: "route-password", env: "JN_ROUTE_PASSWORD" }]);
      // Nothing that looks like an inline secret in configs or pod specs.
      for (const o of r.objects.filter((x) => ["ConfigMap", "Deployment", "StatefulSet", "Job"].includes(x.kind))) {
        const text = JSON.stringify(o.kind === "ConfigMap" && o.metadata.name === SECRET_JOB ? { ...o, data: {} } : o);
        expect(text, `${o.kind} ${o.metadata.name}`).not.toMatch(/password:\s*"[^$]/i);
        expect(text, `${o.kind} ${o.metadata.name}`).not.toMatch(/"name":"[A-Z_]*(PASSWORD|SEED|TOKEN)","value"/);
      }
    }
    expect(secretVolumeKeys(defaultRender().objects)).toEqual(
      [
        `${AUTH_SECRET}/admin-password`,
        `${AUTH_SECRET}/gateway-password`,
        `${AUTH_SECRET}/issuer-seed`,
        `${AUTH_SECRET}/system-password`,
      ].sort(),
    );
  });

  it("uses auth.existingSecret instead of the hook", () => {
    const r = render(VALUE_SETS["existingSecret"]);
    expect(ofKind(r.objects, "Secret")).toEqual([]);
    expect(r.objects.filter((o) => o.metadata.name === SECRET_JOB)).toEqual([]);
    expect(secretRefs(r.objects)).toEqual([{ name: "junction-passwords", key: "route-password", env: "JN_ROUTE_PASSWORD" }]);
    expect(secretVolumeKeys(r.objects)).toEqual(
      ["admin-password", "gateway-password", "issuer-seed", "system-password"].map((k) => `junction-passwords/${k}`),
    );
  });
});

describe("external NATS", () => {
  it("renders only the gateway, pointed at the given server and Secret", () => {
    const r = render(VALUE_SETS["external NATS"]);
    expect(ofKind(r.objects, "StatefulSet")).toEqual([]);
    expect(ofKind(r.objects, "Secret")).toEqual([]);
    expect(ofKind(r.objects, "Job")).toEqual([]);
    expect(r.objects.filter((o) => o.metadata.name.startsWith(NATS))).toEqual([]);
    const env = gatewayEnv(r);
    expect(env.JUNCTION_URL).toBe("nats://nats.messaging.svc:4222");
    expect(env.JUNCTION_USER).toBe("gateway");
    expect(env.JUNCTION_SYSTEM_USER).toBe("sys");
    expect(env.JUNCTION_DEFAULT_REPLICAS).toBeUndefined();
    expect(secretRefs(r.objects)).toEqual([]);
    expect(secretVolumeKeys(r.objects)).toEqual(
      ["admin-password", "gateway-password", "issuer-seed", "system-password"].map((k) => `junction-nats-secrets/${k}`),
    );
  });

  it("fails clearly without a URL or without a Secret", () => {
    const noUrl = runHelm(["template", RELEASE, CHART_DIR], { nats: { enabled: false }, auth: { existingSecret: "s" } });
    expect(noUrl.status).not.toBe(0);
    expect(noUrl.stderr).toContain("externalNats");
    const noSecret = runHelm(["template", RELEASE, CHART_DIR], { nats: { enabled: false }, externalNats: { url: "nats://x:4222" } });
    expect(noSecret.status).not.toBe(0);
    expect(noSecret.stderr).toContain("auth.existingSecret is required when nats.enabled=false");
    expect(noSecret.stderr).toContain("junction nats-config --generate");
  });
});

describe("values.schema.json", () => {
  const bad: [string, Values, string][] = [
    ['nats.replicas: "three"', { nats: { replicas: "three" } }, "/nats/replicas"],
    ["nats.replicas: 0", { nats: { replicas: 0 } }, "/nats/replicas"],
    ["syncInterval: sometimes", { nats: { jetstream: { syncInterval: "sometimes" } } }, "/nats/jetstream/syncInterval"],
    ["antiAffinity: maybe", { nats: { antiAffinity: "maybe" } }, "/nats/antiAffinity"],
    ["logLevel: verbose", { gateway: { logLevel: "verbose" } }, "/gateway/logLevel"],
    ["logLevel of a component: loud", { gateway: { logLevel: "info,gateway.produce=loud" } }, "/gateway/logLevel"],
    ["logFormat: xml", { gateway: { logFormat: "xml" } }, "/gateway/logFormat"],
    [
      "an alert window of ten minutes",
      { gateway: { metrics: { alerts: { enabled: true, consumerLag: { window: "ten minutes" } } } } },
      "/gateway/metrics/alerts/consumerLag/window",
    ],
    ["an unknown alert", { gateway: { metrics: { alerts: { diskFull: { enabled: true } } } } }, "diskFull"],
    [
      "a dashboard label with a space",
      { gateway: { metrics: { dashboard: { label: "grafana dashboard" } } } },
      "/gateway/metrics/dashboard/label",
    ],
    ["a misspelt key", { gateway: { replicas: 3 } }, "replicas"],
    ["storage size 10GB", { nats: { jetstream: { storage: { size: "10GB" } } } }, "/nats/jetstream/storage/size"],
    ["a user name with capitals", { users: [{ name: "Billing" }] }, "/users/0/name"],
    ["a grant with a dot", { users: [{ name: "x", grants: { produce: ["orders.eu"] } }] }, "/users/0/grants/produce/0"],
    ["an unknown grant", { users: [{ name: "x", grants: { delete: true } }] }, "delete"],
    ["a consume grant with two groups", { users: [{ name: "x", grants: { consume: ["a:b:c"] } }] }, "/users/0/grants/consume/0"],
    ["a tenant with an underscore", { tenants: ["acme_eu"] }, "/tenants/0"],
    ["TLS without a Secret", { tls: { enabled: true } }, "existingSecret"],
    ["the old externalNats.user", { externalNats: { user: "gateway" } }, "user"],
    ["the old nats.clientPermissions", { nats: { clientPermissions: {} } }, "clientPermissions"],
    ["a metrics token key with a slash", { gateway: { metrics: { token: { enabled: true, key: "a/b" } } } }, "/gateway/metrics/token/key"],
  ];
  it.each(bad)("rejects %s in helm template and helm lint", (_name, values, mentions) => {
    const t = runHelm(["template", RELEASE, CHART_DIR], values);
    expect(t.status).not.toBe(0);
    expect(t.stderr).toContain(mentions);
    const l = runHelm(["lint", CHART_DIR], values);
    expect(l.status).not.toBe(0);
  });
});

describe("NOTES.txt", () => {
  it("says how to get the admin password and connect", () => {
    const run = runHelm(["install", RELEASE, CHART_DIR, "--dry-run=client", "--namespace", NAMESPACE]);
    expect(run.status, run.stderr).toBe(0);
    const notes = run.stdout.slice(run.stdout.indexOf("NOTES:"));
    expect(notes).toContain(`port-forward svc/${NATS} 4222:4222`);
    expect(notes).toContain(`get secret ${AUTH_SECRET}`);
    expect(notes).toContain("{.data.admin-password}");
    expect(notes).toContain("JUNCTION_USER=admin");
    expect(notes).toContain("junction user create");
    expect(notes).toContain("junction produce");
  });

  it("names the CA file clients need with TLS, and the admin's own Secret", () => {
    const run = runHelm(["install", RELEASE, CHART_DIR, "--dry-run=client", "--namespace", NAMESPACE], {
      ...VALUE_SETS["mutual TLS"],
      users: [{ name: "root", existingSecret: "root-pw", secretKey: "pw", grants: { admin: true } }],
    });
    expect(run.status, run.stderr).toBe(0);
    const notes = run.stdout.slice(run.stdout.indexOf("NOTES:"));
    expect(notes).toContain("get secret root-pw");
    expect(notes).toContain("{.data.pw}");
    expect(notes).toContain("JUNCTION_USER=root");
    expect(notes).toContain("get secret nats-tls");
    expect(notes).toContain("JUNCTION_TLS_CA");
    expect(notes).toContain("JUNCTION_TLS_CERT");
  });
});

/** Connects an SDK client; closed after the file. */
const clients: JunctionClient[] = [];
async function client(url: string, user: string, pass: string, extra: Parameters<typeof connect>[0] = {}): Promise<JunctionClient> {
  const c = await connect({ servers: url, user, pass, name: `chart-${user}`, ...extra });
  clients.push(c);
  return c;
}
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
});

describe("the rendered chart on real nats-server and gateway", () => {
  let kube: FakeKube | undefined;
  let cluster: LocalCluster | undefined;
  let gateway: LocalGateway | undefined;
  afterAll(async () => {
    await gateway?.stop();
    await cluster?.close();
    await kube?.close();
  });

  it("forms a 3-server JetStream cluster whose accounts come from the init container, and admits users through the gateway's callout", async () => {
    const dir = tempDir("jn-chart-run-");
    const r = render(VALUE_SETS["users and tenants"]);
    kube = await FakeKube.start(NAMESPACE, dir);
    // The operator's Secret for one user; the hook makes the rest.
    kube.putSecret("billing-credentials", { password: "billing-secret-pw" });
    const job = await runSecretJob(r, kube, dir);
    expect(job.code, job.stderr).toBe(0);
    const secrets = kube.secret(AUTH_SECRET)!;

    cluster = await startRenderedCluster(r, kube, NATS, dir);
    const c = cluster;
    const healthy = await waitFor(async () => {
      const checks = await Promise.all(c.nodes.map((n) => monitor(n, "/healthz")));
      return checks.every((h) => h.status === 200);
    }, 30_000);
    expect(healthy, `cluster not healthy:\n${c.logs()}`).toBe(true);
    for (const n of c.nodes) {
      // The init container wrote hashes and the issuer's public key, never a password.
      expect(n.accountsConf).toContain(`issuer: "${issuerPublicKey(secrets["issuer-seed"]!)}"`);
      expect(n.accountsConf).toMatch(/user: "gateway", password: "\$2[aby]\$10\$/);
      for (const k of ["gateway-password", "system-password", "issuer-seed"]) expect(n.accountsConf).not.toContain(secrets[k]);
      expect((await monitor(n, "/healthz?js-enabled-only=true")).status).toBe(200);
      const routez = JSON.parse((await monitor(n, "/routez")).body) as { routes?: { remote_name: string }[] };
      const peers = new Set((routez.routes ?? []).map((x) => x.remote_name));
      expect([...peers].sort(), `${n.pod.name} routes`).toEqual(c.nodes.map((x) => x.pod.name).filter((p) => p !== n.pod.name));
      const varz = JSON.parse((await monitor(n, "/varz")).body) as Any;
      expect(varz.server_name).toBe(n.pod.name);
      expect(varz.jetstream.config.sync_always).toBe(true);
      expect(varz.max_payload).toBe(8 * 1024 * 1024);
      expect(varz.system_account).toBe("SYS");
      const accountz = JSON.parse((await monitor(n, "/accountz")).body) as { accounts: string[] };
      expect(accountz.accounts).toEqual(expect.arrayContaining(["JUNCTION", "CLIENTS", "SYS"]));
    }
    const jsz = JSON.parse((await monitor(c.nodes[0]!, "/jsz")).body) as Any;
    expect(jsz.meta_cluster?.cluster_size).toBe(3);

    // The gateway pod: `junction gateway` with the rendered environment, secrets and bootstrap file.
    gateway = await startRenderedGateway(r, kube, GATEWAY, [c.urls()[0]!], dir).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${c.logs()}`);
    });
    expect((await httpGet(`http://127.0.0.1:${gateway.httpPort}/healthz`)).status).toBe(200);

    // Users connect to other servers than the gateway's: callout answers cross the routes.
    const url1 = c.urls()[1]!;
    const url2 = c.urls()[2]!;
    const admin = await client(url1, "admin", secrets["admin-password"]!);
    expect(await admin.whoami()).toMatchObject({ user: "admin", tenant: "default", operator: true });
    await admin.stations.create("orders");
    await admin.stations.create("payments");
    await admin.groups.create("orders", "billing", { startPosition: { kind: "earliest" } });

    const billing = await client(url2, "billing", "billing-secret-pw");
    expect(await billing.whoami()).toMatchObject({ user: "billing", tenant: "default", operator: false });
    await expect(billing.producer({ station: "orders" }).send({ id: 1 })).resolves.toMatchObject({ seq: 1, duplicate: false });
    const denied = (await billing
      .producer({ station: "payments" })
      .send({ id: 2 })
      .catch((e: unknown) => e)) as JunctionError;
    expect(denied.code).toBe("PERMISSION_DENIED");
    const consumer = await billing.consumer({ station: "orders", group: "billing" });
    for await (const m of consumer) {
      expect(m.json()).toEqual({ id: 1 });
      m.ack();
      break;
    }
    await consumer.close();

    // A tenant's user sees only its tenant.
    const acme = await client(url1, "acme-ops", secrets["acme-ops-password"]!);
    expect(await acme.whoami()).toMatchObject({ user: "acme-ops", tenant: "acme" });
    expect((await acme.stations.list()).map((s) => s.name)).toEqual([]);

    // What the callout gave billing: no station subjects, no KV, no JetStream API of the store.
    const node = c.nodes[2]!;
    const raw = await natsExchange(node.clientPort, "billing", "billing-secret-pw", [
      "PUB jn.st.orders.msg 2",
      "{}",
      "PUB $JS.API.STREAM.INFO.KV_jn_stations _INBOX_billing.x 0",
      "",
      "SUB $KV.> 1",
      "SUB jn.st.> 2",
    ]);
    expect(raw).toContain('Permissions Violation for Publish to "jn.st.orders.msg"');
    expect(raw).toContain('Permissions Violation for Publish to "$JS.API.STREAM.INFO.KV_jn_stations"');
    expect(raw).toContain('Permissions Violation for Subscription to "$KV.>"');
    expect(raw).toContain('Permissions Violation for Subscription to "jn.st.>"');
    expect((await billing.stations.get("orders")).state?.messages).toBe(1);
    expect(await natsExchange(node.clientPort, "billing", "wrong", [])).toContain("Authorization Violation");
    expect(await natsExchange(node.clientPort, "client", "anything", [])).toContain("Authorization Violation");
  });
});

describe("the rendered chart with mutual TLS and a metrics token, for real", () => {
  let kube: FakeKube | undefined;
  let cluster: LocalCluster | undefined;
  let gateway: LocalGateway | undefined;
  afterAll(async () => {
    await gateway?.stop();
    await cluster?.close();
    await kube?.close();
  });

  it("serves TLS with client certificates, and /metrics only with the token", async () => {
    const dir = tempDir("jn-chart-tls-");
    const certs = await ensureLocalTls(join(dir, "certs"), ["127.0.0.1", "localhost", NATS]);
    const file = (f: string) => readFileSync(f, "utf8");
    const r = render({
      nats: { replicas: 1 },
      tls: { enabled: true, existingSecret: "nats-tls", verify: true, gatewayClientSecret: "gateway-tls" },
      gateway: { metrics: { token: { enabled: true } } },
    });
    kube = await FakeKube.start(NAMESPACE, dir);
    kube.putSecret("nats-tls", { "tls.crt": file(certs.certFile), "tls.key": file(certs.keyFile), "ca.crt": file(certs.caFile) });
    kube.putSecret("gateway-tls", { "tls.crt": file(certs.clientCertFile), "tls.key": file(certs.clientKeyFile) });
    const job = await runSecretJob(r, kube, dir);
    expect(job.code, job.stderr).toBe(0);
    const secrets = kube.secret(AUTH_SECRET)!;

    cluster = await startRenderedCluster(r, kube, NATS, dir);
    const c = cluster;
    expect(await waitFor(async () => (await monitor(c.nodes[0]!, "/healthz")).status === 200, 30_000), c.logs()).toBe(true);
    expect(JSON.parse((await monitor(c.nodes[0]!, "/varz")).body)).toMatchObject({ tls_required: true, tls_verify: true });
    gateway = await startRenderedGateway(r, kube, GATEWAY, c.urls(), dir).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${c.logs()}`);
    });

    const tls = { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile };
    const admin = await client(c.urls()[0]!, "admin", secrets["admin-password"]!, { tls });
    await admin.stations.create("audit");
    await expect(admin.producer({ station: "audit" }).send("x")).resolves.toMatchObject({ seq: 1 });
    // Without a client certificate the server refuses the connection.
    const noCert = await connect({
      servers: c.urls()[0]!,
      user: "admin",
      pass: secrets["admin-password"]!,
      tls: { caFile: certs.caFile },
    }).catch((e: unknown) => e as JunctionError);
    expect(noCert).toBeInstanceOf(Error);

    const metrics = `http://127.0.0.1:${gateway.httpPort}/metrics`;
    expect((await httpGet(metrics)).status).toBe(401);
    const ok = await httpGet(metrics, { authorization: `Bearer ${secrets["metrics-token"]!}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("# TYPE");
    expect((await httpGet(`http://127.0.0.1:${gateway.httpPort}/readyz`)).status).toBe(200);
  });
});
