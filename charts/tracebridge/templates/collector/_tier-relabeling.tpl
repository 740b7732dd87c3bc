{{/*
The relabeling that gives the collector's own metrics the label collector_tier (agent or
gateway) from its pods' tier label, so the dashboards and alerts tell the tiers apart. In
deployment mode the pods have no tier label and the metrics no collector_tier (a replace with
an empty value sets no label). One rule for the chart's Prometheus (snake_case) and the
ServiceMonitor's or PodMonitor's relabelings (camelCase): (list $ "prometheus") or (list $ "operator").
*/}}
{{- define "tracebridge.collectorTierRelabeling" -}}
{{- $operator := eq (index . 1) "operator" -}}
- action: replace
  {{ ternary "sourceLabels" "source_labels" $operator }}: [{{ printf "__meta_kubernetes_pod_label_%s" (regexReplaceAll "[^a-zA-Z0-9_]" (include "tracebridge.collectorTierLabel" (index . 0)) "_") }}]
  {{ ternary "targetLabel" "target_label" $operator }}: collector_tier
{{- end -}}
