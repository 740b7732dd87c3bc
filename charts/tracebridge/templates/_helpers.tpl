{{/* Names ------------------------------------------------------------------------------ */}}

{{- define "tracebridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release-wide prefix: fullnameOverride, else the release name plus the chart name when the
release name does not already contain it (in front when the release name starts with a digit).
Dots become dashes, and a prefix still not starting with a letter gets the chart name in front,
so that it can begin a Service name (a DNS-1035 label; helm allows release names such as "1st"
or "a.b").
*/}}
{{- define "tracebridge.fullname" -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- $full := .Values.fullnameOverride -}}
{{- if not $full -}}
{{- $full = ternary .Release.Name (printf "%s-%s" .Release.Name $name) (contains $name .Release.Name) -}}
{{- if not (regexMatch "^[a-z]" $full) }}{{ $full = printf "%s-%s" $name .Release.Name }}{{ end -}}
{{- end -}}
{{- $full = replace "." "-" $full -}}
{{- if not (regexMatch "^[a-z]" $full) }}{{ $full = printf "%s-%s" $name $full }}{{ end -}}
{{- $full | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
"<fullname>-<component>", at most 52 characters for any release name: the prefix is cut so
that "-<component>" always fits. 52, not 63: a StatefulSet's pods carry the label
controller-revision-hash "<name>-<10 characters>", at most 63. Call with (list $ "api").
*/}}
{{- define "tracebridge.componentName" -}}
{{- $component := index . 1 -}}
{{- $prefix := include "tracebridge.fullname" (index . 0) | trunc (int (sub 51 (len $component))) -}}
{{- printf "%s-%s" (regexReplaceAll "-+$" $prefix "") $component -}}
{{- end -}}

{{- define "tracebridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels: call with (list $ "component"). ------------------------------------------------ */}}

{{/* Quoted: a release name such as "123" or "1.2" would otherwise be a YAML number. */}}
{{- define "tracebridge.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "tracebridge.name" $ | quote }}
app.kubernetes.io/instance: {{ $.Release.Name | quote }}
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

{{/*
An image reference: (list $ image). [registry/]repository, then @digest when pinned (the tag is
then ignored, as in the Bitnami and OpenTelemetry charts), else :tag (empty: the chart's
appVersion). The registry: the image's own, else global.imageRegistry, else none (Docker Hub).
*/}}
{{- define "tracebridge.image" -}}
{{- $ := index . 0 -}}
{{- $image := index . 1 -}}
{{- $registry := default (($.Values.global | default dict).imageRegistry) $image.registry -}}
{{- $name := ternary (printf "%s/%s" (trimSuffix "/" (toString $registry)) $image.repository) $image.repository (not (empty $registry)) -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $name $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $name (toString (default $.Chart.AppVersion $image.tag)) -}}
{{- end -}}
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
A render that cannot read the cluster (helm template, --dry-run=client, Argo CD) gets
an empty lookup and would put a new password in every render, which applied over the live Secret
rotates it: such a render fails, naming the fix, unless allowGeneratedPasswordsWithoutLookup.
Listing the namespace's Secrets tells the two apart (helm's own release storage lists them).
Call with (list $ "secret-name" "key" "postgresql"); returns it base64-encoded.
*/}}
{{- define "tracebridge.generatedPassword" -}}
{{- $ := index . 0 -}}
{{- $live := lookup "v1" "Secret" $.Release.Namespace (index . 1) -}}
{{- if and $live $live.data (hasKey $live.data (index . 2)) -}}
{{- index $live.data (index . 2) -}}
{{- else -}}
{{- if not (or $.Values.allowGeneratedPasswordsWithoutLookup (lookup "v1" "Secret" $.Release.Namespace "")) -}}
{{- fail (printf "%s.existingSecret is empty, so the chart would generate the password; it keeps a generated one across upgrades by reading the live Secret (lookup), which this render cannot do (helm template, --dry-run=client, Argo CD): every render would carry a new password, and applying it would rotate the live one. Create the Secret and set %s.existingSecret (see \"Passwords and GitOps\" in the chart README), render against the cluster (helm template --dry-run=server), or set allowGeneratedPasswordsWithoutLookup=true if whatever applies this render only ever creates the Secret" (index . 3) (index . 3)) -}}
{{- end -}}
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
scrape/kubernetes.yaml (every API pod, found through the Kubernetes API), with
collector.scrape.pods scrape/annotated-pods.yaml (other workloads' annotated pods), and the
enabled destinations' fragments. The collector merges them itself: each fragment only adds keys.
In agent-gateway mode ("collectorTier" in the context): an agent takes no destination, a gateway
scrapes nothing, and each ends with its topology/<tier>.yaml.
*/}}
{{- define "tracebridge.collectorFragments" -}}
{{- $tier := get . "collectorTier" -}}
{{- $files := list "base.yaml" -}}
{{- if ne $tier "gateway" -}}
{{- $files = append $files "scrape/kubernetes.yaml" -}}
{{- if .Values.collector.scrape.pods.enabled }}{{ $files = append $files "scrape/annotated-pods.yaml" }}{{ end -}}
{{- end -}}
{{- if ne $tier "agent" -}}
{{- range (include "tracebridge.destinationNames" . | fromJsonArray) }}{{ $files = append $files (printf "destinations/%s.yaml" .) }}{{ end -}}
{{- end -}}
{{- if $tier }}{{ $files = append $files (printf "topology/%s.yaml" $tier) }}{{ end -}}
{{- toJson $files -}}
{{- end -}}

