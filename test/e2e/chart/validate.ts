/**
 * Validation of rendered objects against the Kubernetes OpenAPI schemas (kubernetes-models).
 */
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import type { K8sObject } from "./helm.js";

/** A kubernetes-models class: construct from the object, then validate() throws on errors. */
type Model = new (data: any) => { validate(): void };

/** Every built-in kind the chart may render. A new kind must be added here to be accepted. */
const MODELS: Readonly<Record<string, Model>> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
};

/** Custom resources: not in kubernetes-models; their shape is asserted by the tests instead. */
export const CUSTOM_KINDS: ReadonlySet<string> = new Set([
  "monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PrometheusRule",
]);

/** "apiVersion/kind" of an object. */
export function typeKey(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind}`;
}

/**
 * Validates one object; returns the problems found (empty = valid). Custom kinds are skipped
 * here; unknown kinds are a problem.
 */
export function validateObject(o: K8sObject): string[] {
  const key = typeKey(o);
  if (CUSTOM_KINDS.has(key)) return [];
  const model = MODELS[key];
  if (model === undefined) return [`${key} ${o.metadata.name}: kind not known to the validator`];
  // kubernetes-models takes the data without apiVersion/kind and sets them itself.
  const { apiVersion: _apiVersion, kind: _kind, ...data } = o;
  try {
    new model(data).validate();
    return [];
  } catch (err) {
    return [`${key} ${o.metadata.name}: ${err instanceof Error ? err.message : String(err)}`];
  }
}
