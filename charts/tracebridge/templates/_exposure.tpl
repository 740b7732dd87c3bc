{{/* Exposure: Ingress and Gateway API HTTPRoute --------------------------------------------- */}}

{{/*
The components an Ingress or an HTTPRoute can expose, defined here only: the values key that
holds their `ingress` and `httpRoute`, whether the component is deployed, and the Service port
(by name for Ingress, by number for HTTPRoute) that serves its UI or API. `rewrite`: the
component serves at "/" only (the API), so an HTTPRoute under a path prefix strips it; Grafana
and Jaeger are told their prefix instead (tracebridge.exposedSubPath). Returns JSON.
*/}}
{{- define "tracebridge.exposable" -}}
{{- list
  (dict "component" "api" "deployed" true "rewrite" true "portName" "http" "port" (int .Values.api.service.port))
  (dict "component" "jaeger" "deployed" .Values.jaeger.enabled "rewrite" false "portName" "query-http" "port" (include "tracebridge.port" (list . "jaeger" "query-http") | int))
  (dict "component" "grafana" "deployed" .Values.grafana.enabled "rewrite" false "portName" "http" "port" (include "tracebridge.port" (list . "grafana" "http") | int))
  | toJson -}}
{{- end -}}

{{/*
The path prefix a component is exposed under ("" at "/"), from its enabled Ingress or HTTPRoute:
Grafana (serve_from_sub_path) and Jaeger (base_path) must know it. Call with (list $ "grafana").
*/}}
{{- define "tracebridge.exposedSubPath" -}}
{{- $values := index (index . 0).Values (index . 1) -}}
{{- $path := "/" -}}
{{- if $values.ingress.enabled }}{{ $path = $values.ingress.path }}{{ end -}}
{{- if $values.httpRoute.enabled }}{{ $path = $values.httpRoute.path }}{{ end -}}
{{- trimSuffix "/" $path -}}
{{- end -}}

{{/* Jaeger's query service (UI and HTTP API) inside the cluster, under its base_path. */}}
{{- define "tracebridge.jaegerQueryUrl" -}}
{{- printf "http://%s%s" (include "tracebridge.address" (list . "jaeger" "query-http")) (include "tracebridge.exposedSubPath" (list . "jaeger")) -}}
{{- end -}}
