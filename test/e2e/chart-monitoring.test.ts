/**
 * The Helm chart's operators' kit against the metrics the gateway really exports: the Grafana
 * dashboard and the PrometheusRule are rendered with helm, every PromQL expression in them is
 * parsed with Prometheus's grammar, and every metric they name must be in a /metrics scrape of a
 * real gateway (test/harness: nats-server + gateway). A renamed or removed metric fails here.
 * The gateway first serves some traffic (stored messages, a schema rejection and its dead
 * letter, a function error, a lagging consumer group) so that the label names the queries
 * select or group by can be checked on real series too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, uniqueName, waitFor, type TestBroker } from "../harness/index.js";
import { find, ofKind, render, type K8sObject } from "./chart/helm.js";
import { dashboardQueries, labelValuesQuery, parseExposition, promqlRefs, type Scrape } from "./chart/promql.js";

type Any = any;

/** Labels Prometheus adds to every scraped series (target labels), and `le` of histogram buckets. */
const TARGET_LABELS = new Set(["job", "instance", "namespace", "pod", "service", "endpoint", "container", "le"]);
/** Series Prometheus makes itself rather than scraping them. */
const PROMETHEUS_SERIES = new Set(["up"]);

const VALUES = {
  gateway: {
    metrics: {
      dashboard: { enabled: true, annotations: { grafana_folder: "Junction" } },
      alerts: { enabled: true, labels: { release: "prometheus" }, additionalLabels: { team: "streaming" } },
    },
  },
};

let broker: TestBroker;
let scrape: Scrape;
let rendered: K8sObject[];

/** Every PromQL expression of the rendered dashboard and alert rules, with where it is. */
function expressions(): { where: string; expr: string }[] {
  const cm = find(rendered, "ConfigMap", "junction-dashboard") as Any;
  const dashboard = JSON.parse(cm.data["junction.json"] as string);
  const rule = find(rendered, "PrometheusRule", "junction-alerts") as Any;
  const alerts = (rule.spec.groups as Any[]).flatMap((g) =>
    (g.rules as Any[]).map((r) => ({ where: `alert ${r.alert as string}`, expr: r.expr as string })),
  );
  return [...dashboardQueries(dashboard).map((q) => ({ ...q, where: `dashboard ${q.where}` })), ...alerts];
}

