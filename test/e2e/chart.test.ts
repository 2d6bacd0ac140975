/**
 * The Helm chart (k8s/junction): lint, render with several value sets, validate every object
 * against the Kubernetes schemas, assert the fields that matter, and boot the rendered NATS
 * configuration as a real 3-server cluster. helm comes from scripts/install-helm; when it cannot
 * be obtained every test fails with that reason (nothing is skipped).
 */
import { afterAll, describe, expect, it } from "vitest";
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
import { monitor, natsExchange, startRenderedCluster, waitFor, type LocalCluster } from "./chart/nats-cluster.js";
import { CUSTOM_KINDS, typeKey, validateObject } from "./chart/validate.js";
import { CLIENT_PERMISSIONS } from "../../core/server/nats-config.js";

const FULL = RELEASE; // release "junction" already contains the chart name
const NATS = `${FULL}-nats`;
const NATS_HEADLESS = `${FULL}-nats-headless`;
const NATS_CONFIG = `${FULL}-nats-config`;
const GATEWAY = `${FULL}-gateway`;
const GATEWAY_CONFIG = `${FULL}-gateway-config`;
const AUTH_SECRET = `${FULL}-auth`;

/** The value sets every structural check runs against. */
const VALUE_SETS: Record<string, Values> = {
  defaults: {},
  "external NATS": {
    nats: { enabled: false },
    externalNats: { url: "nats://nats.messaging.svc:4222", existingSecret: "nats-creds", passwordKey: "junction" },
  },
  "HPA + ServiceMonitor": {
    gateway: {
      autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 12, targetMemoryUtilizationPercentage: 80 },
      metrics: { serviceMonitor: { enabled: true, labels: { release: "prometheus" } } },
    },
  },
  "5 NATS replicas": { nats: { replicas: 5 } },
  existingSecret: { auth: { existingSecret: "junction-passwords" } },
  "required anti-affinity": { nats: { antiAffinity: "required", antiAffinityTopologyKey: "topology.kubernetes.io/zone" } },
  "fast sync": { nats: { jetstream: { syncInterval: "2m" } } },
  "single NATS server": { nats: { replicas: 1 } },
};

// Loosely typed access into rendered objects: the schemas are checked by kubernetes-models.
type Any = any;

function natsConf(r: Rendered): string {
  const cm = find(r.objects, "ConfigMap", NATS_CONFIG) as Any;
  return cm.data["nats.conf"] as string;
}
function natsContainer(r: Rendered): Any {
  return (find(r.objects, "StatefulSet", NATS) as Any).spec.template.spec.containers[0];
}
function gatewayContainer(r: Rendered): Any {
  return (find(r.objects, "Deployment", GATEWAY) as Any).spec.template.spec.containers[0];
}
function envNamed(container: Any, name: string): Any {
  return (container.env as Any[]).find((e) => e.name === name);
}
/** Every env entry with a secretKeyRef, across the objects' pod templates. */
function secretRefs(objects: readonly K8sObject[]): { name: string; key: string; env: string }[] {
  const refs: { name: string; key: string; env: string }[] = [];
  for (const o of objects) {
    const spec = (o as Any).spec?.template?.spec;
    for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref !== undefined) refs.push({ name: ref.name, key: ref.key, env: e.name });
      }
    }
  }
  return refs;
}
/** Generated passwords of the rendered auth Secret. */
function generatedPasswords(r: Rendered): Record<string, string> {
  const secret = find(r.objects, "Secret", AUTH_SECRET) as Any;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data as Record<string, string>)) out[k] = Buffer.from(v, "base64").toString("utf8");
  return out;
}