{{/*
The files of the collector's ConfigMap: those of the one Deployment, or in agent-gateway mode
those of either tier (each takes its own, collectorFragments with "collectorTier").
*/}}
{{- define "tracebridge.collectorConfigFiles" -}}
{{- if eq .Values.collector.mode "agent-gateway" -}}
{{- concat (include "tracebridge.collectorFragments" (merge (dict "collectorTier" "agent") .) | fromJsonArray) (include "tracebridge.collectorFragments" (merge (dict "collectorTier" "gateway") .) | fromJsonArray) | uniq | toJson -}}
{{- else -}}
{{- include "tracebridge.collectorFragments" . -}}
{{- end -}}
{{- end -}}

{{/*
The key of collector.config (values) in the collector's ConfigMap: the last --config, so the
collector merges it over the fragments (maps merge; a list replaces the fragments' list).
*/}}
{{- define "tracebridge.collectorOverlayKey" -}}overlay.yaml{{- end -}}

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
      - {key: app.kubernetes.io/instance, operator: In, values: [{{ $.Release.Name | quote }}]}
      - {key: app.kubernetes.io/component, operator: In, values: [{{ rest . | join ", " }}]}
{{- end -}}

{{/* A NetworkPolicy header for a component's pods, egress included: call with (list $ "component"). */}}
{{- define "tracebridge.networkPolicyHead" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "tracebridge.metadata" . | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "tracebridge.selectorLabels" . | nindent 6 }}
  {{- include "tracebridge.networkPolicyEgress" . | nindent 2 }}
{{- end -}}

{{/*
The scrape jobs, by job name: the component whose port "metrics" each scrapes. Defined here only:
the chart's Prometheus, the ServiceMonitors and PodMonitors name their jobs so, and the
dashboards and files/alerts.yaml select on these names.
*/}}
{{- define "tracebridge.scrapeJobs" -}}
tracebridge-api: api
otel-collector: collector
{{- end -}}

{{/* The namespaces collector.scrape.pods looks in: its list, or the release's. JSON list. */}}
{{- define "tracebridge.podScrapeNamespaces" -}}
{{- default (list .Release.Namespace) .Values.collector.scrape.pods.namespaces | toJson -}}
{{- end -}}

{{/* Rules of the Roles that let Prometheus and the collector find the pods they scrape. */}}
{{- define "tracebridge.podDiscoveryRules" -}}
# Pod discovery: read pods, nothing else.
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
{{- end -}}
