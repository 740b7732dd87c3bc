{{/* Names ------------------------------------------------------------------------------ */}}

{{- define "tracebridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release-wide prefix; components append "-api", "-collector", ... (at most 52 + 11). */}}
{{- define "tracebridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<component>": call with (list $ "api"). */}}
{{- define "tracebridge.componentName" -}}
{{- printf "%s-%s" (include "tracebridge.fullname" (index . 0)) (index . 1) -}}
{{- end -}}

{{- define "tracebridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels: call with (list $ "component"). ------------------------------------------------ */}}

{{- define "tracebridge.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "tracebridge.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "tracebridge.labels" -}}
{{- $ := index . 0 -}}
helm.sh/chart: {{ include "tracebridge.chart" $ }}
{{ include "tracebridge.selectorLabels" . }}
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: tracebridge
app.kubernetes.io/managed-by: {{ $.Release.Service }}
{{- with $.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Object metadata: call with (list $ "component") or (list $ "component" "full-name"). */}}
{{- define "tracebridge.metadata" -}}
{{- $ := index . 0 -}}
{{- $name := include "tracebridge.componentName" (list $ (index . 1)) -}}
{{- if eq (len .) 3 }}{{ $name = index . 2 }}{{ end -}}
name: {{ $name }}
namespace: {{ $.Release.Namespace }}
labels:
  {{- include "tracebridge.labels" (list $ (index . 1)) | nindent 2 }}
{{- end -}}

{{- define "tracebridge.image" -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}

{{/* Pod Security "restricted": call with the UID the image runs as. ------------------------ */}}

{{- define "tracebridge.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tracebridge.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Ports --------------------------------------------------------------------------------- */}}

{{/*
The components' ports, by the name their containers and Services give them, defined here only:
containers, Services, the env that binds listeners, clients' URLs and NOTES read them. The API's
are values (api.service.port, api.metricsPort) and its container port "http".
*/}}
{{- define "tracebridge.ports" -}}
api: {http: 8000}
collector: {otlp-grpc: 4317, otlp-http: 4318, metrics: 8888, health: 13133}
jaeger: {otlp-grpc: 4317, otlp-http: 4318, query-http: 16686, query-grpc: 16685, health: 13133}
prometheus: {http: 9090}
grafana: {http: 3000}
postgresql: {postgresql: 5432}
{{- end -}}

{{/* A port by component and name: (list $ "collector" "otlp-grpc"). */}}
{{- define "tracebridge.port" -}}
{{- $ports := include "tracebridge.ports" (index . 0) | fromYaml -}}
{{- $port := index (index $ports (index . 1)) (index . 2) -}}
{{- int $port -}}
{{- end -}}

{{/* "0.0.0.0:<port>", a listener on every interface: (list $ "collector" "otlp-grpc"). */}}
{{- define "tracebridge.listen" -}}
{{- printf "0.0.0.0:%s" (include "tracebridge.port" .) -}}
{{- end -}}

{{/* "<service>:<port>" of a component's port inside the cluster: (list $ "collector" "otlp-grpc"). */}}
{{- define "tracebridge.address" -}}
{{- printf "%s:%s" (include "tracebridge.componentName" (list (index . 0) (index . 1))) (include "tracebridge.port" .) -}}
{{- end -}}

{{/* Service names other components reach. ------------------------------------------------ */}}

{{- define "tracebridge.collectorOtlpGrpc" -}}
{{- include "tracebridge.address" (list . "collector" "otlp-grpc") -}}
{{- end -}}

{{- define "tracebridge.databaseHost" -}}
{{- if .Values.postgresql.enabled -}}
{{- include "tracebridge.componentName" (list . "postgresql") -}}
{{- else -}}
{{- .Values.externalDatabase.host -}}
{{- end -}}
{{- end -}}

{{/* Database connection env: the URL carries no password; node-postgres reads PGPASSWORD. */}}
{{- define "tracebridge.databaseEnv" -}}
{{- $db := ternary .Values.postgresql .Values.externalDatabase .Values.postgresql.enabled -}}
{{- $port := ternary (include "tracebridge.port" (list . "postgresql" "postgresql") | int) (int .Values.externalDatabase.port) .Values.postgresql.enabled -}}
- name: DATABASE_URL
  value: {{ printf "postgresql://%s@%s:%d/%s" $db.username (include "tracebridge.databaseHost" .) (int $port) $db.database | quote }}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "tracebridge.databaseSecretName" . }}
      key: {{ $db.passwordKey }}
{{ include "tracebridge.databaseTlsEnv" . }}
{{- end -}}

{{- define "tracebridge.databaseSecretName" -}}
{{- if .Values.postgresql.enabled -}}
{{- default (include "tracebridge.componentName" (list . "postgresql")) .Values.postgresql.existingSecret -}}
{{- else -}}
{{- .Values.externalDatabase.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
A password that survives upgrades: the one in the live Secret if there is one, else a new one.
Call with (list $ "secret-name" "key"); returns it base64-encoded.
*/}}
{{- define "tracebridge.generatedPassword" -}}
{{- $ := index . 0 -}}
{{- $live := lookup "v1" "Secret" $.Release.Namespace (index . 1) -}}
{{- if and $live $live.data (hasKey $live.data (index . 2)) -}}
{{- index $live.data (index . 2) -}}
{{- else -}}
{{- randAlphaNum 32 | b64enc -}}
{{- end -}}
{{- end -}}

{{/* Destinations -------------------------------------------------------------------------- */}}

{{/* The Secret a destination's credentials come from: its existingSecret or the chart's. */}}
{{- define "tracebridge.credentialsSecret" -}}
{{- $ := index . 0 -}}
{{- $destination := index $.Values.destinations (index . 1) -}}
{{- default (include "tracebridge.componentName" (list $ "destination-credentials")) $destination.existingSecret -}}
{{- end -}}

{{/* The enabled destinations, by their fragments' names (collector/config/destinations/<name>.yaml). */}}
{{- define "tracebridge.destinationNames" -}}
{{- $d := .Values.destinations -}}
{{- $names := list -}}
{{- if $d.jaeger.enabled }}{{ $names = append $names "jaeger" }}{{ end -}}
{{- if $d.grafanaCloud.enabled }}{{ $names = append $names "grafanaCloud" }}{{ end -}}
{{- if $d.datadog.enabled }}{{ $names = append $names "datadog" }}{{ end -}}
{{- if and $d.otlp.enabled (eq $d.otlp.protocol "grpc") }}{{ $names = append $names "otlp" }}{{ end -}}
{{- if and $d.otlp.enabled (eq $d.otlp.protocol "http") }}{{ $names = append $names "otlpHttp" }}{{ end -}}
{{- if $d.debug.enabled }}{{ $names = append $names "debug" }}{{ end -}}
{{- toJson $names -}}
{{- end -}}

{{/*
The collector's configuration files, in --config order: collector/config/base.yaml,
scrape/kubernetes.yaml (every API pod, found through the Kubernetes API) and the enabled
destinations' fragments. The collector merges them itself: each fragment only adds keys.
*/}}
{{- define "tracebridge.collectorFragments" -}}
{{- $files := list "base.yaml" "scrape/kubernetes.yaml" -}}
{{- range (include "tracebridge.destinationNames" . | fromJsonArray) }}{{ $files = append $files (printf "destinations/%s.yaml" .) }}{{ end -}}
{{- toJson $files -}}
{{- end -}}

{{/* A fragment's key in the collector's ConfigMap: its path under collector/config/, "/" -> "-". */}}
{{- define "tracebridge.collectorFragmentKey" -}}
{{- replace "/" "-" . -}}
{{- end -}}

{{/*
The API's shutdown budget, defined here only. On termination the kubelet first runs preStop, a
sleep while the endpoints stop routing new connections to the pod; then SIGTERM: the API drains
in-flight requests for at most SHUTDOWN_TIMEOUT_MS, closes its pool (at most 1 s) and flushes its
spans (at most 5 s, the exporter's bound). terminationGracePeriodSeconds covers all of it with a
margin, so SIGKILL never cuts the flush. Returns JSON.
*/}}
{{- define "tracebridge.apiShutdown" -}}
{{- $preStop := 5 -}}
{{- $drain := 20 -}}
{{- $poolCloseAndFlush := 6 -}}
{{- $margin := 4 -}}
{{- dict "preStopSeconds" $preStop "shutdownTimeoutMs" (mul $drain 1000) "terminationGracePeriodSeconds" (add $preStop $drain $poolCloseAndFlush $margin) | toJson -}}
{{- end -}}

{{/* NetworkPolicy peers: pods of these components of this release. */}}
{{- define "tracebridge.peers" -}}
{{- $ := index . 0 -}}
- podSelector:
    matchExpressions:
      - {key: app.kubernetes.io/instance, operator: In, values: [{{ $.Release.Name }}]}
      - {key: app.kubernetes.io/component, operator: In, values: [{{ rest . | join ", " }}]}
{{- end -}}

{{/* A NetworkPolicy header for a component's pods: call with (list $ "component"). */}}
{{- define "tracebridge.networkPolicyHead" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "tracebridge.metadata" . | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "tracebridge.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
{{- end -}}

{{/* Rules of the Roles that let Prometheus and the collector find the pods they scrape. */}}
{{- define "tracebridge.podDiscoveryRules" -}}
# Pod discovery in the release's namespace only.
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
{{- end -}}