let defaultsCache: Rendered | undefined;
/** The render with default values (helm is obtained on first use). */
function defaultRender(): Rendered {
  defaultsCache ??= render();
  return defaultsCache;
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
  });

  it("only the ServiceMonitor escapes kubernetes-models, and only when enabled", () => {
    const kinds = (r: Rendered): string[] => r.objects.map(typeKey).filter((k) => CUSTOM_KINDS.has(k));
    expect(kinds(defaultRender())).toEqual([]);
    expect(kinds(render(VALUE_SETS["HPA + ServiceMonitor"]))).toEqual(["monitoring.coreos.com/v1/ServiceMonitor"]);
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
    expect(conf).toContain("authorization { user: route, password: $JN_ROUTE_PASSWORD }");
    for (let i = 0; i < 3; i++) {
      expect(envNamed(c, `JN_ROUTE_${i}`).value).toBe(
        `nats://route:$(JN_ROUTE_PASSWORD)@${NATS}-${i}.${NATS_HEADLESS}.${NAMESPACE}.svc.cluster.local:6222`,
      );
    }
    // $(JN_ROUTE_PASSWORD) only expands when that variable is defined earlier in the list.
    const names = (c.env as Any[]).map((e) => e.name as string);
    expect(names.indexOf("JN_ROUTE_PASSWORD")).toBeLessThan(names.indexOf("JN_ROUTE_0"));
    expect(envNamed(c, "JN_ROUTE_3")).toBeUndefined();
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
    expect((find(r.objects, "ConfigMap", GATEWAY_CONFIG) as Any).data.JUNCTION_DEFAULT_REPLICAS).toBe("3");
  });

  it("runs a single server without cluster, routes or PDB when nats.replicas=1", () => {
    const r = render(VALUE_SETS["single NATS server"]);
    expect(natsConf(r)).not.toContain("cluster {");
    expect(envNamed(natsContainer(r), "JN_ROUTE_PASSWORD")).toBeUndefined();
    expect(ofKind(r.objects, "PodDisruptionBudget").map((p) => p.metadata.name)).toEqual([GATEWAY]);
    expect((find(r.objects, "ConfigMap", GATEWAY_CONFIG) as Any).data.JUNCTION_DEFAULT_REPLICAS).toBe("1");
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
    const spec = (find(defaultRender().objects, "StatefulSet", NATS) as Any).spec.template.spec;
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it("gives clients only the subjects Junction allows", () => {
    const conf = natsConf(defaultRender());
    expect(conf).toContain("{ user: gateway, password: $JN_GATEWAY_PASSWORD }");
    const client = conf.slice(conf.indexOf("user: client"));
    expect(client).toContain("password: $JN_CLIENT_PASSWORD");
    const list = (block: string, which: "allow" | "deny"): string[] => {
      const m = new RegExp(`${which}: \\[([^\\]]*)\\]`).exec(block);
      return m === null ? [] : [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
    };
    const publish = client.slice(client.indexOf("publish: {"), client.indexOf("subscribe: {"));
    const subscribe = client.slice(client.indexOf("subscribe: {"));
    // The same rules as the embedded broker of `junction dev`.
    expect(list(publish, "allow")).toEqual(CLIENT_PERMISSIONS.publish.allow);
    expect(list(publish, "deny")).toEqual(CLIENT_PERMISSIONS.publish.deny);
    expect(list(subscribe, "allow")).toEqual(CLIENT_PERMISSIONS.subscribe.allow);
    expect(list(subscribe, "deny")).toEqual([]);
    expect(list(publish, "deny")).toEqual(expect.arrayContaining(["jn.st.>", "$KV.>", "$JS.ACK.JN_ADV.>", "$JS.ACK.JN_DLS.>"]));
    // NATS wildcards are whole tokens: a partial-token "*" would be a literal and match nothing.
    for (const subject of [...list(publish, "allow"), ...list(publish, "deny"), ...list(subscribe, "allow")]) {
      for (const token of subject.split(".")) expect(token === "*" || token === ">" || !/[*>]/.test(token), subject).toBe(true);
    }
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
    expect(c.command).toBeUndefined(); // the image's entrypoint: node --no-node-snapshot dist/cli/main.js
    expect(c.args).toEqual(["gateway", "--log-level", "info"]);
    expect(c.resources.requests).toBeDefined();
    const svc = find(defaultRender().objects, "Service", GATEWAY) as Any;
    expect(svc.spec.ports).toEqual([{ name: "metrics", port: 8080, targetPort: "http" }]);
    expect(find(defaultRender().objects, "PodDisruptionBudget", GATEWAY)).toBeDefined();
  });

  it("is configured for the chart's NATS", () => {
    const data = (find(defaultRender().objects, "ConfigMap", GATEWAY_CONFIG) as Any).data;
    expect(data).toEqual({
      JUNCTION_URL: `nats://${NATS}:4222`,
      JUNCTION_USER: "gateway",
      JUNCTION_HTTP_PORT: "8080",
      JUNCTION_DEFAULT_REPLICAS: "3",
    });
  });

  it("takes extra settings from gateway.config but not the ones the chart owns", () => {
    const r = render({ gateway: { logLevel: "debug", config: { NODE_OPTIONS: "--max-old-space-size=768", JUNCTION_X: 500 } } });
    const data = (find(r.objects, "ConfigMap", GATEWAY_CONFIG) as Any).data;
    expect(data).toMatchObject({ NODE_OPTIONS: "--max-old-space-size=768", JUNCTION_X: "500" });
    expect(gatewayContainer(r).args).toEqual(["gateway", "--log-level", "debug"]);
    const clash = runHelm(["template", RELEASE, CHART_DIR], { gateway: { config: { JUNCTION_PASSWORD: "hunter2" } } });
    expect(clash.status).not.toBe(0);
    expect(clash.stderr).toContain("gateway.config.JUNCTION_PASSWORD is set by the chart");
  });

  it("runs as non-root with a read-only root file system and a writable /tmp", () => {
    const spec = (find(defaultRender().objects, "Deployment", GATEWAY) as Any).spec.template.spec;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(spec.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    expect(spec.volumes).toContainEqual({ name: "tmp", emptyDir: {} });
  });

  it("renders no HPA or ServiceMonitor by default", () => {
    expect(ofKind(defaultRender().objects, "HorizontalPodAutoscaler")).toEqual([]);
    expect(ofKind(defaultRender().objects, "ServiceMonitor")).toEqual([]);
  });

  it("autoscales with an HPA and is scraped by a ServiceMonitor when enabled", () => {
    const r = render(VALUE_SETS["HPA + ServiceMonitor"]);
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
    expect(sm.spec.endpoints).toEqual([{ port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" }]);
    const svc = find(r.objects, "Service", GATEWAY) as Any;
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect((svc.spec.ports as Any[]).map((p) => p.name)).toContain("metrics");
  });
});

describe("secrets", () => {
  it("generates the passwords into one Secret", () => {
    const pw = generatedPasswords(defaultRender());
    expect(Object.keys(pw).sort()).toEqual(["client-password", "gateway-password", "route-password"]);
    for (const v of Object.values(pw)) expect(v).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(new Set(Object.values(pw)).size).toBe(3);
  });

  it("references passwords only through secretKeyRef and never writes them elsewhere", () => {
    for (const values of [VALUE_SETS["defaults"], VALUE_SETS["5 NATS replicas"], VALUE_SETS["HPA + ServiceMonitor"]]) {
      const r = render(values);
      const pw = generatedPasswords(r);
      const refs = secretRefs(r.objects);
      expect(refs).toEqual(
        expect.arrayContaining([
          { name: AUTH_SECRET, key: "gateway-password", env: "JUNCTION_PASSWORD" },
          { name: AUTH_SECRET, key: "gateway-password", env: "JN_GATEWAY_PASSWORD" },
          { name: AUTH_SECRET, key: "client-password", env: "JN_CLIENT_PASSWORD" },
          { name: AUTH_SECRET, key: "route-password", env: "JN_ROUTE_PASSWORD" },
        ]),
      );
      // The raw rendered text of every non-Secret document: no password, plain or base64.
      const docs = r.text.split(/^---$/m).filter((d) => !/^kind: Secret$/m.test(d));
      expect(docs.length).toBe(r.objects.length - 1 + 1); // + the empty text before the first ---
      const others = docs.join("\n");
      for (const [key, value] of Object.entries(pw)) {
        expect(others, `${key} leaked`).not.toContain(value);
        expect(others, `${key} leaked (base64)`).not.toContain(Buffer.from(value).toString("base64"));
      }
      // Nothing that looks like an inline password in configs or pod specs.
      for (const o of r.objects.filter((x) => ["ConfigMap", "Deployment", "StatefulSet"].includes(x.kind))) {
        const text = JSON.stringify(o);
        expect(text, `${o.kind} ${o.metadata.name}`).not.toMatch(/password:\s*"[^$]/i);
        expect(text, `${o.kind} ${o.metadata.name}`).not.toMatch(/"name":"[A-Z_]*PASSWORD","value"/);
      }
    }
  });

  it("uses auth.existingSecret instead of rendering one", () => {
    const r = render(VALUE_SETS["existingSecret"]);
    expect(ofKind(r.objects, "Secret")).toEqual([]);
    const refs = secretRefs(r.objects);
    expect(refs.length).toBe(4);
    for (const ref of refs) expect(ref.name).toBe("junction-passwords");
    expect(refs.map((x) => x.key).sort()).toEqual(["client-password", "gateway-password", "gateway-password", "route-password"]);
  });

  it("keeps generated passwords across upgrades by looking the live Secret up", async () => {
    // helm template cannot reach a cluster; the template's lookup is what keeps passwords.
    const { readFile } = await import("node:fs/promises");
    const tpl = await readFile(`${CHART_DIR}/templates/secret.yaml`, "utf8");
    expect(tpl).toMatch(/lookup "v1" "Secret" \.Release\.Namespace \$name/);
    expect(tpl).toMatch(/get \$data \$key \| default \(randAlphaNum 32 \| b64enc\)/);
  });
});

describe("external NATS", () => {
  it("renders no NATS, and points the gateway at the given server and Secret", () => {
    const r = render(VALUE_SETS["external NATS"]);
    expect(ofKind(r.objects, "StatefulSet")).toEqual([]);
    expect(ofKind(r.objects, "Secret")).toEqual([]);
    expect(r.objects.filter((o) => o.metadata.name.startsWith(NATS))).toEqual([]);
    const data = (find(r.objects, "ConfigMap", GATEWAY_CONFIG) as Any).data;
    expect(data.JUNCTION_URL).toBe("nats://nats.messaging.svc:4222");
    expect(data.JUNCTION_USER).toBe("gateway");
    expect(data.JUNCTION_DEFAULT_REPLICAS).toBeUndefined();
    expect(secretRefs(r.objects)).toEqual([{ name: "nats-creds", key: "junction", env: "JUNCTION_PASSWORD" }]);
  });

  it("fails clearly without a URL or without a Secret", () => {
    const noUrl = runHelm(["template", RELEASE, CHART_DIR], { nats: { enabled: false } });
    expect(noUrl.status).not.toBe(0);
    expect(noUrl.stderr).toContain("externalNats");
    const noSecret = runHelm(["template", RELEASE, CHART_DIR], { nats: { enabled: false }, externalNats: { url: "nats://x:4222" } });
    expect(noSecret.status).not.toBe(0);
    expect(noSecret.stderr).toContain("externalNats.existingSecret (or auth.existingSecret) is required");
  });

  it("connects without credentials when externalNats.user is empty", () => {
    const r = render({ nats: { enabled: false }, externalNats: { url: "nats://x:4222", user: "" } });
    expect(secretRefs(r.objects)).toEqual([]);
    expect((find(r.objects, "ConfigMap", GATEWAY_CONFIG) as Any).data.JUNCTION_USER).toBeUndefined();
  });
});

describe("values.schema.json", () => {
  const bad: [string, Values, string][] = [
    ['nats.replicas: "three"', { nats: { replicas: "three" } }, "/nats/replicas"],
    ["nats.replicas: 0", { nats: { replicas: 0 } }, "/nats/replicas"],
    ["syncInterval: sometimes", { nats: { jetstream: { syncInterval: "sometimes" } } }, "/nats/jetstream/syncInterval"],
    ["antiAffinity: maybe", { nats: { antiAffinity: "maybe" } }, "/nats/antiAffinity"],
    ["logLevel: verbose", { gateway: { logLevel: "verbose" } }, "/gateway/logLevel"],
    ["a misspelt key", { gateway: { replicas: 3 } }, "replicas"],
    ["storage size 10GB", { nats: { jetstream: { storage: { size: "10GB" } } } }, "/nats/jetstream/storage/size"],
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
  it("says how to connect", () => {
    const run = runHelm(["install", RELEASE, CHART_DIR, "--dry-run=client", "--namespace", NAMESPACE]);
    expect(run.status, run.stderr).toBe(0);
    const notes = run.stdout.slice(run.stdout.indexOf("NOTES:"));
    expect(notes).toContain(`port-forward svc/${NATS} 4222:4222`);
    expect(notes).toContain(`get secret ${AUTH_SECRET}`);
    expect(notes).toContain("client-password");
    expect(notes).toContain("JUNCTION_USER=client");
    expect(notes).toContain("junction produce");
  });
});

describe("the rendered NATS configuration on real nats-server", () => {
  let cluster: LocalCluster | undefined;
  afterAll(async () => {
    await cluster?.close();
  });

  it("forms a 3-server JetStream cluster with authenticated routes and enforces client permissions", async () => {
    cluster = await startRenderedCluster(defaultRender(), NATS, NATS_CONFIG);
    const c = cluster;
    const healthy = await waitFor(async () => {
      const checks = await Promise.all(c.nodes.map((n) => monitor(n, "/healthz")));
      return checks.every((h) => h.status === 200);
    }, 30_000);
    expect(healthy, `cluster not healthy:\n${c.logs()}`).toBe(true);
    for (const n of c.nodes) {
      expect((await monitor(n, "/healthz?js-enabled-only=true")).status).toBe(200);
      const routez = JSON.parse((await monitor(n, "/routez")).body) as { routes?: { remote_name: string }[] };
      const peers = new Set((routez.routes ?? []).map((r) => r.remote_name));
      expect([...peers].sort(), `${n.pod} routes`).toEqual(c.nodes.map((x) => x.pod).filter((p) => p !== n.pod));
      const varz = JSON.parse((await monitor(n, "/varz")).body) as Any;
      expect(varz.server_name).toBe(n.pod);
      expect(varz.jetstream.config.sync_always).toBe(true);
      expect(varz.max_payload).toBe(8 * 1024 * 1024);
    }
    const jsz = JSON.parse((await monitor(c.nodes[0]!, "/jsz")).body) as Any;
    expect(jsz.meta_cluster?.cluster_size).toBe(3);

    const node = c.nodes[0]!;
    const clientPw = node.env["JN_CLIENT_PASSWORD"]!;
    const gatewayPw = node.env["JN_GATEWAY_PASSWORD"]!;
    // Subjects as nats.js uses them: pull request, ack reply subject of a delivered message.
    const ok = await natsExchange(node.clientPort, "client", clientPw, [
      "PUB jn.produce.orders 2",
      "{}",
      "PUB jn.api.station.list _INBOX.abc.1 2",
      "{}",
      "PUB $JS.API.CONSUMER.MSG.NEXT.JN_ST_orders.billing _INBOX.abc.2 13",
      '{"batch": 10}',
      "PUB $JS.API.CONSUMER.INFO.JN_ST_orders.billing _INBOX.abc.3 0",
      "",
      "PUB $JS.ACK.JN_ST_orders.billing.1.1.1.1700000000000000000.0 0",
      "",
      "SUB _INBOX.abc.* 1",
      "SUB jn.events.orders.rate 2",
    ]);
    expect(ok).not.toContain("-ERR");
    const denied = await natsExchange(node.clientPort, "client", clientPw, [
      "PUB jn.st.orders.msg 2",
      "{}",
      "PUB $KV.jn_stations.orders 2",
      "{}",
      "PUB $JS.API.STREAM.DELETE.JN_ST_orders 0",
      "",
      "PUB $JS.API.CONSUMER.CREATE.JN_ST_orders 2",
      "{}",
      "PUB $JS.API.CONSUMER.MSG.NEXT.JN_ADV.jn-gateway _INBOX.abc.4 0",
      "",
      "PUB $JS.ACK.JN_DLS.x.1.1.1.1700000000000000000.0 0",
      "",
      "SUB jn.st.orders.msg 1",
    ]);
    for (const subject of [
      "jn.st.orders.msg",
      "$KV.jn_stations.orders",
      "$JS.API.STREAM.DELETE.JN_ST_orders",
      "$JS.API.CONSUMER.CREATE.JN_ST_orders",
      "$JS.API.CONSUMER.MSG.NEXT.JN_ADV.jn-gateway",
      "$JS.ACK.JN_DLS.x.1.1.1.1700000000000000000.0",
    ]) {
      expect(denied).toContain(`Permissions Violation for Publish to "${subject}"`);
    }
    expect(denied).toContain('Permissions Violation for Subscription to "jn.st.orders.msg"');
    const gateway = await natsExchange(node.clientPort, "gateway", gatewayPw, ["PUB jn.st.orders.msg 2", "{}"]);
    expect(gateway).not.toContain("-ERR");
    expect(await natsExchange(node.clientPort, "client", "wrong", [])).toContain("Authorization Violation");
  });
});