beforeAll(async () => {
  rendered = render(VALUES).objects;
  broker = await startBroker({ gatewayOptions: { httpPort: -1, httpHost: "127.0.0.1", metrics: { stateCacheMs: 0 } } });
  const jn = await broker.client();
  const station = uniqueName("mon");
  await jn.stations.create(station);
  await jn.schemas.create({
    name: station,
    type: "json",
    definition: JSON.stringify({ type: "object", properties: { id: { type: "integer" } }, required: ["id"] }),
  });
  await jn.schemas.attach(station, station);
  await jn.functions.create({
    name: station,
    source: "export default (m) => { if (m.payload.fail) throw new Error('refused'); return m; }",
  });
  await jn.functions.attach(station, station);
  await jn.groups.create(station, "billing");
  const outcomes = await jn
    .producer({ station })
    .sendBatch([{ payload: { id: 1 } }, { payload: { id: 2 } }, { payload: { id: "not an integer" } }, { payload: { id: 3, fail: true } }]);
  expect(outcomes.map((o) => o.ok)).toEqual([true, true, false, false]);
  const url = `${broker.gateways[0]!.httpUrl!}/metrics`;
  // Broker state (lag, dead letters) is read when scraped: wait until it shows this traffic.
  const text = await waitFor(async () => {
    const t = await (await fetch(url)).text();
    return t.includes(`junction_consumer_lag{station="${station}",group="billing"} 2`) && /^junction_dead_letters\{/m.test(t)
      ? t
      : undefined;
  }, 30_000);
  scrape = parseExposition(text);
}, 120_000);

afterAll(async () => {
  await broker?.stop();
});

describe("the PromQL reader of these tests", () => {
  it("finds metric and label names, and syntax errors", () => {
    expect(
      promqlRefs(
        'histogram_quantile(0.99, sum by (station, le) (rate(junction_produce_latency_seconds_bucket{job=~"$job"}[$__rate_interval])))',
      ),
    ).toEqual({ metrics: ["junction_produce_latency_seconds_bucket"], labels: ["job", "le", "station"], errors: [] });
    expect(promqlRefs("count(a == 0) or (0 * count(up))").metrics).toEqual(["a", "up"]);
    expect(promqlRefs("sum(rate(x[5m]) bogus").errors).not.toEqual([]);
    expect(labelValuesQuery('label_values(junction_gateway_ready{namespace=~"$namespace"}, job)')).toEqual({
      selector: 'junction_gateway_ready{namespace=~"$namespace"}',
      label: "job",
    });
  });

  it("reads the exposition format: families, histogram series, labels of samples", () => {
    const s = parseExposition(
      ["# TYPE a_seconds histogram", 'a_seconds_bucket{station="x",le="1"} 1', "# TYPE b gauge", "b 1", ""].join("\n"),
    );
    expect([...s.names].sort()).toEqual(["a_seconds", "a_seconds_bucket", "a_seconds_count", "a_seconds_sum", "b"]);
    expect(s.labelsOf.get("a_seconds_bucket")).toEqual(new Set(["station", "le"]));
  });
});

describe("dashboard and alerts against the gateway's /metrics", () => {
  it("render: a dashboard ConfigMap for the Grafana sidecar and a PrometheusRule", () => {
    const cm = find(rendered, "ConfigMap", "junction-dashboard") as Any;
    expect(cm.metadata.labels.grafana_dashboard).toBe("1");
    expect(cm.metadata.annotations).toEqual({ grafana_folder: "Junction" });
    const dashboard = JSON.parse(cm.data["junction.json"] as string);
    expect(dashboard).toMatchObject({ uid: "junction-broker", title: "Junction" });
    const rule = find(rendered, "PrometheusRule", "junction-alerts") as Any;
    expect(rule.metadata.labels.release).toBe("prometheus");
    const rules = (rule.spec.groups as Any[]).flatMap((g) => g.rules as Any[]);
    expect(rules.map((r) => r.alert)).toEqual([
      "JunctionConsumerLagGrowing",
      "JunctionDeadLettersGrowing",
      "JunctionGatewayNotReady",
      "JunctionNoGatewayReady",
      "JunctionFsyncDisabled",
      "JunctionBrokerStateUnreadable",
    ]);
    for (const r of rules) {
      expect(r.for, r.alert).toMatch(/^[0-9]+[smh]$/);
      expect(r.labels, r.alert).toMatchObject({ team: "streaming" });
      expect(["warning", "critical"]).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.description, r.alert).toBeTruthy();
      // Scoped to this release's gateways.
      expect(r.expr, r.alert).toContain('namespace="streaming", job="junction-gateway"');
    }
    // Neither is rendered unless asked for.
    const kinds = render().objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds).not.toContain("ConfigMap/junction-dashboard");
    expect(ofKind(render().objects, "PrometheusRule")).toEqual([]);
  });

  it("every expression is valid PromQL", () => {
    const bad = expressions()
      .map((e) => ({ ...e, errors: promqlRefs(e.expr).errors }))
      .filter((e) => e.errors.length > 0);
    expect(bad).toEqual([]);
  });

  it("every metric the dashboard and the alerts use is one the gateway exports", () => {
    const used = new Map<string, string[]>();
    for (const { where, expr } of expressions()) {
      for (const m of promqlRefs(expr).metrics) used.set(m, [...(used.get(m) ?? []), where]);
    }
    const missing = [...used].filter(([m]) => !scrape.names.has(m) && !PROMETHEUS_SERIES.has(m)).map(([m, w]) => `${m} (${w.join("; ")})`);
    expect(missing).toEqual([]);
    // What the issue asks the kit to show is there (and the reader above found it).
    for (const m of [
      "junction_produce_messages_total",
      "junction_produce_latency_seconds_bucket",
      "junction_produce_rejected_total",
      "junction_consumer_lag",
      "junction_dead_letters",
      "junction_function_errors_total",
      "junction_gateway_ready",
      "junction_jetstream_sync_always",
    ]) {
      expect(used.has(m), m).toBe(true);
    }
  });

  it("the labels they select and group by are on the gateway's series", () => {
    let checked = 0;
    const problems: string[] = [];
    for (const { where, expr } of expressions()) {
      const refs = promqlRefs(expr);
      const seen = refs.metrics.map((m) => scrape.labelsOf.get(m)).filter((s): s is Set<string> => s !== undefined);
      // Only expressions over series the traffic above produced can be checked.
      if (seen.length === 0) continue;
      checked++;
      for (const l of refs.labels) {
        if (!TARGET_LABELS.has(l) && !seen.some((s) => s.has(l)))
          problems.push(`${where}: label ${l} is on none of ${refs.metrics.join(", ")}`);
      }
    }
    expect(problems).toEqual([]);
    // Produce, latency, rejections, lag, dead letters, functions, readiness at least.
    expect(checked).toBeGreaterThanOrEqual(15);
  });
});
