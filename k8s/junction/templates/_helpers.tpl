{{/* Chart name. */}}
{{- define "junction.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name prefix of every resource (kept short enough for "-nats-headless"). */}}
{{- define "junction.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "junction.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels common to every resource. */}}
{{- define "junction.labels" -}}
helm.sh/chart: {{ include "junction.chart" . }}
app.kubernetes.io/name: {{ include "junction.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels; call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "junction.selectorLabels" -}}
app.kubernetes.io/name: {{ include "junction.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Names. */}}
{{- define "junction.secretJob.fullname" -}}{{ include "junction.fullname" . }}-secrets-job{{- end }}
{{- define "junction.gateway.fullname" -}}{{ include "junction.fullname" . }}-gateway{{- end }}
{{- define "junction.nats.fullname" -}}{{ include "junction.fullname" . }}-nats{{- end }}
{{- define "junction.nats.headless" -}}{{ include "junction.fullname" . }}-nats-headless{{- end }}

{{/* The deployment's Secret: auth.existingSecret, or the one the hook Job creates. */}}
{{- define "junction.auth.secretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else if .Values.nats.enabled }}
{{- include "junction.fullname" . }}-secrets
{{- else }}
{{- fail "auth.existingSecret is required when nats.enabled=false: make the secrets with `junction nats-config --generate <dir>` and create the Secret from that directory (docs/kubernetes.md)" }}
{{- end }}
{{- end }}

{{/* Whether the chart's hook Job creates the Secret ("true" or ""). */}}
{{- define "junction.auth.generated" -}}
{{- if and .Values.nats.enabled (not .Values.auth.existingSecret) }}true{{ end }}
{{- end }}

{{/* Secret and key of a user's password: call with (dict "ctx" $ "user" $u). */}}
{{- define "junction.user.secretName" -}}
{{- default (include "junction.auth.secretName" .ctx) .user.existingSecret }}
{{- end }}
{{- define "junction.user.secretKey" -}}
{{- default (printf "%s-password" .user.name) .user.secretKey }}
{{- end }}

{{/* Whether /metrics requires a bearer token, and the Secret and key holding it. */}}
{{- define "junction.metrics.tokenSecret" -}}
{{- default (include "junction.auth.secretName" .) .Values.gateway.metrics.token.existingSecret }}
{{- end }}

{{/*
Keys the hook Job fills with random values besides the secrets `junction nats-config --generate`
makes: route-password, metrics-token and users' passwords that live in the chart's Secret.
Comma separated.
*/}}
{{- define "junction.auth.randomKeys" -}}
{{- $keys := list "route-password" }}
{{- if and .Values.gateway.metrics.token.enabled (not .Values.gateway.metrics.token.existingSecret) }}
{{- $keys = append $keys .Values.gateway.metrics.token.key }}
{{- end }}
{{- range .Values.users }}
{{- if not .existingSecret }}
{{- $keys = append $keys (include "junction.user.secretKey" (dict "ctx" $ "user" .)) }}
{{- end }}
{{- end }}
{{- $keys | uniq | join "," }}
{{- end }}

{{/* Checks of the users and tenants values that a JSON schema cannot express. */}}
{{- define "junction.users.check" -}}
{{- $names := dict }}
{{- range .Values.users }}
{{- if hasKey $names .name }}
{{- fail (printf "users: the user %q is listed twice" .name) }}
{{- end }}
{{- $_ := set $names .name true }}
{{- if has .name (list $.Values.auth.gatewayUser $.Values.auth.systemUser) }}
{{- fail (printf "users: %q is the deployment's own NATS user (auth.gatewayUser / auth.systemUser); pick another name" .name) }}
{{- end }}
{{- if and .tenant (ne .tenant "default") (not (has .tenant $.Values.tenants)) }}
{{- fail (printf "users: the tenant %q of user %q is not listed in tenants" .tenant .name) }}
{{- end }}
{{- end }}
{{- end }}

{{/* TLS Secret of the gateway's client certificate (tls.verify). */}}
{{- define "junction.tls.gatewayClientSecret" -}}
{{- default .Values.tls.existingSecret .Values.tls.gatewayClientSecret }}
{{- end }}

{{/* Whether the chart runs a NATS cluster with routes. */}}
{{- define "junction.nats.clustered" -}}
{{- if and .Values.nats.enabled (gt (int .Values.nats.replicas) 1) }}true{{ end }}
{{- end }}

{{/* Address of pod $i's route: call with (dict "ctx" $ "i" 0). */}}
{{- define "junction.nats.routeHost" -}}
{{- printf "%s-%d.%s.%s.svc.%s:6222" (include "junction.nats.fullname" .ctx) (int .i) (include "junction.nats.headless" .ctx) .ctx.Release.Namespace .ctx.Values.clusterDomain }}
{{- end }}

{{/* NATS URL the gateway connects to. */}}
{{- define "junction.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s:4222" (include "junction.nats.fullname" .) }}
{{- else }}
{{- required "externalNats.url is required when nats.enabled=false" .Values.externalNats.url }}
{{- end }}
{{- end }}

{{/* Default JetStream replicas for new stations ("" = the gateway's own default). */}}
{{- define "junction.gateway.defaultReplicas" -}}
{{- if not (kindIs "invalid" .Values.gateway.defaultReplicas) }}
{{- .Values.gateway.defaultReplicas }}
{{- else if .Values.nats.enabled }}
{{- min 3 (int .Values.nats.replicas) }}
{{- end }}
{{- end }}

{{/* Image references. */}}
{{- define "junction.gateway.image" -}}
{{- printf "%s:%s" .Values.gateway.image.repository (default .Chart.AppVersion .Values.gateway.image.tag) }}
{{- end }}
{{- define "junction.nats.image" -}}
{{- printf "%s:%s" .Values.nats.image.repository .Values.nats.image.tag }}
{{- end }}
