{{/*
The escape hatches every pod takes, written once. A workload builds its context

  {{- $pod := dict "root" . "component" "collector" "values" .Values.collector "uid" 10001 "go" true -}}

(uid: the user its image runs as; go: a Go program, which gets GOMEMLIMIT) and includes, at
fixed points of its own pod template:

  template.metadata:        tracebridge.podMetadata       labels and annotations (+ podLabels, podAnnotations)
  template.spec (first):    tracebridge.podSpecHead       imagePullSecrets, securityContext, initContainers,
                                                         nodeSelector, tolerations, affinity,
                                                         topologySpreadConstraints, priorityClassName
  main container's env:     tracebridge.env               GOMEMLIMIT, then extraEnv (items)
  main container (last):    tracebridge.containerExtras   envFrom, securityContext
  main container's mounts:  tracebridge.extraVolumeMounts (items)
  after its containers:     tracebridge.extraContainers   (items)
  after its volumes:        tracebridge.extraVolumes      (items)

A new pod-level hatch goes into podSpecHead, a new container-level one into containerExtras;
values.schema.json's $defs/pod holds their keys for every component.
*/}}

{{/* Pod template metadata. Extra key "annotations": the chart's own, as YAML text. */}}
{{- define "tracebridge.podMetadata" -}}
{{- $ := .root -}}
{{- $labels := include "tracebridge.labels" (list $ .component) -}}
{{- $own := fromYaml $labels -}}
labels:
  {{- $labels | nindent 2 }}
  {{- range $key, $value := .values.podLabels }}
  {{- if not (hasKey $own $key) }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
  {{- end }}
{{- $annotations := default "" .annotations -}}
{{- $ownAnnotations := fromYaml $annotations -}}
{{- if or $annotations .values.podAnnotations }}
annotations:
  {{- with $annotations }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- range $key, $value := .values.podAnnotations }}
  {{- if not (hasKey $ownAnnotations $key) }}
  {{ $key }}: {{ $value | quote }}
  {{- end }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
Overrides merged over defaults, one key at a time: a null override removes the key (OpenShift's
restricted-v2 assigns runAsUser, runAsGroup and fsGroup itself), a map merges into the default
map, anything else replaces it. Without overrides the defaults' text, unchanged.
Call with (list defaultsText overrides).
*/}}
{{- define "tracebridge.mergeOverrides" -}}
{{- $text := index . 0 -}}
{{- $overrides := index . 1 -}}
{{- if not $overrides -}}
{{- $text -}}
{{- else -}}
{{- $merged := fromYaml $text -}}
{{- range $key, $value := $overrides -}}
{{- if kindIs "invalid" $value -}}
{{- $_ := unset $merged $key -}}
{{- else if and (kindIs "map" $value) (kindIs "map" (index $merged $key)) -}}
{{- $_ := set $merged $key (mergeOverwrite (deepCopy (index $merged $key)) $value) -}}
{{- else -}}
{{- $_ := set $merged $key $value -}}
{{- end -}}
{{- end -}}
{{- toYaml $merged -}}
{{- end -}}
{{- end -}}

{{/* The pod's securityContext: Pod Security "restricted" for .uid, merged with podSecurityContext. */}}
{{- define "tracebridge.mergedPodSecurityContext" -}}
{{- include "tracebridge.mergeOverrides" (list (include "tracebridge.podSecurityContext" .uid) .values.podSecurityContext) -}}
{{- end -}}

{{/* A container's securityContext: "restricted", merged with securityContext. */}}
{{- define "tracebridge.mergedContainerSecurityContext" -}}
{{- include "tracebridge.mergeOverrides" (list (include "tracebridge.containerSecurityContext" .root) .values.securityContext) -}}
{{- end -}}

{{/* Pull secrets: global.imagePullSecrets, imagePullSecrets, the component's; each name once. */}}
{{- define "tracebridge.imagePullSecrets" -}}{{ include "tracebridge.pod.imagePullSecrets" . | trim }}{{- end -}}
{{- define "tracebridge.pod.imagePullSecrets" -}}
{{- $ := .root -}}
{{- $all := concat ((($.Values.global | default dict).imagePullSecrets) | default list) ($.Values.imagePullSecrets | default list) (.values.imagePullSecrets | default list) -}}
{{- $names := list -}}
{{- range $all }}{{ $names = append $names .name }}{{ end -}}
{{- range ($names | uniq) }}
- name: {{ . }}
{{- end }}
{{- end -}}

