{{/* External database TLS ------------------------------------------------------------------ */}}

{{/* The sslmode the API connects with (DB_SSL_MODE): externalDatabase.sslmode, else from the older `ssl`. */}}
{{- define "tracebridge.databaseSslMode" -}}
{{- $e := .Values.externalDatabase -}}
{{- if .Values.postgresql.enabled -}}
disable
{{- else -}}
{{- default (ternary "verify-full" "disable" $e.ssl) $e.sslmode -}}
{{- end -}}
{{- end -}}

{{/* The external database's CA, when one is given: {secret|configMap, key}; else empty. */}}
{{- define "tracebridge.databaseCa" -}}
{{- $ca := .Values.externalDatabase.tls.ca -}}
{{- if and (not .Values.postgresql.enabled) (or $ca.secret $ca.configMap) -}}
{{- toJson $ca -}}
{{- end -}}
{{- end -}}

{{- define "tracebridge.databaseCaDir" -}}
/tls/database
{{- end -}}

{{/* DB_SSL_MODE, and DB_SSL_ROOT_CERT when a CA is mounted. */}}
{{- define "tracebridge.databaseTlsEnv" -}}
- name: DB_SSL_MODE
  value: {{ include "tracebridge.databaseSslMode" . | quote }}
{{- if include "tracebridge.databaseCa" . }}
- name: DB_SSL_ROOT_CERT
  value: {{ printf "%s/ca.crt" (include "tracebridge.databaseCaDir" .) }}
{{- end }}
{{- end -}}

{{/* The API's and the migrations' mount of the CA (empty without one). */}}
{{- define "tracebridge.databaseCaVolumeMount" -}}
{{- if include "tracebridge.databaseCa" . -}}
- name: database-ca
  mountPath: {{ include "tracebridge.databaseCaDir" . }}
  readOnly: true
{{- end -}}
{{- end -}}

{{- define "tracebridge.databaseCaVolume" -}}
{{- with include "tracebridge.databaseCa" . -}}
{{- with fromJson . -}}
- name: database-ca
  {{- if .secret }}
  secret:
    secretName: {{ .secret }}
    items: [{key: {{ .key | quote }}, path: ca.crt}]
  {{- else }}
  configMap:
    name: {{ .configMap }}
    items: [{key: {{ .key | quote }}, path: ca.crt}]
  {{- end }}
{{- end -}}
{{- end -}}
{{- end -}}
