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
{{- define "junction.gateway.fullname" -}}{{ include "junction.fullname" . }}-gateway{{- end }}
{{- define "junction.nats.fullname" -}}{{ include "junction.fullname" . }}-nats{{- end }}
{{- define "junction.nats.headless" -}}{{ include "junction.fullname" . }}-nats-headless{{- end }}

{{/* Secret with the NATS user passwords (chart-run NATS). */}}
{{- define "junction.auth.secretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else }}
{{- include "junction.fullname" . }}-auth
{{- end }}
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

{{/* NATS user of the gateway ("" = no credentials). */}}
{{- define "junction.gateway.user" -}}
{{- if .Values.nats.enabled }}gateway{{ else }}{{ .Values.externalNats.user }}{{ end }}
{{- end }}

{{/* Secret and key holding the gateway's NATS password. */}}
{{- define "junction.gateway.passwordSecret" -}}
{{- if .Values.nats.enabled }}
{{- include "junction.auth.secretName" . }}
{{- else }}
{{- $s := default .Values.auth.existingSecret .Values.externalNats.existingSecret }}
{{- required "externalNats.existingSecret (or auth.existingSecret) is required when nats.enabled=false and externalNats.user is set" $s }}
{{- end }}
{{- end }}
{{- define "junction.gateway.passwordKey" -}}
{{- if .Values.nats.enabled }}gateway-password{{ else }}{{ .Values.externalNats.passwordKey }}{{ end }}
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
