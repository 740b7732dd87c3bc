{{/*
The collector's pod template, written once for its three workloads: the single Deployment
(collector.mode deployment, tier ""), and in agent-gateway mode the agents' DaemonSet (tier
"agent": scrapes its node's pods, enriches, hands everything to the gateways; no destination
and no credential) and the gateways' Deployment (tier "gateway": tail sampling, the
destinations). Call with the root context merged with "collectorTier", at the workload spec's
indentation: {{- include "tracebridge.collectorPodTemplate" (merge (dict "collectorTier" "agent") .) }}
*/}}
{{- define "tracebridge.collectorPodTemplate" }}
{{- $tier := get . "collectorTier" -}}
{{- $c := .Values.collector -}}
{{- $d := .Values.destinations -}}
{{- $creds := .Values.destinationCredentials -}}
{{- $resources := $c.resources -}}
{{- if $tier }}{{ $resources = (index $c $tier).resources }}{{ end -}}
{{- $values := $c -}}
{{- if $tier }}{{ $values = merge (dict "podLabels" (merge (dict (include "tracebridge.collectorTierLabel" .) $tier) $c.podLabels) "resources" $resources) $c }}{{ end -}}
{{- $pod := dict "root" . "component" "collector" "values" $values "uid" 10001 "go" true }}
  template:
    metadata:
      {{- /* A new configuration (a destination switched on or off) rolls the pods. */}}
      {{- include "tracebridge.podMetadata" (merge (dict "annotations" (printf "checksum/config: %s" (include (print $.Template.BasePath "/collector/configmap.yaml") . | sha256sum))) $pod) | nindent 6 }}
    spec:
      serviceAccountName: {{ include "tracebridge.componentName" (list . (ternary "collector-gateway" "collector" (eq $tier "gateway"))) }}
      {{- include "tracebridge.podSpecHead" $pod | nindent 6 }}
      containers:
        - name: collector
          image: {{ include "tracebridge.image" (list . $c.image) }}
          imagePullPolicy: {{ $c.image.pullPolicy }}
          args:
            {{- range (include "tracebridge.collectorFragments" . | fromJsonArray) }}
            - --config=/conf/{{ include "tracebridge.collectorFragmentKey" . }}
            {{- end }}
            {{- if $c.config }}
            - --config=/conf/{{ include "tracebridge.collectorOverlayKey" . }}
            {{- end }}
          ports:
            - name: otlp-grpc
              containerPort: {{ include "tracebridge.port" (list . "collector" "otlp-grpc") }}
              protocol: TCP
            - name: otlp-http
              containerPort: {{ include "tracebridge.port" (list . "collector" "otlp-http") }}
              protocol: TCP
            - name: metrics
              containerPort: {{ include "tracebridge.port" (list . "collector" "metrics") }}
              protocol: TCP
            - name: health
              containerPort: {{ include "tracebridge.port" (list . "collector" "health") }}
              protocol: TCP
          env:
            # Receivers on 0.0.0.0, not the pod IP: kubectl port-forward connects over loopback.
            - name: OTLP_GRPC_ENDPOINT
              value: {{ include "tracebridge.listen" (list . "collector" "otlp-grpc") }}
            - name: OTLP_HTTP_ENDPOINT
              value: {{ include "tracebridge.listen" (list . "collector" "otlp-http") }}
            - name: COLLECTOR_HEALTH_ENDPOINT
              value: {{ include "tracebridge.listen" (list . "collector" "health") }}
            - name: COLLECTOR_METRICS_HOST
              value: 0.0.0.0
            - name: COLLECTOR_METRICS_PORT
              value: {{ include "tracebridge.port" (list . "collector" "metrics") | quote }}
            {{- if ne $tier "gateway" }}
            # The API pods the collector scrapes (scrape/kubernetes.yaml), each on its port "metrics".
            - name: API_POD_SELECTOR
              value: {{ printf "app.kubernetes.io/instance=%s,app.kubernetes.io/component=api" .Release.Name | quote }}
            - name: API_SCRAPE_INTERVAL
              value: {{ $c.scrapeInterval | quote }}
            {{- with $c.scrape.pods }}{{ if .enabled }}
            # Other workloads' annotated pods (scrape/annotated-pods.yaml).
            - name: POD_SCRAPE_NAMESPACES
              value: {{ include "tracebridge.podScrapeNamespaces" $ | quote }}
            - name: POD_SCRAPE_SELECTOR
              value: {{ .selector | quote }}
            - name: POD_SCRAPE_INTERVAL
              value: {{ .interval | quote }}
            {{- end }}{{ end }}
            {{- end }}
            {{- if eq $tier "agent" }}
            # This node's pods only: the agent on every node scrapes its own (no metric twice).
            - name: K8S_NODE_NAME
              valueFrom:
                fieldRef:
                  fieldPath: spec.nodeName
            - name: API_POD_FIELD_SELECTOR
              value: spec.nodeName=$(K8S_NODE_NAME)
            {{- if $c.scrape.pods.enabled }}
            - name: POD_SCRAPE_FIELD_SELECTOR
              value: spec.nodeName=$(K8S_NODE_NAME)
            {{- end }}
            # The gateways' headless Service (topology/agent.yaml): traces by trace ID, metrics to any.
            - name: GATEWAY_SERVICE
              value: {{ printf "%s.%s" (include "tracebridge.componentName" (list . "collector-gateway")) .Release.Namespace | quote }}
            - name: GATEWAY_OTLP_GRPC_PORT
              value: {{ include "tracebridge.port" (list . "collector" "otlp-grpc") | quote }}
            {{- else }}
            {{- if eq $tier "gateway" }}
            {{- with $c.tailSampling }}
            # The tail-sampling policy (topology/gateway.yaml; collector.tailSampling).
            - name: TAIL_SAMPLING_DECISION_WAIT
              value: {{ .decisionWait | quote }}
            - name: TAIL_SAMPLING_NUM_TRACES
              value: {{ .numTraces | int | toString | quote }}
            - name: TAIL_SAMPLING_LATENCY_THRESHOLD_MS
              value: {{ .latencyThresholdMs | int | toString | quote }}
            - name: TAIL_SAMPLING_PERCENTAGE
              value: {{ .percentage | toString | quote }}
            {{- end }}
            {{- end }}
            {{- if $d.jaeger.enabled }}
            - name: JAEGER_OTLP_ENDPOINT
              value: {{ default (include "tracebridge.address" (list . "jaeger" "otlp-grpc")) $d.jaeger.endpoint | quote }}
            - name: JAEGER_OTLP_INSECURE
              value: {{ $d.jaeger.insecure | toString | quote }}
            {{- end }}
            {{- if $d.grafanaCloud.enabled }}
            - name: GRAFANA_CLOUD_OTLP_ENDPOINT
              value: {{ $d.grafanaCloud.endpoint | quote }}
            - name: GRAFANA_CLOUD_INSTANCE_ID
              valueFrom:
                secretKeyRef:
                  name: {{ include "tracebridge.credentialsSecret" (list . "grafanaCloud") }}
                  key: {{ $d.grafanaCloud.instanceIdKey }}
            - name: GRAFANA_CLOUD_API_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ include "tracebridge.credentialsSecret" (list . "grafanaCloud") }}
                  key: {{ $d.grafanaCloud.apiTokenKey }}
            {{- end }}
            {{- if $d.datadog.enabled }}
            - name: DD_SITE
              value: {{ $d.datadog.site | quote }}
            - name: DD_API_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ include "tracebridge.credentialsSecret" (list . "datadog") }}
                  key: {{ $d.datadog.apiKeyKey }}
            {{- end }}
            {{- if $d.otlp.enabled }}
            - name: OTLP_DESTINATION_ENDPOINT
              value: {{ $d.otlp.endpoint | quote }}
            - name: OTLP_DESTINATION_INSECURE
              value: {{ $d.otlp.insecure | toString | quote }}
            {{- if or $d.otlp.existingSecret (and $creds.create $creds.otlp.authorization) }}
            - name: OTLP_DESTINATION_AUTHORIZATION
              valueFrom:
                secretKeyRef:
                  name: {{ include "tracebridge.credentialsSecret" (list . "otlp") }}
                  key: {{ $d.otlp.authorizationKey }}
            {{- end }}
            {{- end }}
            {{- if $d.debug.enabled }}
            - name: DEBUG_VERBOSITY
              value: {{ $d.debug.verbosity }}
            {{- end }}
            {{- with include "tracebridge.destinationTlsEnv" . }}{{ . | trim | nindent 12 }}{{ end }}
            {{- end }}
            {{- include "tracebridge.env" $pod | nindent 12 }}
          livenessProbe:
            httpGet: {path: /, port: health}
            periodSeconds: 10
          readinessProbe:
            httpGet: {path: /, port: health}
            periodSeconds: 5
          {{- include "tracebridge.containerExtras" $pod | nindent 10 }}
          resources:
            {{- toYaml $resources | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: /conf
              readOnly: true
            {{- if ne $tier "agent" }}
            {{- with include "tracebridge.destinationTlsVolumeMounts" . }}{{ . | trim | nindent 12 }}{{ end }}
            {{- end }}
            {{- include "tracebridge.extraVolumeMounts" $pod | nindent 12 }}
        {{- include "tracebridge.extraContainers" $pod | nindent 8 }}
      volumes:
        - name: config
          configMap:
            name: {{ include "tracebridge.componentName" (list . "collector") }}
        {{- if ne $tier "agent" }}
        {{- with include "tracebridge.destinationTlsVolumes" . }}{{ . | trim | nindent 8 }}{{ end }}
        {{- end }}
        {{- include "tracebridge.extraVolumes" $pod | nindent 8 }}
{{- end -}}

{{/* The label telling the collector's tiers apart (agent-gateway mode); all are component collector. */}}
{{- define "tracebridge.collectorTierLabel" -}}tracebridge.io/collector-tier{{- end -}}

{{/* A tier's selector labels: (list $ "agent"). */}}
{{- define "tracebridge.collectorTierSelectorLabels" -}}
{{ include "tracebridge.selectorLabels" (list (index . 0) "collector") }}
{{ include "tracebridge.collectorTierLabel" (index . 0) }}: {{ index . 1 }}
{{- end -}}

{{/*
Metadata of a tier's object: "<fullname>-collector-<tier>" unless named, component collector,
and the tier label (cdk8s' apiObject picks tiers by it): (list $ "gateway") or (list $ "agent" "name").
*/}}
{{- define "tracebridge.collectorTierMetadata" -}}
{{- $ := index . 0 -}}
{{- $tier := index . 1 -}}
{{- $name := include "tracebridge.componentName" (list $ (printf "collector-%s" $tier)) -}}
{{- if eq (len .) 3 }}{{ $name = index . 2 }}{{ end -}}
{{ include "tracebridge.metadata" (list $ "collector" $name) }}
  {{ include "tracebridge.collectorTierLabel" $ }}: {{ $tier }}
{{- end -}}
