{{/* Destination TLS ------------------------------------------------------------------------- */}}

{{/*
The destinations that take `tls`, by their values key, and the prefix of the variables their
fragments read (collector/config/destinations/*.yaml: <PREFIX>_TLS_CA_FILE, _CERT_FILE,
_KEY_FILE, _SERVER_NAME, _INSECURE_SKIP_VERIFY). Defined here only.
*/}}
{{- define "tracebridge.destinationTlsPrefixes" -}}
jaeger: JAEGER_OTLP
grafanaCloud: GRAFANA_CLOUD
datadog: DD
otlp: OTLP_DESTINATION
{{- end -}}

{{/* Where a destination's CA, client certificate and key are mounted in the collector. */}}
{{- define "tracebridge.destinationTlsDir" -}}
{{- printf "/tls/%s" (lower .) -}}
{{- end -}}

{{/*
The enabled destinations with files to mount (a CA, a client certificate), as JSON:
[{name, prefix, dir, volume, ca: {kind, name, key} | null, clientCert: {...} | null}].
*/}}
{{- define "tracebridge.destinationTlsFiles" -}}
{{- $out := list -}}
{{- range $name, $prefix := include "tracebridge.destinationTlsPrefixes" . | fromYaml -}}
{{- $d := index $.Values.destinations $name -}}
{{- $ca := default dict $d.tls.ca -}}
{{- $client := default dict $d.tls.clientCert -}}
{{- if and $d.enabled (or $ca.secret $ca.configMap $client.secret) -}}
{{- $out = append $out (dict "name" $name "prefix" $prefix "dir" (include "tracebridge.destinationTlsDir" $name) "volume" (printf "tls-%s" (lower $name)) "ca" (ternary $ca nil (or (not (empty $ca.secret)) (not (empty $ca.configMap)))) "clientCert" (ternary $client nil (not (empty $client.secret)))) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The collector's TLS env of every enabled destination. */}}
{{- define "tracebridge.destinationTlsEnv" -}}
{{- range $name, $prefix := include "tracebridge.destinationTlsPrefixes" . | fromYaml }}
{{- $d := index $.Values.destinations $name }}
{{- if $d.enabled }}
{{- $ca := default dict $d.tls.ca }}
{{- $client := default dict $d.tls.clientCert }}
{{- $dir := include "tracebridge.destinationTlsDir" $name }}
{{- if or $ca.secret $ca.configMap }}
- name: {{ $prefix }}_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" $dir }}
{{- end }}
{{- if $client.secret }}
- name: {{ $prefix }}_TLS_CERT_FILE
  value: {{ printf "%s/tls.crt" $dir }}
- name: {{ $prefix }}_TLS_KEY_FILE
  value: {{ printf "%s/tls.key" $dir }}
{{- end }}
{{- with $d.tls.serverName }}
- name: {{ $prefix }}_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if $d.tls.insecureSkipVerify }}
- name: {{ $prefix }}_TLS_INSECURE_SKIP_VERIFY
  value: "true"
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The collector's volumeMounts for those files. */}}
{{- define "tracebridge.destinationTlsVolumeMounts" -}}
{{- range (include "tracebridge.destinationTlsFiles" . | fromJsonArray) }}
- name: {{ .volume }}
  mountPath: {{ .dir }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The collector's volumes: per destination, its CA and client certificate as ca.crt, tls.crt, tls.key. */}}
{{- define "tracebridge.destinationTlsVolumes" -}}
{{- range (include "tracebridge.destinationTlsFiles" . | fromJsonArray) }}
- name: {{ .volume }}
  projected:
    sources:
      {{- with .ca }}
      {{- if .secret }}
      - secret:
          name: {{ .secret }}
          items: [{key: {{ .key | quote }}, path: ca.crt}]
      {{- else }}
      - configMap:
          name: {{ .configMap }}
          items: [{key: {{ .key | quote }}, path: ca.crt}]
      {{- end }}
      {{- end }}
      {{- with .clientCert }}
      - secret:
          name: {{ .secret }}
          items:
            - {key: {{ .certKey | quote }}, path: tls.crt}
            - {key: {{ .keyKey | quote }}, path: tls.key}
      {{- end }}
{{- end }}
{{- end -}}
