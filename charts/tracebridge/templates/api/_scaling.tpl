{{/* The API's replica floor and disruption budget, shared by api/pdb.yaml and validate.yaml. */}}

{{/* A CPU quantity in millicores: "50m" -> 50, "1" -> 1000, "1.5" -> 1500; empty -> 0. */}}
{{- define "tracebridge.millicores" -}}
{{- $q := toString . -}}
{{- if hasSuffix "m" $q -}}
{{- trimSuffix "m" $q | float64 | int -}}
{{- else if $q -}}
{{- mulf (float64 $q) 1000 | int -}}
{{- else -}}
0
{{- end -}}
{{- end -}}

{{/* The fewest API pods that run: the HPA's minReplicas when autoscaling, else api.replicas. */}}
{{- define "tracebridge.apiMinReplicas" -}}
{{- $api := .Values.api -}}
{{- ternary $api.autoscaling.minReplicas $api.replicas $api.autoscaling.enabled | int -}}
{{- end -}}

{{/* The pods api.podDisruptionBudget.minAvailable keeps at that floor (a percentage rounds up, as Kubernetes does). */}}
{{- define "tracebridge.apiPdbMinPods" -}}
{{- $min := .Values.api.podDisruptionBudget.minAvailable -}}
{{- if kindIs "string" $min -}}
{{- div (add (mul (trimSuffix "%" $min | int) (include "tracebridge.apiMinReplicas" . | int)) 99) 100 -}}
{{- else -}}
{{- int $min -}}
{{- end -}}
{{- end -}}