{{- define "tracebridge.podSpecHead" -}}{{ include "tracebridge.pod.podSpecHead" . | trim }}{{- end -}}
{{- define "tracebridge.pod.podSpecHead" -}}
{{- $v := .values -}}
{{- with include "tracebridge.imagePullSecrets" . }}
imagePullSecrets:
  {{- . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "tracebridge.mergedPodSecurityContext" . | nindent 2 }}
{{- /* A workload with init containers of its own lists these after them (inlineInitContainers). */}}
{{- if and $v.initContainers (not .inlineInitContainers) }}
initContainers:
  {{- toYaml $v.initContainers | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The main container's env items after the chart's own: GOMEMLIMIT (Go programs), extraEnv. */}}
{{- define "tracebridge.env" -}}{{ include "tracebridge.pod.env" . | trim }}{{- end -}}
{{- define "tracebridge.pod.env" -}}
{{- $v := .values -}}
{{- $given := list -}}
{{- range $v.extraEnv }}{{ $given = append $given .name }}{{ end -}}
{{- if and .go (not (has "GOMEMLIMIT" $given)) }}
{{- with include "tracebridge.goMemLimit" $v.resources }}
# The Go runtime collects harder near this, instead of the kernel OOM-killing at the limit.
- name: GOMEMLIMIT
  value: {{ . }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "tracebridge.containerExtras" -}}{{ include "tracebridge.pod.containerExtras" . | trim }}{{- end -}}
{{- define "tracebridge.pod.containerExtras" -}}
{{- with .values.extraEnvFrom }}
envFrom:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- include "tracebridge.mergedContainerSecurityContext" . | nindent 2 }}
{{- end -}}

{{- define "tracebridge.extraVolumeMounts" -}}{{ include "tracebridge.pod.extraVolumeMounts" . | trim }}{{- end -}}
{{- define "tracebridge.pod.extraVolumeMounts" -}}
{{- with .values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "tracebridge.extraContainers" -}}{{ include "tracebridge.pod.extraContainers" . | trim }}{{- end -}}
{{- define "tracebridge.pod.extraContainers" -}}
{{- with .values.extraContainers }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "tracebridge.extraVolumes" -}}{{ include "tracebridge.pod.extraVolumes" . | trim }}{{- end -}}
{{- define "tracebridge.pod.extraVolumes" -}}
{{- with .values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
GOMEMLIMIT from a container's resources: this share of limits.memory, in MiB (the Go runtime's
soft limit; the rest is headroom for memory outside the Go heap). Empty without a memory limit.
*/}}
{{- define "tracebridge.goMemLimitPercent" -}}80{{- end -}}

{{- define "tracebridge.goMemLimit" -}}
{{- $limit := ((.limits | default dict).memory) -}}
{{- if $limit -}}
{{- $bytes := include "tracebridge.bytes" $limit | float64 -}}
{{- $mib := divf (mulf $bytes (include "tracebridge.goMemLimitPercent" . | float64)) (mul 100 1048576) | floor | int64 -}}
{{- if gt $mib 0 }}{{ printf "%dMiB" $mib }}{{ end -}}
{{- end -}}
{{- end -}}

{{/* A Kubernetes memory quantity (e.g. 512Mi, 1.5Gi, 1G, 500000k, 1073741824) in bytes. */}}
{{- define "tracebridge.bytes" -}}
{{- $q := toString . -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $q -}}
{{- $suffix := trimPrefix $number $q -}}
{{- $factors := dict "" 1 "k" 1000 "K" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 -}}
{{- if not (hasKey $factors $suffix) -}}
{{- fail (printf "memory limit %q: use a quantity with one of the suffixes k, M, G, T, Ki, Mi, Gi, Ti or none" $q) -}}
{{- end -}}
{{- mulf ($number | float64) (index $factors $suffix) -}}
{{- end -}}

{{/* Service metadata with the component's service.labels and service.annotations: (list $ "component" values). */}}
{{- define "tracebridge.serviceMetadata" -}}
{{- $ := index . 0 -}}
{{- $service := (index . 2).service | default dict -}}
{{- $metadata := include "tracebridge.metadata" (list $ (index . 1)) -}}
{{- $own := (fromYaml $metadata).labels -}}
{{- $metadata }}
{{- range $key, $value := $service.labels }}
{{- if not (hasKey $own $key) }}
  {{ $key }}: {{ $value | quote }}
{{- end }}
{{- end }}
{{- with $service.annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
