{{/*
The values' part of the NetworkPolicies (networkPolicy.<component>): peers admitted to the ports
a component's clients use, extra ingress rules, and egress, restricted only for a component
given extraEgress. Ports are the names the pods give them, as in the chart's own rules.
*/}}

{{/* The ports a component's clients use: what networkPolicy.<component>.from opens. */}}
{{- define "tracebridge.networkPolicyClientPorts" -}}
collector: [otlp-grpc, otlp-http]
jaeger: [query-http]
prometheus: [http]
grafana: [http]
postgresql: [postgresql]
{{- end -}}

{{/* Ingress rules from values, as list items (may be empty): call with (list $ "component"). */}}
{{- define "tracebridge.networkPolicyExtraIngress" -}}
{{- include "tracebridge.networkPolicyExtraIngressRules" . | trim -}}
{{- end -}}

{{- define "tracebridge.networkPolicyExtraIngressRules" -}}
{{- $ := index . 0 -}}
{{- $component := index . 1 -}}
{{- $values := index $.Values.networkPolicy $component -}}
{{- $ports := index (include "tracebridge.networkPolicyClientPorts" $ | fromYaml) $component -}}
{{- with $values.from }}
- from:
    {{- toYaml . | nindent 4 }}
  ports:
    {{- range $ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end }}
{{- with $values.extraIngress }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The in-release peers a component connects to, as egress rules (may be empty). */}}
{{- define "tracebridge.networkPolicyEgressNeeds" -}}
{{- $ := index . 0 -}}
{{- $component := index . 1 -}}
{{- $v := $.Values -}}
{{- if eq $component "api" }}
- to:
    {{- include "tracebridge.peers" (list $ "collector") | nindent 4 }}
  ports:
    - {port: otlp-grpc, protocol: TCP}
    - {port: otlp-http, protocol: TCP}
{{- if $v.postgresql.enabled }}
- to:
    {{- include "tracebridge.peers" (list $ "postgresql") | nindent 4 }}
  ports:
    - {port: postgresql, protocol: TCP}
{{- else }}
# The external database, wherever it is: its port only.
- ports:
    - {port: {{ int $v.externalDatabase.port }}, protocol: TCP}
{{- end }}
{{- else if eq $component "collector" }}
- to:
    {{- include "tracebridge.peers" (list $ "api") | nindent 4 }}
  ports:
    - {port: metrics, protocol: TCP}
{{- if eq $v.collector.mode "agent-gateway" }}
# The agents to the gateways.
- to:
    {{- include "tracebridge.peers" (list $ "collector") | nindent 4 }}
  ports:
    - {port: otlp-grpc, protocol: TCP}
{{- end }}
{{- if and $v.jaeger.enabled $v.destinations.jaeger.enabled (not $v.destinations.jaeger.endpoint) }}
- to:
    {{- include "tracebridge.peers" (list $ "jaeger") | nindent 4 }}
  ports:
    - {port: otlp-grpc, protocol: TCP}
{{- end }}
{{- else if eq $component "prometheus" }}
- to:
    {{- include "tracebridge.peers" (list $ "api" "collector") | nindent 4 }}
  ports:
    - {port: metrics, protocol: TCP}
{{- else if eq $component "grafana" }}
- to:
    {{- include "tracebridge.peers" (list $ "prometheus") | nindent 4 }}
  ports:
    - {port: http, protocol: TCP}
{{- if $v.jaeger.enabled }}
- to:
    {{- include "tracebridge.peers" (list $ "jaeger") | nindent 4 }}
  ports:
    - {port: query-http, protocol: TCP}
{{- end }}
{{- end }}
{{- end -}}

{{/*
policyTypes and the egress rules of a component's policy: Egress only when
networkPolicy.<component>.extraEgress is given; then DNS, the in-release peers the component
connects to, and those rules. Call with (list $ "component") at the policy spec's indentation.
*/}}
{{- define "tracebridge.networkPolicyEgress" -}}
{{- $ := index . 0 -}}
{{- $values := index $.Values.networkPolicy (index . 1) -}}
{{- if $values.extraEgress -}}
policyTypes: [Ingress, Egress]
egress:
  # Name resolution, wherever the cluster's DNS runs.
  - ports:
      - {port: 53, protocol: UDP}
      - {port: 53, protocol: TCP}
  {{- with include "tracebridge.networkPolicyEgressNeeds" . | trim }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- toYaml $values.extraEgress | nindent 2 }}
{{- else -}}
policyTypes: [Ingress]
{{- end -}}
{{- end -}}
