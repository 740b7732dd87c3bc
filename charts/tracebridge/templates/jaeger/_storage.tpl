{{/* Jaeger's trace storage (jaeger.storage): the env, volumes and mounts its file needs. */}}

{{/* [true|false, ...]: whether each URL is https://. */}}
{{- define "tracebridge.jaegerHttpsUrls" -}}
{{- $out := list -}}
{{- range . }}{{ $out = append $out (hasPrefix "https://" .) }}{{ end -}}
{{- toJson $out -}}
{{- end -}}

{{- define "tracebridge.jaegerBadgerDir" -}}
/badger
{{- end -}}

{{- define "tracebridge.jaegerCaDir" -}}
/tls/storage
{{- end -}}

{{/* The external storage's values (elasticsearch, opensearch, cassandra) as JSON; empty for memory and badger. */}}
{{- define "tracebridge.jaegerExternalStorage" -}}
{{- $j := .Values.jaeger -}}
{{- if has $j.storage.type (list "elasticsearch" "opensearch" "cassandra") -}}
{{- toJson (index $j.storage $j.storage.type) -}}
{{- end -}}
{{- end -}}

{{/* The storage CA {secret|configMap, key} as JSON when one is given (and TLS is on); else empty. */}}
{{- define "tracebridge.jaegerStorageCa" -}}
{{- with include "tracebridge.jaegerExternalStorage" . -}}
{{- $s := fromJson . -}}
{{- $ca := $s.tls.ca -}}
{{- $tlsOn := or (not (hasKey $s.tls "enabled")) $s.tls.enabled -}}
{{- if and $tlsOn (or $ca.secret $ca.configMap) -}}
{{- toJson $ca -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The env collector/jaeger-storage/<type>.yaml reads. Credentials only as secretKeyRef. */}}
{{- define "tracebridge.jaegerStorageEnv" -}}
{{- $j := .Values.jaeger -}}
{{- $type := $j.storage.type -}}
{{- if eq $type "memory" }}
- name: JAEGER_MAX_TRACES
  value: {{ $j.maxTraces | int64 | quote }}
{{- else if eq $type "badger" }}
- name: JAEGER_BADGER_DIRECTORY
  value: {{ include "tracebridge.jaegerBadgerDir" . }}
- name: JAEGER_BADGER_SPAN_TTL
  value: {{ $j.storage.badger.retention | quote }}
{{- else }}
{{- $s := index $j.storage $type }}
- name: JAEGER_STORAGE_SERVERS
  value: {{ ternary $s.servers $s.serverUrls (eq $type "cassandra") | toJson | quote }}
{{- if ne $type "cassandra" }}
- name: JAEGER_STORAGE_INDEX_PREFIX
  value: {{ $s.indexPrefix | quote }}
{{- else }}
- name: JAEGER_CASSANDRA_KEYSPACE
  value: {{ $s.keyspace | quote }}
- name: JAEGER_CASSANDRA_CREATE_SCHEMA
  value: {{ $s.createSchema | quote }}
- name: JAEGER_CASSANDRA_TLS_DISABLED
  value: {{ not $s.tls.enabled | quote }}
{{- end }}
{{- with $s.auth.existingSecret }}
- name: JAEGER_STORAGE_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $s.auth.usernameKey | quote }}
- name: JAEGER_STORAGE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $s.auth.passwordKey | quote }}
{{- end }}
{{- if include "tracebridge.jaegerStorageCa" . }}
- name: JAEGER_STORAGE_CA_FILE
  value: {{ printf "%s/ca.crt" (include "tracebridge.jaegerCaDir" .) }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "tracebridge.jaegerStorageVolumeMounts" -}}
{{- if eq .Values.jaeger.storage.type "badger" }}
- name: data
  mountPath: {{ include "tracebridge.jaegerBadgerDir" . }}
{{- end }}
{{- if include "tracebridge.jaegerStorageCa" . }}
- name: storage-ca
  mountPath: {{ include "tracebridge.jaegerCaDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "tracebridge.jaegerStorageVolumes" -}}
{{- $j := .Values.jaeger -}}
{{- if eq $j.storage.type "badger" }}
- name: data
  persistentVolumeClaim:
    claimName: {{ $j.persistence.existingClaim | default (include "tracebridge.componentName" (list . "jaeger")) }}
{{- end }}
{{- with include "tracebridge.jaegerStorageCa" . }}
{{- with fromJson . }}
- name: storage-ca
  {{- if .secret }}
  secret:
    secretName: {{ .secret }}
    items: [{key: {{ .key | quote }}, path: ca.crt}]
  {{- else }}
  configMap:
    name: {{ .configMap }}
    items: [{key: {{ .key | quote }}, path: ca.crt}]
  {{- end }}
{{- end }}
{{- end }}
{{- end -}}
