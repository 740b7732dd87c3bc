{{/* prometheus-operator objects: ServiceMonitor, PodMonitor, PrometheusRule. */}}

{{/*
Metadata of one of them: call with (list $ "component" .Values.serviceMonitor). Its namespace is
the values' (Prometheus may select monitors only from its own), its labels the chart's plus the
values' (the operator's serviceMonitorSelector, ruleSelector, ...).
*/}}
{{- define "tracebridge.monitoringMetadata" -}}
{{- $ := index . 0 -}}
{{- $values := index . 2 -}}
name: {{ include "tracebridge.componentName" (list $ (index . 1)) }}
namespace: {{ default $.Release.Namespace $values.namespace }}
labels:
  {{- include "tracebridge.labels" (list $ (index . 1)) | nindent 2 }}
  {{- with $values.labels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/*
One scrape endpoint (a ServiceMonitor's endpoints[] or a PodMonitor's podMetricsEndpoints[]):
the port "metrics", with the job named as the dashboards and alerts expect whatever the
Service's or monitor's name. Call with (list $ "job-name" .Values.serviceMonitor).
*/}}
{{- define "tracebridge.monitorEndpoint" -}}
{{- $values := index . 2 -}}
- port: metrics
  path: /metrics
  {{- with $values.interval }}
  interval: {{ . }}
  {{- end }}
  {{- with $values.scrapeTimeout }}
  scrapeTimeout: {{ . }}
  {{- end }}
  relabelings:
    - action: replace
      targetLabel: job
      replacement: {{ index . 1 }}
    {{- if eq (index (include "tracebridge.scrapeJobs" (index . 0) | fromYaml) (index . 1)) "collector" }}
    {{- include "tracebridge.collectorTierRelabeling" (list (index . 0) "operator") | nindent 4 }}
    {{- end }}
    {{- with $values.relabelings }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $values.metricRelabelings }}
  metricRelabelings:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
